"""Browser fixtures: Debian's Chromium through Playwright, JupyterLab servers, one page per test.

Skips with the reason when Chromium (or Playwright) is missing, unless LAMINA_REQUIRE_BROWSER=1,
which turns the skip into a failure (CI sets it after installing Chromium).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from labdriver import CHROMIUM_FLAGS, JupyterLab, find_chromium

HOW_TO_GET_CHROMIUM = (
    "install Debian's Chromium with `apt-get install -y chromium` (Playwright's own browser "
    "download needs the internet), "
    "or point LAMINA_CHROMIUM at a Chromium binary; set LAMINA_REQUIRE_BROWSER=1 to fail instead"
)


def _unavailable(reason: str) -> None:
    if os.environ.get("LAMINA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LAMINA_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium binary, or a skip saying how to get it (a failure if it is required)."""
    if importlib.util.find_spec("playwright") is None:
        _unavailable("Playwright for Python is not installed: pip install -e '.[dev]'")
    path = find_chromium()
    if path is None:
        _unavailable(f"no Chromium found: {HOW_TO_GET_CHROMIUM}")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium per test module; Chromium's own files go to a temp HOME.

    Module scope, not session: Playwright's sync API keeps its event loop marked as running in
    the main thread while it is alive, which would break every later test that calls
    ``asyncio.run`` (this directory is not a package, so package scope would mean session).
    """
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_FLAGS,
            env={**os.environ, "HOME": str(home)},
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def make_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., JupyterLab]]:
    """Factory: `make_lab(root_dir, env=None, ipython_config=None)` starts a JupyterLab.

    Every lab started is stopped at the end of the test module, with its kernels, so the rest
    of the suite does not share the machine with idle servers.
    """
    started: list[JupyterLab] = []

    def make(
        root_dir: Path, env: dict[str, str] | None = None, ipython_config: str | None = None
    ) -> JupyterLab:
        home = tmp_path_factory.mktemp("lab-home")
        if ipython_config is not None:  # kernels read it: %config without editing notebooks
            profile = home / ".ipython" / "profile_default"
            profile.mkdir(parents=True)
            (profile / "ipython_config.py").write_text(ipython_config)
        lab = JupyterLab(root_dir, home, dict(env or {}))
        started.append(lab)
        return lab.start()

    yield make
    for lab in started:
        lab.stop()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[JupyterLab], Any]]:
    """Factory: `new_page(lab)` gives a LabPage in a fresh browser context (own cookies)."""
    from labpage import LabPage

    contexts: list[Any] = []
    pages: list[LabPage] = []

    def make(lab: JupyterLab) -> LabPage:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = LabPage(context.new_page(), lab)
        pages.append(page)
        return page

    yield make
    failed = getattr(request.node, "rep_call", None)
    for index, page in enumerate(pages):
        if failed is not None and failed.failed:
            page.screenshot(f"FAILED-{request.node.name}-{index}")
    for context in contexts:
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep the call report on the item so fixtures can screenshot failures."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
