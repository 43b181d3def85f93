"""The subcommands stand on their own: each is a handler of ``(command, session, shell)``, so they
run with a Session and an IPython shell and no ``LaminaMagics`` at all; only the package's
``__init__`` knows the magic module."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import lamina_notebook.magics
from lamina_notebook.errors import InputValidationError
from lamina_notebook.magics.commands import HANDLERS, dispatch
from lamina_notebook.magics.help import SUBCOMMANDS, USAGE
from lamina_notebook.magics.parse import OPTIONS, CommandError, parse
from lamina_notebook.session.results import Result
from lamina_notebook.session.session import Session

MAGICS = Path(lamina_notebook.magics.__file__).parent


def test_every_subcommand_has_usage_options_positionals_and_a_handler() -> None:
    assert set(HANDLERS) == set(SUBCOMMANDS) == set(OPTIONS) == set(USAGE)
    for sub in SUBCOMMANDS:  # the parser knows its positionals: a bare line parses or says why
        try:
            assert parse(sub).name == sub
        except CommandError as exc:
            assert exc.subcommand == sub and USAGE[sub] in (exc.hint or "")


def _imports_the_magic_module(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            modules = [a.name for a in node.names]  # from . import magic
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        if any(m == "magic" or m.endswith("magics.magic") for m in modules):
            return True
    return False


def test_only_the_package_init_imports_the_magic_module() -> None:
    importers = [
        p.name
        for p in sorted(MAGICS.glob("*.py"))
        if _imports_the_magic_module(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert importers == ["__init__.py"]


@pytest.fixture
def session(sandbox_env: Any) -> Iterator[Session]:
    """A Session of its own (not the process-wide one the extension uses), on the sandbox."""
    s = Session()
    s.configure(poll_interval=0.05, min_poll_interval=0.05)
    yield s
    s.close()


def test_commands_run_with_a_session_and_a_shell_and_no_magics(session: Session) -> None:
    shell = InteractiveShell.instance()
    with capture_output() as cap:
        dispatch(parse("apps --limit 2 -o found"), session, shell)
        result = dispatch(parse('run "Text to Image" Prompt=alone -o alone'), session, shell)
        dispatch(parse("run --help"), session, shell)
    found = shell.user_ns.pop("found")
    assert len(found) == 2 and found[0].name in cap.outputs[0].data["text/plain"]
    assert isinstance(result, Result) and result.is_completed
    assert shell.user_ns.pop("alone") is result
    assert result.inputs == {"Prompt": "alone"}
    assert USAGE["run"] in cap.stdout
    # errors reach the caller: showing them briefly is the magic's choice (short_errors)
    with pytest.raises(InputValidationError):
        dispatch(parse('run "Text to Image" Style=Mars'), session, shell)


_ALONE = """
import sys
from IPython.core.interactiveshell import InteractiveShell
from lamina_notebook.magics.commands import dispatch
from lamina_notebook.magics.parse import parse
from lamina_notebook.session.session import Session

shell = InteractiveShell.instance()
session = Session()
dispatch(parse("apps --limit 1 -o found"), session, shell)
print("FOUND", len(shell.user_ns["found"]))
print("MAGIC LOADED", "lamina_notebook.magics.magic" in sys.modules)
session.close()
"""


def test_the_subcommands_do_not_import_the_magic_module(sandbox_env: Any) -> None:
    """In a fresh interpreter (this one has long imported magic.py)."""
    proc = subprocess.run(
        [sys.executable, "-c", _ALONE],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "FOUND 1" in proc.stdout
    assert "MAGIC LOADED False" in proc.stdout
