"""``LaminaApp``: an ipywidgets front end for one app (controls, runs, gallery, history, sweeps,
grids).

Runs are background work on the session's runtime loop (a thread), so a cell returns at once
and other cells run while it polls. This module only assembles the panels and wires them with
narrow callbacks; every UI change goes through the :class:`~.ui.UI` port (ordered, thread-safe)
and every callback the front end calls through a guard, so the widget never raises into the
kernel: an error shows on its status line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Dict, TraitError, validate

from ..errors import stopped_watching
from ..grids import Axis, GridSpec, parse_axis, plan
from ..models import App
from ..render.html import esc, shorten
from ..render.styles import ERROR_STYLE, STYLE_TAG
from ..session.results import has_kernel
from ..validation import quote
from .controls import UPLOAD_STYLE, ControlPanel
from .gallery import GalleryPanel, distinguishing, inputs_line, walk
from .gridtab import GridPanel
from .history import HistoryPanel
from .media import GalleryMedia
from .parts import Parts, RunParts
from .preview import UrlPreviews
from .progress import ProgressPanel
from .runs import WidgetRun, reusable, reused_handle, wait_all
from .snapshot import Snapshot, form_fallback_html, snapshot_bundle, widget_text
from .sweep import Sweep, SweepPanel, sweep_values
from .ui import UI
from .uploads import FileInputs

if TYPE_CHECKING:  # pragma: no cover
    from ..grids import GridPlan
    from ..models import Execution
    from ..session.grids import Cost, GridRun
    from ..session.results import Result, RunHandle
    from ..session.session import Session

__all__ = ["TAB_TITLES", "LaminaApp"]

#: The tabs under the progress rows, in order.
TAB_TITLES = ("Gallery", "History", "Sweep", "Grid")
_RUN_TOOLTIP = "Start a run with these inputs (in the background)"
_CANCEL_ALL_TOOLTIP = (
    "Cancel every run of this widget at the service: they stop, produce nothing more and stop "
    "spending credits"
)
_DETACH_ALL_TOOLTIP = (
    "Stop watching every run of this widget; they go on at the service (a row's Resume or "
    "History picks one up again)"
)
#: Characters of a run's title (the distinguishing inputs) in rows and card headings.
TITLE_CHARS = 120
#: Seconds between re-publications of the snapshot while runs finish (each sends its HTML,
#: thumbnails included); ``wait()`` publishes the final state at once.
SNAPSHOT_EVERY = 1.0


class LaminaApp(W.VBox):
    """A widget for one Lamina app: controls, Run, progress, gallery, history, sweeps, grids.

    Parameters
    ----------
    app
        An app name, an app id, or an :class:`~lamina_notebook.models.App` with parameters.
    session
        The front-end session (settings, runtime loop, client); default: ``get_session()``.

    The Python API mirrors the buttons: ``w.value`` (current inputs, settable and
    observable; parameter names, keys or ids), ``w.run(**overrides)`` returns a ``RunHandle``
    (awaitable, ``.result()`` blocks, ``.cancel()`` cancels it at the service),
    ``w.sweep("Style")``, ``w.grid(x="Style", y="Prompt", values={...})`` returns the
    ``GridRun``, ``w.cancel_all()``, ``w.detach_all()``, ``w.runs``, ``w.last_result``,
    ``w.wait()`` and ``w.snapshot()`` (a static copy of the results for saved notebooks).
    ``w.parts`` is a read-only view of the pieces on screen.
    """

    value = Dict(
        help="The current inputs keyed by parameter name; settable from code (names, keys or "
        "ids), observable. Names left out go back to their defaults."
    )

    def __init__(self, app: App | str, *, session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if session is None:
            from ..session.session import get_session

            session = get_session()
        self.session = session
        self.app = self._resolve(app)
        self._ui = UI(session.runtime)
        self._syncing = False
        self._runs: list[WidgetRun] = []
        #: The status each run last had when the History tab was reloaded for it.
        self._history_status: dict[int, str] = {}
        self._sweeps: list[Sweep] = []
        self._grids: list[GridRun] = []
        self._numbers: dict[int, tuple[int, str]] = {}  # id(run) -> (number, title suffix)
        self._displayed = False
        self._snapshot_due = False
        self._uid = uuid.uuid4().hex[:12]
        self._media = GalleryMedia()
        self._build()

    # -- construction ---------------------------------------------------------------------
    def _resolve(self, app: App | str) -> App:
        """The app with its parameters (fetched once, blocking: this is the constructor)."""
        client = self.session.client
        if isinstance(app, App) and app.parameters is not None:
            resolved = app
        elif isinstance(app, (App, str)):
            resolved = self.session.run(client.resolve_app(app))
        else:
            raise TypeError(
                f"LaminaApp needs an app name, id or App, got {type(app).__name__}; "
                "%lamina apps lists the apps"
            )
        with contextlib.suppress(Exception):  # the cache only speeds up later lookups
            self.session.remember_app(resolved)
        return resolved

    def _build(self) -> None:
        app, ui, session = self.app, self._ui, self.session
        # The header carries the one stylesheet (the theme-aware selected toggle among it).
        self._header = W.HTML(
            f"{STYLE_TAG}{UPLOAD_STYLE}"
            f'<div class="lamina-title">{esc(shorten(app.name, 200))}</div>'
            f'<div class="lamina-muted">{esc(shorten(app.description, 1000))}</div>'
        )
        self._controls = ControlPanel(app, self._on_controls, ui.observer)
        self._run_button = W.Button(
            description="Run", icon="play", button_style="primary", tooltip=_RUN_TOOLTIP
        )
        self._run_button.add_class("lamina-run-button")
        self._reuse_box = W.Checkbox(
            value=False,
            description="reuse an identical completed run",
            indent=False,
            tooltip="When these exact inputs completed before, show that run again instead of "
            "paying for a new one",
            layout=W.Layout(width="auto"),
        )
        self._reuse_box.add_class("lamina-reuse-toggle")
        self._cancel_all = W.Button(
            description="Cancel all",
            icon="stop",
            tooltip=_CANCEL_ALL_TOOLTIP,
            layout=W.Layout(width="auto"),
        )
        self._cancel_all.add_class("lamina-cancel-all")
        self._detach_all = W.Button(
            description="Detach all",
            icon="eject",
            tooltip=_DETACH_ALL_TOOLTIP,
            layout=W.Layout(width="auto"),
        )
        self._detach_all.add_class("lamina-detach-all")
        self._problems = W.HTML("")
        self._problems.add_class("lamina-problems")
        self._progress = ProgressPanel(session.runtime, ui, self._cancel_run, self._toggle_watch)
        self._gallery = GalleryPanel()
        self._history = HistoryPanel(
            session,
            app,
            ui,
            self._media,
            restore_inputs=self._restore_inputs,
            adopt=self.adopt,
            open_grid=self.open_grid,
        )
        self._sweep_panel = SweepPanel(
            session, app, ui, self._plan_sweep, self._start_planned_sweep
        )
        self._grid_panel = GridPanel(
            session, app, ui, self._plan_grid, self._start_planned_grid, self._grid_done
        )
        self._previews = UrlPreviews(session, ui, self._controls.problems)
        self._uploads = FileInputs(session, ui, self._previews)
        tabs = W.Tab(
            children=[
                self._gallery.box,
                self._history.box,
                self._sweep_panel.box,
                self._grid_panel.box,
            ]
        )
        for i, title in enumerate(TAB_TITLES):
            tabs.set_title(i, title)
        tabs.observe(ui.observer(self._tab_changed), names="selected_index")
        self._tabs = tabs
        self._run_button.on_click(
            ui.guard(self._run_button, self._click_run, keep_disabled=self._run_blocked)
        )
        self._cancel_all.on_click(ui.guard(self._cancel_all, self.cancel_all))
        self._detach_all.on_click(ui.guard(self._detach_all, self.detach_all))
        bar = W.HBox(
            [self._run_button, self._reuse_box, self._cancel_all, self._detach_all],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.children = [
            self._header,
            self._controls.box,
            bar,
            self._problems,
            ui.status,
            self._progress.box,
            tabs,
        ]
        self.add_class("lamina-app")
        self.add_class(f"lamina-live-{self._uid}")
        with ui.held():
            self._set_value_quietly(self._controls.values())
            self._after_inputs({})
        self._previews.attach(self._controls.controls)
        self._uploads.attach(self._controls.controls, getattr(session.client, "edition_name", None))
        self._warm_proxy()
        try:
            self._history.refresh()
        except Exception as exc:  # an unreadable journal must not stop the widget
            ui.show_error(exc)

    def _warm_proxy(self) -> None:
        """Find the Jupyter server's proxy route now, on the main thread (it may take one
        loopback request), so later media URLs map from the cache."""
        from ..session.proxy import proxy_route

        with contextlib.suppress(Exception):
            proxy_route(self.session)

    def _select_tab(self, title: str) -> None:
        self._tabs.selected_index = TAB_TITLES.index(title)

    def _tab_changed(self, change: Any) -> None:
        index = change["new"]
        title = TAB_TITLES[index] if isinstance(index, int) and index < len(TAB_TITLES) else ""
        if title == "Sweep":
            self._sweep_panel.refresh()
        elif title == "Grid":
            self._grid_panel.refresh()
        elif title == "History":
            self._history.refresh()

    @property
    def parts(self) -> Parts:
        """A read-only view of the widget's pieces (see :mod:`lamina_notebook.widget.parts`)."""
        return Parts(
            header=self._header,
            controls=self._controls.parts,
            run_button=self._run_button,
            reuse_toggle=self._reuse_box,
            cancel_all_button=self._cancel_all,
            detach_all_button=self._detach_all,
            problems=self._problems,
            status=self._ui.status,
            progress=self._progress.parts,
            runs=tuple(self._run_parts(run) for run in self._runs),
            gallery=self._gallery.box,
            tabs=self._tabs,
            history=self._history.parts,
            sweep=self._sweep_panel.parts,
            sweeps=tuple(self._sweeps),
            grid=self._grid_panel.parts,
            grids=tuple(self._grids),
        )

    def _run_parts(self, run: WidgetRun) -> RunParts:
        row, card = self._progress.row(run), self._gallery.card(run)
        assert row is not None and card is not None  # every run gets both when it is added
        return RunParts(
            title=run.title,
            phase=run.phase,
            row=row.parts,
            card=card.parts,
            handle=run.handle,
            result=run.result,
            error=run.error,
            reused=run.reused,
        )

    # -- inputs ---------------------------------------------------------------------------
    @validate("value")
    def _validate_value(self, proposal: Any) -> dict[str, Any]:
        if self._syncing:
            return dict(proposal.value)
        incoming = proposal.value
        if not isinstance(incoming, Mapping):
            raise TraitError(
                f"value must be a dict of parameter name to string, got {type(incoming).__name__}"
            )
        with self._ui.held():
            try:
                self._controls.set_values(incoming)
            except ValueError as exc:
                raise TraitError(f"{exc} (nothing was changed)") from exc
            values = self._controls.values()
            self._inputs_changed(self._controls.shown(self._controls.problems(values)))
        return dict(values)

    def _on_controls(self, values: dict[str, Any], shown: dict[str, str]) -> None:
        with self._ui.held():
            self._set_value_quietly(values)
            self._inputs_changed(shown)

    def _set_value_quietly(self, values: Mapping[str, Any]) -> None:
        self._syncing = True
        try:
            self.value = dict(values)
        finally:
            self._syncing = False

    def _restore_inputs(self, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        """Show the inputs the controls can show (History); return the ones they cannot."""
        usable, rest = self._controls.showable(inputs)
        self.value = usable
        return rest

    def _inputs_changed(self, shown: Mapping[str, str]) -> None:
        self._after_inputs(shown)
        title = (
            TAB_TITLES[self._tabs.selected_index or 0]
            if self._tabs.selected_index is not None
            else ""
        )
        if title == "Sweep":
            self._sweep_panel.refresh()
        elif title == "Grid":
            self._grid_panel.refresh()

    def _after_inputs(self, shown: Mapping[str, str]) -> None:
        """Run is disabled while a problem is shown (its tooltip lists them); each problem
        is shown once, next to its field; only problems of the inputs as a whole (their size)
        appear under the buttons."""
        self._run_button.disabled = bool(shown)
        if not shown:
            self._run_button.tooltip = _RUN_TOOLTIP
        else:
            lines = [f"{quote(name)}: {text}" if name else text for name, text in shown.items()]
            self._run_button.tooltip = "Fix the inputs first: " + "; ".join(lines)
        whole = shown.get("", "")
        html = f'<span style="{ERROR_STYLE}">{esc(whole)}</span>' if whole else ""
        if self._problems.value != html:
            self._problems.value = html

    def _run_blocked(self) -> bool:
        return bool(self._controls.shown(self._controls.problems()))

    @property
    def problems(self) -> dict[str, str]:
        """Every validation problem of the current inputs by parameter name (shown or not)."""
        return self._controls.problems()

    # -- runs -----------------------------------------------------------------------------
    def _click_run(self) -> None:
        problems = self._controls.reveal()
        if problems:  # each shows next to its field; Run stays disabled until fixed
            self._after_inputs(self._controls.shown(problems))
            return
        self._start(dict(self.value), sweep=None, reuse=bool(self._reuse_box.value))
        self._select_tab("Gallery")  # where its result will land

    def run(
        self,
        inputs: Mapping[str, Any] | None = None,
        /,
        *,
        reuse: bool | None = None,
        **overrides: Any,
    ) -> RunHandle:
        """Start a run in the background and return its ``RunHandle`` once the service took it.

        ``inputs`` (default: the controls' values) updated by ``overrides`` (parameter names,
        keys or ids). Raises InputValidationError (nothing sent) when they are invalid.
        ``reuse`` (default: the "reuse" box) hands back a completed identical run from the
        journal instead of paying for it again. The handle is awaitable; ``.result(timeout)``
        blocks; ``.cancel()`` cancels the run at the service. The widget shows progress and
        results meanwhile.
        """
        base = self.value if inputs is None else self._canonical(inputs)
        values = {**base, **self._canonical(overrides)}
        use = bool(self._reuse_box.value) if reuse is None else bool(reuse)
        run = self._start(values, sweep=None, reuse=use)
        return run.wait_created()

    def _canonical(self, values: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._controls.canonical(values)
        except ValueError as exc:
            from ..errors import InputValidationError

            raise InputValidationError(
                f"{exc}; nothing was sent.", [str(exc)], hint=f"%lamina info {self.app.name}"
            ) from exc

    def _start(
        self, values: Mapping[str, Any], sweep: Sweep | None, *, reuse: bool = False
    ) -> WidgetRun:
        """Validate (once: the client sends what it validated), add a row and a card, then
        reuse a journaled identical run or POST."""
        client = self.session.client
        clean = client.validate_inputs(self.app, values)
        handle = reusable(self.session, client, self.app, clean) if reuse else None
        run = self._new_run(clean, sweep)
        if handle is not None:
            run.reuse(handle)
        else:
            run.start()
            self._progress.ensure_ticker()
        return run

    def adopt(self, execution: Execution, inputs: Mapping[str, Any]) -> WidgetRun:
        """Watch an execution this widget did not start (History: a run still in flight)."""
        run = self._new_run(inputs, None, suffix="(resumed)")
        run.adopt(execution)
        self._progress.ensure_ticker()
        return run

    def _new_run(
        self, inputs: Mapping[str, Any], sweep: Sweep | None, *, suffix: str = ""
    ) -> WidgetRun:
        with self._ui.held():
            run = WidgetRun(
                self.session,
                self.app,
                self._ui,
                self._media,
                inputs,
                f"#{len(self._runs) + 1}",
                on_update=lambda r: self._run_changed(r, sweep),
                on_finished=lambda r: self._run_finished(r, sweep),
            )
            self._numbers[id(run)] = (len(self._runs) + 1, suffix)
            self._runs.append(run)
            if sweep is not None:
                sweep.runs.append(run)
            self._gallery.add(run)
            self._retitle()
            self._progress.add(run)
        return run

    def _names(self) -> list[str]:
        """The inputs that tell the runs on screen apart (all of a lone run's)."""
        return distinguishing([r.inputs for r in self._gallery.on_screen()])

    def _retitle(self) -> None:
        """Every run's title and caption from the distinguishing inputs of the runs on screen
        (they change as runs come and go), so a picture always says what made it."""
        names = self._names()
        for run in self._runs:
            number, suffix = self._numbers.get(id(run), (0, ""))
            line = inputs_line(run.inputs, names, limit=40)
            title = " ".join(t for t in (f"#{number}", line, suffix) if t)
            run.title = shorten(title, TITLE_CHARS)
            whole = inputs_line(run.inputs, names, limit=2000)
            run.full_title = " ".join(t for t in (f"#{number}", whole, suffix) if t)
            self._progress.show(run)
        self._gallery.recaption(names)

    def _run_changed(self, run: WidgetRun, sweep: Sweep | None) -> None:
        """A run's state or progress changed (applied through the UI port)."""
        self._progress.show(run)
        if sweep is not None:
            sweep.show(run)
        status = run.handle.execution.status if run.handle is not None else None
        if status is not None and self._history_status.get(id(run)) != status:
            # queued -> running: the journal has it, so History's row says it too (not
            # "queued" until the run ends). A few reloads per run: only on a new status.
            self._history_status[id(run)] = status
            try:
                self._history.refresh(run.client)
            except Exception as exc:  # the journal is optional for the widget
                self._ui.show_error(exc)

    def _run_finished(self, run: WidgetRun, sweep: Sweep | None) -> None:
        """A run ended with a Result (applied through the UI port): gallery, grid, history."""
        self._gallery.fill(run, self._names())
        if sweep is not None:
            sweep.show(run)
            self._sweep_panel.show_note(sweep)
        try:
            self._history.refresh(run.client)
        except Exception as exc:  # the journal is optional for the widget
            self._ui.show_error(exc)
        self._schedule_snapshot()

    def _cancel_run(self, run: WidgetRun) -> None:
        """A row's Cancel: cancel the run at the service."""
        if not run.cancel() and run.can_cancel is False:
            self._ui.show_info(
                "This edition of the service cannot cancel runs; Detach stops watching."
            )
        self._progress.ensure_ticker()

    def _toggle_watch(self, run: WidgetRun) -> None:
        """A row's Detach/Resume button."""
        if run.finished.done():
            run.resume()  # after a detach or a lost connection
            self._progress.ensure_ticker()
            return
        run.detach()
        if run.execution_id:
            self._ui.show_info(stopped_watching(run.execution_id))

    def cancel_all(self) -> int:
        """Cancel every run of this widget still going at the service (they stop producing
        outputs and spending credits); returns how many were asked to stop. Runs refused by
        the edition (/api offers no cancel) are left watched, and the status line says so."""
        active = [r for r in self._runs if r.result is None and not (r.error and not r.handle)]
        asked = [r for r in active if r.cancel()]
        refused = [r for r in active if r not in asked and r.can_cancel is False]
        self._progress.ensure_ticker()
        if refused:
            self._ui.show_info(
                f"{len(refused)} run(s) cannot be cancelled by this edition of the service "
                "(/api): Detach all stops watching them; they go on and are billed."
            )
        elif asked:
            self._ui.show_info(f"Cancelling {len(asked)} run(s) at the service…")
        return len(asked)

    def detach_all(self) -> None:
        """Stop watching every in-flight run; they go on at the service (resume from a row or
        History)."""
        active = [r for r in self._runs if not r.finished.done()]
        for run in active:
            run.detach()
        if not active:
            return
        ids = [r.execution_id for r in active if r.execution_id]
        if len(active) == 1 and ids:
            note = stopped_watching(ids[0])
        else:  # several, or one whose POST is still unanswered (its row gets the id)
            listed = f" ({', '.join(ids)})" if ids else ""
            note = f"Stopped watching {len(active)} run(s){listed}; they go on at the service."
        self._ui.show_info(f"{note} A row's Resume button or History picks a run up again.")

    def stop(self) -> None:
        """The older name of :meth:`detach_all` (stop watching; the runs go on)."""
        self.detach_all()

    # -- sweeps ---------------------------------------------------------------------------
    def sweep(self, param: str, values: list[str] | None = None, *, reuse: bool = True) -> Sweep:
        """Run once per value of ``param`` (default: every label of an options parameter).

        The other inputs come from the controls. All runs share the client's rate budget,
        so even a sweep over every label stays under the service's limit. With ``reuse`` (the
        default) a value whose identical run completed before is shown from the journal and
        not paid for again. Returns a :class:`Sweep` once every run was accepted
        (``.handles``, ``.results()``, awaitable); the Sweep tab shows a comparison grid
        filling in as results arrive. Every value is validated before anything is sent.
        """
        sweep = self._start_planned_sweep(self._plan_sweep(param, values, reuse), None)
        sweep.wait_created()
        return sweep

    def _journal(self) -> Any:
        return getattr(self.session.client, "journal", None)

    def _plan_sweep(
        self, param: str, values: list[str] | None, reuse: bool, *, client: Any = None
    ) -> GridPlan:
        chosen = sweep_values(self.app, param, values)
        p = self.app.parameter(param)
        assert p is not None  # sweep_values checked it
        fixed = {k: v for k, v in self.value.items() if k != p.name}
        spec = GridSpec(self.app.app_id, self.app.name, Axis(p.name, chosen), fixed=fixed)
        if client is None:  # given on the loop thread, which must not ask the session
            client = self.session.client
        return plan(spec, self.app, client.journal, base_url=client.base_url, reuse=reuse)

    def _start_planned_sweep(self, grid: GridPlan, cost: Cost | None) -> Sweep:
        param = grid.spec.x.param
        sweep = Sweep(param, list(grid.spec.x.items), spec=grid.spec, cost=cost)
        self._sweeps.append(sweep)
        with self._ui.held():
            self._sweep_panel.show(sweep)
            self._select_tab("Sweep")
        client = self.session.client
        journal = client.journal
        for cell in grid.cells:
            entry = journal.get(cell.reuse_of) if cell.reuse_of and journal is not None else None
            run = self._new_run(cell.inputs, sweep)
            if entry is not None:
                run.reuse(reused_handle(self.session, client, self.app, entry))
            else:
                run.start()
        self._progress.ensure_ticker()
        return sweep

    # -- grids ----------------------------------------------------------------------------
    def grid(
        self,
        x: str | Axis,
        y: str | Axis | None = None,
        values: Mapping[str, Any] | None = None,
        z: str | Axis | None = None,
        fixed: Mapping[str, Any] | None = None,
        reuse: bool = True,
    ) -> GridRun:
        """Start an X/Y(/Z) grid and return its ``GridRun`` (it fills in on the loop thread).

        ``x``/``y``/``z`` name parameters (or are axes in the magic's syntax, ``"Style=all"``,
        ``"Prompt:fox=cat,owl"``, or :class:`~lamina_notebook.grids.Axis` objects);
        ``values[name]`` gives an axis' values: a list of labels or texts, ``"all"`` (every
        option), or ``(search, [replacements])`` for a prompt search-and-replace. Without
        values an options parameter takes all its options. ``fixed``: the inputs every cell
        shares (default: the form's, without the axes' parameters). With ``reuse`` (default)
        a cell whose identical run completed before is not paid for again. Every cell is
        validated before anything is sent (InputValidationError naming the cells). The Grid
        tab shows it live; ``run.wait()`` blocks until it is done; a saved notebook keeps it
        in the widget's snapshot. The price is ``run.cost`` (Python calls start at once; the
        Grid tab asks first above ``confirm_over``).
        """
        axes = [self._axis(a, values) if a is not None else None for a in (x, y, z)]
        assert axes[0] is not None
        grid_plan = self._plan_grid(axes[0], axes[1], axes[2], reuse, fixed=fixed)
        from ..session.grids import start_grid

        run = start_grid(self.session, grid_plan, estimate=True)
        self._show_grid(run)
        return run

    def _axis(self, given: str | Axis, values: Mapping[str, Any] | None) -> Axis:
        if isinstance(given, Axis):
            return given
        if not isinstance(given, str):
            raise TypeError(f"an axis is a parameter name or an Axis, got {type(given).__name__}")
        chosen = None
        for key, value in (values or {}).items():
            param = self.app.parameter(key) if isinstance(key, str) else None
            if key == given or (param is not None and param is self.app.parameter(given)):
                chosen = value
        if chosen is None:
            return parse_axis(given, self.app)
        param = self.app.parameter(given)
        name = param.name if param is not None else given
        if isinstance(chosen, str):
            if chosen.strip().lower() == "all":
                return Axis(name)
            raise TypeError(
                f"values[{given!r}] must be a list of values, 'all', or (search, [replacements])"
            )
        if (
            isinstance(chosen, tuple)
            and len(chosen) == 2
            and isinstance(chosen[0], str)
            and not isinstance(chosen[1], str)
        ):
            return Axis(name, replace=(chosen[0], tuple(chosen[1])))
        return Axis(name, list(chosen))

    def _plan_grid(
        self,
        x: Axis,
        y: Axis | None,
        z: Axis | None,
        reuse: bool,
        *,
        fixed: Mapping[str, Any] | None = None,
        client: Any = None,
    ) -> GridPlan:
        if fixed is None:
            plain = set()
            for axis in (x, y, z):
                if axis is not None and not axis.is_replace:
                    found = self.app.parameter(axis.param)
                    plain.add(found.name if found is not None else axis.param)
            fixed = {k: v for k, v in self.value.items() if k not in plain}
        else:
            fixed = self._canonical(fixed)
        spec = GridSpec(self.app.app_id, self.app.name, x, y, z, fixed=fixed)
        if client is None:  # given on the loop thread, which must not ask the session
            client = self.session.client
        return plan(spec, self.app, client.journal, base_url=client.base_url, reuse=reuse)

    def _start_planned_grid(self, grid: GridPlan, cost: Cost) -> GridRun:
        from ..session.grids import start_grid

        run = start_grid(self.session, grid, estimate=False)
        run.cost = cost
        self._show_grid(run)
        return run

    def open_grid(self, grid_id: str) -> GridRun:
        """Show a journaled grid in the Grid tab (another kernel's too): drawn from the
        journal, its running cells watched, only its missing cells run."""
        from ..session.grids import resume_grid

        run = resume_grid(self.session, grid_id)
        self._show_grid(run)
        return run

    def _show_grid(self, run: GridRun) -> None:
        self._grids.append(run)
        with self._ui.held():
            self._grid_panel.show(run)
            self._select_tab("Grid")

    def _grid_done(self, run: GridRun, client: Any) -> None:
        """A grid finished (through the UI port): the history and the snapshot."""
        try:
            self._history.refresh(client)
        except Exception as exc:  # the journal is optional for the widget
            self._ui.show_error(exc)
        self._schedule_snapshot()

    # -- Python API -----------------------------------------------------------------------
    @property
    def runs(self) -> list[RunHandle]:
        """Handles of the runs started by this widget (accepted by the service), oldest first."""
        return [r.handle for r in self._runs if r.handle is not None]

    @property
    def last_result(self) -> Result | None:
        """The most recently finished run's Result, or None."""
        done = [r for r in self._runs if r.result is not None]
        return max(done, key=lambda r: r.ended_at).result if done else None

    def wait(self, timeout: float | None = None) -> list[Result]:
        """Block until every run being watched ended (and the grids started here are done);
        re-publish the static snapshot.

        Call it (or ``await w``) in a later cell of an executed notebook so the saved file
        holds the final results (updates from a finished cell's background work are dropped
        by nbclient). A detached run counts as ended; it is not waited for.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        wait_all(list(self._runs), timeout)
        for grid in list(self._grids):
            left = None if deadline is None else max(0.01, deadline - time.monotonic())
            grid.wait(left)
        self.publish_snapshot()
        return [r.result for r in self._runs if r.result is not None]

    def __await__(self) -> Generator[Any, None, list[Result]]:
        futures = [asyncio.wrap_future(r.finished) for r in self._runs]
        if futures:
            yield from asyncio.gather(*futures).__await__()
        for grid in list(self._grids):
            yield from grid.__await__()
        self.publish_snapshot()
        return [r.result for r in self._runs if r.result is not None]

    # -- display and snapshots ------------------------------------------------------------
    def __repr__(self) -> str:
        finished = sum(1 for r in self._runs if r.result is not None)
        return (
            f"<LaminaApp {self.app.name!r}: {len(self.app.parameters or ())} parameters, "
            f"{len(self._runs)} runs ({finished} finished)>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = widget_text(self.app, self.value, self._runs)
        data["text/html"] = form_fallback_html(self.app)
        return data

    def _ipython_display_(self, **kwargs: Any) -> None:
        """In a kernel: the widget, then the static results snapshot (kept by saved
        notebooks). In a terminal: the text repr only, and nothing printed later."""
        from IPython.display import display

        if not has_kernel():
            display({"text/plain": widget_text(self.app, self.value, self._runs)}, raw=True)
            return
        display(self._repr_mimebundle_(), raw=True)
        data, metadata = self._snapshot_bundle()
        display(data, raw=True, metadata=metadata, display_id=self.snapshot_id)
        self._displayed = True

    @property
    def snapshot_id(self) -> str:
        """The display id of the static snapshot shown under the widget."""
        return f"lamina-widget-{self._uid}"

    def _snapshot_bundle(self) -> tuple[dict[str, Any], dict[str, Any]]:
        grid = self._grid_panel.current
        return snapshot_bundle(self._uid, self.app, self._runs, self._sweeps, grid)

    def snapshot(self) -> Snapshot:
        """A static copy of the results (for saved notebooks, nbconvert, GitHub)."""
        self.publish_snapshot()
        return Snapshot(*self._snapshot_bundle())

    def _schedule_snapshot(self) -> None:
        """Publish the snapshot soon, once for several runs that finish together."""
        if not self._displayed or self._snapshot_due:
            return
        self._snapshot_due = True
        self.session.runtime.submit(self._publish_later())

    async def _publish_later(self) -> None:
        await asyncio.sleep(SNAPSHOT_EVERY)
        self._snapshot_due = False
        self.publish_snapshot()

    def publish_snapshot(self) -> None:
        """Update the snapshot output under the widget (a no-op if it was never displayed
        in a kernel: a terminal gets nothing printed unprompted)."""
        if not self._displayed:
            return
        from IPython.display import update_display

        data, metadata = self._snapshot_bundle()
        with contextlib.suppress(Exception):  # no front end (plain Python): nothing to update
            update_display(data, raw=True, metadata=metadata, display_id=self.snapshot_id)

    def close(self) -> None:
        """Stop watching runs and close every child widget's comm."""
        with contextlib.suppress(Exception):
            self.detach_all()
        for w in walk(self):
            if w is not self:
                w.close()
        super().close()
