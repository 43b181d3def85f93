"""The progress list of ``LaminaApp``: one fixed-width row per run, newest first.

A row is one line of fixed columns, so rows line up and never wrap: the bar, the status, the
short id (the full id on hover), elapsed time and ETA, the title (cut with an ellipsis, whole on
hover), then the action buttons, each as wide as its label: **Cancel** (stops the run at the
service, and its billing) and **Detach** (stops watching; the run goes on) while a run is
watched, **Resume** after a detach or a lost connection. A ticker on the loop refreshes elapsed
times and ETAs. Rows beyond ``MAX_PROGRESS_ROWS`` fold into a "+N earlier runs" line that
unfolds them (runs in flight are never folded).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as W

from ..errors import resume_hint
from ..render.html import fmt_duration, short_id
from .ui import TipText, first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.runtime import Runtime
    from .runs import WidgetRun
    from .ui import UI

__all__ = [
    "CANCEL_TOOLTIP",
    "DETACH_TOOLTIP",
    "MAX_PROGRESS_ROWS",
    "NO_CANCEL_TOOLTIP",
    "TICK_SECONDS",
    "ProgressPanel",
    "ProgressParts",
    "ProgressRow",
    "RowParts",
]

#: Rows on screen before older finished ones fold into "+N earlier runs".
MAX_PROGRESS_ROWS = 8
#: Seconds between elapsed/ETA refreshes of in-flight progress rows.
TICK_SECONDS = 1.0

CANCEL_TOOLTIP = (
    "Cancel this run at the service: it stops, produces nothing more and stops spending credits"
)
NO_CANCEL_TOOLTIP = (
    "This edition of the service (/api) cannot cancel runs: Detach only stops watching (the "
    "run goes on and is billed); use the /v1 edition (LAMINA_API_EDITION=v1) to cancel"
)
DETACH_TOOLTIP = f"Stop watching this run; it goes on at the service. {resume_hint()}"
RESUME_TOOLTIP = "Watch this run again"

_BAR_STYLE = {
    "queued": "",
    "running": "info",
    "completed": "success",
    "failed": "danger",
    "cancelled": "warning",
}
# Column widths: fixed, so every row lines up whatever its text.
_BAR_PX, _STATUS_PX, _ID_PX, _CLOCK_PX = 96, 104, 80, 128


def _fixed(px: int) -> W.Layout:
    return W.Layout(width=f"{px}px", min_width=f"{px}px", flex="0 0 auto", margin="0 6px 0 0")


def _button(text: str, icon: str, tooltip: str, cls: str) -> W.Button:
    # width auto: as wide as its label (never "▶ R…"); flex 0 0 auto: never squeezed.
    button = W.Button(
        description=text,
        icon=icon,
        tooltip=tooltip,
        layout=W.Layout(width="auto", flex="0 0 auto", margin="0 0 0 4px"),
    )
    button.add_class(cls)
    return button


@dataclass(frozen=True)
class RowParts:
    """The widgets of one progress row (see :attr:`LaminaApp.parts`)."""

    box: W.HBox
    bar: W.FloatProgress
    #: ``starting…``, ``queued``, ``running 1/2``, ``completed``, ``cancelled``, ``failed``,
    #: ``detached``, ``lost track``, ``cancelling…``, ``reused``, ``not started``.
    #: Its ``tip`` (the span's ``title`` on the page) says more: outputs done, why it failed...
    status: TipText
    #: The short id; its tip is the full execution id.
    ident: TipText
    #: Elapsed time and ETA (``took 0:12`` once ended).
    clock: W.Label
    #: The run's title (what distinguishes its inputs); the whole text in its tip.
    title: TipText
    #: Cancel at the service (hidden once the run ended; disabled where not offered).
    cancel_button: W.Button
    #: Detach while watched; Resume after a detach or a lost connection.
    watch_button: W.Button

    @property
    def label(self) -> str:
        """The row's text, column by column (for tests and logs)."""
        parts = (self.status, self.ident, self.clock, self.title)
        texts = (p.text if isinstance(p, TipText) else p.value for p in parts)
        return " · ".join(t for t in texts if t)


class ProgressRow:
    """One run as one line of fixed columns (see the module docstring)."""

    def __init__(self, title: str) -> None:
        self.title_text = title
        self.started = time.monotonic()
        self.bar = W.FloatProgress(
            value=0.0, min=0.0, max=1.0, bar_style="", layout=_fixed(_BAR_PX)
        )
        self.bar.add_class("lamina-progress-bar")
        self.status = TipText("starting…", layout=_fixed(_STATUS_PX))
        self.status.add_class("lamina-progress-status")
        self.ident = TipText("", layout=_fixed(_ID_PX), monospace=True)
        self.ident.add_class("lamina-progress-id")
        self.clock = W.Label("", layout=_fixed(_CLOCK_PX))
        self.clock.add_class("lamina-progress-clock")
        self.title = TipText(
            title, title, layout=W.Layout(flex="1 1 auto", min_width="60px", width="auto")
        )
        self.title.add_class("lamina-progress-title")
        self.cancel_button = _button("Cancel", "stop", CANCEL_TOOLTIP, "lamina-cancel-button")
        self.watch_button = _button("Detach", "eject", DETACH_TOOLTIP, "lamina-detach-button")
        self.box = W.HBox(
            [
                self.bar,
                self.status,
                self.ident,
                self.clock,
                self.title,
                self.cancel_button,
                self.watch_button,
            ],
            layout=W.Layout(align_items="center", flex_flow="row nowrap", width="100%"),
        )
        self.box.add_class("lamina-progress-row")
        #: Nothing more to show until the run is resumed (ended, detached, lost, not started).
        self.finished = False

    @property
    def parts(self) -> RowParts:
        return RowParts(
            self.box,
            self.bar,
            self.status,
            self.ident,
            self.clock,
            self.title,
            self.cancel_button,
            self.watch_button,
        )

    def show(self, run: WidgetRun) -> None:
        """Show the run's phase and, while it is watched, its latest polled state."""
        self.title.show(run.title, run.full_title)
        if run.execution_id:
            self.ident.show(short_id(run.execution_id), run.execution_id)
        phase = run.phase
        if phase == "ended" and run.result is not None:
            self._ended(run.result.execution, reused=run.reused)
        elif phase == "watching" and run.handle is not None:
            self.finished = False
            self._actions(run, watching=True)
            self._progress(run.handle.execution, run.handle.eta, cancelling=run.cancelling)
        elif phase == "detached" and run.execution_id:
            self._paused("detached", f"Not watched. {resume_hint(run.execution_id)}", run)
        elif phase == "lost" and run.execution_id and run.error is not None:
            why = f"Lost track: {first_line(run.error)}. {resume_hint(run.execution_id)}"
            self._paused("lost track", why, run)
        elif phase == "not started" and run.error is not None:
            self.finished = True
            self._bar(1.0, "danger")
            self.status.show("not started", first_line(run.error))
            self._set(self.clock, "")
            self._hide_actions()
        elif phase == "starting":
            self._actions(run, watching=True)
            self.status.show("cancelling…" if run.cancelling else "starting…")

    def tick(self, run: WidgetRun) -> None:
        """Refresh elapsed time and ETA of a watched run."""
        if run.phase == "watching" and run.handle is not None and not self.finished:
            self._progress(run.handle.execution, run.handle.eta, cancelling=run.cancelling)

    def _progress(self, execution: Execution, eta: float | None, *, cancelling: bool) -> None:
        if execution.is_terminal:  # the watch is fetching its outputs: almost there
            self._bar(1.0, _BAR_STYLE.get(execution.status, "info"))
            self.status.show(execution.status)
            return
        elapsed = time.monotonic() - self.started
        status = execution.status
        total = execution.outputs_total
        if total and status == "running":
            status = f"running {execution.outputs_done}/{total}"
        tip = f"{execution.outputs_done}/{total} outputs" if total else status
        self.status.show("cancelling…" if cancelling else status, tip)
        clock = fmt_duration(elapsed)
        clock += f" · ETA {fmt_duration(eta)}" if eta is not None else " · ETA ?"
        self._set(self.clock, clock)
        self._bar(max(0.02, execution.fraction_done), _BAR_STYLE.get(execution.status, "info"))

    def _ended(self, execution: Execution, *, reused: bool) -> None:
        self.finished = True
        if reused:
            self._bar(1.0, "success")
            self.status.show(
                "reused", "Answered by an earlier identical run: nothing was sent or billed"
            )
            self._set(self.clock, "no new run")
        else:
            self._bar(1.0, _BAR_STYLE.get(execution.status, "danger"))
            self.status.show(execution.status, execution.error_message or execution.status)
            self._set(self.clock, f"took {fmt_duration(time.monotonic() - self.started)}")
        self._hide_actions()

    def _paused(self, status: str, why: str, run: WidgetRun) -> None:
        self.finished = True
        self._bar(self.bar.value, "warning")
        self.status.show(status, why)
        self._actions(run, watching=False)

    def _actions(self, run: WidgetRun, *, watching: bool) -> None:
        """Cancel (where the service can) and Detach, or Resume after a detach."""
        cancel = self.cancel_button
        cancel.layout.display = ""
        can = run.can_cancel is not False
        cancel.disabled = not can or run.cancelling
        cancel.tooltip = CANCEL_TOOLTIP if can else NO_CANCEL_TOOLTIP
        button = self.watch_button
        text, icon, tip = ("Detach", "eject", DETACH_TOOLTIP)
        if not watching:
            text, icon, tip = ("Resume", "play", RESUME_TOOLTIP)
        if button.description != text:
            button.description, button.icon = text, icon
        button.tooltip = tip
        button.layout.display = ""

    def _hide_actions(self) -> None:
        self.cancel_button.layout.display = "none"
        self.watch_button.layout.display = "none"

    def _bar(self, value: float, style: str) -> None:
        with self.bar.hold_sync():  # value and style in one comm message, not two
            self.bar.value = value
            self.bar.bar_style = style

    @staticmethod
    def _set(label: W.Label, text: str) -> None:
        if label.value != text:
            label.value = text


@dataclass(frozen=True)
class ProgressParts:
    """The progress list (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    #: "+N earlier runs": unfolds (and folds again) the rows beyond ``MAX_PROGRESS_ROWS``.
    more_button: W.Button
    #: The folded rows (shown once unfolded).
    folded: W.VBox


class ProgressPanel:
    """The rows of a widget's runs, newest on top, kept current while runs are watched.

    ``on_cancel(run)`` and ``on_watch(run)`` (Detach or Resume) are called through the click
    guard when a row's buttons are pressed.
    """

    def __init__(
        self,
        runtime: Runtime,
        ui: UI,
        on_cancel: Callable[[WidgetRun], None],
        on_watch: Callable[[WidgetRun], None],
    ) -> None:
        self.runtime = runtime
        self.ui = ui
        self.on_cancel = on_cancel
        self.on_watch = on_watch
        self.rows_box = W.VBox([])
        self.more_button = W.Button(
            description="",
            icon="",
            tooltip="Show or hide the older runs' rows (the gallery and History keep them all)",
            layout=W.Layout(width="auto", display="none", align_self="flex-start"),
        )
        self.more_button.add_class("lamina-progress-more")
        self.folded = W.VBox([], layout=W.Layout(display="none"))
        self.unfolded = False
        self.more_button.on_click(ui.guard(self.more_button, self._toggle_fold))
        self.box = W.VBox([self.rows_box, self.more_button, self.folded])
        self.box.add_class("lamina-progress")
        self._rows: dict[int, tuple[WidgetRun, ProgressRow]] = {}  # id(run) -> row, oldest first
        self._ticker: concurrent.futures.Future[None] | None = None

    @property
    def parts(self) -> ProgressParts:
        return ProgressParts(self.box, self.more_button, self.folded)

    def row(self, run: WidgetRun) -> ProgressRow | None:
        """The row of ``run`` (also a folded one), or None."""
        found = self._rows.get(id(run))
        return found[1] if found is not None else None

    def add(self, run: WidgetRun) -> ProgressRow:
        """A new row on top; older finished rows beyond the limit fold away."""
        row = ProgressRow(run.title)
        row.cancel_button.on_click(
            self.ui.guard(
                row.cancel_button,
                lambda: self.on_cancel(run),
                keep_disabled=lambda: run.cancelling or run.can_cancel is False,
            )
        )
        row.watch_button.on_click(self.ui.guard(row.watch_button, lambda: self.on_watch(run)))
        self._rows[id(run)] = (run, row)
        self.arrange()
        return row

    def arrange(self) -> None:
        """Newest first: every run in flight and the newest finished up to the limit on
        screen, the rest behind "+N earlier runs"."""
        newest_first = [row for _run, row in reversed(self._rows.values())]
        shown: list[W.Widget] = []
        folded: list[W.Widget] = []
        for row in newest_first:
            if not row.finished or len(shown) < MAX_PROGRESS_ROWS:
                shown.append(row.box)
            else:
                folded.append(row.box)
        if list(self.rows_box.children) != shown:
            self.rows_box.children = shown
        if list(self.folded.children) != folded:
            self.folded.children = folded
        n = len(folded)
        self.more_button.layout.display = "" if n else "none"
        self.more_button.description = (
            f"hide {n} earlier run{'s' * (n != 1)}"
            if self.unfolded
            else f"+{n} earlier run{'s' * (n != 1)}"
        )
        self.more_button.icon = "chevron-up" if self.unfolded else "chevron-down"
        self.folded.layout.display = "" if self.unfolded and n else "none"

    def _toggle_fold(self) -> None:
        self.unfolded = not self.unfolded
        self.arrange()

    def show(self, run: WidgetRun) -> None:
        """Bring ``run``'s row up to date (call through the UI port)."""
        row = self.row(run)
        if row is not None:
            was = row.finished
            row.show(run)
            if row.finished != was:
                self.arrange()

    def ensure_ticker(self) -> None:
        """Refresh elapsed time and ETA every ``TICK_SECONDS`` while any run is watched."""
        if self._ticker is None or self._ticker.done():
            self._ticker = self.runtime.submit(self._tick())

    async def _tick(self) -> None:
        while any(run.watching for run, _row in list(self._rows.values())):
            for run, row in list(self._rows.values()):
                if run.watching and run.handle is not None:
                    self.ui.apply(row.tick, run)
            await asyncio.sleep(TICK_SECONDS)
