"""LaminaApp without a browser: controls, calm validation, value round trip, runs, progress,
errors, URL previews, secrets, the magic.

Runs go to a real sandbox server on 127.0.0.1 through the real session/runtime/client; the
widgets work without a kernel (their comms are no-ops). Tests act like a user or notebook code:
the public API (``w.value``, ``w.run()``, ``w.wait()``...), clicks on the buttons, typing into
the inputs, and the read-only ``w.parts`` view of what is on screen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import ipywidgets as W
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets import TraitError
from widget_helpers import (
    HOSTILE_APP,
    SECRET,
    control,
    html_values,
    make_session,
    only_run,
    stylizer,
    wait_until,
    widget_uid,
)

from lamina_notebook.errors import AuthenticationError, InputValidationError
from lamina_notebook.models import App
from lamina_notebook.render.html import esc
from lamina_notebook.render.styles import STYLE_TAG
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, reset_session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.gallery import media_values, walk
from lamina_notebook.widget.media import MAX_COMM_BYTES

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
    assert isinstance(upload.upload, W.FileUpload) and upload.upload.accept == "image/*"
    assert isinstance(upload.status, W.HTML) and isinstance(upload.previews, W.HBox)
    assert upload.status.value == "" and upload.preview is None  # nothing to say yet
    assert style.upload is None and style.status is None and style.previews is None
    assert "lamina-upload" in upload.upload._dom_classes
    assert "lamina-url-status" in upload.status._dom_classes


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


# -- calm validation and the value trait ------------------------------------------------


def shown_messages(w: LaminaApp) -> dict[str, str]:
    """Every message on screen about the inputs, by field ("" for the line under Run)."""
    found = {name: c.error.value for name, c in w.parts.controls.items() if c.error.value}
    if w.parts.problems.value:
        found[""] = w.parts.problems.value
    return found


def test_a_fresh_form_says_nothing_until_the_user_edits_or_presses_run(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    parts = w.parts
    assert "Prompt" in w.problems  # the problem exists...
    assert shown_messages(w) == {} and parts.status.value == ""  # ...and nothing shouts it
    assert not parts.run_button.disabled  # Run can be pressed to find out
    created = wsb.stats.run_creations
    parts.run_button.click()
    assert wsb.stats.run_creations == created  # nothing sent
    messages = shown_messages(w)
    assert list(messages) == ["Prompt"] and "missing" in messages["Prompt"]
    assert parts.run_button.disabled and "Prompt" in parts.run_button.tooltip
    assert parts.status.value == ""  # one message per problem: not repeated on the status line
    control(w, "Prompt").input.value = "a lighthouse"
    assert shown_messages(w) == {} and not parts.run_button.disabled
    assert parts.run_button.tooltip.startswith("Start a run")


def test_an_edit_shows_only_that_fields_problem_once(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Photo Stylizer", session=session)
    upload = control(w, "Upload")
    upload.input.value = "ftp://example.com/a.png"
    messages = shown_messages(w)
    assert list(messages) == ["Upload"] and "http(s)" in messages["Upload"]
    everything = "\n".join([*html_values(w), w.parts.run_button.tooltip])
    assert everything.count("is not an http(s) URL") == 2  # the field's line and Run's tooltip
    # The Upload button beside the field is the widget's way to send a local file (validation
    # says "%lamina upload PATH", for the magics)
    assert "or pick a file with the Upload button" in messages["Upload"]
    assert "%lamina upload" not in everything
    assert upload.status is not None and upload.status.value == ""  # no second message
    assert w.parts.run_button.disabled
    upload.input.value = f"{wsb.base_url}/samples/portrait.png"
    assert shown_messages(w) == {} and not w.parts.run_button.disabled
    with pytest.raises(InputValidationError, match="not an http"):
        w.run(Upload="javascript:alert(1)")


def test_an_edit_reveals_no_other_fields_problem(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Model Photoshoot", session=session)  # Garment and Background are required
    control(w, "Garment").input.value = f"{wsb.base_url}/samples/product.png"
    assert "Background" in w.problems  # still missing...
    assert shown_messages(w) == {}  # ...but untouched: not shown
    assert not w.parts.run_button.disabled
    w.parts.run_button.click()
    assert list(shown_messages(w)) == ["Background"]


def test_validation_messages_can_fail(session: Session) -> None:
    # The calm check above would pass on a widget that never shows anything: this one must.
    w = LaminaApp("Photo Stylizer", session=session)
    w.parts.run_button.click()
    assert "Upload" in shown_messages(w)


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


def test_the_selected_toggle_rule_is_on_the_page_and_applies_to_this_widget(
    session: Session,
) -> None:
    w = LaminaApp("Text to Image", session=session)
    assert "lamina-app" in w._dom_classes
    assert STYLE_TAG in w.parts.header.value  # the header carries the one stylesheet
    assert ".lamina-app .widget-toggle-button.mod-active" in w.parts.header.value
    assert "--jp-brand-color1" in STYLE_TAG and "--jp-ui-inverse-font-color1" in STYLE_TAG


# -- runs, progress ---------------------------------------------------------------------


def test_progress_goes_queued_running_completed(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Slow Painter", session=session)
    statuses: list[str] = []
    clocks: list[str] = []
    tracked: set[str] = set()

    def track(change: Any) -> None:
        for box in change["new"]:
            status, clock = box.children[1], box.children[3]
            if status.model_id not in tracked:
                tracked.add(status.model_id)
                status.observe(lambda c: statuses.append(c["owner"].text), names="value")
                clock.observe(lambda c: clocks.append(c["new"]), names="value")

    w.parts.progress.box.children[0].observe(track, names="children")
    handle = w.run(Prompt="a lighthouse")
    assert w.runs == [handle]
    result = handle.result(timeout=30)
    w.wait(timeout=30)
    run = only_run(w)
    assert result.is_completed and run.phase == "ended" and run.result is not None
    seen = [s for s in ("queued", "running", "completed") if any(x.startswith(s) for x in statuses)]
    assert seen == ["queued", "running", "completed"]
    assert any("ETA" in x for x in clocks)
    assert run.row.bar.bar_style == "success" and run.row.bar.value == 1.0
    assert run.row.status.text == "completed" and run.row.clock.value.startswith("took ")
    assert run.row.ident.text == handle.execution_id[:8]
    assert run.row.ident.tip == handle.execution_id  # the full id on hover...
    # ...as the span's title: ipywidgets 8 would put a Label's tooltip on its hidden
    # description element, and the page would get no title at all
    assert run.row.ident.value.startswith(f'<span title="{handle.execution_id}" ')
    assert run.row.ident.value.endswith(f">{handle.execution_id[:8]}</span>")
    assert not run.row.ident.tooltip and not run.row.status.tooltip
    assert w.last_result is not None and w.last_result.execution_id == handle.execution_id
    tiles = run.card.tiles.children
    assert len(tiles) == 2 and all(isinstance(t.children[1], W.Image) for t in tiles)
    assert "Prompt=a lighthouse" in tiles[0].children[0].value  # a lone run: all its inputs
    assert w.parts.gallery.children[0] is run.card.box  # the newest card on top


def test_progress_rows_are_fixed_columns_on_one_line(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Slow Painter", session=session)
    w.run(Prompt="a " + "very " * 60 + "long prompt")
    row = only_run(w).row
    bar, status, ident, clock, title, cancel, detach = row.box.children
    assert row.box.layout.flex_flow == "row nowrap"
    for fixed in (bar, status, ident, clock):  # the same width in every row
        assert fixed.layout.width and fixed.layout.width.endswith("px")
        assert fixed.layout.flex == "0 0 auto"
    assert title.layout.flex == "1 1 auto" and title.layout.min_width == "60px"
    assert "long prompt" in title.tip  # cut on screen, whole on hover
    assert isinstance(title, W.HTML) and f'title="{title.tip}"' in title.value
    assert "text-overflow:ellipsis" in title.value
    for button in (cancel, detach):
        assert button.layout.width == "auto" and button.layout.flex == "0 0 auto"
    assert (cancel.description, detach.description) == ("Cancel", "Detach")
    assert "stops spending credits" in cancel.tooltip and "goes on" in detach.tooltip
    assert "lamina-progress-row" in row.box._dom_classes
    assert "lamina-cancel-button" in cancel._dom_classes
    assert "lamina-detach-button" in detach._dom_classes
    w.cancel_all()
    w.wait(timeout=30)


def test_failed_run_turns_the_bar_red_and_says_why(session: Session, wsb: Sandbox) -> None:
    w = stylizer(session, wsb, Upload=f"{wsb.base_url}/samples/no-such-picture.png")
    result = w.run().result(timeout=30)
    w.wait(timeout=30)
    run = only_run(w)
    assert result.status == "failed"
    assert run.row.bar.bar_style == "danger" and run.row.status.text == "failed"
    assert "Could not read" in run.row.status.tip
    assert f'title="{esc(run.row.status.tip)}"' in run.row.status.value  # escaped, on the page
    assert "failed" in run.card.head.value and "Could not read" in run.card.head.value


def test_background_runs_return_at_once_and_captions_name_what_differs(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a fox", "Style": "Anime"}
    handles = [
        w.run(),
        w.run(Style="Watercolor"),  # differs from #1 in the style
        w.run(Prompt="a lighthouse", Style="Watercolor"),  # in the prompt
    ]
    assert not any(h.done() for h in handles)  # run() returns while the runs go on
    assert len({h.execution_id for h in handles}) == 3
    results = w.wait(timeout=60)
    assert [r.status for r in results] == ["completed"] * 3
    captions = [r.card.tiles.children[0].children[0].value for r in w.parts.runs]
    # Run #2 changed only the style from #1, yet its caption still says which prompt made it,
    # since the prompts differ among the runs on screen; the unchanged ratio is left out.
    assert "Prompt=a fox" in captions[1] and "Style=Watercolor" in captions[1]
    assert "Prompt=a lighthouse" in captions[2] and "Style=Watercolor" in captions[2]
    assert all("Aspect Ratio" not in c for c in captions)
    titles = [r.title for r in w.parts.runs]
    assert titles[0] == "#1 Prompt=a fox, Style=Anime"
    assert [r.row.title.text for r in w.parts.runs] == titles


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
        assert run.row.bar.bar_style == "danger" and run.row.status.text == "not started"
        assert "AuthenticationError" in parts.status.value  # shown before the run ended
        assert "LAMINA_API_KEY" in parts.status.value  # the hint names the fix
        assert not parts.run_button.disabled
        parts.sweep.labels.value = ()
        parts.sweep.run_button.click()
        assert "choose at least one value" in parts.sweep.batch.problems.value
        assert not parts.sweep.run_button.disabled
    finally:
        bad.close()


def test_no_callback_raises_into_the_kernel(session: Session, wsb: Sandbox) -> None:
    # A setting that breaks the client: every path a user can take still ends in a message on
    # the widget's status line (the front end would otherwise log a traceback, or worse).
    w = stylizer(session, wsb, Style="Comic")
    session.configure(base_url="not a url at all")
    from widget_helpers import pick, png

    parts = w.parts
    upload = control(w, "Upload")
    actions = [
        lambda: setattr(upload.input, "value", f"{wsb.base_url}/samples/landscape.png"),
        lambda: pick(upload.upload, ("me.png", png(8, 8), "image/png")),
        lambda: setattr(parts.tabs, "selected_index", 2),  # the Sweep tab prices itself
        lambda: setattr(parts.tabs, "selected_index", 3),  # so does the Grid tab
        lambda: setattr(parts.sweep.reuse, "value", False),
        lambda: setattr(parts.history.search, "value", "comic"),
        parts.run_button.click,
        parts.sweep.run_button.click,
        parts.grid.run_button.click,
        parts.history.refresh_button.click,
        parts.cancel_all_button.click,
    ]
    said = []
    for act in actions:
        parts.status.value = ""
        act()  # never raises
        said.append("ConfigurationError" in parts.status.value and "base URL" in parts.status.value)
    # Each of these needs the client, so each says why it could not do its work; Cancel all
    # with nothing running has nothing to say.
    assert said == [True] * (len(actions) - 1) + [False], said
    assert not parts.run_button.disabled


def test_parts_is_a_read_only_view(session: Session) -> None:
    w = LaminaApp("Text to Image", session=session)
    parts = w.parts
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.run_button = W.Button()  # type: ignore[misc]
    with pytest.raises(TypeError):
        parts.controls["Prompt"] = parts.controls["Style"]  # type: ignore[index]
    assert parts.runs == () and parts.sweeps == () and parts.grids == ()
    titles = [parts.tabs.get_title(i) for i in range(4)]
    assert titles == ["Gallery", "History", "Sweep", "Grid"]
    assert parts.tabs.children[1] is parts.history.box
    assert parts.tabs.children[2] is parts.sweep.box
    assert parts.tabs.children[3] is parts.grid.box
    assert parts.status in w.children and parts.problems in w.children
    assert parts.controls["Prompt"].input in walk(w)  # the live widgets, not copies


# -- URL previews, comm size, secrets ---------------------------------------------------


def test_url_preview_keeps_its_proportions_and_says_if_the_kernel_cannot_reach_it(
    session: Session, wsb: Sandbox
) -> None:
    from widget_helpers import image_size

    w = LaminaApp("Photo Stylizer", session=session)
    upload = control(w, "Upload")
    assert upload.status is not None
    upload.input.value = f"{wsb.base_url}/samples/landscape.png"
    wait_until(lambda: "reachable" in upload.status.value)  # type: ignore[union-attr]
    preview = upload.preview
    assert preview is not None and 0 < len(preview.value) <= MAX_COMM_BYTES
    import urllib.request

    with urllib.request.urlopen(f"{wsb.base_url}/samples/landscape.png") as answer:
        source = image_size(answer.read())
    width, height = image_size(preview.value)
    assert max(width, height) == 160  # the preview size, at the source's proportions:
    assert abs(width / height - source[0] / source[1]) < 0.02
    layout = preview.layout
    assert layout.object_fit == "contain" and layout.align_self == "flex-start"
    assert layout.width == "auto" and layout.height == "auto"  # never stretched to the row
    assert layout.max_width == layout.max_height == "160px"
    upload.input.value = f"{wsb.base_url}/samples/missing.png"
    wait_until(lambda: "not reachable" in upload.status.value)  # type: ignore[union-attr]
    assert upload.preview is None
    assert not w.parts.run_button.disabled  # the service may reach what the kernel cannot
    assert upload.error.value == ""  # a warning on the status line, not a second error


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


# -- the magic ----------------------------------------------------------------------------


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


def test_lamina_widget_magic_returns_the_widget_and_prints_only_its_text_in_a_terminal(
    shell: InteractiveShell,
) -> None:
    with capture_output() as cap:
        shell.run_cell('%lamina widget "Photo Stylizer"', store_history=True)
    w = shell.user_ns["_"]
    assert isinstance(w, LaminaApp) and w.app.name == "Photo Stylizer"
    # No kernel here (terminal IPython): the text repr once, no widget view, no snapshot.
    assert len(cap.outputs) <= 1
    for out in cap.outputs:
        assert set(out.data) == {"text/plain"}
        assert out.data["text/plain"].startswith("LaminaApp: Photo Stylizer")
    assert widget_uid(w)
