"""Proves the browser harness itself: JupyterLab + Chromium render and drive plain ipywidgets.

Independent of lamina_notebook, so a failure here means the harness (or the machine), not our code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = pytest.mark.browser

WIDGETS = """\
import ipywidgets as w
slider = w.IntSlider(value=3, min=0, max=10, description="level")
button = w.Button(description="Click me")
label = w.Label("clicks: 0")
def on_click(_):
    label.value = f"clicks: {int(label.value.split()[-1]) + 1}, level {slider.value}"
button.on_click(on_click)
w.VBox([slider, button, label])
"""


def _throwaway_notebook(folder: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Harness check"),
        nbformat.v4.new_code_cell(WIDGETS),
        nbformat.v4.new_code_cell("print('after widgets', 6 * 7)"),
    ]
    nbformat.write(nb, folder / "harness.ipynb")
    return "harness.ipynb"


def test_lab_runs_ipywidgets_and_a_click_reaches_the_kernel(
    tmp_path: Path, make_lab: Any, new_page: Any
) -> None:
    name = _throwaway_notebook(tmp_path)
    lab = make_lab(tmp_path)
    ui = new_page(lab)

    ui.open_notebook(name)
    ui.run_all(timeout=90)

    cell = ui.code_cell(0)
    cell.locator(".widget-slider").wait_for()
    assert cell.locator(".widget-readout").first.inner_text().strip() == "3"
    ui.widget_button("Click me", cell).click()
    label = cell.locator(".widget-label", has_text="clicks:")
    label.filter(has_text="clicks: 1, level 3").wait_for(timeout=15_000)
    assert "after widgets 42" in ui.code_cell(1).locator(".jp-OutputArea").inner_text()

    ui.screenshot("harness-ipywidgets")
    ui.assert_no_console_errors()
