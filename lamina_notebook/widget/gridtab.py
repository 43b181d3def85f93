"""The Grid tab of ``LaminaApp``: X/Y/Z grids over any parameters, priced before they start.

Each axis picks a parameter and its values: option labels (all of them by default, which is the
grid's ``all``), lines of text, or a prompt search-and-replace (the first column keeps the text,
the others replace the search term with each line). The other inputs come from the form above.
Before the first request the tab shows the run count, the cells answered by earlier identical
runs (reused), and the credits and balance where the edition estimates them; above the session's
``confirm_over`` it asks first. The grid then fills in live (column and row headers, a legend of
the fixed inputs, one thumbnail per cell, reused marks) while the kernel stays free; it says when
it waits for the service's rate budget, and how many runs reuse saved. The widget's static
snapshot includes the latest grid, so a saved notebook shows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..grids import Axis, CellState
from ..render.grids import grid_html
from ..render.html import esc
from ..render.styles import MUTED_STYLE
from .batch import BatchParts, BatchPrice, credits_text

if TYPE_CHECKING:  # pragma: no cover
    from ..grids import GridPlan
    from ..models import App, Parameter
    from ..session.grids import Cost, GridRun
    from ..session.session import Session
    from .ui import UI

__all__ = ["REDRAW_SECONDS", "AxisParts", "AxisPicker", "GridPanel", "GridParts", "grid_notes"]

#: How often the live grid is redrawn at most while cells change (each redraw sends the
#: grid's HTML, thumbnails included, over the comm).
REDRAW_SECONDS = 0.5
#: Rows of an axis's value list: as many as its lines (at least 3), then it scrolls.
MAX_LINES_ROWS = 8
#: Option labels shown at once in an axis's label list; more scroll (the list says how many).
MAX_LABEL_ROWS = 10
_ROLES = {"x": "Columns (x)", "y": "Rows (y)", "z": "Panels (z)"}


def grid_notes(run: GridRun, *, waiting_for_budget: bool = False) -> list[str]:
    """What the grid's reuse saved, whether it waits for the rate budget, whether it stopped,
    and how to resume it."""
    notes = []
    n = run.counts()
    if n["reused"]:
        per_run = run.cost.per_run if run.cost is not None else None
        saved = f", about {credits_text(per_run * n['reused'])} credits saved" if per_run else ""
        notes.append(
            f"{n['reused']} of {n['cells']} cells reused from earlier identical runs "
            f"(no new run{saved})."
        )
    if waiting_for_budget and n["waiting"]:
        notes.append(
            f"Waiting for the rate budget: {n['waiting']} cell(s) start as the service's "
            "request limit allows."
        )
    if run.error is not None:
        notes.append(f"The grid stopped: {run.error}")
    if not run.done():
        notes.append(
            f"Resumable after a restart: History tab, or resume_grid(session, {run.grid_id!r})."
        )
    return notes


@dataclass(frozen=True)
class AxisParts:
    """One axis of the Grid tab."""

    box: W.VBox
    #: The parameter ("" for no axis, on y and z).
    param: W.Dropdown
    #: The option labels (options parameters; all chosen = every option).
    labels: W.SelectMultiple
    #: The values, one per line (other parameters), or the replacements of a search.
    lines: W.Textarea
    #: Search-and-replace: this text of the parameter's value is replaced with each line.
    search: W.Text


class AxisPicker:
    """A parameter and its values for one axis (see the module docstring)."""

    def __init__(self, app: App, role: str, *, default: str = "") -> None:
        self.app = app
        self.role = role
        params = list(app.parameters or ())
        choices: list[tuple[str, str]] = [] if role == "x" else [("(none)", "")]
        choices += [(p.name, p.name) for p in params]
        names = [value for _label, value in choices]
        self.param = W.Dropdown(
            options=choices,
            value=default if default in names else (names[0] if names else None),
            description=_ROLES[role],
            style={"description_width": "90px"},
            layout=W.Layout(width="auto"),
        )
        # Wide enough for a prompt a line (its box takes a third of a wide row, up to 640 px;
        # width auto: the box stretches them, margins included, where 100% would overflow it);
        # the label list as tall as its labels up to MAX_LABEL_ROWS, the text as its lines.
        self.labels = W.SelectMultiple(options=[], rows=4, layout=W.Layout(width="auto"))
        self.lines = W.Textarea(
            placeholder="one value per line",
            rows=3,
            layout=W.Layout(width="auto"),
        )
        self.search = W.Text(
            placeholder="search and replace: text to replace (optional)",
            tooltip="Prompt search-and-replace: the first column keeps the text as written, the "
            "others replace this text with each line above",
            layout=W.Layout(width="auto"),
        )
        self.box = W.VBox(
            [self.param, self.labels, self.lines, self.search],
            layout=W.Layout(
                flex="1 1 300px", min_width="260px", max_width="640px", margin="0 16px 8px 0"
            ),
        )
        self.box.add_class("lamina-axis")
        self.box.add_class(f"lamina-axis-{role}")
        self.param.observe(lambda _c: self._param_changed(), names="value")
        self.lines.observe(lambda _c: self._fit_lines(), names="value")
        self._param_changed()

    @property
    def parts(self) -> AxisParts:
        return AxisParts(self.box, self.param, self.labels, self.lines, self.search)

    @property
    def widgets(self) -> list[W.ValueWidget]:
        return [self.param, self.labels, self.lines, self.search]

    def _parameter(self) -> Parameter | None:
        name = self.param.value
        return self.app.parameter(name) if name else None

    def _param_changed(self) -> None:
        param = self._parameter()
        options = param is not None and param.type == "options" and bool(param.options)
        if options and param is not None:
            labels = list(dict.fromkeys(param.options))
            self.labels.options = labels
            self.labels.value = tuple(labels)  # every option by default: the grid's "all"
            self.labels.rows = min(len(labels), MAX_LABEL_ROWS)
        self.labels.layout.display = "" if options else "none"
        self.lines.layout.display = "" if param is not None and not options else "none"
        text = param is not None and param.type == "text"
        self.search.layout.display = "" if text else "none"
        if not text:
            self.search.value = ""

    def _fit_lines(self) -> None:
        """As many rows as lines (at least 3, at most MAX_LINES_ROWS; then it scrolls)."""
        rows = min(MAX_LINES_ROWS, max(3, len(self.lines.value.splitlines()) + 1))
        if self.lines.rows != rows:
            self.lines.rows = rows

    def axis(self) -> Axis | None:
        """The axis as chosen, or None (no parameter). Empty values: ValueError."""
        param = self._parameter()
        if param is None:
            return None
        if param.type == "options" and param.options:
            chosen = list(self.labels.value)
            if not chosen:
                raise ValueError(
                    f"choose at least one label of {param.name!r} for the {self.role} axis"
                )
            if set(chosen) == set(param.options):
                return Axis(param.name)  # all
            return Axis(param.name, chosen)
        lines = [line.strip() for line in self.lines.value.splitlines() if line.strip()]
        search = self.search.value.strip()
        if search:
            return Axis(param.name, replace=(search, tuple(lines)))
        if not lines:
            raise ValueError(
                f"give the values of {param.name!r} for the {self.role} axis, one per line"
            )
        return Axis(param.name, lines)


@dataclass(frozen=True)
class GridParts:
    """The widgets of the Grid tab (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    x: AxisParts
    y: AxisParts
    z: AxisParts
    #: Reuse identical completed runs (on by default).
    reuse: W.Checkbox
    run_button: W.Button
    #: The price before it starts, and the confirmation step.
    batch: BatchParts
    #: The latest grid, live: headers, legend, one thumbnail per cell, reused marks.
    view: W.HTML
    #: Reuse savings, waiting for the rate budget, how to resume.
    notes: W.HTML
    stop_button: W.Button
    retry_button: W.Button


class GridPanel:
    """The Grid tab: choose the axes, see the price, start (asking above the threshold),
    watch the grid fill in.

    ``plan_grid(x, y, z, reuse, client=None)`` plans it from the form's other inputs (with
    ``client``'s journal when given, else the session's client); ``start_grid(plan, cost)``
    starts it (and shows it here through :meth:`show`); ``on_done(run, client)`` is applied
    through the UI port when the grid shown is done (``client``: the one to read the journal
    with, never asked of the session on the loop thread). The price line is then worked out
    again: the grid's cells are now reused, so running it again costs nothing.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        plan_grid: Callable[..., GridPlan],
        start_grid: Callable[[GridPlan, Cost], GridRun],
        on_done: Callable[[GridRun, Any], None],
    ) -> None:
        self.session = session
        self.app = app
        self.ui = ui
        self.plan_grid = plan_grid
        self.start_grid = start_grid
        self.on_done = on_done
        params = list(app.parameters or ())
        first_options = next((p.name for p in params if p.type == "options" and p.options), "")
        self.x = AxisPicker(app, "x", default=first_options)
        self.y = AxisPicker(app, "y")
        self.z = AxisPicker(app, "z")
        self.reuse = W.Checkbox(
            value=True,
            description="reuse identical completed runs",
            indent=False,
            tooltip="A cell whose run completed before with the same inputs is shown again, "
            "not paid for again",
        )
        self.run_button = W.Button(
            description="Run grid",
            icon="table",
            button_style="info",
            tooltip="One run per cell (reused cells send nothing); the price is shown first",
        )
        self.run_button.add_class("lamina-grid-run")
        self.batch = BatchPrice(session, ui, self._plan, self._start, what="grid")
        self.view = W.HTML("")
        self.view.add_class("lamina-grid-view")
        self.notes = W.HTML("")
        self.notes.add_class("lamina-grid-notes")
        self.stop_button = W.Button(
            description="Stop",
            icon="pause",
            tooltip="Stop starting and watching cells; runs already started go on "
            "(resume from History)",
            layout=W.Layout(width="auto", display="none"),
        )
        self.stop_button.add_class("lamina-grid-stop")
        self.retry_button = W.Button(
            description="Retry failed",
            icon="redo",
            tooltip="Run the failed, cancelled and refused cells again (new runs)",
            layout=W.Layout(width="auto", display="none"),
        )
        self.retry_button.add_class("lamina-grid-retry")
        hint = W.HTML(
            f'<span style="{MUTED_STYLE}">The other inputs come from the form above.</span>'
        )
        for picker in (self.x, self.y, self.z):
            for widget in picker.widgets:
                widget.observe(ui.observer(self._changed), names="value")
        self.reuse.observe(ui.observer(self._changed), names="value")
        self.run_button.on_click(ui.guard(self.run_button, self.batch.request))
        self.stop_button.on_click(ui.guard(self.stop_button, self.stop))
        self.retry_button.on_click(ui.guard(self.retry_button, self.retry_failed))
        self.box = W.VBox(
            [
                W.HBox(
                    [self.x.box, self.y.box, self.z.box],
                    layout=W.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
                hint,
                W.HBox([self.run_button, self.reuse], layout=W.Layout(align_items="center")),
                self.batch.price,
                self.batch.problems,
                self.batch.confirm,
                self.notes,
                W.HBox([self.stop_button, self.retry_button]),
                self.view,
            ]
        )
        self.box.add_class("lamina-grid-tab")
        self.current: GridRun | None = None
        self._dirty = False
        self._drawer: Any = None
        self._drawing: GridRun | None = None

    @property
    def parts(self) -> GridParts:
        return GridParts(
            self.box,
            self.x.parts,
            self.y.parts,
            self.z.parts,
            self.reuse,
            self.run_button,
            self.batch.parts,
            self.view,
            self.notes,
            self.stop_button,
            self.retry_button,
        )

    # -- planning -------------------------------------------------------------------------
    def _changed(self, _change: Any) -> None:
        self.batch.touched = True
        self.refresh()

    def refresh(self) -> None:
        """Re-price the grid (the axes or the form's inputs changed; main thread). Under the
        UI lock: a grid that ends re-prices from the loop thread through the UI port."""
        with self.ui.held():
            self.batch.refresh()

    def _plan(self, client: Any = None) -> GridPlan:
        x = self.x.axis()
        if x is None:
            raise ValueError("choose a parameter for the columns (x)")
        return self.plan_grid(x, self.y.axis(), self.z.axis(), self.reuse.value, client=client)

    def _start(self, plan: GridPlan, cost: Cost) -> GridRun:
        return self.start_grid(plan, cost)

    # -- the live grid --------------------------------------------------------------------
    def show(self, run: GridRun) -> None:
        """Show ``run`` here and keep it current until it is done (main thread)."""
        self.current = run
        run.on_cell(self._cell_changed(run))
        self.stop_button.layout.display = ""
        self.retry_button.layout.display = "none"
        self.draw(run)
        self.follow(run)

    def follow(self, run: GridRun) -> None:
        """(Re)start the redraws of ``run`` until it is done (a retry starts more cells)."""
        client = self.session.client  # taken here: the loop thread must not ask the session
        # One drawer per grid shown: an older grid's drawer ends by itself (not current).
        if self._drawer is None or self._drawer.done() or self._drawing is not run:
            self._drawing = run
            self._drawer = self.session.runtime.submit(self._redraws(run, client))

    def _cell_changed(self, run: GridRun) -> Callable[[CellState], None]:
        def changed(_cell: CellState) -> None:
            if run is self.current:
                self._dirty = True

        return changed

    async def _redraws(self, run: GridRun, client: Any) -> None:
        """Redraw at most every REDRAW_SECONDS while cells change; once more when done."""
        waiting = False
        while run is self.current and not run.done():
            await asyncio.sleep(REDRAW_SECONDS)
            full = _budget_full(client)
            if self._dirty or full != waiting:
                self._dirty = False
                waiting = full
                self.ui.apply(self.draw, run, full)
        if run is self.current:
            self.ui.apply(self.draw, run)
            self.ui.apply(self.on_done, run, client)
            # The price line priced the grid before it ran; its cells are reused now.
            self.ui.apply(self.batch.refresh, client)

    def draw(self, run: GridRun, waiting_for_budget: bool = False) -> None:
        """Draw ``run`` (through the UI port): the grid and its notes."""
        if run is not self.current:
            return
        html = grid_html(run.spec, run.cells, grid_id=run.grid_id, url_map=_url_map(self.session))
        if self.view.value != html:
            self.view.value = html
        notes = grid_notes(run, waiting_for_budget=waiting_for_budget)
        text = "".join(
            f'<div class="lamina-grid-note" style="{MUTED_STYLE}">{esc(n)}</div>' for n in notes
        )
        if self.notes.value != text:
            self.notes.value = text
        done = run.done()
        self.stop_button.layout.display = "none" if done else ""
        failed = run.counts()["failed"]
        self.retry_button.layout.display = "" if done and failed else "none"

    def stop(self) -> None:
        """Stop filling the current grid (runs under way go on; resume from History)."""
        if self.current is not None:
            self.current.stop()

    def retry_failed(self) -> None:
        """Run the current grid's failed cells again."""
        if self.current is not None:
            self.current.retry_failed()
            self.follow(self.current)


def _budget_full(client: Any) -> bool:
    """True when the client's rate budget lets no request out now (on the loop thread)."""
    budget = getattr(client, "budget", None)
    try:
        return budget is not None and budget.available < 1
    except Exception:  # a budget without the figure: say nothing
        return False


def _url_map(session: Session) -> Callable[[str], str]:
    from ..session.proxy import display_url

    def mapped(url: str) -> str:
        return display_url(url, session)

    return mapped
