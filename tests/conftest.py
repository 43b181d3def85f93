"""Shared fixtures: an isolated HOME for every test, and a real sandbox server on 127.0.0.1.

Fixtures build on each other: sandbox -> client -> shell -> notebook -> browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests compress the sandbox's clock: a 6 s image job takes 0.12 s.
FAST = 0.02


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point HOME and every Jupyter/Lamina location at a temp dir; drop real credentials."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(home / ".jupyter"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / ".local" / "share" / "jupyter"))
    monkeypatch.setenv(
        "JUPYTER_RUNTIME_DIR", str(home / ".local" / "share" / "jupyter" / "runtime")
    )
    monkeypatch.setenv("LAMINA_JOURNAL", str(home / "journal.sqlite3"))
    for var in ("LAMINA_API_KEY", "LAMINA_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session", autouse=True)
def _ipython_history_in_memory(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Create the InteractiveShell singleton with in-memory history: the per-test HOME it would
    otherwise write to is gone by interpreter exit, and IPython's atexit hook would complain."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if not InteractiveShell.initialized():
        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        with pytest.MonkeyPatch.context() as mp:  # its profile dir must not land in the real HOME
            mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
            InteractiveShell.instance(config=config)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """One sandbox for the session: fast clock, no rate limit (tests needing one make their own)."""
    from lamina_notebook.sandbox import Sandbox

    with Sandbox(time_scale=FAST, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def sandbox_env(sandbox: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """The session sandbox, with LAMINA_API_KEY / LAMINA_BASE_URL pointing at it."""
    monkeypatch.setenv("LAMINA_API_KEY", sandbox.api_key)  # type: ignore[attr-defined]
    monkeypatch.setenv("LAMINA_BASE_URL", sandbox.base_url)  # type: ignore[attr-defined]
    return sandbox


def pytest_report_header(config: pytest.Config) -> str:
    return f"lamina-notebook tests; HOME isolated per test; CI={os.environ.get('CI', '')}"
