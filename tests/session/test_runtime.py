"""The sync/async bridge: a private loop thread, blocking with ticks, Ctrl-C, shutdown."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from lamina_notebook.session.runtime import Runtime, wait_future


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime()
    yield rt
    rt.close()


def test_coroutines_run_on_the_named_daemon_thread(runtime: Runtime) -> None:
    async def where() -> tuple[str, bool]:
        thread = threading.current_thread()
        return thread.name, thread.daemon

    assert runtime.run_sync(where()) == ("lamina-loop", True)
    assert runtime.running


def test_run_sync_works_inside_a_running_loop(runtime: Runtime) -> None:
    # A magic runs while the kernel's loop is running; asyncio.run would fail there.
    async def outer() -> int:
        async def inner() -> int:
            await asyncio.sleep(0)
            return 7

        return runtime.run_sync(inner())

    assert asyncio.run(outer()) == 7


def test_ticks_run_in_the_calling_thread_while_waiting(runtime: Runtime) -> None:
    release = threading.Event()
    ticks: list[str] = []

    async def slow() -> str:
        while not release.is_set():
            await asyncio.sleep(0.005)
        return "done"

    def on_tick() -> None:
        ticks.append(threading.current_thread().name)
        if len(ticks) == 3:
            release.set()

    assert runtime.run_sync(slow(), on_tick=on_tick, tick=0.01) == "done"
    assert ticks[:3] == [threading.current_thread().name] * 3


def test_exceptions_propagate_with_their_type(runtime: Runtime) -> None:
    async def boom() -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        runtime.run_sync(boom())


def test_a_coroutine_raising_timeout_error_does_not_spin(runtime: Runtime) -> None:
    # On 3.11 concurrent.futures.TimeoutError is TimeoutError: the waiter must not mistake it.
    async def times_out() -> None:
        raise TimeoutError("inner")

    with pytest.raises(TimeoutError, match="inner"):
        runtime.run_sync(times_out(), on_tick=lambda: None, tick=0.01)


def _sleeper() -> tuple[threading.Event, threading.Event, Callable[[], Coroutine[Any, Any, None]]]:
    """A coroutine factory that sleeps for an hour, with events for 'started' and 'cancelled'."""
    started = threading.Event()
    cancelled = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return started, cancelled, forever


def test_keyboard_interrupt_cancels_the_coroutine_and_reraises(runtime: Runtime) -> None:
    started, cancelled, forever = _sleeper()

    def on_tick() -> None:
        if started.is_set():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runtime.run_sync(forever(), on_tick=on_tick, tick=0.01)
    assert cancelled.wait(5)


def test_submit_returns_at_once_and_the_loop_keeps_working(runtime: Runtime) -> None:
    gate = threading.Event()

    async def wait_for_gate() -> str:
        while not gate.is_set():
            await asyncio.sleep(0.005)
        return "opened"

    future = runtime.submit(wait_for_gate())
    assert not future.done()

    async def quick() -> int:
        return 1

    assert runtime.run_sync(quick()) == 1  # the pending task does not block other work
    gate.set()
    assert future.result(timeout=5) == "opened"


def test_run_sync_from_the_loop_thread_refuses_instead_of_deadlocking(runtime: Runtime) -> None:
    async def nested() -> None:
        async def inner() -> None:
            return None

        runtime.run_sync(inner())

    with pytest.raises(RuntimeError, match="deadlock"):
        runtime.run_sync(nested())


def test_close_cancels_pending_work_and_a_new_loop_starts_on_next_use() -> None:
    rt = Runtime()
    started, cancelled, forever = _sleeper()

    future = rt.submit(forever())
    assert started.wait(5)
    first = rt.loop
    rt.close()
    assert cancelled.is_set()
    assert not rt.running
    with pytest.raises(concurrent.futures.CancelledError):
        future.result(timeout=5)

    async def again() -> str:
        return "fresh"

    assert rt.run_sync(again()) == "fresh"
    assert rt.loop is not first
    rt.close()


def test_wait_future_on_a_plain_future() -> None:
    future: concurrent.futures.Future[int] = concurrent.futures.Future()
    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 2:
            future.set_result(42)

    assert wait_future(future, on_tick=tick, tick=0.01) == 42
    assert ticks == 2


class _FinishesAsTheWaitTimesOut(concurrent.futures.Future):  # type: ignore[type-arg]
    """Reproduces the race: the result arrives just after ``result(timeout)`` gave up."""

    def result(self, timeout: float | None = None) -> object:
        if not self.done():
            self.set_result("done")
            raise concurrent.futures.TimeoutError()
        return super().result(timeout)


def test_a_result_arriving_as_a_tick_times_out_is_returned_not_a_timeout() -> None:
    assert wait_future(_FinishesAsTheWaitTimesOut(), tick=0.01) == "done"
