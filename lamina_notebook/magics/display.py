"""What a ``%lamina`` subcommand puts in front of the user besides its return value: a ready
mimebundle, an error message with its fix, and the ``-o VAR`` variable.

Kept apart so the subcommands need only the session and the shell, never the magics object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["show_bundle", "show_error", "store_output"]


def show_bundle(data: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
    """Display a ready mimebundle (text and HTML both: the front end picks what it can show)."""
    from IPython.display import display

    display(data, metadata=metadata, raw=True)


def show_error(exc: BaseException) -> None:
    """One readable message with the fix, as text and HTML; no traceback."""
    from .. import render

    show_bundle({"text/plain": render.error_text(exc), "text/html": render.error_html(exc)})


def store_output(shell: InteractiveShell, var: str | None, value: Any) -> None:
    """``-o VAR``: put ``value`` into the user's namespace as ``VAR`` (nothing when no VAR)."""
    if var:
        shell.user_ns[var] = value
