"""Sweeps for ``LaminaApp``: one run per value of a parameter, shown as a comparison grid.

``Sweep`` is what ``w.sweep(...)`` returns (handles, results, awaitable, static repr);
``SweepPanel`` is the Sweep tab: pick a parameter and its values, see the price (new runs, runs
reused from the journal, credits and balance where the edition estimates them) before anything
is sent, run (asking first above ``confirm_over``), watch the grid fill in. Reuse is on by
default: a value whose run completed before with the same inputs is not paid for again; its
cell carries a "reused" mark and the tab says what reuse saved.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..grids import CellState, GridSpec, cell_key
from ..render.grids import grid_html, grid_text
from ..render.html import esc, shorten
from ..render.styles import MUTED_STYLE
from ..session.media import GALLERY_THUMB_PX
from .batch import BatchParts, BatchPrice, credits_text
from .gallery import output_tile
from .ui import TipText, first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..grids import GridPlan
    from ..models import App
    from ..session.grids import Cost
    from ..session.results import Result, RunHandle
    from ..session.session import Session
    from .runs import WidgetRun
    from .ui import UI

__all__ = ["MIN_COLUMN_PX", "Sweep", "SweepPanel", "SweepParts", "sweep_values"]

#: Narrowest grid column: a thumbnail still shows its subject, the labels still fit.
MIN_COLUMN_PX = 200
#: Widest the grid grows (four thumbnail-sized columns); wider screens leave space instead.
MAX_GRID_PX = 4 * (GALLERY_THUMB_PX + 20)


def sweep_values(app: App, param: str, values: list[str] | None) -> list[str]:
    """The values to sweep ``param`` over: all labels of an options parameter by default."""
    p = app.parameter(param)
    if p is None:
        names = ", ".join(q.name for q in app.parameters or ()) or "no inputs"
        raise ValueError(f"{param!r} is not a parameter of {app.name}; it takes: {names}")
    if isinstance(values, str):
        raise TypeError("values must be a list of strings, e.g. values=['a cat', 'a dog']")
    if values is None:
        if p.type != "options" or not p.options:
            raise ValueError(
                f"{param!r} is a {p.type} parameter: give the values to try, "
                f"e.g. w.sweep({param!r}, values=['first', 'second'])"
            )
        values = list(p.options)
    chosen = [v for v in dict.fromkeys(values) if v is not None and str(v).strip() != ""]
    if not chosen:
        raise ValueError(f"nothing to sweep: give at least one value for {param!r}")
    return [str(v) for v in chosen]


class Sweep:
    """Runs of one app that differ only in ``param``; ``values[i]`` belongs to ``runs[i]``.

    ``spec`` is the sweep as a one-axis grid (for its static copy: headers, legend of the fixed
    inputs, reused marks); ``cost`` its price as shown before it started. ``on_end(sweep,
    client)`` (set by the tab showing it) is called through the UI port when every value's run
    is over, with the client the runs used (the loop thread never asks the session for it);
    again after a resumed run ends.
    """

    def __init__(
        self, param: str, values: list[str], spec: GridSpec | None = None, cost: Cost | None = None
    ) -> None:
        self.param = param
        self.values = list(values)
        self.spec = spec
        self.cost = cost
        self.runs: list[WidgetRun] = []
        self.on_end: Callable[[Sweep, Any], None] | None = None
        self._told = False  # on_end was called, and no run was resumed since
        self._cells: list[W.VBox] = [self._cell(v) for v in self.values]
        # As many columns as fit (at least MIN_COLUMN_PX wide each, never wider than a
        # thumbnail needs): the grid wraps instead of overflowing a narrow notebook.
        self.grid = W.GridBox(
            self._cells,
            layout=W.Layout(
                grid_template_columns=f"repeat(auto-fill, minmax({MIN_COLUMN_PX}px, 1fr))",
                grid_gap="12px 10px",
                width="100%",
                max_width=f"{MAX_GRID_PX}px",
            ),
        )
        self.grid.add_class("lamina-sweep-grid")

    @staticmethod
    def _cell(value: str) -> W.VBox:
        # TipText escapes both (a hostile option label cannot inject markup) and puts the whole
        # value in the span's title: a Label's tooltip never reaches the page (ipywidgets 8).
        head = TipText(shorten(value, 60), value, bold=True, layout=W.Layout(max_width="100%"))
        head.add_class("lamina-sweep-head")
        status = W.Label("waiting…", layout=W.Layout(max_width="100%"))
        media = W.VBox([], layout=W.Layout(width="100%", min_width="0"))
        cell = W.VBox([head, status, media], layout=W.Layout(min_width="0"))
        cell.add_class("lamina-sweep-cell")
        return cell

    # -- results --------------------------------------------------------------------------
    @property
    def handles(self) -> list[RunHandle | None]:
        """One per value: the run's handle, or None if the service did not take it."""
        return [r.handle for r in self.runs]

    @property
    def reused(self) -> int:
        """How many values were answered by earlier identical runs (nothing sent)."""
        return sum(1 for r in self.runs if r.reused)

    def savings(self) -> str:
        """``2 of 6 runs reused from earlier runs (about 20 credits saved)``, or ""."""
        n = self.reused
        if not n:
            return ""
        per_run = self.cost.per_run if self.cost is not None else None
        saved = f" (about {credits_text(per_run * n)} credits saved)" if per_run else ""
        return f"{n} of {len(self.runs)} runs reused from earlier runs{saved}."

    def wait_created(self) -> None:
        """Block until every POST was answered; raise only if none was accepted."""
        errors = []
        for run in self.runs:
            try:
                run.wait_created()
            except Exception as exc:
                errors.append(exc)
        if errors and len(errors) == len(self.runs):
            raise errors[0]

    def results(self, timeout: float | None = None) -> list[Result | None]:
        """Block until every run ended; one Result per value (None: failed to start/detached)."""
        _done, pending = concurrent.futures.wait([r.finished for r in self.runs], timeout=timeout)
        if pending:
            raise TimeoutError(
                f"{len(pending)} run(s) of the sweep still going after "
                f"{timeout:g} s; they go on, call results() again later"
            )
        return [r.result for r in self.runs]

    def __await__(self) -> Generator[Any, None, list[Result | None]]:
        futures = [asyncio.wrap_future(r.finished) for r in self.runs]
        if futures:
            yield from asyncio.gather(*futures).__await__()
        return [r.result for r in self.runs]

    def cell_states(self) -> list[CellState]:
        """Each value as a grid cell (its run's latest state, thumbnail and reused mark)."""
        states = []
        for value, run in zip(self.values, self.runs, strict=False):
            execution = None
            if run.result is not None:
                execution = run.shown or run.result.execution
            elif run.handle is not None:
                execution = run.handle.execution
            status = "waiting"
            if execution is not None:
                status = execution.status
            elif run.error is not None and run.handle is None:
                status = "rejected"
            thumb = run.small_thumb or next(iter(run.thumbs.values()), None)
            error = None
            if execution is not None and execution.is_failed:
                error = execution.error_message
            elif status == "rejected" and run.error is not None:
                error = first_line(run.error)
            states.append(
                CellState(
                    cell_key(value),
                    value,
                    None,
                    None,
                    f"{self.param}={shorten(value, 40)}",
                    dict(run.inputs),
                    status=status,
                    execution_id=run.execution_id,
                    execution=execution,
                    reused=run.reused,
                    thumb=thumb,
                    error=error,
                )
            )
        return states

    def __repr__(self) -> str:
        done = sum(1 for r in self.runs if r.result is not None)
        return f"<Sweep {self.param}: {len(self.values)} values, {done} finished>"

    def static_html(self) -> str:
        """The sweep as a static grid: headers, the fixed inputs, one thumbnail per value."""
        if self.spec is None:
            return ""
        notes = [n for n in (self.savings(),) if n]
        return grid_html(self.spec, self.cell_states(), notes=notes)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        if self.spec is None:
            return {"text/plain": repr(self)}
        return {
            "text/plain": grid_text(self.spec, self.cell_states()),
            "text/html": self.static_html(),
        }

    # -- the live grid (called through the UI port) ---------------------------------------
    def refresh(self) -> None:
        """Show every run's status, and its first output once it finished."""
        for run in self.runs:
            self.show(run)

    def show(self, run: WidgetRun) -> None:
        """Show one run's status in its cell, and its first output once it finished."""
        at = next((i for i, r in enumerate(self.runs) if r is run), None)
        if at is None or at >= len(self._cells):
            return
        _head, status, media = self._cells[at].children
        text = _status_text(run)
        if status.value != text:
            status.value = text
        if run.result is not None and not media.children:
            outputs = (run.shown or run.result.execution).outputs
            shown = next((o for o in outputs if o.is_completed), None) or next(iter(outputs), None)
            if shown is not None:
                media.children = [
                    output_tile(
                        shown,
                        run.thumbs.get(shown.id),
                        run.videos.get(shown.id),
                        "",
                        fluid=True,
                        reused=run.reused,
                    )
                ]
        self._check_end(run)

    def over(self) -> bool:
        """Every value has its run, and every run is over: ended, not started, detached or
        lost (a reused run of a later value may end before the next value's run exists)."""
        return len(self.runs) == len(self.values) and all(
            r.phase in ("ended", "not started", "detached", "lost") for r in self.runs
        )

    def _check_end(self, run: WidgetRun) -> None:
        over = self.over()
        if over and not self._told and self.on_end is not None and run.client is not None:
            self._told = True
            self.on_end(self, run.client)
        elif not over:
            self._told = False


def _status_text(run: WidgetRun) -> str:
    if run.result is not None:
        execution = run.result.execution
        if run.reused:
            return f"{execution.status} · reused"
        reason = f": {shorten(execution.error_message, 80)}" if execution.error_message else ""
        return f"{execution.status}{reason}"
    if run.error is not None and run.handle is None:
        return f"not started: {shorten(first_line(run.error), 80)}"
    if run.detached:
        return "detached (resumable)"
    if run.handle is not None:
        e = run.handle.execution
        return f"{e.status} · {e.outputs_done}/{e.outputs_total} outputs"
    return "starting…"


@dataclass(frozen=True)
class SweepParts:
    """The widgets of the Sweep tab (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    #: Which parameter to sweep over.
    param: W.Dropdown
    #: The labels to try, for an options parameter (all chosen by default).
    labels: W.SelectMultiple
    #: The values to try, one per line, for any other parameter.
    lines: W.Textarea
    #: Reuse identical completed runs (on by default).
    reuse: W.Checkbox
    run_button: W.Button
    #: The price before it starts, and the confirmation step.
    batch: BatchParts
    #: What the latest sweep did (how many runs, how many reused and what that saved).
    note: W.HTML
    #: The latest sweep's title and grid.
    area: W.VBox


class SweepPanel:
    """The Sweep tab: choose a parameter and its values, see the price, run, watch the grid.

    ``plan_sweep(param, values, reuse, client=None)`` plans it from the form's other inputs
    (with ``client``'s journal when given, else the session's client); ``start_sweep(plan,
    cost)`` starts the planned runs and returns the Sweep. When the sweep shown ends, the price
    line is worked out again: its runs are in the journal now, so running it again (reuse on)
    costs nothing.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        plan_sweep: Callable[..., GridPlan],
        start_sweep: Callable[[GridPlan, Cost], Sweep],
    ) -> None:
        self.ui = ui
        self.plan_sweep = plan_sweep
        self.start_sweep = start_sweep
        #: The sweep on the tab (the latest one started).
        self.current: Sweep | None = None
        params = list(app.parameters or ())
        self.options_params = {p.name: p for p in params if p.type == "options" and p.options}
        self.free_params = {p.name: p for p in params if p.name not in self.options_params}
        choices = [(f"{n} ({len(p.options)} labels)", n) for n, p in self.options_params.items()]
        choices += [(f"{n} (one value per line)", n) for n in self.free_params]
        self.param = W.Dropdown(
            options=choices, description="Sweep over", value=choices[0][1] if choices else None
        )
        self.labels = W.SelectMultiple(
            options=[], rows=6, description="Labels", layout=W.Layout(width="auto")
        )
        self.lines = W.Textarea(
            placeholder="one value per line (e.g. one prompt per line)",
            rows=4,
            layout=W.Layout(width="100%", max_width="640px"),
        )
        self.reuse = W.Checkbox(
            value=True,
            description="reuse identical completed runs",
            indent=False,
            tooltip="A value whose run completed before with the same inputs is shown again, "
            "not paid for again",
        )
        self.run_button = W.Button(
            description="Run sweep",
            icon="th",
            button_style="info",
            tooltip="One run per chosen value; a grid compares them",
        )
        self.run_button.add_class("lamina-sweep-run")
        self.batch = BatchPrice(session, ui, self._plan, self._start, what="sweep")
        self.note = W.HTML("")
        self.area = W.VBox([])
        for widget in (self.param, self.labels, self.lines, self.reuse):
            widget.observe(ui.observer(self._changed), names="value")
        self.run_button.on_click(
            ui.guard(self.run_button, self._run, keep_disabled=lambda: not choices)
        )
        if not choices:
            self.note.value = f'<span style="{MUTED_STYLE}">This app has no inputs to sweep.</span>'
            self.run_button.disabled = True
        self.box = W.VBox(
            [
                W.HBox([self.param, self.run_button]),
                self.labels,
                self.lines,
                self.reuse,
                self.batch.price,
                self.batch.problems,
                self.batch.confirm,
                self.note,
                self.area,
            ]
        )
        self.box.add_class("lamina-sweep-tab")
        self._param_changed()

    @property
    def parts(self) -> SweepParts:
        return SweepParts(
            self.box,
            self.param,
            self.labels,
            self.lines,
            self.reuse,
            self.run_button,
            self.batch.parts,
            self.note,
            self.area,
        )

    def _changed(self, change: Any) -> None:
        if change.get("owner") is self.param:
            self._param_changed()
        self.batch.touched = True
        self.refresh()

    def _param_changed(self) -> None:
        name = self.param.value
        param = self.options_params.get(name)
        if param is not None:
            labels = list(dict.fromkeys(param.options))
            self.labels.options = labels
            self.labels.value = tuple(labels)  # all by default
        self.labels.layout.display = "" if param is not None else "none"
        self.lines.layout.display = "none" if param is not None or name is None else ""

    def refresh(self) -> None:
        """Re-price the sweep (the choices or the form's inputs changed; main thread). Under
        the UI lock: a sweep that ends re-prices from the loop thread through the UI port."""
        if self.param.value is not None:
            with self.ui.held():
                self.batch.refresh()

    def chosen_values(self) -> list[str]:
        if self.param.value in self.options_params:
            return list(self.labels.value)
        return [line.strip() for line in self.lines.value.splitlines() if line.strip()]

    def _plan(self, client: Any = None) -> GridPlan:
        name = self.param.value
        if name is None:
            raise ValueError("this app has no inputs to sweep")
        values = self.chosen_values()
        if not values:
            raise ValueError(
                f"choose at least one value of {name!r} to sweep"
                + ("" if name in self.options_params else " (one per line)")
            )
        return self.plan_sweep(name, values, self.reuse.value, client=client)

    def _run(self) -> None:
        self.batch.request()

    def _start(self, plan: GridPlan, cost: Cost) -> Sweep:
        return self.start_sweep(plan, cost)

    def show(self, sweep: Sweep) -> None:
        """Put a new sweep's grid on the tab."""
        title = W.HTML(f"<b>Sweep over {esc(sweep.param)}</b> ({len(sweep.values)} runs)")
        self.area.children = [title, sweep.grid]
        self.current = sweep
        sweep.on_end = self._ended
        self.show_note(sweep)

    def _ended(self, sweep: Sweep, client: Any) -> None:
        """The sweep ended (through the UI port): the price line priced it before it ran; its
        runs are reused now. Only for the sweep shown (an older one ending changes nothing)."""
        if sweep is self.current and self.param.value is not None:
            self.batch.refresh(client)

    def show_note(self, sweep: Sweep) -> None:
        """What the sweep does: its runs, and how many were reused (and what that saved)."""
        n = len(sweep.values)
        text = f"Sweeping {sweep.param} over {n} value{'s' * (n != 1)}"
        text += "; the grid fills in as results arrive."
        savings = sweep.savings()
        if savings:
            text += " " + savings
        html = f'<span class="lamina-sweep-note" style="{MUTED_STYLE}">{esc(text)}</span>'
        if self.note.value != html:
            self.note.value = html
