"""The progress list of ``LaminaApp``: one row per run (bar, label, Stop/Resume), newest first.

A row shows its run's :attr:`~.runs.WidgetRun.phase` and latest polled state; a ticker on the
loop refreshes elapsed time and ETA while any run is watched. Finished rows beyond
``MAX_PROGRESS_ROWS`` leave the screen (the gallery and History keep their results).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as W

from ..errors import resume_hint, stopped_watching
from ..render.html import fmt_duration, shorten
from .ui import first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.runtime import Runtime
    from .runs import WidgetRun
    from .ui import UI

__all__ = ["MAX_PROGRESS_ROWS", "TICK_SECONDS", "ProgressPanel", "ProgressRow", "RowParts"]

#: Progress rows kept on screen; older finished rows are dropped (the gallery keeps results).
MAX_PROGRESS_ROWS = 8
#: Seconds between elapsed/ETA refreshes of in-flight progress rows.
TICK_SECONDS = 1.0

_BAR_STYLE = {
    "queued": "",
    "running": "info",
    "completed": "success",
    "failed": "danger",
    "cancelled": "danger",
}
_STOP_TOOLTIP = f"Stop watching this run. {resume_hint()}"


@dataclass(frozen=True)
class RowParts:
    """The widgets of one progress row (see :attr:`LaminaApp.parts`)."""

    box: W.HBox
    bar: W.FloatProgress
    label: W.Label
    #: Stop watching while the run is watched; Resume after a stop or a lost connection.
    watch_button: W.Button


class ProgressRow:
    """One run: a bar, a text label, and a Stop/Resume button.

    The bar is driven by polling: status, outputs k of n, elapsed time and the ETA. It ends
    ``success`` or ``danger``; a stopped or lost watch ends ``warning`` with how to resume.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.started = time.monotonic()
        self.bar = W.FloatProgress(
            value=0.0, min=0.0, max=1.0, bar_style="", layout=W.Layout(width="180px")
        )
        self.label = W.Label(
            f"{title} · starting…", layout=W.Layout(flex="1 1 auto", min_width="0")
        )
        self.label.add_class("lamina-progress-label")  # wraps instead of running off the edge
        self.watch_button = W.Button(
            description="Stop", icon="stop", tooltip=_STOP_TOOLTIP, layout=W.Layout(width="80px")
        )
        self.box = W.HBox(
            [self.bar, self.label, self.watch_button], layout=W.Layout(align_items="center")
        )
        #: Nothing more to show until the run is resumed (ended, stopped, lost, not started).
        self.finished = False
        #: Stopped or lost: the button offers Resume.
        self.resumable = False

    @property
    def parts(self) -> RowParts:
        return RowParts(self.box, self.bar, self.label, self.watch_button)

    def show(self, run: WidgetRun) -> None:
        """Show the run's phase and, while it is watched, its latest polled state."""
        phase = run.phase
        if phase == "watching":
            if self.resumable:
                self.resumed()
            elif run.handle is not None:
                self.update(run.handle.execution, run.handle.eta)
        elif phase == "ended" and run.result is not None:
            self.update(run.result.execution, None)
        elif phase == "stopped" and run.handle is not None:
            self.stopped(run.handle.execution_id)
        elif phase == "lost" and run.handle is not None and run.error is not None:
            self.lost(first_line(run.error), run.handle.execution_id)
        elif phase == "not started" and run.error is not None:
            self.failed_to_start(first_line(run.error))

    def update(self, execution: Execution, eta: float | None) -> None:
        """Show the latest polled state (call again with the same execution to tick elapsed)."""
        if self.finished:
            return
        elapsed = time.monotonic() - self.started
        parts = [self.title, execution.status]
        total = execution.outputs_total
        if total:
            parts.append(f"{execution.outputs_done}/{total} outputs")
        parts.append(fmt_duration(elapsed))
        if execution.is_terminal:
            self._finish(execution, parts)
            return
        parts.append(f"ETA ~{fmt_duration(eta)}" if eta is not None else "ETA unknown")
        with self.bar.hold_sync():  # value and style in one comm message, not two
            self.bar.value = max(0.02, execution.fraction_done)
            self.bar.bar_style = _BAR_STYLE.get(execution.status, "info")
        self.label.value = " · ".join(parts)

    def _finish(self, execution: Execution, parts: list[str]) -> None:
        self.finished = True
        with self.bar.hold_sync():
            self.bar.value = 1.0
            self.bar.bar_style = "success" if execution.is_completed else "danger"
        if execution.is_failed and execution.error_message:
            parts.append(shorten(execution.error_message, 120))
        self.label.value = " · ".join(parts)
        self.watch_button.layout.display = "none"

    def stopped(self, execution_id: str) -> None:
        """The watch was stopped: say the run goes on and how to pick it up again."""
        self.finished = self.resumable = True
        self.bar.bar_style = "warning"
        self.label.value = (
            f"{self.title} · {stopped_watching(execution_id)} "
            "Or press Resume, or pick it in History."
        )
        self._button("Resume", "play", "Watch this run again")

    def resumed(self) -> None:
        """Watching again after a stop."""
        self.finished = self.resumable = False
        self.bar.bar_style = "info"
        self.label.value = f"{self.title} · watching again…"
        self._button("Stop", "stop", _STOP_TOOLTIP)

    def lost(self, message: str, execution_id: str) -> None:
        """Watching failed (network, timeout): the run itself may be fine."""
        self.finished = self.resumable = True
        self.bar.bar_style = "warning"
        self.label.value = (
            f"{self.title} · lost track: {shorten(message, 160)}. "
            f"{resume_hint(execution_id)} Or press Resume."
        )
        self._button("Resume", "play", "Watch this run again")

    def failed_to_start(self, message: str) -> None:
        """The service did not take the run (or its answer was lost): nothing to watch."""
        self.finished = True
        self.bar.value = 1.0
        self.bar.bar_style = "danger"
        self.label.value = f"{self.title} · not started: {shorten(message, 200)}"
        self.watch_button.layout.display = "none"

    def _button(self, text: str, icon: str, tooltip: str) -> None:
        self.watch_button.description = text
        self.watch_button.icon = icon
        self.watch_button.tooltip = tooltip
        self.watch_button.layout.display = ""


class ProgressPanel:
    """The rows of a widget's runs, newest on top, kept current while runs are watched.

    ``on_button(run)`` is called (through the click guard) when a row's Stop/Resume button
    is pressed.
    """

    def __init__(self, runtime: Runtime, ui: UI, on_button: Callable[[WidgetRun], None]) -> None:
        self.runtime = runtime
        self.ui = ui
        self.on_button = on_button
        self.box = W.VBox([])
        self._rows: dict[int, tuple[WidgetRun, ProgressRow]] = {}  # id(run) -> row, oldest first
        self._ticker: concurrent.futures.Future[None] | None = None

    def row(self, run: WidgetRun) -> ProgressRow | None:
        """The row of ``run`` (also one that left the screen), or None."""
        found = self._rows.get(id(run))
        return found[1] if found is not None else None

    def add(self, run: WidgetRun) -> ProgressRow:
        """A new row on top; the oldest finished rows leave once there are too many."""
        row = ProgressRow(run.title)
        button = row.watch_button
        button.on_click(self.ui.guard(button, lambda: self.on_button(run)))
        self._rows[id(run)] = (run, row)
        shown = [row.box, *self.box.children]
        finished = [r.box for _run, r in self._rows.values() if r.finished]
        while len(shown) > MAX_PROGRESS_ROWS and finished:
            old = finished.pop(0)
            if old in shown:
                shown.remove(old)
        self.box.children = shown
        return row

    def show(self, run: WidgetRun) -> None:
        """Bring ``run``'s row up to date (call through the UI port)."""
        row = self.row(run)
        if row is not None:
            row.show(run)

    def ensure_ticker(self) -> None:
        """Refresh elapsed time and ETA every ``TICK_SECONDS`` while any run is watched."""
        if self._ticker is None or self._ticker.done():
            self._ticker = self.runtime.submit(self._tick())

    async def _tick(self) -> None:
        while any(run.watching for run, _row in list(self._rows.values())):
            for run, row in list(self._rows.values()):
                if run.watching and run.handle is not None:
                    self.ui.apply(row.show, run)
            await asyncio.sleep(TICK_SECONDS)
