"""%lamina grid in a real InteractiveShell against the sandbox: the price before the first run,
the confirmation above confirm_over (and its refusal where nothing can answer), reuse,
variants, resume after Ctrl-C, retrying failed cells, and the export."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from magics_support import fails, loaded_shell, magic, plain, run_cell, texts

from lamina_notebook.journal import Journal
from lamina_notebook.magics.display import Interrupted
from lamina_notebook.magics.grid import NotConfirmed
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import get_session
from lamina_notebook.session.grids import GridRun

GRID = 'grid "Text to Image" --x "Style=Anime,Watercolor" --y "Prompt=a fox|a lighthouse"'


@pytest.fixture
def shell(sandbox_env: Any) -> Iterator[InteractiveShell]:
    for ip in loaded_shell():
        # The test sandbox has no rate limit; neither need the client's budget (its polls
        # every 50 ms would otherwise make the grids wait for budget, not for runs).
        with capture_output():
            ip.run_line_magic("config", "LaminaMagics.rate_limit = 10000")
        yield ip


def created(sb: Any) -> int:
    return int(sb.stats.run_creations)


def test_a_grid_is_priced_then_filled_and_is_the_cells_value(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    before = created(sandbox_env)
    run, cap = magic(shell, f"{GRID} -o g")
    assert isinstance(run, GridRun) and shell.user_ns["g"] is run
    assert created(sandbox_env) == before + 4
    n = run.counts()
    assert n["cells"] == 4 and n["completed"] == 4
    # the price came first, as its own display: runs, credits, balance
    price = cap.outputs[0].data["text/plain"]
    assert price.startswith("4 cells: 4 new run(s).") and "Estimated 20 credits" in price
    assert "balance" in price
    # the finished grid is the value: every cell's picture embedded in one static card
    html = run._repr_mimebundle_()["text/html"]
    assert html.count("data:image/") == 4 and run.grid_id in html
    assert "a lighthouse" in html and "Watercolor" in html
    # the same grid again: every cell reused from the journal, nothing sent
    again, cap = magic(shell, GRID)
    assert created(sandbox_env) == before + 4
    assert again.counts()["reused"] == 4
    assert cap.outputs[0].data["text/plain"].startswith("4 cells: 0 new run(s), 4 reused")
    # one more prompt row costs two runs
    grown, _ = magic(
        shell,
        'grid "Text to Image" --x "Style=Anime,Watercolor" --y "Prompt=a fox|a lighthouse|a cat"',
    )
    assert created(sandbox_env) == before + 6 and grown.counts()["reused"] == 4


def test_variant_and_fresh_ask_for_new_samples(shell: InteractiveShell, sandbox_env: Any) -> None:
    line = 'grid "Text to Image" --x "Style=Anime,Watercolor" "Prompt=a red kite"'
    magic(shell, line)
    before = created(sandbox_env)
    magic(shell, line + " variant=1")
    assert created(sandbox_env) == before + 2
    magic(shell, line + " variant=1")  # sample 1 is journaled now: reused
    assert created(sandbox_env) == before + 2
    magic(shell, line + " --fresh")
    assert created(sandbox_env) == before + 4


def test_a_large_grid_is_refused_where_nobody_can_answer(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    """Under pytest stdin cannot be read (like a kernel without stdin): nothing starts, and
    the message names --yes and confirm_over."""
    assert get_session().settings.confirm_over == 10  # the default
    before = created(sandbox_env)
    exc, cap = fails(shell, 'grid "Text to Image" --x Style --y "Prompt=a fox|a lighthouse"')
    assert isinstance(exc, NotConfirmed) and created(sandbox_env) == before  # 12 > 10
    out = texts(cap)
    assert "12 cells: 12 new run(s)" in out  # the price was shown before the question
    assert "Start 12 runs (~60 credits)? [y/N]" in out
    assert "--yes" in out and "confirm_over = 12" in out and "Traceback" not in out
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.confirm_over = 2")
    assert get_session().settings.confirm_over == 2
    line = 'grid "Text to Image" --x "Style=Anime,Watercolor,Pixel Art" "Prompt=an owl"'
    fails(shell, line)
    assert created(sandbox_env) == before
    run, _ = magic(shell, line + " --yes")
    assert created(sandbox_env) == before + 3 and run.counts()["completed"] == 3
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.confirm_over = 3")
    magic(shell, 'grid "Text to Image" --x "Style=Anime,Watercolor,Pixel Art" "Prompt=a cat"')
    assert created(sandbox_env) == before + 6  # 3 runs, not over 3: no question
    # reused cells are free: not counted against the threshold
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.confirm_over = 1")
    magic(shell, 'grid "Text to Image" --x "Style=Anime,Watercolor,Neon Noir" "Prompt=a cat"')
    assert created(sandbox_env) == before + 7


_ASKED = """
import sys
from IPython.core.interactiveshell import InteractiveShell
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "lamina_notebook")
from lamina_notebook.session import get_session
get_session().configure(poll_interval=0.05, min_poll_interval=0.05)
ip.run_line_magic("config", "LaminaMagics.confirm_over = 2")
result = ip.run_cell('%lamina grid "Text to Image" --x "Style=Anime,Watercolor,Pixel Art" '
                     '"Prompt=' + sys.argv[1] + '"')
print("\\nVALUE", type(result.result).__name__, "ERROR", type(result.error_in_exec).__name__)
"""


@pytest.mark.parametrize(("answer", "starts"), [("y", 3), ("n", 0), ("", 0)])
def test_the_question_is_read_from_stdin(
    sandbox_env: Any, tmp_path: Path, answer: str, starts: int
) -> None:
    """A real stdin (a terminal IPython's, or a kernel's input box): y starts, anything
    else starts nothing, and either way the cell ends normally."""
    before = created(sandbox_env)
    proc = subprocess.run(
        [sys.executable, "-c", _ASKED, f"an owl {answer or 'blank'}"],
        input=answer + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    out = plain(proc.stdout)
    assert "Start 3 runs (~15 credits)? [y/N]" in out
    assert created(sandbox_env) == before + starts
    if starts:
        assert "VALUE GridRun ERROR NoneType" in out
    else:
        assert "Nothing was started." in out and "VALUE NoneType ERROR NoneType" in out


@pytest.fixture
def slow_grid(shell: InteractiveShell) -> Iterator[Sandbox]:
    """A sandbox whose Text to Image takes about 3 real seconds."""
    with Sandbox(time_scale=0.05, rate_limit=0, durations={"Text to Image": 60.0}) as sb:
        get_session().configure(base_url=sb.base_url)
        yield sb


def test_ctrl_c_stops_the_grid_its_runs_go_on_and_resume_watches_them(
    shell: InteractiveShell, slow_grid: Sandbox
) -> None:
    def interrupt_once_all_started() -> None:
        deadline = time.monotonic() + 30
        while slow_grid.stats.run_creations < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_all_started, daemon=True).start()
    result, cap = run_cell(shell, f"%lamina {GRID} -o g\nafter = 1")
    assert isinstance(result.error_in_exec, Interrupted)
    assert "after" not in shell.user_ns  # Run All stops here
    grid: GridRun = shell.user_ns["g"]
    out = plain(cap.stdout)
    assert out.count(f"%lamina grid --resume {grid.grid_id}") == 1 and "Traceback" not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: the grid's runs go on; see above")
    assert grid.counts()["completed"] < 4  # interrupted while the runs were going
    resumed, _ = magic(shell, f"grid --resume {grid.grid_id[:6]}")
    assert resumed.grid_id == grid.grid_id and resumed.counts()["completed"] == 4
    assert created(slow_grid) == 4  # watched to the end, none started again


def test_resume_starts_only_the_cells_that_never_started(
    shell: InteractiveShell, slow_grid: Sandbox
) -> None:
    """A grid stopped after its first cell started (one run at a time, through the Python
    API), picked up by %lamina grid --resume: one run watched, three started."""
    from lamina_notebook.grids import GridSpec, parse_axis, plan
    from lamina_notebook.session.grids import start_grid

    session = get_session()
    client = session.client
    app = session.run(client.resolve_app("Text to Image"))
    spec = GridSpec(
        app.app_id,
        app.name,
        parse_axis("Style=Anime,Watercolor", app),
        parse_axis("Prompt=a fox|a lighthouse", app),
    )
    grid = start_grid(
        session, plan(spec, app, client.journal, base_url=client.base_url), max_in_flight=1
    )
    deadline = time.monotonic() + 30
    while created(slow_grid) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    grid.stop()
    assert created(slow_grid) == 1
    # the start, once sent, completes and is journaled even though the grid stopped (a run
    # the service made is never lost); a later kernel finds it there
    journal = Journal(os.environ["LAMINA_JOURNAL"])
    while len(journal) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    resumed, cap = magic(shell, f"grid --resume {grid.grid_id}")
    assert cap.outputs[0].data["text/plain"].startswith("4 cells: 3 new run(s)")  # the price
    cells = [(c.label, c.status, c.error) for c in resumed.cells]
    assert resumed.counts()["completed"] == 4 and created(slow_grid) == 4, cells


def test_resume_retries_failed_cells_and_export_writes_one_page(
    shell: InteractiveShell, sandbox_env: Any, tmp_path: Path
) -> None:
    sandbox_env.configure(fail_rate=1.0)
    try:
        run, _ = magic(shell, 'grid "Text to Image" --x "Style=Anime,Oil Painting" Prompt=x')
    finally:
        sandbox_env.configure(fail_rate=0.0)
    assert run.counts()["failed"] == 2
    before = created(sandbox_env)
    again, _ = magic(shell, f"grid --resume {run.grid_id}")  # nothing missing: nothing runs
    assert created(sandbox_env) == before and again.counts()["failed"] == 2
    fixed, _ = magic(shell, f"grid --resume {run.grid_id} --retry-failed")
    assert created(sandbox_env) == before + 2 and fixed.counts()["completed"] == 2
    path, cap = magic(shell, f"export {run.grid_id[:5]} {tmp_path / 'grid.html'}")
    assert path == tmp_path / "grid.html" and "no kernel needed" in cap.stdout
    page = path.read_text(encoding="utf-8")
    assert page.count("data:image/") >= 2 and run.grid_id in page and "<script" not in page
    assert Journal(os.environ["LAMINA_JOURNAL"]).grid(run.grid_id) is not None


def test_an_unknown_or_ambiguous_grid_id(shell: InteractiveShell) -> None:
    _, cap = fails(shell, "grid --resume g-nope")
    assert "No grid in the journal" in texts(cap)
    magic(shell, 'grid "Text to Image" --x "Style=Anime" Prompt=one')
    magic(shell, 'grid "Text to Image" --x "Style=Anime" Prompt=two')
    _, cap = fails(shell, "grid --resume g-")
    assert "several grid ids" in texts(cap)


def test_no_wait_returns_the_grid_at_once_and_it_fills_on_its_own(
    shell: InteractiveShell, slow_grid: Sandbox
) -> None:
    run, _ = magic(shell, f"{GRID} --no-wait -o g")
    assert isinstance(run, GridRun) and shell.user_ns["g"] is run
    assert not run.done() and run.counts()["completed"] == 0  # each run takes about 3 s
    run.wait(timeout=60)
    assert run.counts()["completed"] == 4 and created(slow_grid) == 4
