"""The rate budget (token bucket, pauses on 429) and the shared poller (fair, one task), plus the
end-to-end proof: 30 concurrent runs against the sandbox's real rate limit, no 429 to the caller.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import NotFoundError, ServerError
from lamina_notebook.models import Execution
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.scheduling import Poller, RateBudget, backoff_delay, change_key


class FakeTime:
    """A clock that only moves when the budget sleeps: token arithmetic without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.stamps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def fake_budget(
    rate: float, period: float, burst: int | None = None
) -> tuple[RateBudget, FakeTime]:
    t = FakeTime()
    return RateBudget(rate, period, burst=burst, clock=t.clock, sleep=t.sleep), t


def test_budget_allows_a_burst_then_the_steady_rate() -> None:
    budget, t = fake_budget(60, 60.0, burst=5)

    async def main() -> None:
        for _ in range(25):
            await budget.acquire()
            t.stamps.append(t.now)
            budget.release()  # answered at once

    asyncio.run(main())
    assert t.stamps[:5] == [1000.0] * 5
    assert t.stamps[-1] == pytest.approx(1020.0)  # 20 more tokens at 1 per second
    assert budget.acquired == 25


def busiest_window(stamps: list[float], period: float) -> int:
    """The most sends in any half-open ``[s, s + period)`` (the service's windows are half-open;
    the busiest one starts at a send, so checking those starts checks every window)."""
    ordered = sorted(stamps)
    return max(bisect.bisect_left(ordered, s + period) - i for i, s in enumerate(ordered))


def test_at_most_rate_arrivals_in_any_rolling_window() -> None:
    """Requests are wanted faster than the budget allows, at random times, and each reaches
    the service at a random moment before its answer (the clock moves on its own, as a real
    one does): no period-long window ever holds more than ``rate`` arrivals, and the budget
    does use all of it."""
    budget, t = fake_budget(90, 60.0)  # the client's defaults
    rng = random.Random(11)
    arrivals: list[float] = []

    async def main() -> None:
        for _ in range(400):
            t.now += rng.expovariate(1 / 0.1)  # ~5 requests/s wanted, 1.5/s allowed
            await budget.acquire()
            t.stamps.append(t.now)
            latency = rng.uniform(0.0, 0.2)
            arrivals.append(t.now + rng.uniform(0.0, latency))
            t.now += latency
            budget.release()

    asyncio.run(main())
    assert busiest_window(arrivals, 60.0) == 90
    assert t.stamps[-1] - t.stamps[0] >= (400 / 90 - 1) * 60.0  # it really was held back


def test_a_slot_frees_exactly_one_period_after_its_request() -> None:
    """Requests answered at once free their slots at ``sent + period``: not a moment earlier,
    not a moment later."""
    budget, t = fake_budget(3, 10.0)

    async def main() -> None:
        for gap in (0.0, 2.0, 2.0):  # sends at 1000, 1002 and 1004
            t.now += gap
            await budget.acquire()
            budget.release()
        t.now = 1005.0  # half a period after the first send: still full
        assert budget.available == 0
        t.now = 1009.999
        assert budget.available == 0
        await budget.acquire()  # waits for the 1000 slot, exactly
        assert t.now == pytest.approx(1010.0, abs=1e-9)
        t.now = 1011.999
        assert budget.available == 0
        t.now = 1012.0  # the 1002 slot, the moment its period is over
        assert budget.available == 1
        t.now = 1014.0  # and the 1004 one
        assert budget.available == 2

    asyncio.run(main())
    assert budget.acquired == 4


def test_the_default_budget_stays_under_the_services_100_per_minute() -> None:
    """Every default that sets the client's budget: the client's own, the session's and the
    magic's ``%config`` trait (the service allows 100 requests per minute)."""
    from lamina_notebook.magics.magic import LaminaMagics
    from lamina_notebook.session.session import Settings

    def per_minute(budget: RateBudget) -> float:
        return budget.rate * 60.0 / budget.period

    client = LaminaClient("lma_test", "http://127.0.0.1:9", journal=None)
    assert 0 < per_minute(client.budget) < 100
    assert 0 < per_minute(RateBudget()) < 100
    assert 0 < Settings().rate_limit < 100
    assert 0 < LaminaMagics.class_traits()["rate_limit"].default_value < 100
    session_client = LaminaClient(
        "lma_test", "http://127.0.0.1:9", journal=None, rate_limit=Settings().rate_limit
    )  # what the session builds: its rate, the client's period
    assert 0 < per_minute(session_client.budget) < 100


def test_a_slot_is_held_until_one_period_after_its_answer() -> None:
    """The service counts a request when it arrives, some time after the budget let it out; a
    slot is therefore held while the request is under way and for one period after it ended,
    so a slow request can never let the next one arrive within the same period."""
    budget, t = fake_budget(2, 10.0)

    async def main() -> None:
        await budget.acquire()  # a slow one: its answer comes at 1003
        await budget.acquire()
        budget.release()  # a quick one: answered at once, at 1000
        t.now = 1003.0
        budget.release()
        t.now = 1009.999
        assert budget.available == 0
        await budget.acquire()  # the quick one's slot, exactly one period after its answer
        assert t.now == pytest.approx(1010.0, abs=1e-9)
        budget.release()
        t.now = 1012.999
        assert budget.available == 0
        t.now = 1013.0  # the slow one's, one period after its answer (not after its send)
        assert budget.available == 1
        await budget.acquire()
        t.now = 2000.0  # a request under way holds its slot however long it takes
        assert budget.available == 1
        budget.refund()  # one that was never sent gives its slot straight back
        assert budget.available == 2

    asyncio.run(main())


def test_a_waiter_gets_the_slot_of_a_request_that_ends_later() -> None:
    """With every slot held by requests under way, a waiter waits for one to end, then for the
    period after it (nothing to count down before that)."""
    budget, t = fake_budget(1, 10.0)
    got: list[float] = []

    async def waiter() -> None:
        await budget.acquire()
        got.append(t.now)

    async def main() -> None:
        await budget.acquire()
        task = asyncio.create_task(waiter())
        for _ in range(5):
            await asyncio.sleep(0)
        assert got == []  # nothing ended: nothing to wait out yet
        t.now = 1004.0
        budget.release()
        await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert got == [pytest.approx(1014.0, abs=1e-9)]


def test_pause_stops_everyone_until_retry_after() -> None:
    budget, t = fake_budget(60, 60.0, burst=5)

    async def main() -> None:
        await budget.acquire()
        budget.pause(30)
        assert budget.available == 0
        await budget.acquire()
        t.stamps.append(t.now)

    asyncio.run(main())
    assert t.stamps == [pytest.approx(1031.0)]  # 30 s pause, then an empty bucket refills 1 s
    assert budget.pauses == 1


def test_waiters_are_served_in_arrival_order() -> None:
    budget, _ = fake_budget(10, 1.0, burst=1)
    order: list[int] = []

    async def take(i: int) -> None:
        await budget.acquire()
        order.append(i)

    async def main() -> None:
        await asyncio.gather(*(take(i) for i in range(8)))

    asyncio.run(main())
    assert order == list(range(8))


def test_zero_rate_means_unlimited_and_refund_returns_a_token() -> None:
    free, _ = fake_budget(0, 60.0)
    assert free.unlimited and free.available == float("inf")
    assert free.min_interval(100, 0.8) == 0.0
    budget, _ = fake_budget(60, 60.0, burst=2)

    async def main() -> None:
        await budget.acquire()
        await budget.acquire()
        assert budget.available < 1
        budget.refund()
        assert budget.available >= 1

    asyncio.run(main())
    with pytest.raises(ValueError):
        RateBudget(-1)


def test_min_interval_spreads_polls_over_the_budget_share() -> None:
    budget, _ = fake_budget(90, 60.0)
    # 30 runs on 80 % of 1.5 requests/s: each polled every 25 s, not every 3 s.
    assert budget.min_interval(30, 0.8) == pytest.approx(25.0)
    assert budget.min_interval(0, 0.8) == 0.0


def test_backoff_is_capped_and_jittered() -> None:
    delays = [backoff_delay(a, 0.5, 4.0) for a in range(10) for _ in range(20)]
    assert all(0.0 <= d <= 4.0 for d in delays)
    assert all(d <= 1.0 for d in (backoff_delay(1, 0.5, 4.0) for _ in range(50)))
    assert len(set(delays)) > 100  # full jitter, not a fixed schedule


# -- the poller, with an in-memory fetch (the scheduling logic alone) ---------------------------


def execution(eid: str, status: str = "running", done: int = 0) -> Execution:
    return Execution.from_json(
        {
            "executionId": eid,
            "status": status,
            "outputs": [
                {
                    "id": "o",
                    "label": "Image",
                    "type": "image" if done else "pending",
                    "value": "http://x/a.png?sig=1" if done else None,
                    "status": "completed" if done else "pending",
                }
            ],
        }
    )


def test_poller_is_fair_when_the_budget_is_short() -> None:
    polls: Counter[str] = Counter()

    budget = RateBudget(200, 1.0, burst=1)

    async def fetch(eid: str) -> Execution:
        polls[eid] += 1
        budget.release()  # the poller's token: this "GET" is over
        return execution(eid)

    async def main() -> None:
        poller = Poller(fetch, budget)
        watches = [poller.watch(f"e{i}", 0.001) for i in range(10)]
        deadline = time.monotonic() + 30
        while min(polls.get(f"e{i}", 0) for i in range(10)) < 4:
            if time.monotonic() > deadline:
                pytest.fail(f"10 watches polled 4 times each not reached in 30 s: {dict(polls)}")
            await asyncio.sleep(0.01)
            assert max(polls.values()) - min(polls.get(f"e{i}", 0) for i in range(10)) <= 1
        for w in watches:
            w.close()
        assert poller.active == 0
        await poller.aclose()

    asyncio.run(main())


def test_a_run_left_alone_is_polled_at_the_spacing_of_the_runs_still_watched() -> None:
    """A grid's last runs: polled while 40 were watched, a run's next poll was due one
    40-run spacing later (5 s here) and kept that date after the other 39 ended, so the
    end of the grid was seen seconds late; it now moves up to the spacing of those left."""
    budget = RateBudget(100, 10.0)  # 40 watched: 5 s apart each; one left: 0.125 s
    polled: dict[str, list[float]] = {}

    async def fetch(eid: str) -> Execution:
        budget.release()
        polled.setdefault(eid, []).append(time.monotonic())
        if eid == "slow":
            return execution(eid, "running" if len(polled[eid]) == 1 else "completed")
        await asyncio.sleep(0.1)  # the others end after "slow" was answered, within ~0.5 s
        return execution(eid, "completed", done=1)

    async def main() -> None:
        poller = Poller(fetch, budget)
        watches = [poller.watch("slow", 0.01)]
        watches += [poller.watch(f"e{i}", 0.01) for i in range(39)]
        assert poller._min_interval(40) == pytest.approx(5.0)
        deadline = time.monotonic() + 30
        while len(polled.get("slow", [])) < 2:
            assert time.monotonic() < deadline, polled.get("slow")
            await asyncio.sleep(0.01)
        first, second = polled["slow"]
        assert second - first < 2.5, "polled at the spacing of 40 runs, though 39 had ended"
        for w in watches:
            w.close()
        await poller.aclose()

    asyncio.run(main())


def test_poller_reports_changes_only_and_ends_on_terminal() -> None:
    script = ["queued", "queued", "running", "running", "completed"]
    changes: list[str] = []

    async def fetch(eid: str) -> Execution:
        status = script.pop(0)
        return execution(eid, status, done=status == "completed")

    async def main() -> list[str]:
        poller = Poller(fetch, RateBudget(0), on_change=lambda e: changes.append(e.status))
        w = poller.watch("e1", 0.001)
        seen = []
        while not seen or seen[-1] != "completed":
            seen.append((await w.next(timeout=5)).status)
        await poller.aclose()
        return seen

    assert asyncio.run(main()) == ["queued", "running", "completed"] == changes
    assert script == []


def test_signed_url_churn_is_not_a_change() -> None:
    a = execution("e", "completed", done=1)
    b = Execution.from_json(
        {**a.raw, "outputs": [{**a.outputs[0].raw, "value": "http://x/a.png?sig=2"}]}
    )
    assert change_key(a) == change_key(b)


def test_a_delivered_terminal_state_ends_the_watch_without_polling() -> None:
    polls: list[str] = []

    async def fetch(eid: str) -> Execution:
        polls.append(eid)
        return execution(eid)

    async def main() -> None:
        poller = Poller(fetch, RateBudget(0))
        w = poller.watch(
            "e1", 60.0, initial=execution("e1", "queued"), first_poll_in=60.0, webhook=True
        )
        assert (await w.next(timeout=5)).status == "queued"
        poller.deliver(execution("e1", "completed", done=1))
        assert (await w.next(timeout=5)).status == "completed"
        assert poller.active == 0
        # A delivery that arrives before anyone watches is remembered.
        poller.deliver(execution("e2", "failed"))
        early = poller.watch("e2", 60.0)
        assert (await early.next(timeout=5)).status == "failed"
        await poller.aclose()

    asyncio.run(main())
    assert polls == []


def test_an_early_delivery_is_amended_before_anyone_watches_it() -> None:
    async def fetch(eid: str) -> Execution:
        raise AssertionError("a delivered terminal state needs no poll")

    async def main() -> None:
        poller = Poller(fetch, RateBudget(0))
        assert poller.amend_delivered("e1", lambda e: e.with_app("a1", "App")) is None
        poller.deliver(execution("e1", "completed", done=1))  # before its POST reply was read
        amended = poller.amend_delivered("e1", lambda e: e.with_app("a1", "App"))
        assert amended is not None and amended.app_name == "App"
        got = await poller.watch("e1", 60.0).next(timeout=5)
        assert (got.status, got.app_id, got.app_name) == ("completed", "a1", "App")
        await poller.aclose()

    asyncio.run(main())


def test_transient_errors_back_off_then_surface() -> None:
    calls: list[str] = []

    async def fetch(eid: str) -> Execution:
        calls.append(eid)
        raise ServerError("boom", status_code=503)

    async def main() -> None:
        poller = Poller(fetch, RateBudget(0), max_failures=3, max_backoff=0.01)
        w = poller.watch("e1", 0.001)
        with pytest.raises(ServerError):
            await w.next(timeout=5)
        assert poller.active == 0
        await poller.aclose()

    asyncio.run(main())
    assert len(calls) == 3


def test_permanent_errors_surface_at_once() -> None:
    async def fetch(eid: str) -> Execution:
        raise NotFoundError("gone", status_code=404)

    async def main() -> None:
        poller = Poller(fetch, RateBudget(0))
        w = poller.watch("e1", 0.001)
        with pytest.raises(NotFoundError):
            await w.next(timeout=5)
        await poller.aclose()

    asyncio.run(main())


def test_closing_the_poller_tells_waiters_the_run_goes_on() -> None:
    async def fetch(eid: str) -> Execution:
        return execution(eid)

    async def main() -> None:
        poller = Poller(fetch, RateBudget(0))
        w = poller.watch("e1", 10.0, initial=execution("e1"), first_poll_in=10.0)
        await w.next(timeout=5)
        await poller.aclose()
        with pytest.raises(Exception, match="closed while waiting") as info:
            await w.next(timeout=5)
        assert "resume" in str(info.value)

    asyncio.run(main())


# -- end to end: the real rate limit -----------------------------------------------------------
#
# Each test runs the same workload twice against the sandbox's real limit (100 per window, the
# service's minute compressed): once with the client's default budget, once with rate_limit=0.
# Nothing else differs, so the "off" run proves the workload needs the budget and the default
# run proves the budget keeps it under the limit.

# The service's 60 s window compressed 12x. Not more: the client's 90-of-100 margin absorbs
# latency jitter of up to a ninth of the window (6.7 s at full scale), and a loaded test machine
# can stall a request for a few hundred milliseconds (at 2 s, one run in 15 saw a 429).
WINDOW = 5.0
SAME_OPTIONS: dict[str, Any] = {
    "rate_period": WINDOW,  # the client's default rate per (compressed) minute
    "poll_interval": 0.15,
    "min_poll_interval": 0.01,
    "retry_backoff": 0.01,
    "retry_backoff_cap": 0.05,
    "max_retries": 30,  # the "off" run must absorb its 429s, not give up
    "journal": None,
}
BUDGETS: dict[str, dict[str, Any]] = {"default": {}, "off": {"rate_limit": 0}}


def check_budget(budget: str, sb: Sandbox, what: str, wall: float) -> None:
    """The verdict of one run of a workload, printed for the log."""
    refused = sb.stats.by_status.get(429, 0)
    print(
        f"[rate] {what}, budget {budget}, limit 100/{WINDOW:g}s: "
        f"requests={sb.stats.requests} server_429s={refused} wall={wall:.2f}s"
    )
    if budget == "off":
        assert refused > 0, "the workload never hit the limit: it cannot show the budget works"
    else:
        assert refused == 0, f"the default budget let {refused} requests hit the 429 limit"


@pytest.mark.parametrize("budget", BUDGETS)
def test_a_stream_of_reads_over_several_windows_needs_the_budget(budget: str) -> None:
    """200 reads from 20 workers as fast as answers come: more than the limit allows in a
    window, spread over three windows at the default rate (its rolling expiry at work)."""
    with Sandbox(time_scale=0.05, rate_limit=100, rate_window=WINDOW) as sb:

        async def main() -> int:
            async with LaminaClient(
                sb.api_key, sb.base_url, **SAME_OPTIONS, **BUDGETS[budget]
            ) as c:

                async def reader() -> int:
                    return sum([len(await c.list_apps()) > 0 for _ in range(10)])

                return sum(await asyncio.gather(*(reader() for _ in range(20))))

        started = time.monotonic()
        answered = asyncio.run(main())
        assert answered == 200  # every read got its answer: no 429 reached the caller
        check_budget(budget, sb, "200 reads", time.monotonic() - started)


@pytest.mark.parametrize("budget", BUDGETS)
def test_thirty_runs_and_their_polls_need_the_budget(budget: str) -> None:
    """30 concurrent runs of 6 s each, polled every 0.15 s: without the budget (and the poll
    spacing derived from it) the polls exceed the limit; with it, no 429. Either way each run
    is created once and no 429 reaches the caller."""
    with Sandbox(time_scale=1.0, rate_limit=100, rate_window=WINDOW) as sb:

        async def main() -> list[Execution]:
            async with LaminaClient(
                sb.api_key, sb.base_url, **SAME_OPTIONS, **BUDGETS[budget]
            ) as c:
                app = await c.resolve_app("Text to Image")

                async def one(i: int) -> Execution:
                    run = await c.run(app, {"Prompt": f"lighthouse number {i}"})
                    return await c.wait(run, check=True)

                return await asyncio.gather(*(one(i) for i in range(30)))

        started = time.monotonic()
        finals = asyncio.run(main())
        assert len({f.execution_id for f in finals}) == 30
        assert all(f.is_completed for f in finals)
        assert sb.stats.run_creations == 30  # a refused POST created nothing: no duplicate
        check_budget(budget, sb, "30 runs", time.monotonic() - started)


class SlowFirstRequests(httpx.AsyncBaseTransport):
    """Real HTTP, but the first ``count`` requests spend ``delay`` seconds on their way after the
    budget let them out (cold connections, a slow network); the rest go straight through."""

    def __init__(self, count: int, delay: float) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.count = count
        self.delay = delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.count > 0:
            self.count -= 1
            await asyncio.sleep(self.delay)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_requests_that_arrive_late_do_not_crowd_the_services_next_window() -> None:
    """The service counts a request when it arrives. The first 20 reads arrive 0.4 s after the
    budget let them out, later ones at once: a slot counted from the send would free 0.4 s too
    early, and the next window's first 20 reads would land in the service's current one, 10
    over its 100. Counted until one period after the answer, none does."""
    with Sandbox(time_scale=0.05, rate_limit=100, rate_window=WINDOW) as sb:

        async def main() -> None:
            seam = SlowFirstRequests(20, 0.4)
            async with LaminaClient(sb.api_key, sb.base_url, **SAME_OPTIONS, transport=seam) as c:

                async def reader() -> None:
                    for _ in range(6):
                        await c.list_apps()

                await asyncio.gather(*(reader() for _ in range(20)))  # 120 reads

        started = time.monotonic()
        asyncio.run(main())
        check_budget("default", sb, "120 reads, the first 20 late", time.monotonic() - started)
