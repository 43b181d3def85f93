"""Runs in motion: credits they reserve and spend, outputs they produce, cancels, long-polls.

A run reserves its expected cost when it is created (a workspace that cannot cover it is refused)
and spends it step by step: the app's preparatory steps when it starts, each output's step when
that output is produced. A cancel or a failure stops the spending and releases the rest. Timers on
the server loop apply these events on time, and every reader settles due events first, so what a
test reads (balance, ``stats.outputs_produced``) never lags the run's own view.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from .catalog import AppDef
from .state import TERMINAL, ExecutionRecord, ExecutionStore, Source
from .stats import Stats, now


class NotEnoughCredits(Exception):
    """The workspace's available credits do not cover a run's expected cost."""

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"needs {needed} credits, {available} available")
        self.needed, self.available = needed, available


class Account:
    """The sandbox workspace's credits: ``balance`` (what is left) and ``reserved`` (what runs
    in flight are still expected to spend)."""

    def __init__(self, balance: int) -> None:
        self._lock = threading.Lock()
        self._granted = balance
        self.spent = 0
        self.reserved = 0

    @property
    def balance(self) -> int:
        with self._lock:
            return self._granted - self.spent

    @property
    def available(self) -> int:
        """Credits a new run may reserve: the balance minus what runs in flight will spend."""
        with self._lock:
            return self._granted - self.spent - self.reserved

    def set_balance(self, credits: int) -> None:
        """Make the current balance ``credits`` (spending so far is kept in the books)."""
        with self._lock:
            self._granted = credits + self.spent

    def reserve(self, credits: int) -> None:
        with self._lock:
            available = self._granted - self.spent - self.reserved
            if credits > available:
                raise NotEnoughCredits(credits, available)
            self.reserved += credits

    def charge(self, credits: int) -> None:
        with self._lock:
            self.spent += credits
            self.reserved -= credits

    def release(self, credits: int) -> None:
        with self._lock:
            self.reserved -= credits


class Runner:
    """Creates runs (reserving credits), applies their events, cancels them, waits for them."""

    def __init__(self, store: ExecutionStore, account: Account, stats: Stats) -> None:
        self.store = store
        self.account = account
        self.stats = stats
        self._lock = threading.RLock()
        self._active: dict[str, ExecutionRecord] = {}
        self._wake: dict[str, asyncio.Event] = {}

    def create(
        self,
        app: AppDef,
        inputs: dict[str, Any],
        sources: dict[str, Source],
        webhook: str | None,
        base_url: str,
        *,
        edition: str = "api",
        source: str = "api",
        selected: Sequence[int] | None = None,
    ) -> ExecutionRecord:
        """A new run, its cost reserved and its events scheduled (call on the server loop).

        Raises ``NotEnoughCredits`` before anything is created when the workspace is short.
        """
        chosen = None if selected is None else tuple(selected)
        expected = app.cost(chosen)[0]
        with self._lock:
            self.account.reserve(expected)
            try:
                rec = self.store.create(
                    app,
                    inputs,
                    sources,
                    webhook,
                    base_url,
                    edition=edition,
                    source=source,
                    selected=chosen,
                    cost=expected,
                )
            except BaseException:
                self.account.release(expected)
                raise
            self._active[rec.id] = rec
        loop = asyncio.get_running_loop()
        offsets = {rec.queue, rec.terminal_offset, *(p.finish for p in rec.plans)}
        for offset in sorted(offsets):
            loop.call_later(max(0.0, rec.created + offset - now()) + 0.001, self.settle, rec)
        return rec

    def settle(self, rec: ExecutionRecord, at: float | None = None) -> None:
        """Apply every billing event of ``rec`` that is due at ``at`` (default: now), once."""
        elapsed = (now() if at is None else at) - rec.created
        with self._lock:
            if "end" in rec.settled:
                return
            end = rec.terminal_offset
            if "start" not in rec.settled and rec.started(elapsed):
                rec.settled.add("start")
                self._charge(rec, sum(s.credits for s in rec.app.pre_steps))
            for plan in rec.plans:
                name = f"output-{plan.index}"
                if name in rec.settled or elapsed < plan.finish or plan.finish > end:
                    continue
                rec.settled.add(name)
                if rec.produced(plan):
                    self.stats.count("outputs_produced", rec.id)
                    self._charge(rec, plan.out.step.credits)
            if elapsed >= end:
                rec.settled.add("end")
                self.account.release(rec.cost - rec.charged)
                self._active.pop(rec.id, None)

    def _charge(self, rec: ExecutionRecord, credits: int) -> None:
        if credits:
            rec.charged += credits
            self.account.charge(credits)
            self.stats.add("credits_spent", credits)

    def settle_all(self) -> None:
        """Settle every run still in flight (before reading the balance)."""
        with self._lock:
            active = list(self._active.values())
        for rec in active:
            self.settle(rec)

    def cancel(self, rec: ExecutionRecord) -> bool:
        """Cancel ``rec`` now; False (and no change) when it had already ended."""
        t = now()
        with self._lock:
            if rec.status_at(t) in TERMINAL:
                return False
            self.settle(rec, t)
            rec.cancel_at = t - rec.created
            self.settle(rec, t)
        event = self._wake.pop(rec.id, None)
        if event is not None:
            event.set()
        self.stats.add("cancellations")
        return True

    async def wait_terminal(self, rec: ExecutionRecord, timeout: float | None) -> bool:
        """Return True as soon as ``rec`` is terminal (a cancel wakes it at once), or False
        after ``timeout`` seconds (None = no limit)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            t = now()
            if rec.status_at(t) in TERMINAL:
                self._wake.pop(rec.id, None)
                return True
            delay = rec.created + rec.terminal_offset - t
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                delay = min(delay, remaining)
            event = self._wake.setdefault(rec.id, asyncio.Event())
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=max(0.0, delay) + 0.001)
