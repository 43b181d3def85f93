"""LaminaApp in a real kernel (nbclient): a background run completes while another cell executes,
and the executed, saved notebook holds a static snapshot of the result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lamina_notebook.sandbox import Sandbox

SECRET = "lma_notebook_secret_77ab"

SETUP = """\
import json, time
from lamina_notebook.session import get_session
from lamina_notebook.widget import LaminaApp
get_session().configure(poll_interval=0.1, min_poll_interval=0.1, rate_limit=0)"""

START = """\
w = LaminaApp("Photo Stylizer")
w.value = {"Upload": "%s/samples/portrait.png", "Style": "Ghibli"}
handle = w.run()
cell1_returned = time.time()
w"""

# A cell that keeps the main thread busy (computing and sleeping) until the run is done.
BUSY = """\
cell2_started = time.time()
done_at_start = handle.done()
work, observed = 0, None
while time.time() - cell2_started < 60:
    work += sum(i * i for i in range(20000))
    if handle.done():
        observed = time.time()
        break
    time.sleep(0.05)
print(json.dumps({"cell1_returned": cell1_returned, "cell2_started": cell2_started,
                  "cell2_ended": time.time(), "observed": observed,
                  "done_at_start": done_at_start, "execution_id": handle.execution_id}))"""

FINISH = """\
results = w.wait(timeout=60)
print([r.status for r in results])"""


@pytest.fixture
def slow_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox whose Photo Stylizer takes about 2 s, with the kernel's env pointing at it."""
    with Sandbox(
        time_scale=0.02, rate_limit=0, api_key=SECRET, durations={"Photo Stylizer": 100.0}
    ) as sb:
        monkeypatch.setenv("LAMINA_API_KEY", sb.api_key)
        monkeypatch.setenv("LAMINA_BASE_URL", sb.base_url)
        yield sb


@pytest.mark.kernel
@pytest.mark.slow
def test_background_run_completes_while_another_cell_runs(
    slow_sandbox: Sandbox, tmp_path: Path
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(src)
        for src in (SETUP, START % slow_sandbox.base_url, BUSY, FINISH)
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)

    stream = "".join(o.get("text", "") for o in saved.cells[2].outputs if o.output_type == "stream")
    facts = json.loads(stream.strip().splitlines()[-1])
    completed_at = slow_sandbox.completed_at(facts["execution_id"])
    assert completed_at is not None
    assert facts["done_at_start"] is False  # cell 1 returned before the run ended
    assert facts["cell1_returned"] <= facts["cell2_started"]
    assert facts["observed"] is not None
    # The service finished it, and the kernel's loop thread saw it, while cell 2 was running.
    assert facts["cell2_started"] < completed_at < facts["observed"] <= facts["cell2_ended"]
    assert "['completed']" in "".join(o.get("text", "") for o in saved.cells[3].outputs)

    outputs = saved.cells[1].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    snapshots = [o for o in outputs if "lamina-snap-" in o.get("data", {}).get("text/html", "")]
    assert len(snapshots) == 1
    html = snapshots[0]["data"]["text/html"]
    assert facts["execution_id"] in html and "data:image/" in html and "completed" in html
    assert facts["execution_id"] in snapshots[0]["data"]["text/plain"]
    assert snapshots[0]["metadata"]["lamina"]["executions"] == [facts["execution_id"]]
    assert SECRET not in path.read_text()
