"""The demo notebooks in JupyterLab, driven in Chromium the way a data scientist would use them.

The kernels reach a sandbox running in this test process (LAMINA_SANDBOX_URL), so the tests can
count the runs each click created; screenshots of every step go to build/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from labdriver import REPO, JupyterLab

pytestmark = pytest.mark.browser

NOTEBOOKS = REPO / "notebooks"
# Jobs last ~2 s of wall time: long enough for a poll to see them running (the bar moves).
SANDBOX_KNOBS = {
    "time_scale": 0.2,
    "rate_limit": 0,
    "durations": {"Text to Image": 10.0, "Image to Video": 10.0},
}
KERNEL_CONFIG = "c.LaminaMagics.poll_interval = 1.0\n"
RUN_BUTTON = re.compile(r"^\s*Run\s*$")

# Records every progress row's (label, bar width) as the DOM changes, so a fast run's
# intermediate states are seen without polling.
RECORD_PROGRESS = """(app) => {
    window.__laminaProgress = [];
    const snap = () => app.querySelectorAll('.lamina-progress-row').forEach(row => {
        const bar = row.querySelector('.widget-hprogress .progress-bar');
        if (!bar) return;  // the row's views are still being created
        // the row's texts: status, id and title are HTML (a span with its hover text), the
        // clock a Label
        const label = [...row.querySelectorAll('.widget-label, .widget-html-content')]
            .map(l => l.textContent.trim()).filter(t => t);
        window.__laminaProgress.push({label: label.join(' · '), width: bar.style.width});
    });
    new MutationObserver(snap).observe(app, {subtree: true, childList: true,
                                             attributes: true, characterData: true});
}"""
IMAGES_LOADED = """([el, n]) => {
    const imgs = [...el.querySelectorAll('img')];
    return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""

# Images cut off by a container that does not scroll (overflow hidden/clip): no user sees them.
HIDDEN_IMAGES = """(root) => [...root.querySelectorAll('img')].filter(img => {
    const r = img.getBoundingClientRect();
    const x = r.left + r.width / 2;
    for (let el = img.parentElement; el && el !== document.body; el = el.parentElement) {
        const overflow = getComputedStyle(el).overflowX;
        const box = el.getBoundingClientRect();
        if ((overflow === 'hidden' || overflow === 'clip') && (x < box.left || x > box.right)) {
            return true;
        }
    }
    return false;
}).map(img => img.closest('.widget-gridbox > *').innerText.split('\\n')[0])"""


@pytest.fixture(scope="module")
def browser_sandbox() -> Iterator[Any]:
    from lamina_notebook.sandbox import Sandbox

    with Sandbox(**SANDBOX_KNOBS) as sb:  # type: ignore[arg-type]
        yield sb


@pytest.fixture(scope="module")
def notebook_lab(
    make_lab: Any, browser_sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> JupyterLab:
    root = tmp_path_factory.mktemp("lab-notebooks")
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(notebook, root)
    return make_lab(
        root, {"LAMINA_SANDBOX_URL": browser_sandbox.base_url}, ipython_config=KERNEL_CONFIG
    )


def _run_and_watch(ui: Any, app: Any, sandbox: Any, style: str, prompt: str) -> list[dict]:
    """Pick a style, type a prompt, click Run; return the recorded progress of that run."""
    ui.eval(RECORD_PROGRESS, app.element_handle())
    app.locator(".lamina-param select").first.select_option(style)
    app.locator(".lamina-param textarea").first.fill(prompt)
    images_before = app.locator(".lamina-run-card img").count()
    created_before = sandbox.stats.run_creations
    run = app.locator("button.widget-button", has_text=RUN_BUTTON).first
    run.wait_for()
    ui.page.wait_for_function("b => !b.disabled", arg=run.element_handle())
    run.click()
    ui.page.wait_for_function(
        "([app, n]) => app.querySelectorAll('.lamina-run-card img').length > n",
        arg=[app.element_handle(), images_before],
        timeout=60_000,
    )
    ui.page.wait_for_function(IMAGES_LOADED, arg=[app.element_handle(), images_before + 1])
    assert sandbox.stats.run_creations == created_before + 1, "one click must start one run"
    seen = ui.eval("() => window.__laminaProgress")
    return [s for s in seen if prompt[:20] in s["label"]]


def test_widget_notebook_run_progress_image_video_and_sweep(
    notebook_lab: JupyterLab, browser_sandbox: Any, new_page: Any
) -> None:
    ui = new_page(notebook_lab)
    ui.open_notebook("02-widget.ipynb")
    ui.run_all(timeout=180)

    app = ui.cell_containing('images = LaminaApp("Text to Image")').locator(".lamina-app").first
    app.scroll_into_view_if_needed()
    prompt = "a tiny robot watering a bonsai"
    progress = _run_and_watch(ui, app, browser_sandbox, "Pixel Art", prompt)
    widths = [s["width"] for s in progress]
    assert any(w not in ("", "0%", "100%") for w in widths), f"bar never moved: {progress}"
    assert widths[-1] == "100%" and "completed" in progress[-1]["label"], progress
    newest = app.locator(".lamina-run-card").first
    assert "Pixel Art" in newest.inner_text() or "tiny robot" in newest.inner_text()
    ui.screenshot("02-widget-after-run", app)

    clips = ui.cell_containing('clips = LaminaApp("Image to Video")').locator(".lamina-app").first
    clips.scroll_into_view_if_needed()
    video = clips.locator("video").first
    video.wait_for()
    played = ui.eval(
        """async (v) => {
        v.muted = true;
        await v.play();
        return true;
    }""",
        video.element_handle(),
    )
    assert played
    ui.page.wait_for_function(
        "v => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.2 && v.played.length > 0",
        arg=video.element_handle(),
        timeout=20_000,
    )
    ui.screenshot("02-widget-video-playing", clips)

    app.scroll_into_view_if_needed()
    app.locator(".lm-TabBar-tab", has_text="Sweep").click()
    before = browser_sandbox.stats.run_creations
    app.locator("button.widget-button", has_text="Run sweep").click()
    grid = app.locator(".widget-gridbox").first
    grid.wait_for()
    ui.page.wait_for_function(IMAGES_LOADED, arg=[grid.element_handle(), 6], timeout=90_000)
    # One run per Style label, but the Pixel Art one ran just above: reused, not sent again.
    assert browser_sandbox.stats.run_creations == before + 5, "one new run per other label"
    grid.scroll_into_view_if_needed()
    hidden = ui.eval(HIDDEN_IMAGES, grid.element_handle())
    assert not hidden, f"sweep results a user cannot see (clipped or covered): {hidden}"
    ui.screenshot("02-widget-sweep-grid", grid)
    ui.screenshot("02-widget-page")
    ui.assert_no_console_errors()


def test_style_sweep_notebook_fills_its_comparison_grids(
    notebook_lab: JupyterLab, new_page: Any
) -> None:
    ui = new_page(notebook_lab)
    ui.open_notebook("03-style-sweep.ipynb")
    ui.run_all(timeout=240)

    studio = ui.cell_containing('studio = LaminaApp("Text to Image")')
    grid = studio.locator(".lamina-app .widget-gridbox").first
    grid.wait_for()
    ui.page.wait_for_function(IMAGES_LOADED, arg=[grid.element_handle(), 3], timeout=60_000)
    assert "lighthouse in a storm" in grid.inner_text()
    static = ui.cell_containing('styles = studio.sweep("Style")').locator(".jp-OutputArea")
    ui.page.wait_for_function(IMAGES_LOADED, arg=[static.element_handle(), 6])
    studio.scroll_into_view_if_needed()
    ui.screenshot("03-style-sweep-widget", studio)
    static.scroll_into_view_if_needed()
    ui.screenshot("03-style-sweep-static-grid", static)
    ui.assert_no_console_errors()


def test_saved_notebook_shows_its_images_without_a_kernel(
    make_lab: Any, new_page: Any, tmp_path: Path
) -> None:
    """An executed notebook from the demo runner, opened in a new lab, its kernel shut down."""
    from labdriver import run_demo_notebook

    executed = run_demo_notebook(NOTEBOOKS / "02-widget.ipynb", tmp_path / "demo")
    viewer = tmp_path / "viewer"
    viewer.mkdir()
    shutil.copy(executed, viewer / "saved-widget.ipynb")
    lab = make_lab(viewer)  # no sandbox, no LAMINA_* variables: nothing to fetch images from
    ui = new_page(lab)
    ui.open_notebook("saved-widget.ipynb")
    ui.shutdown_kernel()

    outputs = ui.page.locator(".jp-Notebook")
    ui.page.wait_for_function(IMAGES_LOADED, arg=[outputs.element_handle(), 3])
    sizes = ui.eval(
        """(nb) => [...nb.querySelectorAll('.jp-OutputArea img')]
                          .map(i => [i.naturalWidth, i.src.slice(0, 11)])""",
        outputs.element_handle(),
    )
    assert all(w > 0 for w, _ in sizes), sizes
    assert all(src.startswith(("data:image", "blob:")) for _, src in sizes), sizes
    ui.cell_containing("fox = handle.result()").scroll_into_view_if_needed()
    ui.screenshot("02-widget-saved-no-kernel")
