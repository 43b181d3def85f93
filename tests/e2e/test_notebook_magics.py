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


# -- a failing cell stops the notebook (Run All), in a real kernel ----------------------------

SETUP = [
    "%load_ext lamina_notebook",
    "from lamina_notebook.session import get_session\n"
    "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)",
]


def _execute_until_error(
    cells: list[str], tmp_path: Path, env: dict[str, str] | None = None, during: Any = None
) -> tuple[Any, Exception | None]:
    """Execute ``cells`` as Run All does (stop at the first failing cell); ``during(client)``
    runs in a thread while the notebook executes. Returns (notebook, the stop or None)."""
    import os
    import threading

    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    if during is not None:
        threading.Thread(target=during, args=(client,), daemon=True).start()
    try:
        client.execute(env={**os.environ, **(env or {})})
    except CellExecutionError as exc:
        return nb, exc
    return nb, None


def _errors(cell: Any) -> list[dict[str, Any]]:
    return [o for o in _outputs(cell) if o["output_type"] == "error"]


def test_a_large_grid_without_stdin_is_refused_at_once_and_stops_run_all(
    sandbox_env: Any, tmp_path: Path
) -> None:
    """nbclient gives the kernel no stdin: the question cannot be asked, so the grid is
    refused (naming --yes and confirm_over) instead of hanging, and the next cell never runs."""
    before = sandbox_env.stats.run_creations
    cells = [
        *SETUP,
        '%lamina grid "Text to Image" --x Style --y "Prompt=a fox|a lighthouse"',
        "after = 'this cell ran'",
    ]
    nb, stop = _execute_until_error(cells, tmp_path)
    assert stop is not None
    grid, after = nb.cells[2], nb.cells[3]
    [error] = _errors(grid)
    shown = "\n".join(error["traceback"])
    assert error["ename"] == "NotConfirmed" and "--yes" in shown and "confirm_over" in shown
    assert "Traceback" not in shown and len(error["traceback"]) == 2  # message + fix
    assert _outputs(after) == [] and after.get("execution_count") is None
    assert sandbox_env.stats.run_creations == before


def test_a_failed_run_shows_its_card_then_stops_run_all(sandbox_env: Any, tmp_path: Path) -> None:
    sandbox_env.configure(fail_rate=1.0)
    try:
        nb, stop = _execute_until_error(
            [*SETUP, '%lamina run "Text to Image" Prompt=doomed', "after = 1"], tmp_path
        )
    finally:
        sandbox_env.configure(fail_rate=0.0)
    assert stop is not None
    run, after = nb.cells[2], nb.cells[3]
    kinds = [o["output_type"] for o in _outputs(run)]
    assert kinds[-2:] == ["display_data", "error"]  # the card, then the cell's error
    card = _outputs(run)[-2]
    assert card["metadata"]["lamina"]["status"] == "failed"
    [error] = _errors(run)
    assert error["ename"] == "RunFailed" and "the card above says why" in error["traceback"][0]
    assert "--no-raise" in error["traceback"][1]
    assert after.get("execution_count") is None


def test_interrupt_during_a_run_stops_run_all_and_the_run_goes_on(tmp_path: Path) -> None:
    """Run All on [run (slow) -> print -> run], Interrupt while the first waits: the run goes
    on at the service, the hint names resume and cancel, the next cells do not run, and the
    journal (what %lamina history shows) has exactly one run."""
    import os
    import signal
    import time

    from lamina_notebook.journal import Journal
    from lamina_notebook.sandbox import Sandbox

    journal_path = tmp_path / "journal.sqlite3"

    def interrupt_once_journaled(client: Any) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal_path.exists() and len(Journal(journal_path)) >= 1:
                break
            time.sleep(0.05)
        time.sleep(0.5)  # into the wait
        # what the Interrupt button does: SIGINT to the kernel process
        os.kill(client.km.provisioner.pid, signal.SIGINT)

    with Sandbox(time_scale=0.2, rate_limit=0, durations={"Text to Image": 60.0}) as sb:
        env = {
            "LAMINA_API_KEY": sb.api_key,
            "LAMINA_BASE_URL": sb.base_url,
            "LAMINA_JOURNAL": str(journal_path),
        }
        cells = [
            *SETUP,
            '%lamina run "Text to Image" "Prompt=a slow lighthouse"',
            "print('the cell after the run')",
            '%lamina run "Text to Image" "Prompt=a second run"',
        ]
        nb, stop = _execute_until_error(cells, tmp_path, env, during=interrupt_once_journaled)
        assert stop is not None
        first, printed, second = nb.cells[2:]
        [error] = _errors(first)
        assert error["ename"] == "Interrupted"
        assert error["traceback"] == [
            "\x1b[0;31mKeyboardInterrupt\x1b[0m: the run goes on; see above to resume or cancel it."
        ]
        [entry] = Journal(journal_path).history()
        hint = "".join(o.get("text", "") for o in _outputs(first) if o["output_type"] == "stream")
        assert f"%lamina resume {entry.execution_id}" in hint
        assert f"%lamina cancel {entry.execution_id}" in hint
        # broken between words (JupyterLab's output area would break mid-word), commands whole
        assert all(len(line) <= 88 for line in hint.splitlines()), hint
        assert f"reattach with %lamina resume {entry.execution_id}" in hint.replace("\n", " ")
        assert printed.get("execution_count") is None and second.get("execution_count") is None
        assert sb.stats.run_creations == 1
        assert entry.status in ("queued", "running")  # still going: nothing cancelled it


def test_a_grid_fills_in_live_and_the_saved_notebook_keeps_the_whole_grid(
    sandbox_env: Any, tmp_path: Path
) -> None:
    grid_line = (
        '%lamina grid "Text to Image" --x "Style=Anime,Watercolor" --y "Prompt=a fox|a boat"'
    )
    nb, stop = _execute_until_error([*SETUP, grid_line], tmp_path)
    assert stop is None
    path = tmp_path / "grid.ipynb"
    nbformat.write(nb, path)
    outputs = _outputs(nbformat.read(path, as_version=4).cells[2])
    price, *rest = outputs
    assert price["data"]["text/plain"].startswith("4 cells: 4 new run(s)")
    # the live drawing (a display id, redrawn while cells filled) is emptied at the end...
    assert [o["data"] for o in rest if "lamina-grid" not in o["data"].get("text/html", "")] == [
        {"text/plain": ""}
    ]
    # ...and the finished grid is shown once: every cell's picture embedded, no kernel needed
    [grid] = [o for o in rest if "lamina-grid" in o["data"].get("text/html", "")]
    assert grid["data"]["text/html"].count("data:image/") == 4


def test_quickstart_saved_after_run_all_is_small_and_shows_every_image(tmp_path: Path) -> None:
    """Issue 14: the saved 01-quickstart after Run All stays under 120 KB (one embedded copy
    per image, 512 px) and nbconvert's HTML shows every image the notebook holds."""
    import re

    from notebook_runner import load_runner

    runner = load_runner()
    repo = Path(__file__).resolve().parents[2]
    (run,) = runner.run_all([repo / "notebooks" / "01-quickstart.ipynb"], tmp_path, timeout=300)
    assert run.ok, run.error
    size = run.executed.stat().st_size
    assert size < 120_000, f"the saved quickstart is {size:,} bytes"
    html = run.html.read_text(encoding="utf-8")
    shown = re.findall(r"<img[^>]+src=\"data:image/(?:png|jpeg);base64,", html)
    assert run.images >= 2 and len(shown) == run.images
