"""Session, RunHandle/Result and media against the sandbox, no shell (as the widget uses them)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.models import Execution, Output
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.media import MediaCache, fetch_media
from lamina_notebook.session.results import Result, RunHandle, launch, resume


@pytest.fixture
def session(sandbox_env: Any) -> Iterator[Session]:
    s = Session(Settings(poll_interval=0.05, min_poll_interval=0.05))
    yield s
    s.close()


def test_client_is_rebuilt_when_a_client_setting_changes(session: Session) -> None:
    first = session.client
    session.configure(embed_max_px=256)  # not a client setting
    assert session.client is first
    session.configure(rate_limit=50)
    assert session.client is not first
    with pytest.raises(TypeError, match="unknown setting"):
        session.configure(colour="blue")


def test_handle_notifies_listeners_in_the_loop_thread_and_ends_with_a_result(
    session: Session,
) -> None:
    seen: list[tuple[str, str]] = []
    handle, interrupted = launch(session, "Text to Image", {"Prompt": "listen"})
    assert not interrupted
    handle.on_change(lambda h: seen.append((threading.current_thread().name, h.status)))
    result = handle.result(timeout=30)
    assert isinstance(result, Result) and handle.done()
    assert seen and {name for name, _ in seen} == {"lamina-loop"}
    assert seen[-1][1] == "completed"
    assert result.outputs == result.execution.outputs  # attribute delegation
    assert result.urls and result.urls[0].startswith("http://127.0.0.1")


def test_handle_can_be_awaited_from_another_loop(session: Session) -> None:
    handle, _ = launch(session, "Product Copywriter", {"Product": "a quiet red kettle"})

    async def kernel_cell() -> Result:  # a cell awaiting on the kernel's own loop
        return await handle

    result = asyncio.run(kernel_cell())
    assert result.is_completed and len(result.texts) == 2


def test_stop_keeps_the_run_and_result_restarts_watching(
    session: Session, sandbox_env: Any
) -> None:
    handle, _ = launch(session, "Text to Image", {"Prompt": "paused"})
    handle.stop()
    assert handle.stopped or handle.done()
    if handle.stopped:
        text = handle._repr_mimebundle_()[0]["text/plain"]
        assert f"%lamina resume {handle.execution_id}" in text
    result = handle.result(timeout=30)
    assert result.is_completed and not handle.stopped


def test_resume_by_id_restores_app_and_inputs_from_the_journal(session: Session) -> None:
    handle, _ = launch(session, "Text to Image", {"Prompt": "again"})
    handle.stop()
    other = Session(Settings(poll_interval=0.05, min_poll_interval=0.05))
    try:
        again = resume(other, handle.execution_id)
        result = again.result(timeout=30)
    finally:
        other.close()
    assert result.app_name == "Text to Image" and result.inputs == {"Prompt": "again"}


def test_result_images_and_save(session: Session, tmp_path: Path) -> None:
    handle, _ = launch(session, "Text to Image", {"Prompt": "big"})
    result = handle.result(timeout=30)
    (image,) = result.images
    _data, mime = next(iter(result.media.values()))
    assert max(image.size) >= 256 and mime.startswith("image/")
    manifest = result.save(tmp_path)
    assert manifest.exists()


def test_embedded_images_are_downscaled(session: Session) -> None:
    session.configure(embed_max_px=64)
    result = launch(session, "Text to Image", {"Prompt": "tiny"})[0].result(timeout=30)
    import io

    from PIL import Image

    ((data, _mime),) = result.media.values()
    assert max(Image.open(io.BytesIO(data)).size) <= 64


def test_video_outputs_get_a_poster_frame(session: Session, sandbox_env: Any) -> None:
    pytest.importorskip("imageio_ffmpeg")
    upload = f"{sandbox_env.base_url}/samples/portrait.png"
    handle, _ = launch(session, "Image to Video", {"Upload": upload})
    result = handle.result(timeout=60)
    assert result.is_completed, result.error_message
    video = next(o for o in result.outputs if o.kind == "video")
    assert result.media[video.id][1].startswith("image/")


def test_unfetchable_media_is_left_out_and_remembered(session: Session) -> None:
    broken = Execution(
        "exec-1",
        "completed",
        outputs=(
            Output("o1", "Image", "image", "http://127.0.0.1:9/gone.png", "completed"),
            Output("o2", "Note", "text", "hello", "completed"),
        ),
    )
    cache = MediaCache()
    session.configure(max_retries=0, request_timeout=2.0)
    client = session.client
    media = session.run(fetch_media(client, broken, 128, cache=cache))
    assert media == {}
    assert cache.get(("exec-1", "o1", 128)) == (True, None)


def test_data_url_images_are_embedded_without_a_request(session: Session) -> None:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    execution = Execution(
        "exec-2", "completed", outputs=(Output("o1", "Image", "image", url, "completed"),)
    )
    media = session.run(fetch_media(session.client, execution, 100, cache=MediaCache()))
    data, _ = media["o1"]
    assert max(Image.open(io.BytesIO(data)).size) <= 100


def test_handle_is_a_runhandle_with_a_live_display_contract(session: Session) -> None:
    handle, _ = launch(session, "Text to Image", {"Prompt": "display"})
    assert isinstance(handle, RunHandle)
    data, metadata = handle._repr_mimebundle_()
    assert "text/plain" in data and "text/html" in data
    assert metadata["lamina"]["execution_id"] == handle.execution_id
    handle.result(timeout=30)
