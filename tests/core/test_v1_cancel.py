"""Cancelling runs at the service (``POST /v1/runs/{id}/cancel``) while queued, while running and
after completion, proven by the sandbox's own counters: outputs produced, credits spent.

Timings (the cancel's round trip, and whether any output was produced after it returned) are
printed for the log, never asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from client_support import fast_client

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import UnconfirmedRunError
from lamina_notebook.models import Execution
from lamina_notebook.sandbox import Sandbox

GARMENT = "https://example.com/shirt.jpg"
SHOOT = "Model Photoshoot"  # three outputs, 15 server seconds: 0.7, 1.2 and 1.7 s at 0.1
SHOOT_INPUTS = {"Garment": GARMENT, "Background": "white studio"}


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """A sandbox at a tenth of real time, so a run is queued and running long enough to act."""
    with Sandbox(time_scale=0.1, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def sb(slow: Sandbox) -> Iterator[Sandbox]:
    slow.configure(queue_seconds=None)
    yield slow
    slow.configure(queue_seconds=None)


def client(sb: Sandbox, **kw: Any) -> LaminaClient:
    return fast_client(sb, api_edition="v1", **kw)


async def until(check: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("the sandbox never reached the expected state")
        await asyncio.sleep(0.005)


async def watch_outputs(sb: Sandbox, run_id: str, seconds: float) -> list[float]:
    """Moments (s after the call) at which the run's produced-output count went up."""
    started = time.monotonic()
    seen = sb.outputs_produced(run_id)
    rises: list[float] = []
    while time.monotonic() - started < seconds:
        await asyncio.sleep(0.01)
        now = sb.outputs_produced(run_id)
        if now > seen:
            rises.append(time.monotonic() - started)
            seen = now
    return rises


def report(what: str, round_trip: float, rises: list[float], produced: int) -> None:
    after = "none" if not rises else ", ".join(f"{r * 1000:.0f} ms" for r in rises)
    print(
        f"\n[cancel] {what}: cancel() round trip {round_trip * 1000:.1f} ms (POST + GET); "
        f"outputs produced in all {produced}; produced after cancel() returned: {after}"
    )


def test_cancel_while_queued_produces_nothing_and_spends_nothing(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.configure(queue_seconds=30.0)  # 3 s of real time in the queue

    async def main() -> tuple[Execution, float, list[float]]:
        async with client(sb) as c:
            run = await c.run(SHOOT, SHOOT_INPUTS)
            assert (await c.get_execution(run.execution_id)).status == "queued"
            spent = sb.stats.credits_spent
            started = time.perf_counter()
            state = await c.cancel(run)
            took = time.perf_counter() - started
            rises = await watch_outputs(sb, run.execution_id, 3.5)
            assert sb.stats.credits_spent == spent
            assert c.journal is not None
            entry = c.journal.get(run.execution_id)
            assert entry is not None and entry.status == "cancelled"
            return state, took, rises

    state, took, rises = asyncio.run(main())
    assert state.status == "cancelled" and state.app_name == SHOOT
    assert [o.status for o in state.outputs] == ["cancelled"] * 3
    assert state.started_at is None
    assert rises == [] and sb.outputs_produced(state.execution_id) == 0
    with capsys.disabled():
        report("while queued", took, rises, 0)


def test_cancel_while_running_stops_the_outputs_still_to_come(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main() -> tuple[Execution, float, list[float]]:
        async with client(sb) as c:
            run = await c.run(SHOOT, SHOOT_INPUTS)
            await until(lambda: sb.outputs_produced(run.execution_id) >= 1)
            started = time.perf_counter()
            state = await c.cancel(run.execution_id)
            took = time.perf_counter() - started
            rises = await watch_outputs(sb, run.execution_id, 2.0)  # past the planned end
            return state, took, rises

    state, took, rises = asyncio.run(main())
    produced = sb.outputs_produced(state.execution_id)
    assert state.status == "cancelled" and state.is_terminal
    assert rises == [] and produced in (1, 2)  # the second may land while the POST travels
    statuses = [o.status for o in state.outputs]
    assert statuses.count("completed") == produced
    assert statuses.count("cancelled") == 3 - produced
    with capsys.disabled():
        report("while running", took, rises, produced)


def test_cancel_after_completion_answers_the_final_state(
    sb: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    async def main() -> tuple[Execution, Execution, float]:
        async with client(sb) as c:
            run = await c.run(SHOOT, SHOOT_INPUTS)
            done = await c.wait(run)
            cancels = sb.stats.cancellations
            started = time.perf_counter()
            state = await c.cancel(done)
            took = time.perf_counter() - started
            assert sb.stats.cancellations == cancels  # nothing was cancelled
            return done, state, took

    done, state, took = asyncio.run(main())
    assert done.is_completed and state.status == "completed"
    assert [o.status for o in state.outputs] == ["completed"] * 3
    assert sb.outputs_produced(state.execution_id) == 3
    with capsys.disabled():
        report("after completion", took, [], 3)


def test_a_wait_in_progress_ends_when_the_run_is_cancelled(sb: Sandbox) -> None:
    """Someone waits on the run (polling every 30 s, no long-poll): the cancel's answer ends
    that wait at once instead of 30 s later."""

    async def main() -> Execution:
        async with client(sb, poll_interval=30.0, max_long_polls=0) as c:
            run = await c.run(SHOOT, SHOOT_INPUTS)
            waiter = asyncio.ensure_future(c.wait(run))
            await asyncio.sleep(0.05)
            await c.cancel(run)
            return await asyncio.wait_for(waiter, 2.0)

    assert asyncio.run(main()).status == "cancelled"


def test_an_unconfirmed_local_id_cannot_be_cancelled(sb: Sandbox) -> None:
    async def main() -> None:
        async with client(sb) as c:
            before = sb.stats.requests
            with pytest.raises(UnconfirmedRunError):
                await c.cancel("unconfirmed-0b7a3c1e-0000-4000-8000-000000000000")
            assert sb.stats.requests == before

    asyncio.run(main())
