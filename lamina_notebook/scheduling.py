"""The client-wide rate budget (a rolling window every request goes through) and the shared poller
that watches all active executions with one task instead of one loop per run (with the
service's long-poll, ``GET /v1/runs/{id}/wait``, for a few of them where the edition has it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    APIError,
    InvalidResponseError,
    LaminaError,
    RateLimitError,
    ServerError,
    TransportError,
    resume_hint,
)
from .models import Execution

__all__ = [
    "LONG_POLLS",
    "LONG_POLL_MAX",
    "Poller",
    "RateBudget",
    "Watch",
    "backoff_delay",
    "change_key",
]

log = logging.getLogger(__name__)

#: Errors after which polling the same execution again may well succeed.
TRANSIENT_ERRORS = (TransportError, ServerError, RateLimitError, InvalidResponseError)
#: The longest the service holds a long-poll (``?timeout=``, seconds), and the shortest we ask.
LONG_POLL_MAX = 120.0
LONG_POLL_MIN = 1.0
#: How many runs are long-polled at once; the others are polled (see :class:`Poller`).
#: Measured (``tests/core/test_v1_runs.py``, 24 runs of ~7 s under the default budget):
#: polling alone saw each end about 10 s late (median; the budget stretches 24 runs' polls to
#: one per 20 s) with 31-32 requests; long-polls saw them within 0.1 s with 24. Long-polls are
#: better for many runs too, but each holds a budget slot while the service holds it, so
#: their number is capped: 16 keep at most about a third of the 90-a-minute budget (a slot
#: lasts one period past its answer), leaving the rest for starts and other calls.
LONG_POLLS = 16


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Capped exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)].

    Full jitter spreads the retries of many clients (or many runs) that failed together.
    """
    return random.uniform(0.0, min(cap, base * (2.0**attempt)))


class RateBudget:
    """An async request budget shared by every request of one client: a rolling window.

    At most ``rate`` requests in any ``period``-long interval (the default 90 per 60 s keeps
    every window of the service, fixed or sliding, under its 100 with room for clock skew and
    latency jitter), yet a batch may start at once: 48 run starts go out together instead of
    trickling out at the steady rate.

    The service counts a request when it *arrives*, which is some time after it was let out
    (a new connection, a slow network), and the delay differs from request to request. So a
    request holds its slot from :meth:`acquire` until one ``period`` after it ended
    (:meth:`release`, called once its answer is in or it failed): a request let out later
    then always arrives more than a period after any earlier one whose slot it took, however
    long each was under way. Every :meth:`acquire` is followed by one :meth:`release`, or by
    :meth:`refund` if nothing was sent.

    An optional ``burst`` adds a token bucket on top (at most ``burst`` back-to-back requests,
    refilled at ``rate/period``) for services that smooth. ``clock``/``sleep`` are seams for
    deterministic tests. Waiters are served first come, first served. ``pause(seconds)`` (after
    a 429) stops everyone until the server's Retry-After. ``rate=0`` means no limit.
    """

    def __init__(
        self,
        rate: float = 90,
        period: float = 60.0,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate < 0 or period <= 0:
            raise ValueError("rate must be >= 0 and period > 0")
        if burst is not None and burst < 1:
            raise ValueError("burst must be >= 1 (or None for no token bucket)")
        self.rate = rate
        self.period = period
        self.capacity = float(burst) if burst is not None else None
        self._clock = clock
        self._sleep = sleep
        self._ended: deque[float] = deque()  # when each request of the last period ended
        self._open = 0  # let out and not ended yet: each holds a slot until it ends
        self._tokens = self.capacity or 0.0
        self._updated = clock()
        self._paused_until = 0.0
        self._lock: asyncio.Lock | None = None
        self._freed: asyncio.Event | None = None  # set when an open request ends or is refunded
        self.acquired = 0
        self.pauses = 0

    def __repr__(self) -> str:
        burst = "" if self.capacity is None else f", burst={self.capacity:g}"
        return f"RateBudget(rate={self.rate:g}, period={self.period:g}{burst})"

    @property
    def per_second(self) -> float:
        return self.rate / self.period

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def _refill(self, now: float) -> None:
        while self._ended and self._ended[0] <= now - self.period:
            self._ended.popleft()
        if self.capacity is not None:
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.capacity, self._tokens + elapsed * self.per_second)
        self._updated = now

    def _wait_needed(self, now: float) -> float | None:
        """Seconds until one more request may go (0: now; None: not before one under way ends)."""
        window = 0.0
        if len(self._ended) + self._open >= self.rate:
            if not self._ended:
                return None
            window = self._ended[0] + self.period - now
        bucket = 0.0
        if self.capacity is not None and self._tokens < 1.0 - 1e-9:  # float slack: no spin
            bucket = (1.0 - self._tokens) / self.per_second
        return max(window, bucket, 0.0)

    @property
    def available(self) -> float:
        """Requests that may go right now (0 while paused)."""
        if self.unlimited:
            return float("inf")
        now = self._clock()
        if now < self._paused_until:
            return 0.0
        self._refill(now)
        free = max(0.0, self.rate - len(self._ended) - self._open)
        return free if self.capacity is None else min(free, self._tokens)

    async def acquire(self) -> None:
        """Wait until one more request fits the budget (FIFO among waiters); it then holds a
        slot until :meth:`release` (or :meth:`refund`)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                if self.unlimited:
                    break
                self._refill(now)
                wait = self._wait_needed(now)
                if wait is None:
                    await self._next_freed()
                    continue
                if wait <= 0.0:
                    self._open += 1
                    if self.capacity is not None:
                        self._tokens = max(0.0, self._tokens - 1.0)
                    break
                await self._sleep(wait)
        self.acquired += 1

    async def _next_freed(self) -> None:
        """Until a request under way ends or is refunded (called with the lock held)."""
        if self._freed is None:
            self._freed = asyncio.Event()
        self._freed.clear()
        await self._freed.wait()

    def _free(self) -> bool:
        """Drop one open request; False if there was none (a release without an acquire)."""
        if self.unlimited or self._open <= 0:
            return False
        self._open -= 1
        if self._freed is not None:
            self._freed.set()
        return True

    def release(self) -> None:
        """A request let out by :meth:`acquire` ended (answered, or failed): its slot stays
        taken for one more period from now, then frees."""
        if self._free():
            self._ended.append(self._clock())

    def refund(self) -> None:
        """Give back a request that was acquired but not sent: its slot frees at once."""
        if self._free() and self.capacity is not None:
            self._tokens = min(self.capacity, self._tokens + 1.0)

    def pause(self, seconds: float) -> None:
        """Stop every request for ``seconds`` (a 429's Retry-After); empty the bucket if any."""
        self.pauses += 1
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
        self._tokens = 0.0
        self._updated = self._paused_until  # refill only once the pause is over: no burst

    def min_interval(self, active: int, share: float, held: int = 0) -> float:
        """Seconds between polls of each of ``active`` executions so they use ``share`` of it.

        ``held``: slots that requests held open by the service (long-polls) take for as long
        as they last; the polls get what is left of the share (at least a quarter of it).
        """
        if self.unlimited or active <= 0:
            return 0.0
        room = max(self.rate * share - held, self.rate * share / 4)
        return active * self.period / room


def _absent(exc: BaseException) -> bool:
    """An answer meaning "no such route or run" (404/405/410)."""
    return isinstance(exc, APIError) and exc.status_code in (404, 405, 410)


def change_key(execution: Execution) -> tuple[Any, ...]:
    """What counts as a change worth reporting: status, progress and each output's state.

    Output URLs are left out on purpose: signed URLs can differ on every poll.
    """
    return (
        execution.status,
        execution.error_message,
        execution.progress,
        tuple((o.id, o.status, o.type, o.error, o.value is not None) for o in execution.outputs),
    )


Fetch = Callable[[str], Awaitable[Execution]]
#: ``wait_fetch(execution_id, hold)``: a long-poll the service holds up to ``hold`` seconds.
WaitFetch = Callable[[str, float], Awaitable[Execution]]
Item = Execution | BaseException


@dataclass(eq=False)
class _Entry:
    execution_id: str
    interval: float
    next_due: float
    webhook: bool = False
    last: Execution | None = None
    queues: list[asyncio.Queue[Item]] = field(default_factory=list)
    lively: list[asyncio.Queue[Item]] = field(default_factory=list)  # want every state soon
    failures: int = 0
    in_flight: bool = False
    removed: bool = False
    plain_due: float = 0.0  # when a plain poll is due if no long-poll is free at first
    task: asyncio.Task[None] | None = None
    hold: float | None = None  # the hold of the long-poll in flight
    check_wait: bool = False  # a long-poll got 404: is the run or the endpoint missing?
    # When the last answered poll began: the next is due one spacing later, for the spacing of
    # the runs watched now (fewer runs, sooner), not only as it was when that poll went out.
    spaced_from: float | None = None


class Watch:
    """One subscriber's view of an execution the poller watches; ``close()`` stops watching.

    Closing leaves the run itself untouched at the service (it can be resumed later).
    """

    def __init__(self, poller: Poller, entry: _Entry, queue: asyncio.Queue[Item]) -> None:
        self._poller = poller
        self._entry = entry
        self._queue = queue
        self.closed = False

    @property
    def last(self) -> Execution | None:
        return self._entry.last

    async def next(self, timeout: float | None = None) -> Execution:
        """The next changed state; raises the polling error, or TimeoutError after ``timeout``."""
        if not self._queue.empty():
            item = self._queue.get_nowait()
        elif timeout is None:
            item = await self._queue.get()
        else:
            item = await asyncio.wait_for(self._queue.get(), max(0.0, timeout))
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._poller._unsubscribe(self._entry, self._queue)


class Poller:
    """One task polls every watched execution, oldest-due first, one budget token per poll.

    Each execution is due ``interval`` after its last poll began (its first poll at
    ``first_poll_in``, e.g. its expected completion); when many are active the interval
    is stretched to ``active / (rate * share)`` so polling keeps ``1 - share`` of the budget
    for other calls and never bursts into 429s (long-polls in flight hold slots of that share
    too, so the polls' spacing grows with them). A terminal state (from a poll or from
    :meth:`deliver`, i.e. a verified webhook) ends the watch. After ``max_failures``
    consecutive transient errors the error goes to the subscribers.

    Long-polls: with ``wait_fetch`` and ``max_long_polls > 0`` (the ``/v1`` edition's
    ``GET /v1/runs/{id}/wait``), up to that many runs are watched by a request the service
    holds until the run ends or ``hold`` seconds pass, so the end is seen the moment it
    happens. A watch that only wants the end (``progress=False``) holds for
    :data:`LONG_POLL_MAX` (one request per 120 s instead of one per interval) and starts at
    once; one that wants every state starts at once too, holding until the poll that polling
    would have made first (its expected end), then one spacing at a time (progress as often
    as polling, the end at once, never more requests). The others wait for a free long-poll
    or their plain poll, whichever comes first; webhooked runs are polled. Each long-poll takes a
    budget token like any request. If the service has no such endpoint (404 for a run a
    plain GET finds), long-polls are switched off for this poller.

    ``fetch(execution_id)`` must make the GET with the budget token the poller already holds,
    and release it once that GET's answer is in (or it failed), or refund it if it sends nothing:
    not at the end of the whole fetch, since a retry inside it may need that very slot.
    LaminaClient's fetch does this through its :class:`~lamina_notebook.transport.Sender`;
    ``wait_fetch`` likewise. ``on_change(execution)`` is called (on the loop) for every new
    state, e.g. to journal it.
    """

    def __init__(
        self,
        fetch: Fetch,
        budget: RateBudget,
        *,
        on_change: Callable[[Execution], None] | None = None,
        share: float = 0.8,
        max_failures: int = 5,
        safety_factor: float = 10.0,
        max_backoff: float = 60.0,
        max_in_flight: int = 8,
        wait_fetch: WaitFetch | None = None,
        max_long_polls: int = 0,
    ) -> None:
        self._fetch = fetch
        self._wait_fetch = wait_fetch
        self._budget = budget
        self._on_change = on_change
        self.share = share
        self.max_failures = max_failures
        self.safety_factor = safety_factor
        self.max_backoff = max_backoff
        self.max_long_polls = max_long_polls
        self._entries: dict[str, _Entry] = {}
        self._delivered: OrderedDict[str, Execution] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._max_in_flight = max_in_flight
        self._long_in_flight = 0
        self._closed = False
        self.polls = 0
        self.long_polls = 0  # of self.polls, how many were long-polls

    @property
    def active(self) -> int:
        return len(self._entries)

    def watch(
        self,
        execution_id: str,
        interval: float,
        *,
        initial: Execution | None = None,
        first_poll_in: float = 0.0,
        webhook: bool = False,
        progress: bool = True,
    ) -> Watch:
        """Subscribe to ``execution_id``; the current state (if known) is the first item.

        ``progress=False``: this subscriber needs only the end promptly (intermediate states
        still arrive, as often as the watch happens to see them).
        """
        if self._closed:
            raise LaminaError("The client is closed.", hint="Create a new LaminaClient.")
        queue: asyncio.Queue[Item] = asyncio.Queue()
        delivered = self._delivered.get(execution_id)
        entry = self._entries.get(execution_id)
        if entry is None:
            first = self._first_poll(interval, first_poll_in, webhook)
            entry = _Entry(execution_id, interval, time.monotonic() + first, webhook)
            entry.plain_due = entry.next_due
            if not webhook and self._long_polls_on:
                entry.next_due = time.monotonic()  # a long-poll may start at once
            entry.last = delivered or initial
            if entry.last is None or not entry.last.is_terminal:
                self._entries[execution_id] = entry
                self._ensure_running()
            else:
                entry.removed = True
        else:
            entry.interval = min(entry.interval, interval)
            entry.webhook = entry.webhook and webhook
        if entry.last is not None:
            queue.put_nowait(entry.last)
        if not entry.removed:
            entry.queues.append(queue)
            if progress:
                entry.lively.append(queue)
                self._shorten_hold(entry)
            self._kick()
        return Watch(self, entry, queue)

    @property
    def _long_polls_on(self) -> bool:
        return self._wait_fetch is not None and self.max_long_polls > 0

    def _may_long_poll(self, entry: _Entry) -> bool:
        return (
            self._long_polls_on
            and self._long_in_flight < self.max_long_polls
            and not entry.webhook
            and not entry.check_wait
        )

    def _hold(self, entry: _Entry) -> float:
        """How long the service may hold this entry's long-poll: as long as it may when only
        the end matters; else one spacing, and the first one until the poll that polling would
        have made first (e.g. at the expected end): never more requests than polling."""
        if not entry.lively:
            return LONG_POLL_MAX
        hold = max(self._spacing(entry), entry.plain_due - time.monotonic())
        return min(LONG_POLL_MAX, max(LONG_POLL_MIN, hold))

    def _shorten_hold(self, entry: _Entry) -> None:
        """A subscriber wanting progress joined a long hold: ask again with a short one."""
        if entry.task is not None and entry.hold is not None and entry.hold > self._hold(entry):
            entry.task.cancel()

    def _first_poll(self, interval: float, first_poll_in: float, webhook: bool) -> float:
        """A scheduled first poll (not a "look now") follows the rules of later ones.

        A webhooked run is first polled by the safety net only, and many new runs spread
        their first polls over the budget instead of all spending it at the same moment.
        """
        if first_poll_in <= 0:
            return 0.0
        if webhook:
            first_poll_in = max(first_poll_in, interval * self.safety_factor)
        return max(first_poll_in, self._min_interval(len(self._entries) + 1))

    def deliver(self, execution: Execution) -> None:
        """Take a verified webhook delivery as the answer for a watched (or future) execution.

        Also the client's way to report a state it learned otherwise (a cancel's answer).
        """
        if execution.is_terminal:
            self._delivered[execution.execution_id] = execution
            while len(self._delivered) > 1000:
                self._delivered.popitem(last=False)
        entry = self._entries.get(execution.execution_id)
        if entry is not None:
            self._observe(entry, execution)
        elif self._on_change is not None:
            self._on_change(execution)

    def amend_delivered(
        self, execution_id: str, update: Callable[[Execution], Execution]
    ) -> Execution | None:
        """Apply ``update`` to a remembered delivery of ``execution_id``; the amended state.

        A webhook can arrive before its run's POST reply has been read; what only that reply
        tells (e.g. the app) is added here once it is known, before anyone can watch the run.
        """
        early = self._delivered.get(execution_id)
        if early is None:
            return None
        self._delivered[execution_id] = amended = update(early)
        return amended

    async def aclose(self, reason: BaseException | None = None) -> None:
        """Stop polling; subscribers get ``reason`` (the runs go on at the service)."""
        self._closed = True
        error = reason or LaminaError(
            "The client was closed while waiting.",
            hint=resume_hint(),
        )
        for entry in list(self._entries.values()):
            self._finish(entry, error)
        tasks = [t for t in (self._task, *self._polls) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- internals ----------------------------------------------------------------------------

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _ensure_running(self) -> None:
        if self._wake is None or self._slots is None:
            self._wake = asyncio.Event()
            self._slots = asyncio.Semaphore(self._max_in_flight)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="lamina-poller")

    def _unsubscribe(self, entry: _Entry, queue: asyncio.Queue[Item]) -> None:
        if queue in entry.queues:
            entry.queues.remove(queue)
        if queue in entry.lively:
            entry.lively.remove(queue)
        if not entry.queues and not entry.removed:
            entry.removed = True
            self._entries.pop(entry.execution_id, None)
            if entry.task is not None and entry.hold is not None:
                entry.task.cancel()  # nobody waits for that long-poll's answer any more
            self._kick()

    def _spacing(self, entry: _Entry) -> float:
        interval = entry.interval * (self.safety_factor if entry.webhook else 1.0)
        return max(interval, self._min_interval(len(self._entries)))

    def _min_interval(self, active: int) -> float:
        """The budget's spacing for ``active`` watched runs, the long-polls in flight (each
        holding a slot while the service holds it) taken off the polls' share first."""
        return self._budget.min_interval(active, self.share, held=self._long_in_flight)

    def _due(self, entry: _Entry) -> float:
        """When ``entry`` goes next: a run that came early for a long-poll waits, while every
        long-poll is taken, until one frees or until its plain poll is due."""
        if entry.plain_due > entry.next_due and not self._may_long_poll(entry):
            return entry.plain_due
        if entry.spaced_from is not None:  # other runs ended since: the spacing shrank
            return min(entry.next_due, entry.spaced_from + self._spacing(entry))
        return entry.next_due

    def _next_entry(self) -> _Entry | None:
        idle = [e for e in self._entries.values() if not e.in_flight]
        return min(idle, key=self._due) if idle else None

    async def _run(self) -> None:
        assert self._wake is not None and self._slots is not None
        while self._entries:
            entry = self._next_entry()
            delay = None if entry is None else self._due(entry) - time.monotonic()
            if entry is None or (delay is not None and delay > 0):
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            long_poll = self._may_long_poll(entry)
            if not long_poll:
                await self._slots.acquire()
            await self._budget.acquire()  # the fetch's first try releases it
            if entry.removed or entry.in_flight:
                self._budget.refund()
                if not long_poll:
                    self._slots.release()
                continue
            entry.in_flight = True
            hold = self._hold(entry) if long_poll else None
            if hold is not None:
                self._long_in_flight += 1
            task = asyncio.get_running_loop().create_task(self._poll(entry, hold))
            entry.task, entry.hold = task, hold
            self._polls.add(task)
            task.add_done_callback(self._polls.discard)

    async def _poll(self, entry: _Entry, hold: float | None) -> None:
        assert self._slots is not None and self._wake is not None
        started = time.monotonic()  # the next poll is due one spacing after this one began,
        try:  # so request latency does not stretch the interval
            self.polls += 1
            if hold is None:
                execution = await self._fetch(entry.execution_id)
            else:
                assert self._wait_fetch is not None
                self.long_polls += 1
                execution = await self._wait_fetch(entry.execution_id, hold)
        except asyncio.CancelledError:
            if self._closed:
                raise
            entry.spaced_from = None
            entry.next_due = time.monotonic()  # cut short on purpose: ask again at once
        except Exception as exc:
            entry.spaced_from = None  # a failure's backoff is kept whole
            if hold is not None and _absent(exc):
                entry.check_wait = True  # is the run missing, or the endpoint? a GET tells
                entry.next_due = entry.plain_due = time.monotonic()
            else:
                self._failed(entry, exc)
        else:
            entry.failures = 0
            entry.plain_due = 0.0
            entry.next_due = started + self._spacing(entry)
            entry.spaced_from = started
            if hold is None and entry.check_wait:
                entry.check_wait = False  # the run is there: the service lacks the long-poll
                self.max_long_polls = 0
                log.info("the service has no long-poll for runs; polling instead")
            if not entry.removed:
                self._observe(entry, execution)
        finally:
            entry.in_flight = False
            entry.task = entry.hold = None
            if hold is None:
                self._slots.release()
            else:
                self._long_in_flight -= 1
            self._wake.set()

    def _failed(self, entry: _Entry, exc: Exception) -> None:
        entry.failures += 1
        if not isinstance(exc, TRANSIENT_ERRORS) or entry.failures >= self.max_failures:
            self._finish(entry, exc)
            return
        pause = min(self.max_backoff, self._spacing(entry) * 2.0**entry.failures)
        log.info(
            "polling %s failed (%s); next try in %.1f s",
            entry.execution_id,
            type(exc).__name__,
            pause,
        )
        entry.next_due = time.monotonic() + pause

    def _observe(self, entry: _Entry, execution: Execution) -> None:
        if entry.removed:
            return
        if entry.last is None or change_key(execution) != change_key(entry.last):
            entry.last = execution
            if self._on_change is not None:
                self._on_change(execution)
            for queue in entry.queues:
                queue.put_nowait(execution)
        if execution.is_terminal:
            self._finish(entry, None)

    def _finish(self, entry: _Entry, error: BaseException | None) -> None:
        entry.removed = True
        self._entries.pop(entry.execution_id, None)
        if error is not None:
            for queue in entry.queues:
                queue.put_nowait(error)
        self._kick()
