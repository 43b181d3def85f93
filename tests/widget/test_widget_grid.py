"""Sweeps and grids in the widget: the price before anything is sent (run count, reuse, credits
and balance), a confirmation above ``confirm_over``, reuse of identical runs with a visible mark
and what it saved, ``w.grid(...)`` and the Grid tab filling in live, search-and-replace, and
the waiting for the rate budget said out loud."""

from __future__ import annotations

from html import escape as html_escape

import ipywidgets as W
import pytest
from widget_helpers import make_session, stylizer, wait_until

from lamina_notebook.errors import InputValidationError
from lamina_notebook.grids import Axis
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.widget import LaminaApp

PROMPTS = ["a fox in the snow", "a lighthouse in a storm"]


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
                assert head.text == value and status.value == "completed"
                assert f'title="{html_escape(value)}"' in head.value  # on hover, on the page
                assert isinstance(media.children[0].children[1], W.Image)
            html = sweep._repr_mimebundle_()["text/html"]
            assert all(html_escape(label) in html for label in labels)
            assert "Disney / Pixar" in w.snapshot().data["text/html"]
            tabs = w.parts.tabs
            assert tabs.get_title(tabs.selected_index) == "Sweep"
            assert w.parts.sweep.area.children[1] is sweep.grid  # the tab shows this sweep
        finally:
            s.close()


def test_sweep_over_prompts_from_the_tab_shows_its_price_first(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a cat", "Style": "Anime"}
    panel = w.parts.sweep
    panel.param.value = "Prompt"
    assert panel.labels.layout.display == "none" and panel.lines.layout.display == ""
    created = wsb.stats.run_creations
    panel.lines.value = "a red fox\n\na blue whale\n"
    price = panel.batch.price
    wait_until(lambda: "balance" in price.value)  # the estimate arrives after the run count
    assert "2 new runs" in price.value and "balance" in price.value
    assert wsb.stats.run_creations == created  # pricing sent no run
    panel.run_button.click()
    assert w.parts.status.value == ""
    (sweep,) = w.parts.sweeps
    assert sweep.values == ["a red fox", "a blue whale"]
    results = sweep.results(timeout=60)
    assert [r.inputs["Prompt"] for r in results] == ["a red fox", "a blue whale"]  # type: ignore
    with pytest.raises(ValueError, match="give the values to try"):
        w.sweep("Prompt")
    with pytest.raises(InputValidationError, match="Must be one of"):
        w.sweep("Style", values=["Photorealistic", "Mars"])
    assert len(w.parts.sweeps) == 1 and len(w.parts.runs) == 2  # nothing started for it
    w.wait(timeout=60)


def test_a_sweep_again_reuses_every_run_and_says_what_that_saved(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a reused lighthouse", "Aspect Ratio": "16:9"}
    panel = w.parts.sweep
    panel.param.value = "Style"
    panel.labels.value = ("Anime", "Watercolor", "Pixel Art")
    panel.run_button.click()
    w.parts.sweeps[-1].results(timeout=60)
    created = wsb.stats.run_creations
    # No click: the price line was worked out again when the sweep ended (its runs are in the
    # journal now; test_widget_sweep checks that on its own).
    wait_until(
        lambda: "credits saved" in panel.batch.price.value or "saves" in panel.batch.price.value
    )
    assert "0 new runs" in panel.batch.price.value
    assert "3 reused from earlier runs" in panel.batch.price.value
    panel.run_button.click()
    again = w.parts.sweeps[-1]
    again.results(timeout=30)
    w.wait(timeout=30)
    assert wsb.stats.run_creations == created  # nothing sent
    assert again.reused == 3
    assert "3 of 3 runs reused" in panel.note.value and "credits saved" in panel.note.value
    cells = [c.children[1].value for c in again.grid.children]
    assert cells == ["completed · reused"] * 3
    static = again._repr_mimebundle_()["text/html"]
    assert static.count(">reused</span>") == 3  # the static copy marks them too
    assert all(r.reused for r in w.parts.runs[-3:])


def test_a_sweep_over_the_threshold_asks_first(wsb: Sandbox) -> None:
    s = make_session(wsb, confirm_over=2)
    try:
        w = LaminaApp("Text to Image", session=s)
        w.value = {"Prompt": "ask me first", "Aspect Ratio": "9:16"}
        panel = w.parts.sweep
        panel.param.value = "Style"  # every label: six new runs, over 2
        created = wsb.stats.run_creations
        panel.run_button.click()
        confirm = panel.batch
        assert confirm.confirm.layout.display == ""
        assert "starts 6 new runs" in confirm.confirm_note.value
        assert "confirm_over = 2" in confirm.confirm_note.value
        assert confirm.confirm_button.description == "Start 6 runs"
        assert wsb.stats.run_creations == created and w.parts.sweeps == ()  # nothing sent
        confirm.back_button.click()
        assert confirm.confirm.layout.display == "none" and wsb.stats.run_creations == created
        panel.run_button.click()
        confirm.confirm_button.click()
        assert len(w.parts.sweeps) == 1
        w.parts.sweeps[0].results(timeout=60)
        assert wsb.stats.run_creations == created + 6
    finally:
        s.close()


def test_w_grid_fills_in_reuses_on_a_second_run_and_lands_in_the_snapshot(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "unused: the grid's rows set it", "Aspect Ratio": "4:3"}
    created = wsb.stats.run_creations
    run = w.grid(
        x="Style", y="Prompt", values={"Style": ["Anime", "Watercolor"], "Prompt": PROMPTS}
    )
    assert w.parts.grids == (run,)
    tabs = w.parts.tabs
    assert tabs.get_title(tabs.selected_index) == "Grid"
    run.wait(timeout=60)
    assert wsb.stats.run_creations == created + 4
    assert run.counts()["completed"] == 4 and run.cost is not None and run.cost.runs == 4
    view = w.parts.grid.view
    wait_until(lambda: view.value.count("data:image/") == 4)  # the tab drew the end state
    for label in ("Anime", "Watercolor", *PROMPTS):
        assert html_escape(label) in view.value  # column and row headers
    assert "Fixed: Aspect Ratio" in view.value and "4:3" in view.value  # the legend
    snapshot = w.snapshot().data["text/html"]
    assert run.grid_id in snapshot and snapshot.count("data:image/") >= 4

    again = w.grid(
        x="Style", y="Prompt", values={"Style": ["Anime", "Watercolor"], "Prompt": PROMPTS}
    )
    again.wait(timeout=30)
    assert wsb.stats.run_creations == created + 4  # rerunning the same grid costs nothing
    assert again.counts()["reused"] == 4
    wait_until(lambda: "4 of 4 cells reused" in w.parts.grid.notes.value)
    assert w.parts.grid.view.value.count(">reused</span>") == 4


def test_a_grid_started_while_another_fills_is_drawn_to_its_end(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Slow Painter", session=session)
    first = w.grid(x="Prompt", values={"Prompt": ["a slow fox", "a slow owl"]})
    second = w.grid(x="Prompt", values={"Prompt": ["a slow cat"]})
    assert not first.done()  # the first grid's redraw loop is alive when the second is shown
    second.wait(timeout=60)
    view = w.parts.grid.view
    wait_until(lambda: view.value.count("data:image/") == 1 and second.grid_id in view.value)
    first.wait(timeout=60)


def test_grid_axes_from_the_tab_with_search_and_replace_and_a_confirmation(
    wsb: Sandbox,
) -> None:
    s = make_session(wsb, confirm_over=3)
    try:
        w = LaminaApp("Text to Image", session=s)
        w.value = {"Prompt": "a fox on a hill", "Aspect Ratio": "1:1"}
        grid = w.parts.grid
        w.parts.tabs.selected_index = 3
        grid.x.param.value = "Style"
        grid.x.labels.value = ("Anime", "Oil Painting")
        grid.y.param.value = "Prompt"
        assert grid.y.search.layout.display == ""  # a text parameter offers search-and-replace
        grid.y.search.value = "fox"
        grid.y.lines.value = "cat\nowl"
        wait_until(lambda: "balance" in grid.batch.price.value)
        assert "6 new runs" in grid.batch.price.value
        created = wsb.stats.run_creations
        grid.run_button.click()
        assert grid.batch.confirm.layout.display == ""  # 6 > 3: asked first
        assert wsb.stats.run_creations == created
        grid.batch.confirm_button.click()
        (run,) = w.parts.grids
        run.wait(timeout=60)
        prompts = sorted({c.inputs["Prompt"] for c in run.cells})
        assert prompts == ["a cat on a hill", "a fox on a hill", "a owl on a hill"]
        assert html_escape("Prompt S/R") in w.parts.grid.view.value  # the axis says what it is
        assert wsb.stats.run_creations == created + 6
    finally:
        s.close()


def test_grid_tab_problems_show_once_the_user_changed_something(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)  # no prompt yet
    grid = w.parts.grid
    w.parts.tabs.selected_index = 3
    assert grid.batch.problems.value == ""  # calm: nothing touched
    grid.y.param.value = "Aspect Ratio"
    assert "Prompt" in grid.batch.problems.value and "missing" in grid.batch.problems.value
    created = wsb.stats.run_creations
    grid.run_button.click()
    assert wsb.stats.run_creations == created and w.parts.grids == ()
    assert w.parts.status.value == ""  # said once, under the axes
    with pytest.raises(InputValidationError, match="in every cell"):
        w.grid(x="Style")
    w.value = {"Prompt": "now valid"}
    with pytest.raises(InputValidationError, match="is not a parameter"):
        w.grid(x="Stlye")  # a typo names the parameters
    with pytest.raises(TypeError, match="values"):
        w.grid(x="Style", values={"Style": "Anime"})


def test_a_grid_waiting_for_the_rate_budget_says_so(wsb: Sandbox) -> None:
    s = make_session(wsb, rate_limit=3)  # three requests a minute: the grid must wait
    try:
        w = LaminaApp("Text to Image", session=s)
        w.value = {"Prompt": "a slow grid"}
        run = w.grid(x=Axis("Style", ["Anime", "Watercolor", "Pixel Art", "Oil Painting"]))
        notes = w.parts.grid.notes
        wait_until(lambda: "Waiting for the rate budget" in notes.value, timeout=30)
        assert not run.done() and run.counts()["waiting"] >= 1
        run.stop()  # the cells that started go on at the service; the grid resumes later
        wait_until(run.done, timeout=30)
    finally:
        s.close()


def test_the_grid_tab_price_says_a_finished_grid_costs_nothing_again(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a grid priced again once done", "Aspect Ratio": "9:16"}
    grid = w.parts.grid
    w.parts.tabs.selected_index = 3
    grid.x.param.value = "Style"
    grid.x.labels.value = ("Anime", "Watercolor")
    price = grid.batch.price
    wait_until(lambda: "balance" in price.value)
    assert "2 new runs" in price.value
    grid.run_button.click()
    (run,) = w.parts.grids
    run.wait(timeout=60)
    assert run.counts()["completed"] == 2
    # No click, no change: the price line learns the grid ended and that its cells are reused.
    wait_until(lambda: "0 new runs" in price.value and "saves" in price.value)
    assert "2 reused from earlier runs (no charge)" in price.value
    assert "about 0 credits" in price.value


def test_grid_axis_pickers_show_every_label_and_a_prompt_a_line(session: Session) -> None:
    w = LaminaApp("Text to Image", session=session)
    grid = w.parts.grid
    labels = list(w.app.parameter("Style").options)  # type: ignore[union-attr]
    assert grid.x.param.value == "Style" and len(labels) == 6
    assert grid.x.labels.rows == 6  # every label on screen, not 4 of 6
    grid.y.param.value = "Prompt"
    lines = grid.y.lines
    assert lines.layout.width == "auto" and lines.rows == 3  # as wide as its box
    box = grid.y.box.layout  # a third of a wide row, up to 640 px: a prompt fits on a line
    assert box.flex == "1 1 300px" and box.max_width == "640px" and box.min_width == "260px"
    lines.value = "\n".join(f"prompt {i}" for i in range(5))
    assert lines.rows == 6  # its lines and one more to type into
    lines.value = "\n".join(f"prompt {i}" for i in range(40))
    assert lines.rows == 8  # then it scrolls
    lines.value = ""
    assert lines.rows == 3
