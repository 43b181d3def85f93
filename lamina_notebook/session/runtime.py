"""Sync <-> async for IPython callers: one private asyncio loop in a daemon thread.

Why a private loop: a magic runs inside the kernel's own (running) loop, where ``asyncio.run``
fails and blocking on a task of that loop would deadlock. The client and all its background work
(polling, media fetches) live on the "lamina-loop" thread instead; the main thread either blocks
on a future (``run_sync``, ticking display updates in its own thread) or keeps going (``submit``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["Runtime"]

T = TypeVar("T")


class Runtime:
    """An asyncio loop running forever in a daemon thread, started on first use.

    Parameters
    ----------
    name
        Thread name, shown by debuggers and ``%lamina doctor``.
    """

    def __init__(self, name: str = "lamina-loop") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True while the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's loop, starting the thread if needed."""
        with self._lock:
            if self._loop is None or not self.running:
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            try:
                loop.run_forever()
            finally:
                _cancel_all(loop)
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=main, name=self.name, daemon=True)
        self._thread.start()
        ready.wait()

    def in_loop_thread(self) -> bool:
        """True when called from the runtime's own thread (where blocking would deadlock)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the runtime loop; returns at once with a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run_sync(
        self,
        coro: Coroutine[Any, Any, T],
        on_tick: Callable[[], Any] | None = None,
        tick: float = 0.1,
    ) -> T:
        """Run ``coro`` on the loop and block the calling thread until it finishes.

        ``on_tick()`` is called in the *calling* thread every ``tick`` seconds while waiting, so
        display updates come from the main thread (they then belong to the running cell).
        Ctrl-C (KeyboardInterrupt) cancels the coroutine and re-raises.
        """
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError(
                "run_sync() called from the lamina-loop thread would deadlock; "
                "await the coroutine instead"
            )
        future = self.submit(coro)
        return wait_future(future, on_tick=on_tick, tick=tick)

    def close(self, timeout: float = 5.0) -> None:
        """Cancel pending tasks, stop the loop and join the thread (idempotent)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        if threading.current_thread() is not thread:
            thread.join(timeout)


def wait_future(
    future: concurrent.futures.Future[T],
    on_tick: Callable[[], Any] | None = None,
    tick: float = 0.1,
) -> T:
    """Block on ``future``, calling ``on_tick()`` between waits; Ctrl-C cancels it and re-raises."""
    try:
        while True:
            try:
                return future.result(timeout=tick)
            except concurrent.futures.TimeoutError:
                if future.done():  # it just finished, or the coroutine raised TimeoutError
                    return future.result()
                if on_tick is not None:
                    on_tick()
    except KeyboardInterrupt:
        future.cancel()
        raise


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending so closing the loop does not warn about destroyed tasks."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
