"""Reuse of identical runs, variants, and RunHandle watch fixes, against a real sandbox.

A reused run must send nothing (the sandbox counts every HTTP request it gets), come back as a
finished handle whose Result draws its pictures from the journal, and leave the journal as it
was; ``variant=N`` and ``fresh=True`` ask for new samples on purpose.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import pytest

from lamina_notebook.errors import LaminaError
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.results import (
    Result,
    RunHandle,
    launch,
    reuse_savings,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of this test's own: some tests stop it or switch faults on."""
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def session(sandbox: Sandbox) -> Iterator[Session]:
    s = Session(
        Settings(
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            poll_interval=0.05,
            min_poll_interval=0.05,
            max_retries=0,  # a dead or failing service errs at once, no backoff to wait out
        )
    )
    yield s
    s.close()


def first_run(session: Session, inputs: dict[str, Any]) -> Result:
    handle, interrupted = launch(session, "Text to Image", inputs)
    assert not interrupted
    result = handle.result(timeout=60)
    assert result.is_completed and not result.reused and result.reused_from is None
    return result


def test_an_identical_run_is_reused_without_a_request(session: Session, sandbox: Sandbox) -> None:
    original = first_run(session, {"Prompt": "a fox in the snow", "Style": "Watercolor"})
    journal = session.client.journal
    assert journal is not None
    rows = len(journal)
    before = sandbox.stats.snapshot()
    # Same request spelled differently: other order, the parameter's key instead of its name.
    handle, interrupted = launch(
        session,
        "Text to Image",
        {"Style": "Watercolor", "prompt_text": "a fox in the snow"},
        reuse=True,
    )
    after = sandbox.stats.snapshot()
    assert not interrupted and handle.done() and handle.reused and not handle.stopped
    assert after["requests"] == before["requests"]  # nothing at all reached the service
    assert after["run_creations"] == before["run_creations"]
    result = handle.result(timeout=1)
    assert result.reused and result.reused_from == original.execution_id
    assert result.execution_id == original.execution_id and result.status == "completed"
    assert result.app_name == "Text to Image"
    assert result.inputs == {"Prompt": "a fox in the snow", "Style": "Watercolor"}
    ((thumb, mime),) = result.media.values()  # the journal's thumbnail, not a fetch
    assert mime == "image/jpeg" and len(thumb) <= 12_000
    assert set(result.media) == {o.id for o in original.outputs}
    assert len(journal) == rows  # a reuse writes no row: a row is a run the service made
    assert "(reused)" in repr(handle) and "(reused)" in repr(result)
    data, _ = result._repr_mimebundle_()
    assert "text/html" in data and original.execution_id in data["text/plain"]

    async def awaited() -> Result:
        return await handle

    assert asyncio.run(awaited()) is result


def test_reuse_is_off_by_default_and_needs_identical_inputs(
    session: Session, sandbox: Sandbox
) -> None:
    first_run(session, {"Prompt": "a lighthouse", "Style": "Anime"})
    creations = sandbox.stats.run_creations
    again, _ = launch(session, "Text to Image", {"Prompt": "a lighthouse", "Style": "Anime"})
    assert not again.reused and again.result(timeout=60).is_completed
    other, _ = launch(
        session, "Text to Image", {"Prompt": "a lighthouse", "Style": "Oil Painting"}, reuse=True
    )
    assert not other.reused and other.result(timeout=60).is_completed
    # An omitted input is not its default given explicitly (the service's default may change).
    implicit, _ = launch(session, "Text to Image", {"Prompt": "a lighthouse"}, reuse=True)
    assert not implicit.reused and implicit.result(timeout=60).is_completed
    assert sandbox.stats.run_creations == creations + 3


def test_variants_are_new_samples_on_purpose(session: Session, sandbox: Sandbox) -> None:
    inputs = {"Prompt": "a robot", "Style": "Pixel Art"}
    base = first_run(session, inputs)
    journal = session.client.journal
    assert journal is not None
    creations = sandbox.stats.run_creations
    one, _ = launch(session, "Text to Image", inputs, variant=1)  # not journaled yet: runs
    sample = one.result(timeout=60)
    assert not one.reused and sandbox.stats.run_creations == creations + 1
    assert journal.get(sample.execution_id).variant == 1  # type: ignore[union-attr]
    again, _ = launch(session, "Text to Image", inputs, variant=1)  # now it is: reused
    assert again.reused and again.result().reused_from == sample.execution_id
    zero, _ = launch(session, "Text to Image", inputs, variant=0)
    assert zero.reused and zero.result().reused_from == base.execution_id
    fresh, _ = launch(session, "Text to Image", inputs, fresh=True)  # always runs: variant 2
    new = fresh.result(timeout=60)
    assert not fresh.reused and journal.get(new.execution_id).variant == 2  # type: ignore[union-attr]
    assert sandbox.stats.run_creations == creations + 2
    with pytest.raises(ValueError, match="fresh"):
        launch(session, "Text to Image", inputs, fresh=True, variant=3)
    with pytest.raises(ValueError, match="variant"):
        launch(session, "Text to Image", inputs, variant=-1)


def test_reuse_works_offline_after_the_service_is_gone(session: Session, sandbox: Sandbox) -> None:
    inputs = {"Prompt": "a cat on a boat", "Style": "Neon Noir"}
    original = first_run(session, inputs)
    sandbox.stop()  # every URL of the run is dead now, and the API too
    handle, _ = launch(session, "Text to Image", inputs, reuse=True)
    result = handle.result(timeout=5)
    assert result.reused_from == original.execution_id and result.media
    with pytest.raises(LaminaError):  # without reuse it really needs the service
        launch(session, "Text to Image", {"Prompt": "something new"}, reuse=True)[0].result(5)


def test_reuse_savings_counts_runs_and_credits_when_known(session: Session) -> None:
    inputs = {"Prompt": "a mountain at dawn"}
    first = first_run(session, inputs)
    app_id = first.app_id
    reused = [launch(session, "Text to Image", inputs, reuse=True)[0] for _ in range(3)]
    items: list[Any] = [first, None, *reused, reused[0].result()]
    savings = reuse_savings(items)
    assert (savings.runs, savings.credits) == (4, None)
    assert reuse_savings(items, {app_id: 2.5}).credits == 10.0
    assert reuse_savings(items, {"another app": 1.0}).credits is None  # price unknown
    assert reuse_savings([first]).runs == 0 and reuse_savings([], {}).credits == 0.0


# -- RunHandle: a failed watch can be resumed; the client is taken in the right thread --------


def test_a_watch_that_lost_track_is_resumed_by_watch(session: Session, sandbox: Sandbox) -> None:
    """The widget's Resume after "lost track" calls handle.watch(): it must watch again."""
    handle, _ = launch(session, "Text to Image", {"Prompt": "lost and found"})
    sandbox.revoke_key(sandbox.api_key)  # every API answer is a 401 now: the watch gives up
    with pytest.raises(LaminaError):
        handle.result(timeout=60)
    assert handle.done() and not handle.stopped
    with pytest.raises(LaminaError):  # result() keeps the error; it does not re-watch silently
        handle.result(timeout=5)
    sandbox.add_key(sandbox.api_key)
    assert handle.watch() is handle and not handle.done()  # the old error is forgotten
    result = handle.result(timeout=60)
    assert result.is_completed and handle.done()


def test_a_handle_made_on_the_loop_keeps_its_client(session: Session) -> None:
    """On the loop thread the handle never asks the session for a client (that could
    deadlock while the main thread rebuilds it); it keeps the one it was made with."""
    client = session.client
    handle, _ = launch(session, "Text to Image", {"Prompt": "kept client"})
    execution = handle.execution
    handle.stop()
    session.configure(rate_limit=50)  # the session's client is dropped; a new one is lazy

    async def on_the_loop() -> tuple[RunHandle, BaseException | None]:
        bare = RunHandle(session, execution)  # no client: must refuse, not deadlock
        try:
            bare.watch()
        except RuntimeError as exc:
            refused: BaseException | None = exc
        else:
            refused = None
        kept = RunHandle(session, execution, client=client)
        kept.watch()
        return kept, refused

    kept, refused = session.runtime.submit(on_the_loop()).result(timeout=30)
    assert isinstance(refused, RuntimeError) and "client" in str(refused)
    result = kept.future.result(timeout=60)  # type: ignore[union-attr]
    assert result.is_completed


def test_saved_thumbnails_make_a_reused_result_small(session: Session) -> None:
    from PIL import Image

    first_run(session, {"Prompt": "a small thumbnail"})
    result = launch(session, "Text to Image", {"Prompt": "a small thumbnail"}, reuse=True)[0]
    ((thumb, _),) = result.result().media.values()
    assert max(Image.open(io.BytesIO(thumb)).size) <= 192
