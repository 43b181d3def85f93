"""Shared helpers for the magics tests: a real IPython shell with the extension loaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from IPython.core.interactiveshell import ExecutionResult, InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output

from lamina_notebook.session import get_session, reset_session

# Against the sandbox (time_scale 0.02) a poll every 50 ms keeps runs well under a second.
TEST_POLL = 0.05
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def loaded_shell() -> Iterator[InteractiveShell]:
    """IPython's InteractiveShell with ``%load_ext lamina_notebook`` (body of the ``shell``
    fixtures: each test module declares one on top of ``sandbox_env``)."""
    ip = InteractiveShell.instance()
    ip.config.pop("LaminaMagics", None)  # the shell is a singleton: forget earlier %config
    reset_session()
    with capture_output():
        ip.extension_manager.load_extension("lamina_notebook")
    get_session().configure(poll_interval=TEST_POLL, min_poll_interval=TEST_POLL)
    yield ip
    with capture_output():
        ip.extension_manager.unload_extension("lamina_notebook")
    ip.config.pop("LaminaMagics", None)
    reset_session()


def magic(ip: InteractiveShell, line: str, cell: str | None = None) -> tuple[Any, CapturedIO]:
    """Run ``%lamina line`` (or ``%%lamina line`` with ``cell``); return (value, captured).

    An error the magic raises (a failing cell) propagates: use :func:`fails` for those.
    """
    with capture_output() as cap:
        if cell is None:
            value = ip.run_line_magic("lamina", line)
        else:
            value = ip.run_cell_magic("lamina", line, cell)
    return value, cap


def run_cell(ip: InteractiveShell, source: str) -> tuple[ExecutionResult, CapturedIO]:
    """Run ``source`` as a cell, the way a kernel does: an exception is shown the way IPython
    shows it (``_render_traceback_`` when the exception has one) and kept in the result."""
    with capture_output() as cap:
        result = ip.run_cell(source)
    return result, cap


def fails(
    ip: InteractiveShell, line: str, cell: str | None = None
) -> tuple[BaseException, CapturedIO]:
    """Run ``%lamina line`` (``%%lamina`` with ``cell``) as a cell that must fail; return the
    exception and what the user saw (IPython prints the cell's error to stdout)."""
    source = f"%lamina {line}" if cell is None else f"%%lamina {line}\n{cell}"
    result, cap = run_cell(ip, source)
    assert result.error_in_exec is not None, f"the cell succeeded: {texts(cap)[:500]}"
    return result.error_in_exec, cap


def plain(text: str) -> str:
    """``text`` without colour codes (IPython's error displays carry them)."""
    return _ANSI.sub("", text)


def texts(cap: CapturedIO, mime: str = "text/plain") -> str:
    """Everything displayed with ``mime``, plus stdout (colour codes removed), as one string."""
    shown = [o.data.get(mime, "") for o in cap.outputs]
    return "\n".join([plain(cap.stdout), *shown])
