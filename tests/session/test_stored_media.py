"""What the journal keeps of a finished run's outputs (thumbnails, sizes, kinds), and small
videos' bytes, made at completion against a real sandbox and a real counting HTTP server."""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from lamina_notebook.journal import StoredMedia
from lamina_notebook.models import Execution, Output
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.media import (
    STORED_THUMB_BYTES,
    STORED_THUMB_PX,
    fetch_outputs,
    probe_video,
    stored_thumbnail,
)
from lamina_notebook.session.results import launch


def make_session(sandbox: Any, **settings: Any) -> Session:
    return Session(
        Settings(
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            poll_interval=0.05,
            min_poll_interval=0.05,
            **settings,
        )
    )


@pytest.fixture
def session(sandbox: Any) -> Iterator[Session]:
    s = make_session(sandbox)
    yield s
    s.close()


def stored_of(session: Session, execution_id: str) -> dict[str, StoredMedia]:
    journal = session.client.journal
    assert journal is not None
    return journal.media([execution_id]).get(execution_id, {})


def image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
        return int(width), int(height)


def test_an_image_run_stores_a_small_thumbnail_and_its_facts(session: Session) -> None:
    result = launch(session, "Text to Image", {"Prompt": "a lighthouse in a storm"})[0].result(60)
    (output,) = result.outputs
    stored = stored_of(session, result.execution_id)  # there as soon as result() returned
    item = stored[output.id]
    full, _ = session.run(session.client.fetch_bytes(output.value or ""))
    assert (item.kind, item.mime, item.byte_size) == ("image", "image/png", len(full))
    assert (item.width, item.height) == image_size(full)
    assert item.thumb is not None and item.thumb.startswith(b"\xff\xd8")  # JPEG
    assert len(item.thumb) <= STORED_THUMB_BYTES
    assert max(image_size(item.thumb)) == STORED_THUMB_PX
    assert item.duration is None and result.videos == {}


def test_a_video_run_stores_its_poster_duration_and_keeps_small_video_bytes(
    session: Session,
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    upload = f"{session.settings.base_url}/samples/portrait.png"
    result = launch(session, "Image to Video", {"Upload": upload})[0].result(60)
    assert result.is_completed, result.error_message
    video = next(o for o in result.outputs if o.kind == "video")
    data, _ = session.run(session.client.fetch_bytes(video.value or ""))
    assert result.videos[video.id] == data and len(data) <= 2 * 1024 * 1024
    html = result._repr_mimebundle_()[0]["text/html"]
    assert "data:video/mp4;base64," in html  # embedded, so a saved notebook plays it
    item = stored_of(session, result.execution_id)[video.id]
    assert (item.kind, item.mime, item.byte_size) == ("video", "video/mp4", len(data))
    assert item.thumb is not None and max(image_size(item.thumb)) <= STORED_THUMB_PX
    assert (item.width, item.height) == (512, 512)
    assert item.duration == pytest.approx(2.5, abs=0.1)
    # The duration comes from the file itself, not only from what the service said.
    probe = probe_video(data)
    assert probe is not None and probe.duration == pytest.approx(2.5, abs=0.1)
    assert (probe.width, probe.height) == (512, 512) and probe.poster.startswith(b"\x89PNG")


def test_outputs_whose_urls_are_dead_at_completion_keep_kind_and_type() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, output_ttl=0.0) as sb:
        s = make_session(sb)
        try:
            result = launch(s, "Text to Image", {"Prompt": "gone at once"})[0].result(60)
            (output,) = result.outputs
            item = stored_of(s, result.execution_id)[output.id]
        finally:
            s.close()
    assert result.is_completed and result.media == {}
    assert (item.kind, item.mime, item.thumb, item.byte_size) == ("image", "image/png", None, None)


def test_a_journal_that_cannot_store_media_costs_only_the_offline_copy(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = session.client.journal
    assert journal is not None

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(journal, "record_media", full_disk)
    result = launch(session, "Text to Image", {"Prompt": "disk full"})[0].result(60)
    assert result.is_completed and result.media


# -- fetch_outputs on its own: what is fetched, what is not ---------------------------------


class CountingServer:
    """A real HTTP server on 127.0.0.1 that serves one PNG and counts every request."""

    def __init__(self, body: bytes) -> None:
        self.hits: list[str] = []
        counter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                counter.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def png(size: tuple[int, int], mode: str = "RGB", colour: Any = "red") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, "PNG")
    return buf.getvalue()


def test_only_images_and_videos_are_downloaded(session: Session) -> None:
    picture = png((300, 200))
    data_url = "data:image/png;base64," + base64.b64encode(png((50, 40))).decode()
    with CountingServer(picture) as server:
        execution = Execution(
            "exec-kinds",
            "completed",
            outputs=(
                Output("img", "Image", "image", f"{server.url}/a", "completed"),
                Output("song", "Song", "audio", f"{server.url}/song.mp3", "completed"),
                Output("link", "Report", "pending", f"{server.url}/r.pdf", "completed"),
                Output("inline", "Inline", "image", data_url, "completed"),
                Output("words", "Words", "text", "hello", "completed"),
                Output("late", "Late", "image", f"{server.url}/late", "error", error="boom"),
            ),
        )
        fetched = session.run(fetch_outputs(session.client, execution, 100))
    assert server.hits == ["/a"]  # audio, links, data: URLs and failed outputs: no request
    stored = {m.output_id: m for m in fetched.stored}
    assert list(stored) == ["img", "song", "link", "inline"]  # text outputs are not media
    assert (stored["img"].mime, stored["img"].byte_size) == ("image/png", len(picture))
    assert (stored["img"].width, stored["img"].height) == (300, 200)
    assert stored["song"] == StoredMedia("song", "audio", "audio/mpeg")
    assert (stored["link"].kind, stored["link"].mime, stored["link"].thumb) == (
        "url",
        "application/pdf",
        None,
    )
    assert stored["inline"].thumb is not None and stored["inline"].width == 50
    assert set(fetched.media) == {"img", "inline"} and fetched.videos == {}
    assert max(image_size(fetched.media["img"][0])) == 100


def test_big_videos_are_not_kept_as_bytes(session: Session, sandbox: Any) -> None:
    pytest.importorskip("imageio_ffmpeg")
    upload = f"{sandbox.base_url}/samples/portrait.png"
    result = launch(session, "Image to Video", {"Upload": upload})[0].result(60)
    fetched = session.run(
        fetch_outputs(session.client, result.execution, 200, video_max_bytes=1000)
    )
    assert fetched.videos == {} and fetched.media  # the poster is still there
    assert fetched.stored[0].byte_size and fetched.stored[0].byte_size > 1000


def test_stored_thumbnails_are_small_jpegs_whatever_the_picture() -> None:
    import os

    from PIL import Image

    noise = Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    thumb = stored_thumbnail(buf.getvalue())  # the worst case for JPEG: pure noise
    assert thumb.startswith(b"\xff\xd8") and len(thumb) <= STORED_THUMB_BYTES
    clear = stored_thumbnail(png((400, 100), "RGBA", (0, 0, 0, 0)))  # transparent
    with Image.open(io.BytesIO(clear)) as img:
        assert img.format == "JPEG" and img.size == (STORED_THUMB_PX, 48)
        assert img.convert("RGB").getpixel((5, 5)) >= (250, 250, 250)  # flattened on white
    with pytest.raises(ValueError, match="not an image"):
        stored_thumbnail(b"definitely not a picture")
