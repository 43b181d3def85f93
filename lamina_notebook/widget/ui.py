"""The port through which every part of ``LaminaApp`` changes what the user sees.

Runs are watched on the session's loop thread while clicks and trait changes arrive on the main
thread; :class:`UI` puts both in one order under one lock, guards button callbacks, and owns the
status line where errors and notes appear. Panels get a ``UI`` instead of the whole widget.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..render import error_html
from ..render.html import esc
from ..render.styles import MUTED_STYLE

if TYPE_CHECKING:  # pragma: no cover
    from ..session.runtime import Runtime

__all__ = ["UI", "TipText", "first_line", "set_value"]

#: Seconds before the loop thread tries again to apply changes the main thread held up.
RETRY_SECONDS = 0.02


def first_line(exc: BaseException) -> str:
    """An error's first line (its type name when it has no message), for one-line labels."""
    text = str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


#: One line, cut with an ellipsis when too long. ``contain: inline-size`` keeps the long text
#: from widening the HTML widget's flex content past its column, so the ellipsis shows.
_TIP_STYLE = (
    "display:block;contain:inline-size;overflow:hidden;text-overflow:ellipsis;white-space:nowrap"
)

_MONO = "var(--jp-code-font-family,monospace)"


class TipText(W.HTML):
    """One line of text whose tooltip really reaches the page.

    ipywidgets 8 puts a ``Label``'s (and an ``HTML``'s) ``tooltip`` on its description element,
    which stays hidden without a description, so the browser gets no ``title`` at all. This
    widget writes its text as an escaped ``<span title="...">`` instead: ``text`` is what shows,
    ``tip`` what shows on hover (both plain text; ``value`` is the HTML). ``monospace`` sets the
    text in the code font (ids), ``bold`` in bold (headings).
    """

    def __init__(
        self,
        text: str = "",
        tip: str = "",
        *,
        monospace: bool = False,
        bold: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._text, self._tip = text, tip
        self._style = (
            _TIP_STYLE
            + (";font-family:" + _MONO if monospace else "")
            + (";font-weight:bold" if bold else "")
        )
        self.value = self._html()

    @property
    def text(self) -> str:
        """The text on screen."""
        return self._text

    @property
    def tip(self) -> str:
        """The text on hover (the span's ``title``)."""
        return self._tip

    def show(self, text: str | None = None, tip: str | None = None) -> None:
        """Change the text and/or the tip (no comm message when nothing changed)."""
        self._text = self._text if text is None else text
        self._tip = self._tip if tip is None else tip
        set_value(self, self._html())

    def _html(self) -> str:
        title = f' title="{esc(self._tip)}"' if self._tip else ""
        return f'<span{title} style="{self._style}">{esc(self._text)}</span>'


class UI:
    """Ordered, thread-safe UI changes, click guards, and the status line.

    ``apply(fn, *args)`` queues ``fn(*args)`` and applies the queue under the lock. The loop
    thread never waits for that lock: if the main thread holds it (maybe while it waits for the
    loop, e.g. to build the client), the queue is drained again shortly after, from the loop.
    The main thread waits for the lock, so its own changes are applied before ``apply``
    returns, after everything queued before them.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.status = W.HTML("")
        self._lock = threading.RLock()
        self._pending: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()

    def apply(self, fn: Callable[..., Any], *args: Any) -> None:
        """Apply ``fn(*args)`` after the changes queued before it; safe from any thread.

        An exception is shown on the status line: a UI glitch must never kill the run that
        reported it.
        """
        self._pending.append((fn, args))
        self._drain()

    def _drain(self) -> None:
        in_loop = self.runtime.in_loop_thread()
        if not self._lock.acquire(blocking=not in_loop):
            asyncio.get_running_loop().call_later(RETRY_SECONDS, self._drain)
            return
        try:
            while self._pending:
                fn, args = self._pending.popleft()
                try:
                    fn(*args)
                except Exception as exc:
                    self.status.value = error_html(exc)
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the UI lock for several changes made together on the main thread."""
        with self._lock:
            yield

    def guard(
        self,
        button: W.Button,
        action: Callable[[], Any],
        *,
        keep_disabled: Callable[[], bool] | None = None,
    ) -> Callable[[Any], None]:
        """A click handler for ``button``: disabled while ``action`` runs, errors on the status
        line, enabled again afterwards unless ``keep_disabled()`` says otherwise."""

        def handler(_button: Any) -> None:
            button.disabled = True
            try:
                self.show_status("")
                action()
            except Exception as exc:
                self.show_error(exc)
            finally:
                button.disabled = keep_disabled() if keep_disabled is not None else False

        return handler

    def observer(self, action: Callable[[Any], Any]) -> Callable[[Any], None]:
        """A trait observer (or any callback the front end calls) that never raises into the
        kernel: an exception is shown on the status line instead."""

        def handler(change: Any) -> None:
            try:
                action(change)
            except Exception as exc:
                self.show_error(exc)

        return handler

    def show_error(self, exc: BaseException) -> None:
        """Show an error (message and the hint that names the fix) on the status line."""
        self.show_status(error_html(exc))

    def show_info(self, text: str) -> None:
        """Show a plain-text note on the status line."""
        self.show_status(f'<span style="{MUTED_STYLE}">{esc(text)}</span>')

    def show_status(self, html: str) -> None:
        """Replace the status line with ``html`` (already escaped); ``""`` clears it."""
        self.apply(set_value, self.status, html)


def set_value(widget: W.Widget, value: Any) -> None:
    """Set ``widget.value`` unless it already holds it (no comm message for nothing)."""
    if widget.value != value:
        widget.value = value
