"""Blocking waits for `%lamina run`/`resume` with live progress; history thumbnails.

Progress is drawn from the main thread (``run_sync``'s tick), so in a kernel it belongs to the
running cell and survives in a saved notebook; in a terminal it is one rewritten text line.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import stopped_watching
from ..session.results import has_kernel

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Media
    from ..session.results import Result, RunHandle
    from ..session.session import Session

__all__ = ["Progress", "history_thumbnails", "wait_and_show"]


class Progress:
    """A live progress line: an updatable HTML display in a kernel, ``\\r`` text in a terminal."""

    def __init__(self, handle: RunHandle, rich: bool | None = None, every: float = 0.5) -> None:
        self.handle = handle
        self.rich = has_kernel() if rich is None else rich
        self.every = every
        self._shown: tuple[str, int, int] | None = None
        self._last = 0.0
        self._width = 0
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

            if self._width == 0:
                display(data, metadata=metadata, raw=True, display_id=self._display_id)
                self._width = 1
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
        if self.rich:
            if self._width:
                from IPython.display import update_display

                update_display({"text/plain": ""}, raw=True, display_id=self._display_id)
        elif self._width:
            sys.stdout.write("\r" + " " * self._width + "\r")
            sys.stdout.flush()
        self._width = 0


def wait_and_show(handle: RunHandle) -> Result | RunHandle:
    """Block until the run ends, drawing progress; return the Result (it displays the outputs).

    Ctrl-C stops watching only: the run goes on, the handle is returned and the way to
    reattach is printed. Errors (e.g. WaitTimeout) propagate after the progress is cleared.
    """
    progress = Progress(handle)
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


def history_thumbnails(session: Session, entries: Sequence[Any]) -> dict[str, Media]:
    """Small thumbnails of each completed entry's first image/video (best effort, cached)."""
    from ..session.media import HISTORY_THUMB_PX, fetch_media

    client = session.client
    targets = []
    for entry in entries:
        execution = entry.to_execution()
        first = next(
            (
                o
                for o in execution.outputs
                if o.is_completed and o.value and o.kind in ("image", "video")
            ),
            None,
        )
        if first is not None:
            targets.append((execution, first))

    async def fetch_all() -> dict[str, Media]:
        import asyncio

        found = await asyncio.gather(
            *(fetch_media(client, e, HISTORY_THUMB_PX, outputs=[o]) for e, o in targets),
            return_exceptions=True,
        )
        thumbs: dict[str, Media] = {}
        for (execution, output), media in zip(targets, found, strict=True):
            if isinstance(media, dict) and output.id in media:
                thumbs[execution.execution_id] = media[output.id]
        return thumbs

    return session.run(fetch_all()) if targets else {}
