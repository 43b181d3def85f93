"""Hostile service metadata rendered live in JupyterLab (Chromium): app names, descriptions,
parameter names, option labels, text outputs and error messages carrying ``<script>``,
``<img onerror>`` and ``javascript:`` never run; a sentinel they would set stays unset.

Outputs made in a live session are trusted by JupyterLab (not sanitized), so only our own
escaping stands between the service's strings and the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from lamina_notebook.sandbox import Sandbox

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
JS = "javascript:window.__pwned=1"
HOSTILE_NAME = f"{SCRIPT}{IMG}Evil App"
HOSTILE_APP = {
    "name": HOSTILE_NAME,
    "description": f'<a href="{JS}">click</a> {SCRIPT} <svg onload="window.__pwned=1"></svg>',
    "duration": 1,
    "parameters": [
        {
            "name": f"Mode{IMG}",
            "type": "options",
            "options": [SCRIPT, JS, "ok"],
            "default": "ok",
            "description": f"<iframe src='{JS}'></iframe>",
        },
        {"name": f"Link{SCRIPT}", "type": "url", "description": IMG},
        {"name": "Notes", "type": "text", "default": f"</textarea>{SCRIPT}"},
    ],
    "outputs": [
        {"label": f"{SCRIPT}label", "type": "text", "text": f"{SCRIPT}{IMG}{JS}"},
        {"label": IMG, "type": "image"},
    ],
}
CHECK = """() => {
  const areas = [...document.querySelectorAll('.jp-OutputArea-output')];
  const bad = (sel) => areas.flatMap(a => [...a.querySelectorAll(sel)]).length;
  return {
    pwned: window.__pwned === undefined ? null : window.__pwned,
    scripts: bad('script'),
    handlers: bad('[onerror], [onload], [onclick]'),
    jsLinks: bad('[href^="javascript:" i], [src^="javascript:" i]'),
    iframes: bad('iframe'),
    evilText: areas.map(a => a.textContent).join('\\n').includes('Evil App'),
  };
}"""


def _cells(sb: Sandbox, app_id: str) -> list[str]:
    url = f"{sb.base_url}/samples/tiny.png"
    missing = f"{sb.base_url}/samples/{SCRIPT}.png"  # 404 -> an errorMessage quoting it
    return [
        "%load_ext lamina_notebook\nfrom lamina_notebook.session import get_session\n"
        "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)",
        "%lamina apps",
        f"%lamina info {app_id}",
        f'%lamina run {app_id} "Link{SCRIPT}={url}"',
        f'%lamina run "Photo Stylizer" "Upload={missing}" --no-raise',  # fails; Run All goes on
        f'%lamina run "Product Copywriter" "Product={SCRIPT}"',
        "%lamina history",
        "from lamina_notebook import LaminaApp\n"
        f"w = LaminaApp({app_id!r})\n"
        f"w.value = {{'Link{SCRIPT}': {url!r}, 'Mode{IMG}': {SCRIPT!r}}}\nw",
        "r = w.run().result(timeout=60)\nw.wait(timeout=60)\nw.snapshot()",
        # Last, as it fails its cell (Run All would stop there): the error names Link<script>.
        f"%lamina run {app_id} Notes=x",
    ]


@pytest.fixture
def hostile_sandbox() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0, extra_apps=[HOSTILE_APP]) as sb:
        yield sb


def test_hostile_metadata_never_runs_script_in_jupyterlab(
    tmp_path: Path, make_lab: Any, new_page: Any, hostile_sandbox: Sandbox
) -> None:
    sb = hostile_sandbox
    app_id = sb.app_id(HOSTILE_NAME)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in _cells(sb, app_id)]
    nbformat.write(nb, tmp_path / "hostile.ipynb")
    lab = make_lab(tmp_path, env={"LAMINA_API_KEY": sb.api_key, "LAMINA_BASE_URL": sb.base_url})
    ui = new_page(lab)
    ui.open_notebook("hostile.ipynb")
    ui.run_all(timeout=180)
    ui.page.locator(".widget-button", has_text="Run").first.wait_for()
    ui.page.wait_for_timeout(1500)  # let broken <img> error events and widget views settle

    found = ui.eval(CHECK)
    assert found["evilText"], "the hostile app's name was never rendered"
    assert found["pwned"] is None, "a script from service data ran"
    assert found["scripts"] == 0 and found["handlers"] == 0, found
    assert found["jsLinks"] == 0 and found["iframes"] == 0, found
    # The hostile strings are shown as text (escaped), not dropped.
    text = ui.page.locator(".jp-Notebook").inner_text()
    assert "<script>window.__pwned=1</script>" in text
    assert "Generation failed" in text or "Could not read" in text
    error = ui.code_cell(len(_cells(sb, app_id)) - 1).locator(".jp-OutputArea-output").last
    assert f"Link{SCRIPT}" in error.inner_text(), "the input error does not name the parameter"
    ui.screenshot("hostile-metadata")
    # A click that would run the widget's hostile option in the page: still nothing.
    ui.widget_button("Run").click()
    ui.page.wait_for_timeout(1500)
    assert ui.eval(CHECK)["pwned"] is None
