"""Notebook manners in JupyterLab (Chromium), issue 14: an Interrupt stops Run All, the widget's
calm validation and Cancel/Detach rows in the light and the dark theme, and a saved 02-widget
whose clip plays from a static HTML file with no kernel and no sandbox.

One sandbox (in this process, so the tests read its counters) and one JupyterLab serve the
module; each test writes its own notebook with its own journal, so no test sees another's runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from labdriver import (
    REPO,
    SCREENSHOTS,
    JupyterLab,
    journaled_notebooks,
    sandbox_lab,
)
from serviceview import full_ids, run_view

from lamina_notebook.sandbox import Sandbox

pytestmark = pytest.mark.browser

# Service seconds times time_scale = wall seconds: a 12 s Text to Image run, 20 s stylizer runs
# (long enough to look at three rows in two themes; they are cancelled at the end).
SANDBOX_KNOBS: dict[str, Any] = {
    "time_scale": 0.2,
    "rate_limit": 0,
    "durations": {"Text to Image": 60.0, "Photo Stylizer": 100.0},
}
KERNEL_CONFIG = "c.LaminaMagics.poll_interval = 1.0\n"
PLAYING = "v => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.2 && v.played.length > 0"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**SANDBOX_KNOBS) as sb:
        yield sb


@pytest.fixture(scope="module")
def lab(make_lab: Any, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> JupyterLab:
    return sandbox_lab(make_lab, sandbox, tmp_path_factory.mktemp("manners-lab"), KERNEL_CONFIG)


@pytest.fixture
def notebook(lab: JupyterLab, tmp_path: Path) -> Iterator[Callable[[str, list[str]], str]]:
    """`notebook(name, cells)`: a notebook with this test's own journal (labdriver); its
    kernels are shut down after the test."""
    yield journaled_notebooks(lab, tmp_path / "journal.sqlite3")
    lab.shutdown_kernels()


# -- 1. an Interrupt stops Run All ------------------------------------------------------------


def test_interrupt_stops_run_all_and_the_run_goes_on(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any
) -> None:
    """Run All on [run (12 s) → print → run], Kernel > Interrupt while the first run waits: the
    next cells never run, the cell says once how to resume or cancel (no traceback), history
    has one run, and the service finishes that run."""
    name = notebook(
        "interrupt.ipynb",
        [
            '%lamina run "Text to Image" "Prompt=a slow lighthouse"',
            'print("second")',
            '%lamina run "Text to Image" "Prompt=a run that must not start"',
            "%lamina history",
        ],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    created = sandbox.stats.run_creations
    ui.menu("Run", "runmenu:run-all")
    # Interrupt once the run is under way at the service and the cell draws its progress.
    ui.page.wait_for_function(
        "el => el.innerText.includes('running')",
        arg=ui.code_cell(1).locator(".jp-OutputArea").element_handle(timeout=60_000),
        timeout=60_000,
    )
    assert sandbox.stats.run_creations == created + 1
    ui.interrupt_kernel()
    assert ui._wait_stopped_or_done(60) == "stopped"

    assert re.fullmatch(r"\[\d+\]:", ui.prompt(1)), ui.prompt(1)
    assert ui.prompt(2) == "[ ]:" and ui.prompt(3) == "[ ]:", (ui.prompt(2), ui.prompt(3))
    assert "second" not in ui.outputs_text(2)
    shown = ui.outputs_text(1)
    hint = re.search(r"%lamina resume ([\w-]+)", shown)
    assert hint, shown
    run_id = hint.group(1)
    assert f"%lamina cancel {run_id}" in shown
    assert shown.count("%lamina cancel") == 1 and shown.count("%lamina resume") == 1, shown
    assert "Traceback" not in shown and "File " not in shown, shown
    [error] = ui.code_cell(1).locator(".jp-OutputArea-output[data-mime-type*=stderr]").all()
    assert error.inner_text().strip() == (
        "KeyboardInterrupt: the run goes on; see above to resume or cancel it."
    )
    assert sandbox.stats.run_creations == created + 1, "a cell after the interrupt started a run"
    assert run_view(sandbox, run_id)["status"] in ("queued", "running")
    ui.screenshot("manners-interrupt-stopped", ui.code_cell(1))

    ui.run_cell(4)
    history = ui.code_cell(4).locator(".jp-OutputArea")
    ui.screenshot("manners-interrupt-history", ui.code_cell(4))
    assert len(re.findall(r"\bslow lighthouse\b", history.inner_text())) == 1
    assert "Runs 1-1 of 1" in history.inner_text(), history.inner_text()
    assert "must not start" not in history.inner_text()
    assert history.locator("tr", has_text="slow lighthouse").count() == 1
    # No column's text runs into the next one (a time over the app's name).
    overflowing = history.locator("td, th").evaluate_all(
        "cells => cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText)"
    )
    assert overflowing == [], overflowing
    assert sandbox.stats.run_creations == created + 1

    # The run goes on at the service and completes (nothing cancelled it).
    completes = sandbox.completed_at(run_id)
    assert completes is not None
    ui.page.wait_for_timeout(max(0.0, completes - time.time()) * 1000 + 300)
    assert run_view(sandbox, run_id)["status"] == "completed"
    assert sandbox.stats.cancel_requests == 0


# -- 10. calm validation, rows and History in the light and the dark theme -------------------

THEMES = ("JupyterLab Light", "JupyterLab Dark")
# The selected toggle against its neighbours and its own label (WCAG: 3:1 for a component's
# state, 4.5:1 for text).
TOGGLE_COLOURS = """(root) => {
    const buttons = [...root.querySelectorAll('.widget-toggle-button')];
    const selected = buttons.filter(b => b.classList.contains('mod-active'));
    const other = buttons.find(b => !b.classList.contains('mod-active'));
    const style = (e) => getComputedStyle(e);
    return {
        selected: selected.length,
        selectedBg: style(selected[0]).backgroundColor,
        selectedFg: style(selected[0]).color,
        otherBg: style(other).backgroundColor,
        otherFg: style(other).color,
    };
}"""
# Buttons whose label does not fit (an ellipsis where "Resume" should be).
CLIPPED_BUTTONS = """(root) => [...root.querySelectorAll('button')]
    .filter(b => b.offsetParent !== null && b.scrollWidth > b.clientWidth + 1)
    .map(b => b.innerText)"""


def _rgba(css: str) -> tuple[float, float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    return values[0], values[1], values[2], values[3] if len(values) > 3 else 1.0


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of CSS colour `fg` (its alpha blended over `bg`) against `bg`."""
    *back, _ = _rgba(bg)
    *front, alpha = _rgba(fg)
    front = [alpha * f + (1 - alpha) * b for f, b in zip(front, back, strict=True)]

    def luminance(rgb: list[float]) -> float:
        def channel(v: float) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(front), luminance(back)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _field(app: Any, name: str) -> Any:
    """The `.lamina-param` row of parameter `name` in widget `app`."""
    return app.locator(".lamina-param").filter(
        has=app.page.locator(".widget-html", has_text=re.compile(rf"^\s*{re.escape(name)}\b"))
    )


def _visible_errors(app: Any) -> list[str]:
    return [
        t.strip()
        for t in app.locator(".lamina-param-error, .lamina-problems").all_inner_texts()
        if t.strip()
    ]


def test_calm_validation_runs_and_history_in_light_and_dark(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any
) -> None:
    photo = f"{sandbox.base_url}/samples/portrait.png"
    name = notebook(
        "themes.ipynb",
        [
            'from lamina_notebook import LaminaApp\n\nfresh = LaminaApp("Photo Stylizer")\nfresh',
            'bad = LaminaApp("Photo Stylizer")\nbad',
            f'busy = LaminaApp("Photo Stylizer")\nbusy.value = {{"Upload": {photo!r}}}\nbusy',
        ],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.set_theme("JupyterLab Light")
    ui.run_all(timeout=120)
    fresh, bad, busy = (ui.code_cell(i).locator(".lamina-app").first for i in (1, 2, 3))
    busy.locator(".lamina-url-status", has_text="reachable").wait_for()

    # A fresh widget: no message before the user did anything; Run is enabled.
    assert _visible_errors(fresh) == []
    assert fresh.locator(".lamina-run-button").is_enabled()

    # A bad URL typed into the url field: one message, next to that field; Run disabled.
    url_field = _field(bad, "Upload")
    url_field.locator("input[type=text]").fill("not a link")
    url_field.locator("input[type=text]").press("Enter")
    bad.locator(".lamina-param-error", has_text=re.compile(r"\S")).wait_for()
    [message] = _visible_errors(bad)
    assert url_field.locator(".lamina-param-error").inner_text().strip() == message
    assert bad.inner_text().count(message) == 1, bad.inner_text()
    run_button = bad.locator(".lamina-run-button")
    assert run_button.is_disabled()
    assert message in (run_button.get_attribute("title") or ""), "Run's tooltip says why"

    # Three runs at once, each a row with Cancel and Detach (full labels), then History.
    created = sandbox.stats.run_creations
    for style in ("Ghibli", "Watercolor", "Comic"):
        _field(busy, "Style").locator("select").select_option(style)
        busy.locator(".lamina-run-button").click()
    ui.page.wait_for_function(
        "app => [...app.querySelectorAll('.lamina-progress-id')]"
        ".filter(e => e.innerText.trim()).length === 3",
        arg=busy.element_handle(),
    )
    assert sandbox.stats.run_creations == created + 3
    rows = busy.locator(".lamina-progress-row")
    assert rows.count() == 3
    for row in rows.all():
        assert row.locator(".lamina-cancel-button").is_visible()
        assert row.locator(".lamina-cancel-button").is_enabled()
        assert row.locator(".lamina-detach-button").inner_text().strip() == "Detach"
    assert ui.eval(CLIPPED_BUTTONS, busy.element_handle()) == []
    shown_ids = busy.locator(".lamina-progress-id").all_inner_texts()
    run_ids = full_ids(sandbox, "Photo Stylizer", shown_ids)
    busy.locator(".lm-TabBar-tab", has_text="History").click()
    history_rows = busy.locator(".lamina-history-row")
    ui.page.wait_for_function(
        "app => app.querySelectorAll('.lamina-history-row').length === 3",
        arg=busy.element_handle(),
    )
    assert all(r.is_visible() for r in history_rows.all())

    toggles: dict[str, dict[str, Any]] = {}
    try:
        for theme in THEMES:
            ui.set_theme(theme)
            tag = "dark" if "Dark" in theme else "light"
            ui.screenshot(f"manners-{tag}-fresh-widget", fresh)
            ui.screenshot(f"manners-{tag}-bad-url", bad)
            ui.screenshot(f"manners-{tag}-three-runs-history", busy)
            toggles[tag] = ui.eval(TOGGLE_COLOURS, fresh.element_handle())
        # Every run still in flight while both themes were looked at.
        assert {run_view(sandbox, i)["status"] for i in run_ids} <= {"queued", "running"}
    finally:
        ui.set_theme("JupyterLab Light")
    for tag, seen in toggles.items():
        assert seen["selected"] == 1, (tag, seen)
        assert contrast(seen["selectedBg"], seen["otherBg"]) >= 3, (tag, seen)
        assert contrast(seen["selectedFg"], seen["selectedBg"]) >= 4.5, (tag, seen)
    assert toggles["dark"]["selectedBg"] != toggles["light"]["selectedBg"], "one theme's colours"

    # Cancel all: the three runs end cancelled at the service.
    busy.locator(".lamina-cancel-all").click()
    ui.page.wait_for_function(
        "app => [...app.querySelectorAll('.lamina-progress-status')]"
        ".filter(e => e.innerText.includes('cancelled')).length === 3",
        arg=busy.element_handle(),
    )
    assert [run_view(sandbox, i)["status"] for i in run_ids] == ["cancelled"] * 3
    ui.assert_no_console_errors()


# -- 9. a saved 02-widget's clip plays from static HTML, no kernel, no sandbox ----------------


def test_saved_widget_notebook_clip_plays_in_static_html(browser: Any, tmp_path: Path) -> None:
    """nbconvert's HTML of the executed 02-widget, opened from disk with every network
    request refused (no Jupyter server, no kernel, and the demo's sandbox is gone)."""
    from labdriver import run_demo_notebook
    from nbconvert import HTMLExporter

    executed = run_demo_notebook(REPO / "notebooks" / "02-widget.ipynb", tmp_path / "demo")
    body, _ = HTMLExporter().from_filename(str(executed))
    page_file = tmp_path / "02-widget.html"
    page_file.write_text(body, encoding="utf-8")

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    fetched: list[str] = []

    def refuse(route: Any) -> None:
        fetched.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?)://"), refuse)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        videos = page.locator("video")
        assert videos.count() >= 1, "no <video> in the saved notebook's HTML"
        sources = videos.evaluate_all(
            "vs => vs.map(v => (v.currentSrc || v.src || v.querySelector('source')?.src || '')"
            ".slice(0, 16))"
        )
        assert all(s.startswith("data:video/") for s in sources), sources
        clip = videos.first
        clip.scroll_into_view_if_needed()
        assert clip.evaluate("async v => { v.muted = true; await v.play(); return true; }")
        page.wait_for_function(PLAYING, arg=clip.element_handle(), timeout=20_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        card = clip.locator("xpath=ancestor::*[contains(@class, 'jp-OutputArea-output')][1]")
        card.screenshot(path=str(SCREENSHOTS / "manners-static-html-clip-playing.png"))
        images = page.evaluate(
            "() => [...document.images].map(i => [i.naturalWidth, i.src.slice(0, 11)])"
        )
        assert images and all(w > 0 for w, _ in images), images
    finally:
        context.close()
    # Only nbconvert's own template asks the network (require.js, MathJax, the widget
    # manager from CDNs, all refused here); nothing points at the gone kernel or sandbox.
    assert not [u for u in fetched if re.match(r"https?://(127\.0\.0\.1|localhost)", u)], fetched
