"""What a widget leaves where there is no live widget: the terminal (its text, once, and nothing
printed later), the saved notebook (the form's fallback never shows stale inputs; the snapshot
shows the last run's inputs, the latest grid and embedded short videos, and hides a view that
cannot be drawn), nbconvert's HTML. The notebook test runs a real kernel through nbclient and
saves without widget state, as JupyterLab does by default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output
from nbclient import NotebookClient
from widget_helpers import SECRET, stylizer

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.snapshot import FORM_FALLBACK

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def terminal() -> Iterator[InteractiveShell]:
    """The test process's IPython: a terminal-like shell (no kernel behind it)."""
    yield InteractiveShell.instance()


def test_a_terminal_gets_the_text_once_and_nothing_unprompted(
    terminal: InteractiveShell, session: Session, wsb: Sandbox
) -> None:
    w = stylizer(session, wsb, Style="Comic")
    with capture_output() as shown:
        display(w)
    (out,) = shown.outputs
    assert set(out.data) == {"text/plain"} and out.data["text/plain"].startswith("LaminaApp:")
    assert "Style = Comic" in out.data["text/plain"]
    with capture_output() as later:
        w.run().result(timeout=30)
        w.wait(timeout=30)  # a finished run refreshes the snapshot, in a kernel only
    assert later.outputs == [] and later.stdout == ""
    assert repr(w).startswith("<LaminaApp 'Photo Stylizer': 3 parameters, 1 runs (1 finished)")


def test_the_form_fallback_never_shows_stale_inputs(session: Session, wsb: Sandbox) -> None:
    w = stylizer(session, wsb, Style="Comic")
    html = w._repr_mimebundle_()["text/html"]
    assert FORM_FALLBACK in html and "Comic" not in html and "portrait.png" not in html
    assert WIDGET_VIEW in w._repr_mimebundle_()


def test_the_snapshot_has_the_last_inputs_the_latest_grid_and_the_hide_rules(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Text to Image", session=session)
    w.value = {"Prompt": "a lighthouse in a storm at night", "Style": "Neon Noir"}
    w.run().result(timeout=30)
    grid = w.grid(x="Aspect Ratio", values={"Aspect Ratio": ["1:1", "16:9"]})
    grid.wait(timeout=30)
    w.wait(timeout=30)
    snapshot = w.snapshot()
    html = snapshot.data["text/html"]
    uid = snapshot.metadata["lamina"]["widget"]
    assert "Inputs of the last run:" in html
    assert "Prompt=a lighthouse in a storm at night, Style=Neon Noir" in html
    assert grid.grid_id in html and snapshot.metadata["lamina"]["grid"] == grid.grid_id
    assert f".jp-OutputArea:has(.lamina-live-{uid}) .lamina-snap-{uid}" in html
    assert f".jp-OutputArea:has(.lamina-snap-{uid}) > .jp-OutputArea-child:has(" in html
    assert ".jp-OutputArea-output.jupyter-widgets){display:none}" in html
    assert "Inputs of the last run: Prompt=a lighthouse" in snapshot.data["text/plain"]


def test_a_short_clip_is_embedded_in_the_snapshot(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Image to Video", session=session)
    w.value = {"Upload": f"{wsb.base_url}/samples/portrait.png"}
    result = w.run().result(timeout=60)
    w.wait(timeout=60)
    assert result.is_completed and result.videos  # small: the sandbox's clip is ~34 KB
    html = w.snapshot().data["text/html"]
    assert '<video controls preload="metadata" src="data:video/mp4;base64,' in html


NOTEBOOK = [
    """\
from lamina_notebook.session import get_session
from lamina_notebook.widget import LaminaApp
get_session().configure(poll_interval=0.1, min_poll_interval=0.1, rate_limit=0)""",
    """\
clips = LaminaApp("Image to Video")
clips.value = {"Upload": "%s/samples/portrait.png", "Motion": "Orbit"}
clips""",
    "clip = clips.run().result()",
    "clips.value = {**clips.value, 'Motion': 'Pan Left'}\nclips.wait();",
]


@pytest.mark.kernel
def test_a_notebook_saved_without_widget_state_shows_the_results_not_a_stale_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbconvert import HTMLExporter

    with Sandbox(time_scale=0.02, rate_limit=0, api_key=SECRET) as sb:
        monkeypatch.setenv("LAMINA_API_KEY", sb.api_key)
        monkeypatch.setenv("LAMINA_BASE_URL", sb.base_url)
        nb = nbformat.v4.new_notebook()
        sources = [NOTEBOOK[0], NOTEBOOK[1] % sb.base_url, *NOTEBOOK[2:]]
        nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            store_widget_state=False,  # JupyterLab's default: no widget state in the file
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
        path = tmp_path / "saved.ipynb"
        nbformat.write(nb, path)
    saved = nbformat.read(path, as_version=4)
    assert "widgets" not in saved.metadata
    outputs = saved.cells[1].outputs
    (view,) = [o for o in outputs if WIDGET_VIEW in o.get("data", {})]
    fallback = view["data"]["text/html"]
    assert FORM_FALLBACK in fallback and "Orbit" not in fallback  # never a stale form
    (snap,) = [o for o in outputs if "lamina-snap-" in o.get("data", {}).get("text/html", "")]
    html = snap["data"]["text/html"]
    assert "Inputs of the last run:" in html and "Motion=Orbit" in html
    assert 'src="data:video/mp4;base64,' in html  # plays with no kernel and no sandbox
    assert ".jp-OutputArea-output.jupyter-widgets){display:none}" in html
    assert SECRET not in path.read_text()
    body, _ = HTMLExporter().from_notebook_node(saved)
    # nbconvert without widget state shows the fallback line and the snapshot, video included.
    assert FORM_FALLBACK in body and "data:video/mp4;base64," in body
    assert 'type="application/vnd.jupyter.widget-view+json"' not in body
    metadata = snap["metadata"]["lamina"]
    assert json.dumps(metadata) and len(metadata["executions"]) == 1
