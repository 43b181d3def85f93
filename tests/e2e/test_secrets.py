"""Secrets: with a recognizable canary key, the key appears nowhere a notebook can carry it —
saved .ipynb and HTML, outputs, widget state, the journal (every file), logs, exception
messages and tracebacks, reprs, ``%config LaminaMagics`` and ``%lamina doctor``.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as W
import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_support import loaded_shell, magic, run_cell
from notebook_runner import load_runner

from lamina_notebook.errors import LaminaError
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import get_session
from lamina_notebook.widget import LaminaApp

CANARY = "lma_SECRET_canary_7f3a9c1e5b"
REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def files_holding(root: Path, needle: bytes = CANARY.encode()) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (journal -wal/-shm included)."""
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture(scope="module")
def canary_sandbox() -> Iterator[Sandbox]:
    with Sandbox(api_key=CANARY, time_scale=0.02, rate_limit=0) as sb:
        yield sb


# -- every demo notebook, executed in a real kernel ------------------------------------------------


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "how"),
    [
        # Every notebook through `%lamina sandbox` (an external one, keyed by the canary), and the
        # quickstart with LAMINA_API_KEY (02 would point its widget at a public picture then).
        *[(p, "LAMINA_SANDBOX_KEY") for p in NOTEBOOKS],
        *[(p, "LAMINA_API_KEY") for p in NOTEBOOKS if p.stem.startswith("01")],
    ],
    ids=lambda v: v.stem if isinstance(v, Path) else str(v),
)
def test_no_notebook_carries_the_key(
    canary_sandbox: Sandbox, tmp_path: Path, path: Path, how: str
) -> None:
    runner = load_runner()
    home = tmp_path / "home"
    extra = (
        {"LAMINA_API_KEY": CANARY, "LAMINA_BASE_URL": canary_sandbox.base_url}
        if how == "LAMINA_API_KEY"
        else {"LAMINA_SANDBOX_URL": canary_sandbox.base_url, "LAMINA_SANDBOX_KEY": CANARY}
    )
    env = runner.kernel_env(home, 0.02, extra)
    before = canary_sandbox.stats.requests
    run = runner.execute(path, tmp_path / "out", env, timeout=180)
    assert run.ok, run.error
    assert canary_sandbox.stats.requests > before, "the notebook never used the canary key"
    assert run.html is not None
    for saved in (run.executed, run.html):
        assert CANARY.encode() not in saved.read_bytes(), f"key leaked into {saved.name}"
    assert files_holding(home) == [], "key leaked into the kernel's HOME (journal, history...)"
    assert files_holding(tmp_path / "out") == []


# -- one magics + widget session, in this process ------------------------------------------------


@pytest.fixture
def canary_shell(
    canary_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("LAMINA_API_KEY", CANARY)
    monkeypatch.setenv("LAMINA_BASE_URL", canary_sandbox.base_url)
    yield from loaded_shell()


def _everything_shown(cap: Any) -> str:
    return "\n".join(
        [cap.stdout, cap.stderr, *(repr(o.data) + repr(o.metadata) for o in cap.outputs)]
    )


def _errors_text(errors: list[BaseException]) -> str:
    parts = []
    for exc in errors:
        parts += [str(exc), repr(exc), *traceback.format_exception(exc)]
        parts += [repr(vars(exc))]
    return "\n".join(parts)


def test_magics_and_widget_session_never_show_the_key(
    canary_shell: InteractiveShell,
    canary_sandbox: Sandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ip = canary_shell
    shown: list[str] = []
    lines = [
        "apps",
        'info "Text to Image"',
        'run "Text to Image" "Prompt=a canary"',
        'run "Product Copywriter" "Product=a canary in a cage" --no-wait -o h',
        "history",
        "doctor",
        'run "Nope" Prompt=x',
        f"save nope-id {tmp_path / 's'}",
    ]
    for line in lines:
        # as a cell: the failing ones (an unknown app, a bad id) show their error as IPython
        # shows a failed cell, and that is looked at too
        result, cap = run_cell(ip, f"%lamina {line}")
        shown += [_everything_shown(cap), repr(result.result), repr(result.error_in_exec)]
    handle = ip.user_ns["h"]
    result = handle.result(timeout=60)
    # The write-only trait, set through %config like a user would (same key: the client is kept).
    ip.run_line_magic("config", f'LaminaMagics.api_key = "{CANARY}"')  # the write-only trait
    for line in ("config LaminaMagics", "config LaminaMagics.api_key"):
        _, cap = magic_any(ip, line)
        shown.append(_everything_shown(cap))

    session = get_session()
    w = LaminaApp("Text to Image", session=session)
    w.run(Prompt="widget canary").result(timeout=60)
    w.wait(timeout=60)
    states = W.Widget.get_manager_state(drop_defaults=False)

    errors: list[BaseException] = []
    ip.run_line_magic("config", "LaminaMagics.short_errors = False")
    for line in (
        'run "Nope" Prompt=x',
        'run "Text to Image" Style=Anime',
        "resume 00000000-0000-4000-8000-000000000000",
    ):
        try:
            magic(ip, line)
        except LaminaError as exc:
            errors.append(exc)
    ip.run_line_magic("config", "LaminaMagics.short_errors = True")
    assert len(errors) == 3

    magics = ip._lamina_extension[0]
    reprs = [
        repr(x)
        for x in (
            session,
            session.settings,
            session.client,
            magics,
            w,
            handle,
            result,
            session.client.journal,
            w.snapshot(),
        )
    ]
    reprs += [str(ip.config), repr(magics.config), repr(w.value), w._repr_mimebundle_()]
    haystack = "\n".join(
        [
            *shown,
            *map(str, reprs),
            repr(states),
            _errors_text(errors),
            caplog.text,
            *(repr(r.args) for r in caplog.records),
        ]
    )
    assert len(haystack) > 10_000  # we did look at a lot
    assert CANARY not in haystack
    journal_dir = Path(session.client.journal.path).parent
    assert files_holding(journal_dir) == []
    assert files_holding(tmp_path) == []
    w.close()


def magic_any(ip: InteractiveShell, line: str) -> tuple[Any, Any]:
    """Run any line magic (``config ...``) with its output captured."""
    from IPython.utils.capture import capture_output

    name, _, rest = line.partition(" ")
    with capture_output() as cap:
        value = ip.run_line_magic(name, rest)
    return value, cap
