"""Shared helpers for the magics tests: a real IPython shell with the extension loaded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output

from lamina_notebook.session import get_session, reset_session

# Against the sandbox (time_scale 0.02) a poll every 50 ms keeps runs well under a second.
TEST_POLL = 0.05


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
    """Run ``%lamina line`` (or ``%%lamina line`` with ``cell``); return (value, captured)."""
    with capture_output() as cap:
        if cell is None:
            value = ip.run_line_magic("lamina", line)
        else:
            value = ip.run_cell_magic("lamina", line, cell)
    return value, cap


def texts(cap: CapturedIO, mime: str = "text/plain") -> str:
    """Everything displayed with ``mime``, plus stdout, as one string."""
    shown = [o.data.get(mime, "") for o in cap.outputs]
    return "\n".join([cap.stdout, *shown])
