"""A notebook using the magics executes headlessly in a real kernel (nbclient) against the sandbox,
and the saved file keeps the images embedded (no widget state, no network needed to view it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CELLS = [
    "%load_ext lamina_notebook",
    # Only to keep the test fast: the sandbox runs 50x faster than the service.
    "from lamina_notebook.session import get_session\n"
    "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)",
    '%lamina run "Text to Image" "Prompt=a red fox" "Aspect Ratio=16:9"',
    '%lamina run "Text to Image" Prompt=later --no-wait',
    "handle = _\nresult = handle.result()\nresult.status",
    "%lamina history",
    "%lamina doctor",
]


def _outputs(cell: Any) -> list[dict[str, Any]]:
    return [dict(o) for o in cell.get("outputs", [])]


def _has_embedded_image(outputs: list[dict[str, Any]]) -> bool:
    for out in outputs:
        data = out.get("data", {})
        if "image/png" in data or "image/jpeg" in data:
            return True
        if "data:image/" in str(data.get("text/html", "")):
            return True
    return False


def test_notebook_with_magics_saves_embedded_images(sandbox_env: Any, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)
    load, _, blocking, no_wait, awaited, history, doctor = saved.cells

    assert not any(o.get("output_type") == "error" for c in saved.cells for o in _outputs(c))
    assert _outputs(load) == []  # a key is set: loading is silent
    # The blocking run: Out[n] holds the outputs with the image embedded, and run metadata.
    results = [o for o in _outputs(blocking) if o["output_type"] == "execute_result"]
    assert len(results) == 1 and _has_embedded_image(results)
    meta = results[0]["metadata"]["lamina"]
    assert meta["status"] == "completed" and meta["inputs"]["Aspect Ratio"] == "16:9"
    # The --no-wait display was updated in place (display id) to the final outputs.
    assert _has_embedded_image(_outputs(no_wait))
    assert "'completed'" in json.dumps(_outputs(awaited))
    # History in a kernel carries thumbnails; doctor sees the kernel front end.
    assert "data:image/" in json.dumps(_outputs(history))
    assert "Jupyter kernel" in json.dumps(_outputs(doctor))
    assert sandbox_env.api_key not in path.read_text()
