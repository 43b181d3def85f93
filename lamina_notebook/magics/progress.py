"""The blocking waits of ``%lamina run``/``resume``/``grid``, drawing live progress meanwhile.

Progress is drawn from the main thread (the waits' ticks), so in a kernel it belongs to the
running cell; in a terminal it is one rewritten text line, ended before anything else is
printed. Ctrl-C never stops a run: the wait stops, the hint says how to resume or cancel, and
the cell ends with :class:`~.display.Interrupted` so Run All stops there.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import shutil
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import LaminaError, stopped_watching
from ..session.results import has_kernel
from .display import Interrupted

if TYPE_CHECKING:  # pragma: no cover
    from ..session.grids import GridRun
    from ..session.results import Result, RunHandle
    from ..session.session import Session

__all__ = [
    "GRID_TICK",
    "LiveLine",
    "ProgressLine",
    "interrupted",
    "say",
    "terminal_width",
    "wait_grid",
    "wait_with_progress",
    "warm_proxy",
]

#: How often a blocking grid redraws (seconds): each redraw re-renders every cell.
GRID_TICK = 0.5


def terminal_width() -> int | None:
    """The terminal's width for text tables; None in a kernel (render then uses its default)."""
    if has_kernel():
        return None
    return shutil.get_terminal_size((100, 24)).columns


def warm_proxy(session: Session) -> None:
    """Find how the browser reaches the sandbox's pictures now, on the main thread (a probe
    of the Jupyter server at most, then cached): a live display redrawn later from the loop
    thread then finds the answer without waiting on the network there."""
    if session.sandbox is None:
        return
    from ..session.proxy import proxy_route

    with contextlib.suppress(LaminaError):  # a malformed setting: the card keeps the URLs
        proxy_route(session)


#: A ``%lamina`` command with its argument, kept on one line when a message is wrapped.
_COMMAND = re.compile(r"%lamina [a-z]+(?: --[a-z-]+)? [^\s.]+(?:\.[^\s.]+)*")


#: Where ``say`` wraps in a kernel: JupyterLab's output area wraps stream text at any
#: character (mid-word), so lines are broken between words first, at a width that fits a
#: notebook column.
KERNEL_TEXT_COLUMNS = 88


def say(text: str) -> None:
    """Print ``text``, wrapped between words to the terminal's width (``KERNEL_TEXT_COLUMNS``
    in a kernel); a ``%lamina SUB ID`` command is never split across lines."""
    width = terminal_width() or KERNEL_TEXT_COLUMNS

    def fill(paragraph: str) -> str:
        glued = _COMMAND.sub(lambda m: m.group(0).replace(" ", "\x00"), paragraph)
        wrapped = textwrap.fill(
            glued, max(20, width - 1), break_long_words=False, break_on_hyphens=False
        )
        return wrapped.replace("\x00", " ")

    print("\n".join(fill(p) if p else "" for p in text.split("\n")))


class LiveLine:
    """Something drawn again and again while a cell waits: an updatable display in a kernel
    (by display id), one ``\\r``-rewritten text line in a terminal.

    ``bundle()`` gives what to draw; a terminal shows the first line of its text/plain.
    """

    def __init__(
        self, bundle: Callable[[], tuple[dict[str, Any], dict[str, Any]]], rich: bool | None = None
    ) -> None:
        self.bundle = bundle
        self.rich = has_kernel() if rich is None else rich
        self._displayed = False  # rich: the display exists and is updated in place
        self._width = 0  # text: length of the line on screen, to blank it when rewriting
        self._display_id = uuid.uuid4().hex if self.rich else None

    def draw(self) -> None:
        data, metadata = self.bundle()
        if self.rich:
            from IPython.display import display, update_display

            if not self._displayed:
                display(data, metadata=metadata, raw=True, display_id=self._display_id)
                self._displayed = True
            else:
                update_display(data, metadata=metadata, raw=True, display_id=self._display_id)
            return
        lines = str(data.get("text/plain", "")).splitlines() or [""]
        width = terminal_width() or 100
        line = lines[0][: max(10, width - 1)]
        pad = " " * max(0, self._width - len(line))
        sys.stdout.write("\r" + line + pad)
        sys.stdout.flush()
        self._width = len(line)

    def finish(self) -> None:
        """Remove the live line (what follows is shown once, by the cell's value or a message):
        the display is emptied, the terminal line blanked and the cursor back at its start."""
        if self._displayed:
            from IPython.display import update_display

            update_display({"text/plain": ""}, raw=True, display_id=self._display_id)
        elif self._width:
            sys.stdout.write("\r" + " " * self._width + "\r")
            sys.stdout.flush()
        self._displayed, self._width = False, 0


class ProgressLine(LiveLine):
    """A run's live progress (the handle's own progress card / text line), redrawn when the
    state changes or every ``every`` seconds for the elapsed time."""

    def __init__(self, handle: RunHandle, rich: bool | None = None, every: float = 0.5) -> None:
        super().__init__(handle._repr_mimebundle_, rich)
        self.handle = handle
        self.every = every
        self._shown: tuple[str, int, int] | None = None
        self._last = 0.0

    def _state(self) -> tuple[str, int, int]:
        e = self.handle.execution
        return e.status, e.outputs_done, e.outputs_total

    def tick(self) -> None:
        """Redraw when the state changed, or every ``every`` seconds for the elapsed time."""
        now = time.monotonic()
        if self._state() == self._shown and now - self._last < self.every:
            return
        self._shown, self._last = self._state(), now
        self.draw()


def interrupted(session: Session, execution_id: str) -> Interrupted:
    """Say (once) that the run goes on and how to resume it or, where the service can,
    cancel it; return the exception that ends the cell."""
    lines = [stopped_watching(execution_id)]
    if _can_cancel(session):
        lines.append(f"To stop it and its billing: %lamina cancel {execution_id}")
    say("\n".join(lines))
    return Interrupted("the run goes on; see above to resume or cancel it.")


def _can_cancel(session: Session) -> bool:
    """True unless the service is known to be the /api edition (which has no cancel)."""
    try:
        return session.client.edition_name != "api"
    except Exception:
        return True


def wait_with_progress(handle: RunHandle) -> Result:
    """Block until the run ends, drawing its progress; return the Result (whose display
    shows the outputs).

    Ctrl-C stops watching only: the progress line ends, the hint is printed, and
    :class:`~.display.Interrupted` is raised. Other errors (e.g. WaitTimeout) propagate
    after the progress is cleared.
    """
    if handle.done():  # reused from the journal: nothing to wait for
        return handle.result()
    progress = ProgressLine(handle)
    try:
        progress.tick()
        return handle.result(on_tick=progress.tick)
    except KeyboardInterrupt:
        handle.stop()
        progress.finish()
        raise interrupted(handle.session, handle.execution_id) from None
    finally:
        progress.finish()


def _grid_line(run: GridRun) -> tuple[dict[str, Any], dict[str, Any]]:
    """A filling grid: the whole grid in a kernel; the counts on one line in a terminal."""
    n = run.counts()
    done = n["completed"] + n["failed"]
    text = f"grid {run.grid_id}: {done}/{n['cells']} cells done"
    if n["reused"]:
        text += f" ({n['reused']} reused)"
    for key in ("running", "waiting", "failed"):
        if n[key]:
            text += f", {n[key]} {key}"
    data = dict(run._repr_mimebundle_())
    data["text/plain"] = text
    return data, {}


def wait_grid(run: GridRun, session: Session) -> GridRun:
    """Block until every cell of ``run`` is done, drawing the grid as it fills (a kernel)
    or a line of counts (a terminal); the live drawing is removed at the end (the cell's
    value shows the finished grid once).

    Ctrl-C stops starting and watching cells (runs under way go on at the service), says
    how to pick the grid up again, and raises :class:`~.display.Interrupted`.
    """
    live = LiveLine(lambda: _grid_line(run))
    try:
        live.draw()
        while True:
            try:
                run.wait(timeout=GRID_TICK)
                return run
            except concurrent.futures.TimeoutError:
                live.draw()
    except KeyboardInterrupt:
        run.stop()
        live.finish()
        say(
            f"Stopped the grid {run.grid_id}: runs under way go on at the service. "
            f"Pick it up again (it starts only the cells that never started): "
            f"%lamina grid --resume {run.grid_id}"
        )
        raise Interrupted("the grid's runs go on; see above to resume it.") from None
    finally:
        live.finish()
