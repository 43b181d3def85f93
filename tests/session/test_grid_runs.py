"""Grids against the sandbox: the price first, cells filled on the loop thread under the rate
budget, the grid journaled as one object, reuse, extend, retries, unconfirmed starts, resume
(also in a new process after SIGKILL) and export."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.grids import GridPlan, GridSpec, cell_key, parse_axis, plan
from lamina_notebook.journal import Journal
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.grids import Cost, GridRun, grid_cost, resume_grid, start_grid

STYLES = ["Photorealistic", "Watercolor", "Anime", "Pixel Art", "Oil Painting", "Neon Noir"]
PROMPTS = ["a fox in the snow", "a lighthouse in a storm at night", "a robot", "a city"]
FAST = 0.02


def session_for(sb: Sandbox, **settings: Any) -> Session:
    options: dict[str, Any] = {
        "api_key": sb.api_key,
        "base_url": sb.base_url,
        "poll_interval": 0.05,
        "min_poll_interval": 0.05,
        "rate_limit": 0,
        **settings,
    }
    return Session(Settings(**options))


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(time_scale=FAST, rate_limit=0) as box:
        yield box


@pytest.fixture
def session(sb: Sandbox) -> Iterator[Session]:
    s = session_for(sb)
    yield s
    s.close()


def grid_plan(session: Session, x: str, y: str | None = None, **kw: Any) -> GridPlan:
    client = session.client
    app = session.run(client.resolve_app("Text to Image"))
    spec = GridSpec(
        app.app_id,
        app.name,
        parse_axis(x, app),
        parse_axis(y, app) if y else None,
        fixed=kw.pop("fixed", {}),
    )
    return plan(spec, app, client.journal, base_url=client.base_url, **kw)


SIX_BY_FOUR = ("Style", "Prompt=" + "|".join(PROMPTS))


def test_a_six_by_four_grid_fills_on_the_loop_and_is_journaled_as_one_object(
    session: Session, sb: Sandbox
) -> None:
    p = grid_plan(session, *SIX_BY_FOUR)
    seen: list[tuple[str, str, str]] = []
    before = sb.stats.run_creations
    run = start_grid(
        session,
        p,
        on_cell=lambda c: seen.append((threading.current_thread().name, c.key, c.status)),
    )
    assert isinstance(run, GridRun)  # returned at once: the kernel stays free
    run.wait(timeout=120)
    assert run.error is None
    assert sb.stats.run_creations - before == 24
    assert [c.status for c in run.cells] == ["completed"] * 24
    assert {name for name, _, _ in seen} == {"lamina-loop"}
    finals = {key: status for _, key, status in seen}
    assert set(finals) == {c.key for c in p.cells} and set(finals.values()) == {"completed"}
    # the price came first: one run's estimate times 24 (auto picks /v1 on the sandbox)
    assert run.cost is not None and run.cost.runs == 24
    one = session.run(session.client.estimate(p.app, p.cells[0].inputs))
    assert run.cost.expected == 24 * one.expected
    # the grid as one object in the journal: spec + cell -> execution id, thumbnails stored
    journal = session.client.journal
    assert journal is not None
    record = journal.grid(p.grid_id)
    assert record is not None and GridSpec.from_json(record.spec) == p.spec
    assert record.spec["run"]["starting"] == {}  # every start confirmed
    cells = journal.grid_cells(p.grid_id)
    assert {k: v[0] for k, v in cells.items()} == {c.key: c.execution_id for c in run.cells}
    assert len({v[0] for v in cells.values()}) == 24 and not any(v[1] for v in cells.values())
    media = journal.media([v[0] for v in cells.values()])
    assert all(any(m.thumbnail for m in media[v[0]].values()) for v in cells.values())
    # the static copy embeds one thumbnail per cell
    bundle = run._repr_mimebundle_()
    srcs = re.findall(r'<img src="(data:image/[a-z]+;base64,[^"]+)"', bundle["text/html"])
    assert len(srcs) == 24
    assert "24 completed" in bundle["text/plain"]


def test_rerunning_costs_nothing_and_one_more_prompt_costs_six(
    session: Session, sb: Sandbox
) -> None:
    first = start_grid(session, grid_plan(session, *SIX_BY_FOUR), estimate=False).wait(120)
    created = sb.stats.run_creations
    again = grid_plan(session, *SIX_BY_FOUR)
    cost = grid_cost(session, again)
    assert (cost.runs, cost.reused, cost.expected) == (0, 24, None)
    assert not cost.needs_confirmation(0)
    rerun = start_grid(session, again, estimate=False).wait(60)
    assert sb.stats.run_creations == created  # 0 runs
    assert all(c.status == "completed" and c.reused for c in rerun.cells)
    assert [c.execution_id for c in rerun.cells] == [c.execution_id for c in first.cells]
    assert all(c.thumb is not None for c in rerun.cells)  # drawn from the journal
    assert "24 cell(s) reused" in rerun._repr_mimebundle_()["text/html"]

    rerun.extend(y=["a boat at dawn"]).wait(60)
    assert sb.stats.run_creations == created + 6  # one more prompt row: 6 runs
    assert len(rerun.cells) == 30 and all(c.status == "completed" for c in rerun.cells)
    journal = session.client.journal
    assert journal is not None and len(journal.grid_cells(rerun.grid_id)) == 30
    record = journal.grid(rerun.grid_id)
    assert record is not None and record.spec["y"]["values"][-1] == "a boat at dawn"


def test_the_rate_budget_holds_at_the_sandboxs_real_limit() -> None:
    # The sandbox's window and the client's period are compressed 10x alike (100 per 6 s
    # against 90 per 6 s): the same limits as 100 and 90 per minute, in a tenth of the time.
    with Sandbox(time_scale=FAST, rate_limit=100, rate_window=6.0) as box:
        s = session_for(box, rate_limit=90)
        try:
            s.client.budget.period = 6.0
            p = grid_plan(s, "Style", "Prompt=" + "|".join([*PROMPTS, "a boat", "a cat"]))
            run = start_grid(s, p, estimate=False).wait(180)
            assert [c.status for c in run.cells] == ["completed"] * 36
            assert box.stats.by_status[429] == 0
            assert box.stats.requests > 100  # the grid needed more than one window's worth
        finally:
            s.close()


def test_extend_then_retry_failed_reruns_only_the_failed_cells(
    session: Session, sb: Sandbox
) -> None:
    run = start_grid(session, grid_plan(session, "Style=Anime|Watercolor", "Prompt=a fox|a cat"))
    run.wait(60)
    before = sb.stats.run_creations
    sb.configure(fail_rate=1.0)
    try:
        run.extend(y=["an owl"]).wait(60)
    finally:
        sb.configure(fail_rate=0.0)
    failed = [c for c in run.cells if c.status == "failed"]
    assert [c.y for c in failed] == ["an owl", "an owl"]
    assert all("GPU worker crashed" in (c.error or "") for c in failed)
    assert sb.stats.run_creations == before + 2
    old = {c.key: c.execution_id for c in failed}
    run.retry_failed().wait(60)
    assert sb.stats.run_creations == before + 4  # only the two failed cells ran again
    assert all(c.status == "completed" for c in run.cells)
    journal = session.client.journal
    assert journal is not None
    cells = journal.grid_cells(run.grid_id)
    assert all(cells[k][0] != old[k] for k in old)  # the retry replaced the cell's run


def test_a_refused_start_sends_nothing_and_can_be_retried(session: Session, sb: Sandbox) -> None:
    p = grid_plan(session, "Style=Anime|Watercolor", fixed={"Prompt": "a fox"})
    sb.set_balance(0)
    try:
        cost = grid_cost(session, p)
        assert cost.affordable is False and cost.needs_confirmation(None)
        before = sb.stats.run_creations
        run = start_grid(session, p, estimate=False).wait(30)
        assert [c.status for c in run.cells] == ["rejected", "rejected"]
        assert "credits" in (run.cells[0].error or "").lower()
        assert sb.stats.run_creations == before
    finally:
        sb.set_balance(1_000_000)
    run.retry_failed().wait(30)
    assert [c.status for c in run.cells] == ["completed", "completed"]


def test_unconfirmed_starts_are_never_started_again_without_being_asked(
    session: Session, sb: Sandbox
) -> None:
    p = grid_plan(session, "Style=Anime|Watercolor", fixed={"Prompt": "lost answers"})
    before = sb.stats.run_creations
    sb.configure(drop_rate=1.0)  # the POST creates its run, then the connection drops
    try:
        run = start_grid(session, p, estimate=False).wait(30)
    finally:
        sb.configure(drop_rate=0.0)
    assert sb.stats.run_creations == before + 2  # they exist (and are billed)
    assert [c.status for c in run.cells] == ["unconfirmed", "unconfirmed"]
    assert all(c.execution_id and c.execution_id.startswith("unconfirmed-") for c in run.cells)
    assert "Start unconfirmed" in run._repr_mimebundle_()["text/html"]
    run.retry_failed().wait(30)  # failed cells only: these are not failed
    assert sb.stats.run_creations == before + 2
    # asked: two lost starts of one app at once cannot be told apart in the service's list,
    # so both are started again
    run.retry_unconfirmed().wait(30)
    assert sb.stats.run_creations == before + 4
    assert [c.status for c in run.cells] == ["completed", "completed"]


def test_a_lone_unconfirmed_start_is_found_at_the_service_not_run_again(
    session: Session, sb: Sandbox
) -> None:
    p = grid_plan(session, "Style=Anime", fixed={"Prompt": "one lost answer"})
    sb.configure(drop_rate=1.0)
    try:
        run = start_grid(session, p, estimate=False).wait(30)
    finally:
        sb.configure(drop_rate=0.0)
    created = sb.stats.run_creations
    assert run.cells[0].status == "unconfirmed"
    run.retry_unconfirmed().wait(30)
    assert sb.stats.run_creations == created  # the run it made was found: nothing new
    assert run.cells[0].status == "completed"
    assert not run.cells[0].execution_id.startswith("unconfirmed-")  # type: ignore[union-attr]


def test_stop_then_resume_in_another_session_runs_only_missing_cells(
    tmp_path: Path,
) -> None:
    with Sandbox(time_scale=FAST, rate_limit=0, durations={"Text to Image": 100.0}) as box:
        first = session_for(box)
        try:
            p = grid_plan(first, "Style=Anime|Watercolor", "Prompt=a fox|a cat")
            running = threading.Event()
            started: set[str] = set()

            def on_cell(cell: Any) -> None:
                if cell.execution_id:
                    started.add(cell.key)
                    if len(started) == 2:
                        running.set()

            run = start_grid(first, p, estimate=False, on_cell=on_cell, max_in_flight=2)
            assert running.wait(30)
            run.stop()  # the kernel stops watching; two runs go on at the service
            assert box.stats.run_creations == 2
        finally:
            first.close()
        second = session_for(box)
        try:
            again = resume_grid(second, p.grid_id)
            states = {c.key: c.status for c in again.cells}
            assert sorted(states.values()).count("waiting") <= 2
            assert all(states[k] in ("queued", "running", "completed") for k in started)
            again.wait(60)
            assert box.stats.run_creations == 4  # two watched, two started
            assert all(c.status == "completed" for c in again.cells)
        finally:
            second.close()


def test_resume_draws_from_the_journal_offline(session: Session, sb: Sandbox) -> None:
    done = start_grid(session, grid_plan(session, "Style=Anime|Watercolor", "Prompt=a fox|a cat"))
    done.wait(60)
    requests = sb.stats.requests
    offline = Session(Settings(api_key="lma_x", base_url="http://127.0.0.1:9", max_retries=0))
    try:
        again = resume_grid(offline, done.grid_id)
        assert again.error is not None  # the service could not be reached: nothing started
        assert [c.status for c in again.cells] == ["completed"] * 4
        assert [c.thumb for c in again.cells] == [c.thumb for c in done.cells]
        html = again._repr_mimebundle_()["text/html"]
        assert html.count("data:image/jpeg;base64,") == 4
    finally:
        offline.close()
    assert sb.stats.requests == requests


def test_resume_adopts_a_journaled_start_and_flags_a_lost_one(
    session: Session, sb: Sandbox
) -> None:
    """A kernel killed between a run's answer and the grid's record, and one killed while a
    POST was on its way: the first cell takes its journaled run, the second is unconfirmed."""
    done = start_grid(session, grid_plan(session, "Style=Anime|Watercolor", fixed={"Prompt": "x"}))
    done.wait(60)
    journal = session.client.journal
    assert journal is not None
    record = journal.grid(done.grid_id)
    assert record is not None
    first = journal.get(done.cells[0].execution_id or "")
    assert first is not None
    # the crashed grid's second column never ran: its POST was on its way when it died
    lost = cell_key("Pixel Art")
    crashed = {
        **record.spec,
        "x": {**record.spec["x"], "values": ["Anime", "Pixel Art"]},
        "run": {
            **record.spec["run"],
            "starting": {done.cells[0].key: first.created_at - 0.5, lost: time.time()},
        },
    }
    journal.save_grid("g-crashed", record.app_id, crashed)
    created = sb.stats.run_creations
    run = resume_grid(session, "g-crashed").wait(30)
    assert sb.stats.run_creations == created  # nothing started by resuming
    assert run.cells[0].status == "completed"
    assert run.cells[0].execution_id == first.execution_id
    assert run.cells[1].status == "unconfirmed" and "MAY" in (run.cells[1].error or "")
    assert journal.grid_cells("g-crashed") == {done.cells[0].key: (first.execution_id, False)}
    run.retry_unconfirmed().wait(30)
    assert sb.stats.run_creations == created + 1
    assert run.cells[1].status == "completed"
    assert journal.grid("g-crashed").spec["run"]["starting"] == {}  # type: ignore[union-attr]


def test_await_from_another_loop_and_export(session: Session, tmp_path: Path) -> None:
    run = start_grid(session, grid_plan(session, "Style=Anime|Watercolor", "Prompt=a fox|a cat"))

    async def kernel_cell() -> GridRun:
        return await run

    assert asyncio.run(kernel_cell()) is run and run.done()
    path = run.export(tmp_path / "out" / "fox-grid.html", full=True)
    page = path.read_text(encoding="utf-8")
    srcs = re.findall(r'src="([^"]+)"', page)
    assert len(srcs) == 4 and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert all(len(s) > 20_000 for s in srcs)  # full size, not the thumbnails
    assert all(c.execution_id in page for c in run.cells)  # type: ignore[operator]
    small = run.export(tmp_path / "thumbs.html").read_text(encoding="utf-8")
    assert small.count('src="data:image/jpeg;base64,') == 4 and len(small) < len(page)


def test_cost_needs_confirmation() -> None:
    priced = Cost(
        cells=24,
        runs=24,
        expected=120.0,
        minimum=120.0,
        maximum=144.0,
        balance=1000.0,
        affordable=True,
    )
    assert priced.needs_confirmation(100) and not priced.needs_confirmation(200)
    assert not priced.needs_confirmation(None)
    counted = Cost(cells=24, runs=24)
    assert counted.needs_confirmation(10) and not counted.needs_confirmation(24)
    assert Cost(cells=24, runs=24, affordable=False).needs_confirmation(None)
    assert not Cost(cells=24, runs=0, affordable=False).needs_confirmation(0)
    assert "24 cells: 24 new run(s)" in str(counted)
    assert "text/html" in priced._repr_mimebundle_()


CHILD = """
import sys
from lamina_notebook.grids import GridSpec, parse_axis, plan
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.grids import start_grid

s = Session(Settings(poll_interval=0.05, min_poll_interval=0.05, rate_limit=0))
client = s.client
app = s.run(client.resolve_app("Text to Image"))
spec = GridSpec(app.app_id, app.name, parse_axis("Style", app), parse_axis(sys.argv[1], app))
p = plan(spec, app, client.journal, base_url=client.base_url)
print("grid", p.grid_id, flush=True)
started = set()

def on_cell(cell):
    if cell.execution_id and cell.key not in started:
        started.add(cell.key)  # printed after the grid's record of the cell
        print("started", len(started), flush=True)

start_grid(s, p, estimate=False, on_cell=on_cell, max_in_flight=4).wait()
print("finished", flush=True)
"""


@pytest.mark.slow
def test_a_grid_killed_at_half_resumes_in_a_new_process_running_only_missing_cells(
    tmp_path: Path,
) -> None:
    # Runs take 2 s; four at a time, so starts come in bursts of four every 2 s: the process
    # is killed right after the third burst (12 of 24 cells), with 2 s to spare.
    with Sandbox(time_scale=FAST, rate_limit=0, durations={"Text to Image": 100.0}) as box:
        script = tmp_path / "grid_child.py"
        script.write_text(CHILD, encoding="utf-8")
        env = {**os.environ, "LAMINA_API_KEY": box.api_key, "LAMINA_BASE_URL": box.base_url}
        child = subprocess.Popen(
            [sys.executable, str(script), "Prompt=" + "|".join(PROMPTS)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        lines: list[str] = []
        try:
            assert child.stdout is not None
            deadline = time.monotonic() + 60
            while "started 12" not in lines and time.monotonic() < deadline:
                line = child.stdout.readline().strip()
                if not line:
                    break
                lines.append(line)
            os.kill(child.pid, signal.SIGKILL)  # no atexit, no finally
            child.wait(10)
        finally:
            if child.poll() is None:
                child.kill()
        assert "started 12" in lines, lines
        grid_id = lines[0].split()[1]
        created_by_first = box.stats.run_creations
        assert created_by_first == 12, created_by_first
        with Journal(os.environ["LAMINA_JOURNAL"]) as journal:
            assert len(journal.grid_cells(grid_id)) == 12  # every paid run is in the grid
        s = session_for(box)
        try:
            run = resume_grid(s, grid_id)
            in_flight = [c for c in run.cells if c.status in ("queued", "running")]
            assert in_flight, "the last four runs were still going: watched, not started"
            run.wait(120)
            assert [c.status for c in run.cells] == ["completed"] * 24
            assert box.stats.run_creations == 24  # only the 12 missing cells ran
            assert len({c.execution_id for c in run.cells}) == 24
            assert {c.key for c in run.cells} == {cell_key(x, y) for x in STYLES for y in PROMPTS}
        finally:
            s.close()


def test_a_live_display_redraws_in_place_and_ends_with_the_whole_grid(session: Session) -> None:
    from IPython.utils.capture import capture_output

    run = start_grid(session, grid_plan(session, "Style=Anime|Watercolor", "Prompt=a fox|a cat"))
    with capture_output() as cap:
        run.display(live=True)
        run.wait(60)
    outputs = cap.outputs
    assert not outputs[0].update and outputs[0].transient["display_id"]
    display_id = outputs[0].transient["display_id"]
    updates = outputs[1:]
    assert updates and all(o.update and o.transient["display_id"] == display_id for o in updates)
    final = updates[-1].data["text/html"]
    assert final.count("data:image/jpeg;base64,") == 4 and "4 completed" in final


def test_on_the_api_edition_the_price_is_the_run_count(sb: Sandbox) -> None:
    s = session_for(sb, api_edition="api")
    try:
        p = grid_plan(s, "Style=Anime|Watercolor|Pixel Art", fixed={"Prompt": "a fox"})
        estimates = sb.stats.estimates
        cost = grid_cost(s, p)
        assert sb.stats.estimates == estimates  # not offered: nothing asked
        assert (cost.runs, cost.expected, cost.affordable) == (3, None, None)
        assert "gives no credit estimate: the price is 3 run(s)" in cost.basis
        assert cost.needs_confirmation(2) and not cost.needs_confirmation(3)
        run = start_grid(s, p).wait(60)
        assert [c.status for c in run.cells] == ["completed"] * 3
    finally:
        s.close()
