"""LaminaApp without a browser: controls, validation, value round trip, runs, stop, history, sweeps.

Runs go to a real sandbox server on 127.0.0.1 through the real session/runtime/client; the
widgets work without a kernel (their comms are no-ops). Tests act like a user or notebook code:
the public API (``w.value``, ``w.run()``, ``w.wait()``...), clicks on the buttons, typing into
the inputs, and the read-only ``w.parts`` view of what is on screen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator
from html import escape as html_escape
from html import unescape as html_unescape
from typing import Any

import ipywidgets as W
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets import TraitError

from lamina_notebook.errors import (
    AuthenticationError,
    InputValidationError,
    LaminaError,
    resume_hint,
)
from lamina_notebook.models import App
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings, reset_session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.controls import ControlParts
from lamina_notebook.widget.gallery import media_values, walk
from lamina_notebook.widget.media import MAX_COMM_BYTES
from lamina_notebook.widget.parts import RunParts

SECRET = "lma_widget_secret_5c1d"
POLL = 0.05
SLOW_APP = {
    "name": "Slow Painter",
    "description": "Two images, slowly.",
    "duration": 60,
    "parameters": [{"name": "Prompt", "type": "text", "description": "What to paint."}],
    "outputs": [{"label": "Image", "type": "image"}, {"label": "Variant", "type": "image"}],
}
EVIL = "<img src=x onerror=alert(1)>"
HOSTILE_APP = {
    "name": f"{EVIL}Evil App",
    "description": "<script>alert('desc')</script>",
    "duration": 1,
    "parameters": [
        {
            "name": "<b>Mode</b>",
            "type": "options",
            "options": ["<script>m</script>", "ok"],
            "default": "ok",
            "description": "<iframe src=javascript:alert(1)></iframe>",
        },
        {"name": "Notes<script>", "type": "text", "default": "</textarea><script>x</script>"},
    ],
    "outputs": [
        {"label": "<script>label</script>", "type": "text", "text": "<script>alert('out')</script>"}
    ],
}


@pytest.fixture(scope="module")
def wsb() -> Iterator[Sandbox]:
    with Sandbox(
        time_scale=0.02, rate_limit=0, api_key=SECRET, extra_apps=[SLOW_APP, HOSTILE_APP]
    ) as sb:
        yield sb


def make_session(sb: Sandbox, key: str = SECRET) -> Session:
    return Session(
        Settings(
            api_key=key,
            base_url=sb.base_url,
            poll_interval=POLL,
            rate_limit=0,
            min_poll_interval=POLL,
        )
    )


@pytest.fixture
def session(wsb: Sandbox) -> Iterator[Session]:
    s = make_session(wsb)
    yield s
    s.close()


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``predicate`` until truthy (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def html_values(root: W.Widget) -> list[str]:
    return [w.value for w in walk(root) if isinstance(w, W.HTML)]


def control(w: LaminaApp, name: str) -> ControlParts:
    return w.parts.controls[name]


def only_run(w: LaminaApp) -> RunParts:
    (run,) = w.parts.runs
    return run


def widget_uid(w: LaminaApp) -> str:
    """The id that ties the live widget to its static snapshot (from the snapshot's metadata)."""
    uid = w.snapshot().metadata["lamina"]["widget"]
    assert w.snapshot_id == f"lamina-widget-{uid}"
    return str(uid)


def stylizer(session: Session, sb: Sandbox, **values: str) -> LaminaApp:
    w = LaminaApp("Photo Stylizer", session=session)
    w.value = {"Upload": f"{sb.base_url}/samples/portrait.png", **values}
    return w


# -- controls -----------------------------------------------------------------------------


def test_every_catalog_parameter_gets_the_right_control(session: Session, wsb: Sandbox) -> None:
    kinds: dict[tuple[str, str], type] = {}
    for name in ("Photo Stylizer", "Text to Image", "Product Copywriter", "Upscaler 4x"):
        w = LaminaApp(name, session=session)
        assert list(w.parts.controls) == [p.name for p in w.app.parameters or ()]
        for param_name, c in w.parts.controls.items():
            kinds[(name, param_name)] = type(c.input)
            assert param_name in c.label.value
            param = w.app.parameter(param_name)
            assert param is not None
            if param.description:
                assert param.description.split()[0] in c.help.value
    assert kinds[("Photo Stylizer", "Style")] is W.Dropdown  # six labels
    assert kinds[("Photo Stylizer", "Aspect Ratio")] is W.ToggleButtons  # four labels
    assert kinds[("Upscaler 4x", "Scale")] is W.ToggleButtons
    assert kinds[("Photo Stylizer", "Upload")] is W.Text
    assert kinds[("Text to Image", "Prompt")] is W.Textarea
    assert kinds[("Product Copywriter", "Product")] is W.Text  # a short, name-like input


def test_defaults_required_markers_and_url_extras(session: Session) -> None:
    w = LaminaApp("Photo Stylizer", session=session)
    upload, style = control(w, "Upload"), control(w, "Style")
    assert "required" in upload.label.value and "required" not in style.label.value
    assert style.input.value == "Disney / Pixar"
    assert w.value == {"Style": "Disney / Pixar", "Aspect Ratio": "1:1"}
    assert isinstance(upload.mark, W.Valid) and isinstance(upload.preview, W.Image)
    assert upload.mark.value is False and upload.mark.readout == "empty"


def test_hostile_metadata_is_escaped_everywhere(session: Session) -> None:
    app = App.from_json({"appId": "00000000-0000-4000-8000-000000000001", **HOSTILE_APP})
    w = LaminaApp(app, session=session)
    texts = [*html_values(w), w._repr_mimebundle_()["text/html"], w.snapshot().data["text/html"]]
    joined = "\n".join(texts)
    assert "&lt;script&gt;" in joined and "&lt;img src=x" in joined
    for raw in ("<script", "<img src=x", "<iframe", "<b>Mode", "</textarea>"):
        assert raw not in joined
    mode = control(w, "<b>Mode</b>")
    assert isinstance(mode.input, W.ToggleButtons)
    assert mode.input.options == ("<script>m</script>", "ok")  # button text, rendered as text
    notes = control(w, "Notes<script>")
    assert notes.input.value == "</textarea><script>x</script>"


def test_hostile_outputs_from_the_service_are_escaped(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp(HOSTILE_APP["name"], session=session)
    result = w.run().result(timeout=30)
    w.wait(timeout=30)
    assert result.is_completed
    joined = "\n".join([*html_values(w), w.snapshot().data["text/html"]])
    assert "&lt;script&gt;alert(&#x27;out&#x27;)&lt;/script&gt;" in joined
    assert "<script>alert" not in joined and "<script>label" not in joined


# -- validation and the value trait -----------------------------------------------------


def test_invalid_inputs_show_inline_and_disable_run(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Photo Stylizer", session=session)
    parts = w.parts
    assert parts.run_button.disabled and "Upload" in w.problems
    upload = control(w, "Upload")
    upload.input.value = "ftp://example.com/a.png"
    assert parts.run_button.disabled
    assert "http(s)" in upload.error.value and "Run is disabled" in parts.problems.value
    assert upload.mark is not None and upload.mark.value is False
    upload.input.value = f"{wsb.base_url}/samples/portrait.png"
    assert not parts.run_button.disabled and upload.error.value == ""
    assert parts.problems.value == "" and w.problems == {}
    with pytest.raises(InputValidationError, match="not an http"):
        w.run(Upload="javascript:alert(1)")


def test_value_round_trip_and_observers(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Text to Image", session=session)
    seen: list[dict[str, str]] = []
    w.observe(lambda change: seen.append(change["new"]), names="value")
    w.value = {"Prompt": "a fox", "Style": "Anime"}
    assert w.value == {"Prompt": "a fox", "Style": "Anime", "Aspect Ratio": "1:1"}
    assert control(w, "Style").input.value == "Anime"
    control(w, "Aspect Ratio").input.value = "16:9"
    assert w.value["Aspect Ratio"] == "16:9" and seen[-1] == w.value
    w.value = {"Prompt": "a fox"}  # names left out return to their defaults
    assert w.value == {"Prompt": "a fox", "Style": "Photorealistic", "Aspect Ratio": "1:1"}
    before = dict(w.value)
    with pytest.raises(TraitError, match=r"Must be one of|choose one of"):
        w.value = {"Prompt": "x", "Style": "Mars"}
    with pytest.raises(TraitError, match=r"Text to Image takes: Prompt, Style, Aspect Ratio"):
        w.value = {"prompt": "x"}
    with pytest.raises(TraitError, match="must be a string"):
        w.value = {"Prompt": 3}
    assert w.value == before


# -- runs, progress, stop ---------------------------------------------------------------


def test_progress_goes_queued_running_completed(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Slow Painter", session=session)
    labels: list[str] = []
    tracked: set[str] = set()

    def track(change: Any) -> None:
        for box in change["new"]:
            _bar, label, _button = box.children
            if label.model_id not in tracked:
                tracked.add(label.model_id)
                label.observe(lambda c: labels.append(c["new"]), names="value")

    w.parts.progress.observe(track, names="children")
    handle = w.run(Prompt="a lighthouse")
    assert w.runs == [handle]
    result = handle.result(timeout=30)
    w.wait(timeout=30)
    run = only_run(w)
    assert result.is_completed and run.phase == "ended" and run.result is not None
    statuses = [s for s in ("queued", "running", "completed") if any(f"· {s}" in x for x in labels)]
    assert statuses == ["queued", "running", "completed"]
    assert any("ETA" in x for x in labels)
    assert run.row.bar.bar_style == "success" and run.row.bar.value == 1.0
    assert "2/2 outputs" in run.row.label.value
    assert w.last_result is not None and w.last_result.execution_id == handle.execution_id
    tiles = run.card.tiles.children
    assert len(tiles) == 2 and all(isinstance(t.children[1], W.Image) for t in tiles)
    assert "Prompt=a lighthouse" in tiles[0].children[0].value  # inputs of the first run
    assert w.parts.gallery.children[0] is run.card.box  # the newest card on top


def test_failed_run_turns_the_bar_red_and_says_why(session: Session, wsb: Sandbox) -> None:
    w = stylizer(session, wsb, Upload=f"{wsb.base_url}/samples/no-such-picture.png")
    result = w.run().result(timeout=30)
    w.wait(timeout=30)
    run = only_run(w)
    assert result.status == "failed"
    assert run.row.bar.bar_style == "danger" and "Could not read" in run.row.label.value
    assert "failed" in run.card.head.value


def test_background_run_returns_at_once_and_several_fly_together(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Slow Painter", session=session)
    handles = [w.run(Prompt=p) for p in ("one", "two", "three")]
    assert not any(h.done() for h in handles)  # run() returns while the runs go on
    assert len({h.execution_id for h in handles}) == 3
    results = w.wait(timeout=60)
    assert [r.status for r in results] == ["completed"] * 3
    diff_captions = [r.card.tiles.children[0].children[0].value for r in w.parts.runs]
    assert "Prompt=two" in diff_captions[1] and "Prompt=three" in diff_captions[2]


def test_stop_says_run_goes_on_and_resume_finishes_it(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Slow Painter", session=session)
    handle = w.run(Prompt="stop me")
    w.parts.stop_all_button.click()
    status = w.parts.status.value
    assert resume_hint(handle.execution_id) in html_unescape(status)  # the run goes on
    w.wait(timeout=30)  # a stopped run counts as ended
    run = only_run(w)
    assert run.phase == "stopped" and run.result is None and handle.stopped
    assert run.row.bar.bar_style == "warning"
    assert resume_hint(handle.execution_id) in run.row.label.value  # it may still finish
    assert run.row.watch_button.description == "Resume"
    assert session.client.history()[0].execution_id == handle.execution_id  # journaled
    run.row.watch_button.click()
    assert run.row.watch_button.description == "Stop"  # watching again
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed
    assert run.row.bar.bar_style == "success"


def test_stopping_the_handle_itself_shows_the_row_stopped_and_resumable(
    session: Session, wsb: Sandbox
) -> None:
    # handle.stop() (the RunHandle API) must not leave the row spinning as if still watched.
    w = LaminaApp("Slow Painter", session=session)
    handle = w.run(Prompt="stop my handle")
    assert handle.future is not None  # run() hands out a handle that is being watched
    handle.stop()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.phase == "stopped" and run.result is None
    assert run.row.bar.bar_style == "warning"
    assert run.row.watch_button.description == "Resume"
    run.row.watch_button.click()
    w.wait(timeout=30)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed
    assert run.row.bar.bar_style == "success"


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
    assert only_run(w).phase == "stopped"


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
    assert [r.phase for r in runs] == ["stopped"] * 3
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
    w.stop()
    w.wait(timeout=30)
    assert only_run(w).phase == "stopped"
    session.configure(request_timeout=29.0)  # replaces the client
    only_run(w).row.watch_button.click()
    w.wait(timeout=20)
    run = only_run(w)
    assert run.result is not None and run.result.is_completed


def test_errors_show_inside_the_widget_and_buttons_stay_alive(wsb: Sandbox) -> None:
    good = make_session(wsb)
    app = good.run(good.client.resolve_app("Text to Image"))
    good.close()
    bad = make_session(wsb, key="lma_wrong_key")
    try:
        w = LaminaApp(app, session=bad)  # no request needed: the App has its parameters
        w.value = {"Prompt": "a cat"}
        parts = w.parts
        parts.run_button.click()
        w.wait(timeout=30)
        run = only_run(w)
        assert run.phase == "not started" and isinstance(run.error, AuthenticationError)
        assert run.handle is None and w.runs == []
        assert run.row.bar.bar_style == "danger"
        assert "not started" in run.row.label.value
        assert "AuthenticationError" in parts.status.value  # shown before the run ended
        assert "LAMINA_API_KEY" in parts.status.value  # the hint names the fix
        assert not parts.run_button.disabled
        parts.sweep.labels.value = ()
        parts.sweep.run_button.click()
        assert "choose at least one value" in parts.status.value
        assert not parts.sweep.run_button.disabled
    finally:
        bad.close()


def test_parts_is_a_read_only_view(session: Session) -> None:
    w = LaminaApp("Text to Image", session=session)
    parts = w.parts
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.run_button = W.Button()  # type: ignore[misc]
    with pytest.raises(TypeError):
        parts.controls["Prompt"] = parts.controls["Style"]  # type: ignore[index]
    assert parts.runs == () and parts.sweeps == ()
    assert [parts.tabs.get_title(i) for i in range(3)] == ["Gallery", "History", "Sweep"]
    assert parts.tabs.children[1] is parts.history.box
    assert parts.tabs.children[2] is parts.sweep.box
    assert parts.status in w.children and parts.problems in w.children
    assert parts.controls["Prompt"].input in walk(w)  # the live widgets, not copies


# -- URL previews, comm size, secrets ---------------------------------------------------


def test_url_preview_thumbnail_and_validity_mark(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Photo Stylizer", session=session)
    upload = control(w, "Upload")
    assert upload.mark is not None and upload.preview is not None
    upload.input.value = f"{wsb.base_url}/samples/landscape.png"
    wait_until(lambda: upload.mark.value)  # type: ignore[union-attr]
    assert "reachable" in upload.mark.readout
    assert 0 < len(upload.preview.value) <= MAX_COMM_BYTES
    upload.input.value = f"{wsb.base_url}/samples/missing.png"
    wait_until(lambda: "not reachable" in upload.mark.readout)  # type: ignore[union-attr]
    assert upload.mark.value is False and len(upload.preview.value) == 0
    assert not w.parts.run_button.disabled  # the service may reach what the kernel cannot


def test_only_thumbnails_cross_the_comm_and_the_key_never_does(
    session: Session, wsb: Sandbox
) -> None:
    w = stylizer(session, wsb, **{"Aspect Ratio": "16:9"})
    w.run().result(timeout=30)
    w.wait(timeout=30)
    sizes = [len(v) for v in media_values(w) if v]
    assert sizes and max(sizes) <= MAX_COMM_BYTES
    states = [str(x.get_state()) for x in walk(w)]
    assert all(SECRET not in s for s in states)
    data, metadata = w.snapshot().data, w.snapshot().metadata
    for text in (repr(w), str(data), str(metadata), str(w._repr_mimebundle_())):
        assert SECRET not in text


# -- history ------------------------------------------------------------------------------


def test_history_restores_inputs_and_outputs_from_an_earlier_session(wsb: Sandbox) -> None:
    first = make_session(wsb)
    try:
        w1 = stylizer(first, wsb, Style="Comic", **{"Aspect Ratio": "9:16"})
        done = w1.run().result(timeout=30)
        w1.run(Style="Ghibli").result(timeout=30)
    finally:
        first.close()
    later = make_session(wsb)  # a new session: the journal is all that links them
    try:
        w2 = LaminaApp("Photo Stylizer", session=later)
        history = w2.parts.history
        ids = [value for _label, value in history.select.options if value]
        assert ids[1] == done.execution_id  # newest first
        history.select.value = done.execution_id
        assert w2.value["Style"] == "Comic" and w2.value["Aspect Ratio"] == "9:16"
        card = history.card
        wait_until(lambda: card.tiles.children)
        tile = card.tiles.children[0]
        assert isinstance(tile.children[1], W.Image) and len(tile.children[1].value) > 0
        assert "from history" in card.head.value and done.execution_id in card.head.value
    finally:
        later.close()


def test_history_pick_of_an_unfinished_run_watches_it_to_the_end(wsb: Sandbox) -> None:
    first = make_session(wsb)
    try:
        w1 = LaminaApp("Slow Painter", session=first)
        handle = w1.run(Prompt="left behind")
        w1.stop()  # the kernel "dies" before the run ends: only the journal knows it
    finally:
        first.close()
    later = make_session(wsb)
    try:
        w2 = LaminaApp("Slow Painter", session=later)
        entry = later.client.history()[0]
        assert entry.execution_id == handle.execution_id and not entry.is_terminal
        w2.parts.history.select.value = handle.execution_id
        assert "watching it again" in w2.parts.history.note.value
        assert w2.value == {"Prompt": "left behind"}
        results = asyncio.run(_await(w2))
        assert [r.execution_id for r in results] == [handle.execution_id]
        run = only_run(w2)
        assert run.row.bar.bar_style == "success" and run.handle is not None
        assert run.handle.execution_id == handle.execution_id
        assert later.client.history()[0].status == "completed"
    finally:
        later.close()


def test_history_pick_of_an_unconfirmed_start_explains_it_and_asks_nothing(
    session: Session, wsb: Sandbox
) -> None:
    w = stylizer(session, wsb, Style="Comic")
    wsb.configure(drop_rate=1.0)  # the POST arrives, its answer is lost
    try:
        w.parts.run_button.click()
        w.wait(timeout=30)
    finally:
        wsb.configure(drop_rate=0.0)
    run = only_run(w)
    assert run.phase == "not started" and isinstance(run.error, LaminaError)
    local_id = run.error.journal_id
    status = w.parts.status.value
    assert local_id and local_id in status and "MAY have been created" in status
    history = w.parts.history
    history.refresh_button.click()
    sent = wsb.stats.requests
    history.select.value = local_id
    note = history.note.value
    assert "Unconfirmed" in note and "Lamina app" in note and "watching" not in note
    assert w.value["Style"] == "Comic" and len(w.parts.runs) == 1  # restored, not adopted
    assert wsb.stats.requests == sent  # the local id is never sent to the service


async def _await(w: LaminaApp) -> list[Any]:
    return await w


# -- sweeps --------------------------------------------------------------------------------


@pytest.mark.slow
def test_sweep_over_every_style_fills_the_grid_without_429() -> None:
    with Sandbox(time_scale=0.02, rate_limit=100) as sb:
        s = Session(
            Settings(
                api_key=sb.api_key, base_url=sb.base_url, poll_interval=0.2, min_poll_interval=0.2
            )
        )
        try:
            w = stylizer(s, sb)
            labels = list(w.app.parameter("Style").options)  # type: ignore[union-attr]
            sweep = w.sweep("Style")
            assert sweep.values == labels and all(h is not None for h in sweep.handles)
            results = sweep.results(timeout=120)
            w.wait(timeout=60)
            assert [r.status for r in results] == ["completed"] * len(labels)  # type: ignore
            assert sb.stats.by_status.get(429, 0) == 0
            assert sb.stats.run_creations == len(labels)
            for value, cell in zip(labels, sweep.grid.children, strict=True):
                head, status, media = cell.children
                assert head.value == value and status.value == "completed"
                assert isinstance(media.children[0].children[1], W.Image)
            html = sweep._repr_mimebundle_()["text/html"]
            assert all(html_escape(label) in html for label in labels)
            assert "Disney / Pixar" in w.snapshot().data["text/html"]
            tabs = w.parts.tabs
            assert tabs.get_title(tabs.selected_index) == "Sweep"
            assert w.parts.sweep.area.children[1] is sweep.grid  # the tab shows this sweep
        finally:
            s.close()


def test_sweep_over_prompts_from_the_tab(session: Session) -> None:
    w = LaminaApp("Text to Image", session=session)
    panel = w.parts.sweep
    panel.param.value = "Prompt"
    assert panel.labels.layout.display == "none" and panel.lines.layout.display == ""
    panel.lines.value = "a red fox\n\na blue whale\n"
    panel.run_button.click()
    assert w.parts.status.value == ""
    (sweep,) = w.parts.sweeps
    assert sweep.values == ["a red fox", "a blue whale"]
    results = sweep.results(timeout=60)
    assert [r.inputs["Prompt"] for r in results] == ["a red fox", "a blue whale"]  # type: ignore
    with pytest.raises(ValueError, match="give the values to try"):
        w.sweep("Prompt")
    w.value = {"Prompt": "a cat"}
    with pytest.raises(InputValidationError, match="Must be one of"):
        w.sweep("Style", values=["Photorealistic", "Mars"])
    assert len(w.parts.sweeps) == 1 and len(w.parts.runs) == 2  # nothing started for it


def test_text_repr_and_snapshot_bundle(session: Session, wsb: Sandbox) -> None:
    w = stylizer(session, wsb)
    assert "No finished runs yet" in w.snapshot().data["text/html"]
    handle = w.run()
    w.wait(timeout=30)
    text = w._repr_mimebundle_()["text/plain"]
    assert text.startswith("LaminaApp: Photo Stylizer") and "Style = Disney / Pixar" in text
    assert handle.execution_id in text
    data = w.snapshot().data
    uid = widget_uid(w)
    assert f"lamina-snap-{uid}" in data["text/html"] and "data:image/" in data["text/html"]
    assert handle.execution_id in data["text/plain"]
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.fixture
def shell(sandbox_env: Sandbox) -> Iterator[InteractiveShell]:
    """IPython with ``%load_ext lamina_notebook``, LAMINA_* pointing at the session sandbox."""
    ip = InteractiveShell.instance()
    reset_session()
    with capture_output():
        ip.extension_manager.load_extension("lamina_notebook")
    yield ip
    with capture_output():
        ip.extension_manager.unload_extension("lamina_notebook")
    reset_session()


def test_lamina_widget_magic_shows_the_widget_and_its_snapshot(shell: InteractiveShell) -> None:
    with capture_output() as cap:
        shell.run_cell('%lamina widget "Photo Stylizer"', store_history=True)
    w = shell.user_ns["_"]
    assert isinstance(w, LaminaApp) and w.app.name == "Photo Stylizer"
    widget_out, snapshot_out = cap.outputs
    assert widget_out.data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    assert widget_out.data["text/plain"].startswith("LaminaApp: Photo Stylizer")
    assert f"lamina-snap-{widget_uid(w)}" in snapshot_out.data["text/html"]
