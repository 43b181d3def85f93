"""Stopping runs from the widget: Cancel (at the service: it stops producing and billing) against
Detach (stop watching; the run goes on), Cancel all / Detach all, Resume, ``handle.cancel()``,
the /api edition that cannot cancel, reuse of an identical run, and the "+N earlier runs" fold.

The runs here belong to "Glacial Painter" (about 40 s at the tests' clock), so every cancel and
detach lands while the run is still going, however loaded the machine is.
"""

from __future__ import annotations

import threading
from html import unescape

from widget_helpers import make_session, only_run, wait_until

from lamina_notebook.errors import resume_hint
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.progress import MAX_PROGRESS_ROWS, NO_CANCEL_TOOLTIP


def outputs_of(sb: Sandbox, execution_id: str) -> int:
    return int(sb.outputs_produced(execution_id) or 0)


def test_cancel_all_stops_three_runs_at_the_service(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    handles = [w.run(Prompt=p) for p in ("one", "two", "three")]
    before = wsb.stats.cancellations
    w.parts.cancel_all_button.click()
    assert "Cancelling 3 run(s)" in w.parts.status.value
    w.wait(timeout=30)
    assert wsb.stats.cancellations - before == 3
    for handle, run in zip(handles, w.parts.runs, strict=True):
        assert run.phase == "ended" and run.result is not None
        assert run.result.status == "cancelled" and handle.status == "cancelled"
        assert run.row.status.text == "cancelled" and run.row.bar.bar_style == "warning"
        assert run.row.cancel_button.layout.display == "none"  # nothing left to stop
        assert all(o.status == "cancelled" for o in run.result.execution.outputs)
        assert outputs_of(wsb, handle.execution_id) == 0
        assert "cancelled" in run.card.head.value
    assert session.client.journal.get(handles[0].execution_id).status == "cancelled"


def test_a_rows_cancel_stops_only_that_run(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    keep = w.run(Prompt="keep me")
    stop = w.run(Prompt="cancel me")
    w.parts.runs[1].row.cancel_button.click()
    wait_until(lambda: w.parts.runs[1].phase == "ended", timeout=30)
    assert w.parts.runs[1].result is not None
    assert w.parts.runs[1].result.status == "cancelled"
    assert w.parts.runs[0].phase == "watching" and keep.status in ("queued", "running")
    keep.cancel()  # the RunHandle API: w.run(...).cancel()
    w.wait(timeout=30)
    assert [r.result.status for r in w.parts.runs if r.result] == ["cancelled", "cancelled"]
    assert stop.status == "cancelled"


def test_cancel_while_the_post_is_on_its_way_cancels_once_it_is_answered(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    w.value = {"Prompt": "cancelled before it was created"}
    # Hold the loop thread, so the POST cannot go before the Cancel click (no timing involved).
    release = threading.Event()

    async def hold() -> None:
        release.wait(30)

    session.runtime.submit(hold())
    try:
        w.parts.run_button.click()
        run = only_run(w)
        assert run.phase == "starting" and run.handle is None
        run.row.cancel_button.click()
        assert only_run(w).row.status.text == "cancelling…"
        assert only_run(w).row.cancel_button.disabled  # asked once
    finally:
        release.set()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.status == "cancelled"
    assert run.handle is not None and outputs_of(wsb, run.handle.execution_id) == 0


def test_detach_keeps_the_run_going_and_resume_finishes_it(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Slow Painter", session=session)
    handle = w.run(Prompt="detach me")
    cancels = wsb.stats.cancel_requests
    w.parts.detach_all_button.click()
    assert resume_hint(handle.execution_id) in unescape(w.parts.status.value)
    w.wait(timeout=30)  # a detached run counts as ended
    run = only_run(w)
    assert run.phase == "detached" and run.result is None and handle.stopped
    assert run.row.bar.bar_style == "warning" and run.row.status.text == "detached"
    assert resume_hint(handle.execution_id) in run.row.status.tip
    assert run.row.watch_button.description == "Resume"
    assert run.row.cancel_button.layout.display == ""  # a detached run can still be cancelled
    assert wsb.stats.cancel_requests == cancels  # nothing was cancelled
    assert session.client.history()[0].execution_id == handle.execution_id  # journaled
    run.row.watch_button.click()
    assert only_run(w).row.watch_button.description == "Detach"  # watching again
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed
    assert run.row.bar.bar_style == "success"


def test_cancel_of_a_detached_run_watches_it_to_its_cancelled_end(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    handle = w.run(Prompt="detached, then cancelled")
    w.detach_all()
    w.wait(timeout=30)
    assert only_run(w).phase == "detached"
    only_run(w).row.cancel_button.click()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.status == "cancelled"
    assert outputs_of(wsb, handle.execution_id) == 0


def test_stopping_the_handle_itself_shows_the_row_detached_and_resumable(
    session: Session, wsb: Sandbox
) -> None:
    # handle.stop() (the RunHandle API) must not leave the row spinning as if still watched.
    w = LaminaApp("Slow Painter", session=session)
    handle = w.run(Prompt="stop my handle")
    assert handle.future is not None  # run() hands out a handle that is being watched
    handle.stop()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.phase == "detached" and run.result is None
    assert run.row.bar.bar_style == "warning"
    assert run.row.watch_button.description == "Resume"
    run.row.watch_button.click()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed


def test_a_handle_reads_stopped_when_its_watch_is_cancelled(session: Session, wsb: Sandbox) -> None:
    # Whoever awaits the watch learns of the stop from the cancellation itself: at that moment
    # the handle must already say "stopped", or the cancellation reads as a loop shutdown and
    # the row stays "queued" without Resume. A done callback runs inside cancel(), so it sees
    # exactly that moment, with no thread timing involved.
    w = LaminaApp("Slow Painter", session=session)
    handle = w.run(Prompt="the order of a stop")
    watch = handle.future
    assert watch is not None
    seen: list[tuple[bool, bool]] = []
    watch.add_done_callback(lambda f: seen.append((f.cancelled(), handle.stopped)))
    handle.stop()
    assert seen == [(True, True)]
    w.wait(timeout=30)
    assert only_run(w).phase == "detached"


def test_a_handle_stopped_as_soon_as_run_returns_stays_stopped(
    session: Session, wsb: Sandbox
) -> None:
    # The widget starts watching before it hands the handle out, so a stop from code right
    # after run() returns is never undone by a watch that starts later.
    w = LaminaApp("Slow Painter", session=session)
    handles = [w.run(Prompt=f"stopped at once {i}") for i in range(3)]
    for handle in handles:
        handle.stop()
    w.wait(timeout=30)
    runs = w.parts.runs
    assert [r.phase for r in runs] == ["detached"] * 3
    assert all(h.stopped and not h.done() for h in handles)
    assert all(r.row.watch_button.description == "Resume" for r in runs)
    assert w.last_result is None


def test_resume_after_a_settings_change_replaced_the_client_finishes_the_run(
    session: Session, wsb: Sandbox
) -> None:
    # The new client must be built in the main thread: the loop thread cannot block on itself,
    # and a failed restart must never leave ``finished`` unresolved (w.wait() would hang).
    w = LaminaApp("Slow Painter", session=session)
    w.run(Prompt="resume me later")
    w.detach_all()
    w.wait(timeout=30)
    assert only_run(w).phase == "detached"
    session.configure(request_timeout=29.0)  # replaces the client
    only_run(w).row.watch_button.click()
    w.wait(timeout=20)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed


def test_the_api_edition_says_its_stop_can_only_detach(wsb: Sandbox) -> None:
    s = make_session(wsb, api_edition="api")
    try:
        w = LaminaApp("Glacial Painter", session=s)
        handle = w.run(Prompt="cannot be cancelled here")
        row = only_run(w).row
        assert row.cancel_button.disabled and row.cancel_button.tooltip == NO_CANCEL_TOOLTIP
        assert "Detach only stops watching" in row.cancel_button.tooltip
        cancels = wsb.stats.cancel_requests
        assert w.cancel_all() == 0
        assert (
            "cannot be cancelled" in w.parts.status.value and "Detach all" in w.parts.status.value
        )
        assert wsb.stats.cancel_requests == cancels  # nothing sent
        w.parts.detach_all_button.click()
        w.wait(timeout=30)
        assert only_run(w).phase == "detached" and handle.stopped
    finally:
        s.close()


def test_reuse_of_an_identical_run_sends_nothing_and_says_so(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a reused fox", "Style": "Anime"}
    first = w.run().result(timeout=30)
    w.wait(timeout=30)
    created = wsb.stats.run_creations
    w.parts.reuse_toggle.value = True
    w.parts.run_button.click()
    w.wait(timeout=30)
    assert wsb.stats.run_creations == created  # nothing sent, nothing billed
    run = w.parts.runs[-1]
    assert run.reused and run.handle is not None and run.handle.reused
    assert run.result is not None and run.result.reused_from == first.execution_id
    assert run.row.status.text == "reused" and "nothing was sent" in run.row.status.tip
    assert "lamina-reused" in run.card.head.value
    assert run.card.tiles.children and len(run.card.tiles.children[0].children[1].value) > 0
    fresh = w.run(reuse=False)  # the default of run() is the box; False asks anew
    assert not fresh.reused and wsb.stats.run_creations == created + 1
    w.cancel_all()
    w.wait(timeout=30)


def test_older_rows_fold_into_earlier_runs_instead_of_disappearing(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "fold me"}
    n = MAX_PROGRESS_ROWS + 3
    for i in range(n):
        w.run(Prompt=f"fold me {i}")
    w.wait(timeout=60)
    progress = w.parts.progress
    shown = progress.box.children[0].children
    assert len(shown) == MAX_PROGRESS_ROWS
    assert progress.more_button.description == "+3 earlier runs"
    assert progress.more_button.layout.display == "" and progress.folded.layout.display == "none"
    assert len(progress.folded.children) == 3
    rows = [r.row.box for r in w.parts.runs]
    assert list(shown) == rows[::-1][:MAX_PROGRESS_ROWS]  # newest first
    assert list(progress.folded.children) == rows[::-1][MAX_PROGRESS_ROWS:]  # kept, folded
    progress.more_button.click()
    assert progress.folded.layout.display == "" and progress.more_button.description.startswith(
        "hide 3"
    )
    progress.more_button.click()
    assert progress.folded.layout.display == "none"


def test_runs_in_flight_are_never_folded(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    for i in range(MAX_PROGRESS_ROWS + 2):
        w.run(Prompt=f"in flight {i}")
    progress = w.parts.progress
    assert len(progress.box.children[0].children) == MAX_PROGRESS_ROWS + 2
    assert progress.more_button.layout.display == "none"
    w.cancel_all()
    w.wait(timeout=60)
    assert len(w.parts.progress.box.children[0].children) == MAX_PROGRESS_ROWS
    assert w.parts.progress.more_button.description == "+2 earlier runs"
