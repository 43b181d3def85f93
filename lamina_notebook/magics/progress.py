"""The blocking wait of ``%lamina run``/``resume``, drawing a live progress line meanwhile.

Progress is drawn from the main thread (``run_sync``'s tick), so in a kernel it belongs to the
running cell and survives in a saved notebook; in a terminal it is one rewritten text line.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import TYPE_CHECKING

from ..errors import stopped_watching
from ..session.results import has_kernel

if TYPE_CHECKING:  # pragma: no cover
    from ..session.results import Result, RunHandle

__all__ = ["ProgressLine", "wait_with_progress"]


class ProgressLine:
    """A run's live progress: an updatable HTML display in a kernel, one ``\\r``-rewritten
    text line in a terminal."""

    def __init__(self, handle: RunHandle, rich: bool | None = None, every: float = 0.5) -> None:
        self.handle = handle
        self.rich = has_kernel() if rich is None else rich
        self.every = every
        self._shown: tuple[str, int, int] | None = None
        self._last = 0.0
        self._displayed = False  # rich: the display exists and is updated in place
        self._width = 0  # text: length of the line on screen, to blank it when rewriting
        self._display_id = uuid.uuid4().hex if self.rich else None

    def _state(self) -> tuple[str, int, int]:
        e = self.handle.execution
        return e.status, e.outputs_done, e.outputs_total

    def tick(self) -> None:
        """Redraw when the state changed, or every ``every`` seconds for the elapsed time."""
        now = time.monotonic()
        if self._state() == self._shown and now - self._last < self.every:
            return
        self._shown, self._last = self._state(), now
        data, metadata = self.handle._repr_mimebundle_()
        if self.rich:
            from IPython.display import display, update_display

            if not self._displayed:
                display(data, metadata=metadata, raw=True, display_id=self._display_id)
                self._displayed = True
            else:
                update_display(data, metadata=metadata, raw=True, display_id=self._display_id)
            return
        line = data["text/plain"].splitlines()[0]
        pad = " " * max(0, self._width - len(line))
        sys.stdout.write("\r" + line + pad)
        sys.stdout.flush()
        self._width = len(line)

    def finish(self) -> None:
        """Remove the progress line (the outputs are shown once, by the returned Result)."""
        if self._displayed:
            from IPython.display import update_display

            update_display({"text/plain": ""}, raw=True, display_id=self._display_id)
        elif self._width:
            sys.stdout.write("\r" + " " * self._width + "\r")
            sys.stdout.flush()
        self._displayed, self._width = False, 0


def wait_with_progress(handle: RunHandle) -> Result | RunHandle:
    """Block until the run ends, drawing its progress line; return the Result (whose display
    shows the outputs).

    Ctrl-C stops watching only: the run goes on, the handle is returned and the way to
    reattach is printed. Errors (e.g. WaitTimeout) propagate after the progress is cleared.
    """
    progress = ProgressLine(handle)
    try:
        progress.tick()
        result = handle.result(on_tick=progress.tick)
    except KeyboardInterrupt:
        handle.stop()
        print(stopped_watching(handle.execution_id))
        return handle
    finally:
        progress.finish()
    return result
