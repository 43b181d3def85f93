"""What a ``%lamina`` subcommand puts in front of the user besides its return value: a ready
mimebundle, a failing cell's short error, the ``-o VAR`` variable.

Kept apart so the subcommands need only the session and the shell, never the magics object.

**Errors fail the cell, briefly.** A mistake in the line, a bad input, a bad key, a failed run:
the magic raises, so the cell ends in error and Run All (JupyterLab's, nbclient's, a terminal's
``%run``) stops there, as it would with ``replicate.run`` or the OpenAI SDK. The exception is
given IPython's ``_render_traceback_`` (:func:`brief`), so what shows is the message and its
fix in a few lines instead of a traceback through our frames; ``short_errors = False`` leaves
Python's full traceback. Ctrl-C ends the cell with :class:`Interrupted`, a KeyboardInterrupt
shown as one line after the hint that says how to resume or cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["Interrupted", "brief", "brief_lines", "show_bundle", "show_error", "store_output"]

_RED = "\x1b[0;31m"
_BOLD_RED = "\x1b[1;31m"
_RESET = "\x1b[0m"


def show_bundle(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
    """Display a ready mimebundle (text and HTML both: the front end picks what it can show)."""
    from IPython.display import display

    display(data, metadata=metadata, raw=True)


def show_error(exc: BaseException) -> None:
    """One readable message with the fix, as text and HTML; no traceback (a display: the
    cell goes on)."""
    from .. import render

    show_bundle({"text/plain": render.error_text(exc), "text/html": render.error_html(exc)})


def store_output(shell: InteractiveShell, var: str | None, value: Any) -> None:
    """``-o VAR``: put ``value`` into the user's namespace as ``VAR`` (nothing when no VAR)."""
    if var:
        shell.user_ns[var] = value


def brief_lines(exc: BaseException) -> list[str]:
    """``exc`` as IPython shows a failed cell: the headline (red), details and the fix.

    The same words as :func:`render.error_text` (a failed run's reason is left to its card,
    shown just before); JupyterLab, nbconvert and terminals turn the colour codes into
    colour.
    """
    from .. import render
    from ..errors import RunFailed

    if isinstance(exc, RunFailed):  # its card, right above, says why: not twice
        lines = [f"RunFailed: {exc.headline} (the card above says why)."]
        lines += [render.plain(exc.hint)] if exc.hint else []
    else:
        lines = render.error_text(exc).splitlines() or [type(exc).__name__]
    return [f"{_BOLD_RED}{lines[0]}{_RESET}", *lines[1:]]


def brief(exc: BaseException) -> BaseException:
    """Give ``exc`` IPython's ``_render_traceback_`` (its :func:`brief_lines`); returns it.

    Set on the instance, so the type stays what it was (``except InputValidationError``
    still catches it) and only the display changes.
    """
    exc._render_traceback_ = lambda: brief_lines(exc)  # type: ignore[attr-defined]
    return exc


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (the kernel's Interrupt) while ``%lamina`` waited: the run goes on at the
    service, the hint was printed, and the cell ends here so Run All stops.

    Displayed by IPython as one line (``_render_traceback_``), not a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def _render_traceback_(self) -> list[str]:
        return [f"{_RED}KeyboardInterrupt{_RESET}: {self.message}"]
