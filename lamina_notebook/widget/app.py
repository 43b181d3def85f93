"""``LaminaApp``: an ipywidgets front end for one app (controls, runs, gallery, history, sweeps).

Runs are background work on the session's runtime loop (a thread), so a cell returns at once
and other cells run while it polls. Every UI change made from that thread goes through
:meth:`LaminaApp._ui`; every button callback is guarded and reports errors inside the widget.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import uuid
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as W
from traitlets import Dict, TraitError, validate

from ..models import App
from ..render import error_html
from ..render.html import esc, shorten
from ..render.styles import STYLE_TAG
from .controls import ControlPanel
from .gallery import ProgressRow, RunCard, changed_inputs, walk
from .history import HistoryPanel
from .preview import UrlPreviews
from .runs import GalleryMedia, WidgetRun, wait_all
from .snapshot import Snapshot, inputs_html, snapshot_bundle, widget_text
from .sweep import Sweep, SweepPanel, sweep_values

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.results import Result, RunHandle
    from ..session.session import Session

__all__ = ["LaminaApp"]

#: Progress rows kept on screen; older finished rows are dropped (the gallery keeps results).
MAX_PROGRESS_ROWS = 8
#: Run cards kept in the gallery; older runs stay in History.
MAX_GALLERY_RUNS = 24
#: Seconds between elapsed/ETA refreshes of in-flight progress rows.
TICK_SECONDS = 1.0


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
    ``w.snapshot()`` (a static copy of the results for saved notebooks).
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
        self._ui_lock = threading.RLock()
        self._pending_ui: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._syncing = False
        self._runs: list[WidgetRun] = []
        self._sweeps: list[Sweep] = []
        self._ticker: concurrent.futures.Future[None] | None = None
        self._previews = UrlPreviews(self)
        self._displayed = False
        self._uid = uuid.uuid4().hex[:12]
        self._media = GalleryMedia(session)
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
        app = self.app
        self._header = W.HTML(
            f'{STYLE_TAG}<div class="lamina-title">{esc(shorten(app.name, 200))}</div>'
            f'<div class="lamina-muted">{esc(shorten(app.description, 1000))}</div>'
        )
        self._controls = ControlPanel(app, self._on_controls)
        self._run_button = W.Button(
            description="Run",
            icon="play",
            button_style="primary",
            tooltip="Start a run with these inputs (in the background)",
        )
        self._stop_button = W.Button(
            description="Stop all",
            icon="stop",
            tooltip="Stop watching every run of this widget; the runs "
            "go on at the service and can be resumed",
        )
        self._problems = W.HTML("")
        self._status = W.HTML("")
        self._progress = W.VBox([])
        self._gallery = W.VBox([W.HTML('<span class="lamina-muted">No runs yet.</span>')])
        self._history = HistoryPanel(self)
        self._sweep_panel = SweepPanel(self)
        tabs = W.Tab(children=[self._gallery, self._history.box, self._sweep_panel.box])
        for i, title in enumerate(("Gallery", "History", "Sweep")):
            tabs.set_title(i, title)
        self._tabs = tabs
        self._run_button.on_click(self._guarded(self._run_button, self._click_run))
        self._stop_button.on_click(self._guarded(self._stop_button, self.stop))
        self.children = [
            self._header,
            self._controls.box,
            W.HBox([self._run_button, self._stop_button]),
            self._problems,
            self._status,
            self._progress,
            tabs,
        ]
        self.add_class("lamina-app")
        self.add_class(f"lamina-live-{self._uid}")
        with self._ui_lock:
            self._set_value_quietly(self._controls.values())
            self._after_inputs(self._controls.problems())
        self._previews.attach(self._controls.controls)
        self._history.refresh()

    # -- the one UI entry point -----------------------------------------------------------
    def _ui(self, fn: Callable[..., Any], *args: Any) -> None:
        """Apply a UI change, in order; safe from any thread (errors are shown inside).

        Changes are queued and applied under one lock. The loop thread never waits for that
        lock: if the main thread holds it (maybe while it waits for the loop, e.g. to build
        the client), the queue is drained again shortly after, from the loop.
        """
        self._pending_ui.append((fn, args))
        self._drain_ui()

    def _drain_ui(self) -> None:
        in_loop = self.session.runtime.in_loop_thread()
        if not self._ui_lock.acquire(blocking=not in_loop):
            asyncio.get_running_loop().call_later(0.02, self._drain_ui)
            return
        try:
            while self._pending_ui:
                fn, args = self._pending_ui.popleft()
                try:
                    fn(*args)
                except Exception as exc:  # a UI glitch must never kill the run that reported it
                    self._status.value = error_html(exc)
        finally:
            self._ui_lock.release()

    def _guarded(self, button: W.Button, action: Callable[[], Any]) -> Callable[[Any], None]:
        """A click handler: disable the button, show errors in the widget, re-enable after."""

        def handler(_button: Any) -> None:
            button.disabled = True
            try:
                self._status.value = ""
                action()
            except Exception as exc:
                self._show_error(exc)
            finally:
                button.disabled = button is self._run_button and bool(self._controls.problems())

        return handler

    def _show_error(self, exc: BaseException) -> None:
        with self._ui_lock:
            self._status.value = error_html(exc)

    def _show_info(self, text: str) -> None:
        with self._ui_lock:
            self._status.value = f'<span class="lamina-muted">{esc(text)}</span>'

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
        with self._ui_lock:
            try:
                self._controls.set_values(incoming)
            except ValueError as exc:
                raise TraitError(f"{exc} (nothing was changed)") from exc
            values = self._controls.values()
            self._after_inputs(self._controls.problems(values))
        return values

    def _on_controls(self, values: dict[str, str], problems: dict[str, str]) -> None:
        with self._ui_lock:
            self._set_value_quietly(values)
            self._after_inputs(problems)

    def _set_value_quietly(self, values: dict[str, str]) -> None:
        self._syncing = True
        try:
            self.value = values
        finally:
            self._syncing = False

    def _after_inputs(self, problems: Mapping[str, str]) -> None:
        """Enable Run only when the inputs are valid; say what to fix otherwise."""
        self._run_button.disabled = bool(problems)
        if not problems:
            self._problems.value = ""
            self._run_button.tooltip = "Start a run with these inputs (in the background)"
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
        """Validate, add a progress row and a gallery card, and POST on the loop thread."""
        clean = self.session.client.validate_inputs(self.app, values)
        run = self._new_run(clean, lambda previous: self._run_title(clean, previous, sweep))
        if sweep is not None:
            sweep.runs.append(run)
        run.start(sweep)
        self._ensure_ticker()
        return run

    def adopt(self, execution: Execution, inputs: Mapping[str, str]) -> WidgetRun:
        """Watch an execution this widget did not start (History: a run still in flight)."""
        short = execution.execution_id[:8]
        run = self._new_run(inputs, lambda _p: f"#{len(self._runs) + 1} {short} (resumed)")
        run.adopt(execution)
        self._ensure_ticker()
        return run

    def _new_run(
        self, inputs: Mapping[str, str], title: Callable[[Mapping[str, str] | None], str]
    ) -> WidgetRun:
        with self._ui_lock:
            previous = self._runs[-1].inputs if self._runs else None
            name = title(previous)
            run = WidgetRun(self, inputs, name, previous)
            run.row = ProgressRow(name, lambda: self._toggle(run))
            run.card = RunCard(name)
            self._runs.append(run)
            self._add_row(run.row)
            self._add_card(run.card)
        return run

    def _run_title(
        self, clean: Mapping[str, str], previous: Mapping[str, str] | None, sweep: Sweep | None
    ) -> str:
        n = len(self._runs) + 1
        if sweep is not None:
            return f"#{n} {sweep.param}={shorten(clean.get(sweep.param, '(default)'), 40)}"
        diff = changed_inputs(clean, previous)
        summary = ", ".join(f"{k}={shorten(v, 30)}" for k, v in diff.items())
        return f"#{n} {shorten(summary, 90)}" if summary else f"#{n}"

    def _add_row(self, row: ProgressRow) -> None:
        rows = [r for r in self._progress.children]
        rows.insert(0, row.box)
        finished = [r for r in self._runs if r.row is not None and r.row.finished]
        while len(rows) > MAX_PROGRESS_ROWS and finished:
            old = finished.pop(0).row
            if old is not None and old.box in rows:
                rows.remove(old.box)
        self._progress.children = rows

    def _add_card(self, card: RunCard) -> None:
        cards = [
            c
            for c in self._gallery.children
            if c is not None and c._dom_classes and "lamina-run-card" in c._dom_classes
        ]
        self._gallery.children = [card.box, *cards][:MAX_GALLERY_RUNS]

    def _toggle(self, run: WidgetRun) -> None:
        """The row's Stop/Resume button."""
        try:
            if run.finished.done():
                run.resume()  # after a stop or a lost connection
            else:
                run.stop()
        except Exception as exc:
            self._show_error(exc)

    def stop(self) -> None:
        """Stop watching every in-flight run; they go on at the service (resume from History)."""
        active = [r for r in self._runs if not r.finished.done()]
        for run in active:
            run.stop()
        if active:
            self._show_info(
                f"Stopped watching {len(active)} run(s); they may still finish on "
                "the server. Resume one with its row's Resume button, from History, "
                "or with %lamina resume EXECUTION_ID."
            )

    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = self.session.runtime.submit(self._tick())

    async def _tick(self) -> None:
        """Refresh elapsed time and ETA of in-flight rows while any run is being watched."""
        while any(r.watching for r in self._runs):
            for run in list(self._runs):
                if run.watching and run.handle is not None:
                    self._ui(self.update_row, run)
            await asyncio.sleep(TICK_SECONDS)

    def update_row(self, run: WidgetRun) -> None:
        """Show a run's latest polled state in its progress row (called via :meth:`_ui`)."""
        if run.row is None or run.handle is None:
            return
        run.row.update(run.handle.execution, run.handle.eta)

    def finish_run(self, run: WidgetRun) -> None:
        """Called via :meth:`_ui` when a run ended: gallery, sweep grid, history, snapshot."""
        result = run.result
        if result is not None and run.card is not None:
            diff = changed_inputs(run.inputs, run.previous)
            run.card.fill(result.execution, run.thumbs, run.videos, diff, "")
        if run.sweep is not None:
            run.sweep.refresh()
        self._history.refresh()
        self.publish_snapshot()

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
        for v in chosen:  # validate every run before starting any
            self.session.client.validate_inputs(self.app, {**base, param: v})
        sweep = Sweep(param, chosen)
        self._sweeps.append(sweep)
        with self._ui_lock:
            self._sweep_panel.show(sweep)
        for v in chosen:
            self._start({**base, param: v}, sweep=sweep)
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
        by nbclient). Stopped runs are not waited for.
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
