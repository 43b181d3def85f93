"""``LaminaApp``: an ipywidgets front end for one app (controls, runs, gallery, history, sweeps).

Runs are background work on the session's runtime loop (a thread), so a cell returns at once
and other cells run while it polls. This module only assembles the panels and wires them with
narrow callbacks; every UI change goes through the :class:`~.ui.UI` port (ordered, thread-safe)
and every button callback through its click guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Dict, TraitError, validate

from ..errors import resume_hint, stopped_watching
from ..models import App
from ..render.html import esc, shorten
from ..render.styles import STYLE_TAG
from .controls import ControlPanel
from .gallery import GalleryPanel, changed_inputs, walk
from .history import HistoryPanel
from .media import GalleryMedia
from .parts import Parts, RunParts
from .preview import UrlPreviews
from .progress import ProgressPanel
from .runs import WidgetRun, wait_all
from .snapshot import Snapshot, inputs_html, snapshot_bundle, widget_text
from .sweep import Sweep, SweepPanel, sweep_values
from .ui import UI

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.results import Result, RunHandle
    from ..session.session import Session

__all__ = ["TAB_TITLES", "LaminaApp"]

#: The tabs under the progress rows, in order.
TAB_TITLES = ("Gallery", "History", "Sweep")
_RUN_TOOLTIP = "Start a run with these inputs (in the background)"


class LaminaApp(W.VBox):
    """A widget for one Lamina app: controls, Run/Stop, progress, gallery, history, sweeps.

    Parameters
    ----------
    app
        An app name, an app id, or an :class:`~lamina_notebook.models.App` with parameters.
    session
        The front-end session (settings, runtime loop, client); default: ``get_session()``.

    The Python API mirrors the buttons: ``w.value`` (current inputs, settable and
    observable), ``w.run(**overrides)`` returns a ``RunHandle`` (awaitable, ``.result()``
    blocks), ``w.sweep("Style")``, ``w.runs``, ``w.last_result``, ``w.wait()`` and
    ``w.snapshot()`` (a static copy of the results for saved notebooks). ``w.parts`` is a
    read-only view of the pieces on screen.
    """

    value = Dict(
        help="The current inputs keyed by parameter name; settable from code, "
        "observable. Names left out go back to their defaults."
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
        self._sweeps: list[Sweep] = []
        self._displayed = False
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
        self._header = W.HTML(
            f'{STYLE_TAG}<div class="lamina-title">{esc(shorten(app.name, 200))}</div>'
            f'<div class="lamina-muted">{esc(shorten(app.description, 1000))}</div>'
        )
        self._controls = ControlPanel(app, self._on_controls)
        self._run_button = W.Button(
            description="Run", icon="play", button_style="primary", tooltip=_RUN_TOOLTIP
        )
        self._stop_button = W.Button(
            description="Stop all",
            icon="stop",
            tooltip=f"Stop watching every run of this widget. {resume_hint()}",
        )
        self._problems = W.HTML("")
        self._progress = ProgressPanel(session.runtime, ui, self._toggle)
        self._gallery = GalleryPanel()
        self._history = HistoryPanel(
            session, app, ui, self._media, restore_inputs=self._restore_inputs, adopt=self.adopt
        )
        self._sweep_panel = SweepPanel(app, ui, self._start_sweep)
        self._previews = UrlPreviews(session, ui, self._controls.problems)
        tabs = W.Tab(children=[self._gallery.box, self._history.box, self._sweep_panel.box])
        for i, title in enumerate(TAB_TITLES):
            tabs.set_title(i, title)
        self._tabs = tabs
        self._run_button.on_click(
            ui.guard(
                self._run_button,
                self._click_run,
                keep_disabled=lambda: bool(self._controls.problems()),
            )
        )
        self._stop_button.on_click(ui.guard(self._stop_button, self.stop))
        self.children = [
            self._header,
            self._controls.box,
            W.HBox([self._run_button, self._stop_button]),
            self._problems,
            ui.status,
            self._progress.box,
            tabs,
        ]
        self.add_class("lamina-app")
        self.add_class(f"lamina-live-{self._uid}")
        with ui.held():
            self._set_value_quietly(self._controls.values())
            self._after_inputs(self._controls.problems())
        self._previews.attach(self._controls.controls)
        self._history.refresh()

    def _select_tab(self, title: str) -> None:
        self._tabs.selected_index = TAB_TITLES.index(title)

    @property
    def parts(self) -> Parts:
        """A read-only view of the widget's pieces (see :mod:`lamina_notebook.widget.parts`)."""
        return Parts(
            header=self._header,
            controls=self._controls.parts,
            run_button=self._run_button,
            stop_all_button=self._stop_button,
            problems=self._problems,
            status=self._ui.status,
            progress=self._progress.box,
            runs=tuple(self._run_parts(run) for run in self._runs),
            gallery=self._gallery.box,
            tabs=self._tabs,
            history=self._history.parts,
            sweep=self._sweep_panel.parts,
            sweeps=tuple(self._sweeps),
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
        )

    # -- inputs ---------------------------------------------------------------------------
    @validate("value")
    def _validate_value(self, proposal: Any) -> dict[str, str]:
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
            self._after_inputs(self._controls.problems(values))
        return values

    def _on_controls(self, values: dict[str, str], problems: dict[str, str]) -> None:
        with self._ui.held():
            self._set_value_quietly(values)
            self._after_inputs(problems)

    def _set_value_quietly(self, values: dict[str, str]) -> None:
        self._syncing = True
        try:
            self.value = values
        finally:
            self._syncing = False

    def _restore_inputs(self, inputs: Mapping[str, str]) -> Mapping[str, str]:
        """Show the inputs the controls can show (History); return the ones they cannot."""
        usable, rest = self._controls.showable(inputs)
        self.value = usable
        return rest

    def _after_inputs(self, problems: Mapping[str, str]) -> None:
        """Enable Run only when the inputs are valid; say what to fix otherwise."""
        self._run_button.disabled = bool(problems)
        if not problems:
            self._problems.value = ""
            self._run_button.tooltip = _RUN_TOOLTIP
            return
        lines = [f"{name}: {text}" if name else text for name, text in problems.items()]
        self._run_button.tooltip = "Fix the inputs first: " + "; ".join(lines)
        items = "".join(f"<li>{esc(line)}</li>" for line in lines)
        self._problems.value = (
            f'<div class="lamina-error"><b>Run is disabled until these are '
            f"fixed:</b><ul>{items}</ul></div>"
        )

    @property
    def problems(self) -> dict[str, str]:
        """Current per-parameter validation problems (empty when Run is enabled)."""
        return self._controls.problems()

    # -- runs -----------------------------------------------------------------------------
    def _click_run(self) -> None:
        self._start(dict(self.value), sweep=None)

    def run(self, inputs: Mapping[str, Any] | None = None, /, **overrides: Any) -> RunHandle:
        """Start a run in the background and return its ``RunHandle`` once the service took it.

        ``inputs`` (default: the controls' values) updated by ``overrides``. Raises
        InputValidationError (nothing sent) when they are invalid. The handle is awaitable;
        ``handle.result(timeout)`` blocks; the widget shows progress and results meanwhile.
        """
        values = {**(self.value if inputs is None else dict(inputs)), **overrides}
        run = self._start(values, sweep=None)
        return run.wait_created()

    def _start(self, values: Mapping[str, Any], sweep: Sweep | None) -> WidgetRun:
        """Validate (once: the client sends what it validated), add a row and a card, POST."""
        clean = self.session.client.validate_inputs(self.app, values)
        run = self._new_run(clean, lambda previous: self._run_title(clean, previous, sweep), sweep)
        run.start()
        self._progress.ensure_ticker()
        return run

    def adopt(self, execution: Execution, inputs: Mapping[str, str]) -> WidgetRun:
        """Watch an execution this widget did not start (History: a run still in flight)."""
        short = execution.execution_id[:8]
        run = self._new_run(inputs, lambda _p: f"#{len(self._runs) + 1} {short} (resumed)", None)
        run.adopt(execution)
        self._progress.ensure_ticker()
        return run

    def _new_run(
        self,
        inputs: Mapping[str, Any],
        title: Callable[[Mapping[str, str] | None], str],
        sweep: Sweep | None,
    ) -> WidgetRun:
        with self._ui.held():
            previous = self._runs[-1].inputs if self._runs else None
            run = WidgetRun(
                self.session,
                self.app,
                self._ui,
                self._media,
                inputs,
                title(previous),
                previous,
                on_update=lambda r: self._run_changed(r, sweep),
                on_finished=lambda r: self._run_finished(r, sweep),
            )
            self._runs.append(run)
            if sweep is not None:
                sweep.runs.append(run)
            self._progress.add(run)
            self._gallery.add(run)
        return run

    def _run_title(
        self, clean: Mapping[str, Any], previous: Mapping[str, str] | None, sweep: Sweep | None
    ) -> str:
        n = len(self._runs) + 1
        if sweep is not None:
            return f"#{n} {sweep.param}={shorten(clean.get(sweep.param, '(default)'), 40)}"
        diff = changed_inputs(clean, previous)
        summary = ", ".join(f"{k}={shorten(v, 30)}" for k, v in diff.items())
        return f"#{n} {shorten(summary, 90)}" if summary else f"#{n}"

    def _run_changed(self, run: WidgetRun, sweep: Sweep | None) -> None:
        """A run's state or progress changed (applied through the UI port)."""
        self._progress.show(run)
        if sweep is not None:
            sweep.show(run)

    def _run_finished(self, run: WidgetRun, sweep: Sweep | None) -> None:
        """A run ended with a Result (applied through the UI port): gallery, grid, history."""
        self._gallery.fill(run)
        if sweep is not None:
            sweep.show(run)
        self._history.refresh(run.client)
        self.publish_snapshot()

    def _toggle(self, run: WidgetRun) -> None:
        """A row's Stop/Resume button."""
        if run.finished.done():
            run.resume()  # after a stop or a lost connection
            self._progress.ensure_ticker()
        else:
            run.stop()

    def stop(self) -> None:
        """Stop watching every in-flight run; they go on at the service (resume from History)."""
        active = [r for r in self._runs if not r.finished.done()]
        for run in active:
            run.stop()
        if not active:
            return
        ids = [r.execution_id for r in active if r.execution_id]
        if len(active) == 1 and ids:
            note = stopped_watching(ids[0])
        else:  # several, or one whose POST is still unanswered (its row gets the id)
            listed = f" ({', '.join(ids)})" if ids else ""
            note = f"Stopped watching {len(active)} run(s){listed}. {resume_hint()}"
        self._ui.show_info(f"{note} A row's Resume button or History picks a run up again too.")

    # -- sweeps ---------------------------------------------------------------------------
    def sweep(self, param: str, values: list[str] | None = None) -> Sweep:
        """Run once per value of ``param`` (default: every label of an options parameter).

        The other inputs come from the controls. All runs share the client's rate budget,
        so even a sweep over every label stays under the service's limit. Returns a
        :class:`Sweep` once every run was accepted (``.handles``, ``.results()``, awaitable);
        the Sweep tab shows a comparison grid filling in as results arrive.
        """
        sweep = self._start_sweep(param, values)
        sweep.wait_created()
        return sweep

    def _start_sweep(self, param: str, values: list[str] | None) -> Sweep:
        chosen = sweep_values(self.app, param, values)
        base = dict(self.value)
        client = self.session.client
        # Validate every run before starting any; each is sent as validated here.
        valid = [client.validate_inputs(self.app, {**base, param: v}) for v in chosen]
        sweep = Sweep(param, chosen)
        self._sweeps.append(sweep)
        with self._ui.held():
            self._sweep_panel.show(sweep)
            self._select_tab("Sweep")
        for inputs in valid:
            self._start(inputs, sweep=sweep)
        return sweep

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
        """Block until every run being watched ended; re-publish the static snapshot.

        Call it (or ``await w``) in a later cell of an executed notebook so the saved file
        holds the final results (updates from a finished cell's background work are dropped
        by nbclient). A stopped run counts as ended; it is not waited for.
        """
        wait_all(list(self._runs), timeout)
        self.publish_snapshot()
        return [r.result for r in self._runs if r.result is not None]

    def __await__(self) -> Generator[Any, None, list[Result]]:
        futures = [asyncio.wrap_future(r.finished) for r in self._runs]
        if futures:
            yield from asyncio.gather(*futures).__await__()
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
        data["text/html"] = self._header.value + inputs_html(self.app, self.value)
        return data

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Show the widget, then the static results snapshot (kept by saved notebooks)."""
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        data, metadata = snapshot_bundle(self._uid, self.app, self._runs, self._sweeps)
        display(data, raw=True, metadata=metadata, display_id=self.snapshot_id)
        self._displayed = True

    @property
    def snapshot_id(self) -> str:
        """The display id of the static snapshot shown under the widget."""
        return f"lamina-widget-{self._uid}"

    def snapshot(self) -> Snapshot:
        """A static copy of the results (for saved notebooks, nbconvert, GitHub)."""
        self.publish_snapshot()
        return Snapshot(*snapshot_bundle(self._uid, self.app, self._runs, self._sweeps))

    def publish_snapshot(self) -> None:
        """Update the snapshot output under the widget (a no-op if it was never displayed)."""
        if not self._displayed:
            return
        from IPython.display import update_display

        data, metadata = snapshot_bundle(self._uid, self.app, self._runs, self._sweeps)
        with contextlib.suppress(Exception):  # no front end (plain Python): nothing to update
            update_display(data, raw=True, metadata=metadata, display_id=self.snapshot_id)

    def close(self) -> None:
        """Stop watching runs and close every child widget's comm."""
        with contextlib.suppress(Exception):
            self.stop()
        for w in walk(self):
            if w is not self:
                w.close()
        super().close()
