"""One widget run from POST to result (``WidgetRun``): its state, and nothing on screen.

The POST and the watch run on the session's runtime loop; the run is created once (never
retried blindly: ``client.run`` journals it before returning) and watched through a
``results.RunHandle``. A run tells the widget what happened through two callbacks, both
applied through the :class:`~.ui.UI` port in order: ``on_update(run)`` after any change of
state or progress (read :attr:`WidgetRun.phase`), ``on_finished(run)`` once it has a Result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..errors import stopped_watching
from ..models import Media
from ..session.results import Result, RunHandle

if TYPE_CHECKING:  # pragma: no cover
    from ..models import App, Execution
    from ..session.session import Session
    from .media import GalleryMedia
    from .ui import UI

__all__ = ["Phase", "RunCallback", "WidgetRun", "wait_all"]

#: Where a run is: before the POST's answer, watched, stopped (resumable), watch failed
#: (resumable), refused by the service, or finished with a Result.
Phase = Literal["starting", "watching", "stopped", "lost", "not started", "ended"]
RunCallback = Callable[["WidgetRun"], None]


class WidgetRun:
    """A run started (or adopted) by a widget: its inputs, handle, outcome and final media.

    ``created`` resolves to the RunHandle once the service accepted the run and it is being
    watched (or to the error); ``finished`` resolves when watching ended (result, failure to
    watch, or a stop), after the UI changes it caused were applied.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        media: GalleryMedia,
        inputs: Mapping[str, Any],
        title: str,
        previous: Mapping[str, str] | None,
        *,
        on_update: RunCallback,
        on_finished: RunCallback,
    ) -> None:
        self.session = session
        self.app = app
        self.ui = ui
        self.media = media
        self.inputs = dict(inputs)
        self.title = title
        self.previous = dict(previous) if previous is not None else None
        self.on_update = on_update
        self.on_finished = on_finished
        self.handle: RunHandle | None = None
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.thumbs: dict[str, Media] = {}
        self.videos: dict[str, bytes] = {}
        self.created: concurrent.futures.Future[RunHandle] = concurrent.futures.Future()
        self.finished: concurrent.futures.Future[Result | None] = concurrent.futures.Future()
        self.stopped = False
        self.ended_at = 0.0
        #: The client that started and watches this run (taken in the caller's thread).
        self.client: Any = None
        self._to_send = inputs  # ValidInputs from the widget go out without a second check
        self._lock = threading.Lock()  # orders Stop against (re)starting the watch

    @property
    def execution_id(self) -> str | None:
        return self.handle.execution_id if self.handle is not None else None

    @property
    def watching(self) -> bool:
        """Starting or being watched (not ended, not stopped)."""
        return not self.finished.done() and not self.stopped

    @property
    def phase(self) -> Phase:
        """Where the run is now (see :data:`Phase`)."""
        if self.result is not None:
            return "ended"
        if self.handle is None:
            return "not started" if self.error is not None else "starting"
        if self.stopped:
            return "stopped"
        return "lost" if self.error is not None else "watching"

    def _changed(self) -> None:
        self.ui.apply(self.on_update, self)

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """POST on the loop thread (the client is taken here, in the caller's thread)."""
        self.client = self.session.client
        self.session.runtime.submit(self._create())

    def adopt(self, execution: Execution) -> None:
        """Watch an existing execution (e.g. picked in History while still in flight)."""
        self.client = self.session.client
        self._watch_handle(RunHandle(self.session, execution, self.inputs, client=self.client))

    async def _create(self) -> None:
        try:
            execution = await self.client.run(self.app, self._to_send)
        except BaseException as exc:
            self.error = exc
            self.created.set_exception(exc)
            self._changed()
            self.ui.show_error(exc)
            self._end(None)
            if not isinstance(exc, Exception):
                raise
            return
        self._watch_handle(RunHandle(self.session, execution, self.inputs, client=self.client))

    def _watch_handle(self, handle: RunHandle) -> None:
        """Start watching ``handle`` and only then hand it out (``created``).

        Whoever gets the handle can stop it at once; the watch is already running then, so
        the stop cancels it instead of being undone by a watch that starts later.
        """
        self.handle = handle
        handle.on_change(lambda _h: self._changed())
        watch = self._begin_watch()  # honours a Stop pressed while the POST was in flight
        self.created.set_result(handle)
        self._follow_or_end(watch)

    def _follow_or_end(self, watch: concurrent.futures.Future[Result] | None) -> None:
        """Show the run's state, then follow its watch, or end if there is none."""
        self._changed()
        if watch is None:
            self._end(None)
        else:
            self.session.runtime.submit(self._follow(watch))

    def wait_created(self) -> RunHandle:
        """Block until the service accepted the run; Ctrl-C waits for the answer, then stops.

        A POST that may have reached the service is never abandoned: its id must be known
        (and journaled) before control returns.
        """
        interrupted = False
        while True:
            try:
                handle = self.created.result()
                break
            except KeyboardInterrupt:
                interrupted = True
        if interrupted:
            self.stop()
            raise KeyboardInterrupt(f"interrupted. {stopped_watching(handle.execution_id)}")
        return handle

    # -- watching -------------------------------------------------------------------------
    def _begin_watch(self) -> concurrent.futures.Future[Result] | None:
        """Start the handle's watch and return it; None if a Stop came first or it failed.

        Runs in the caller's thread, under the lock that orders it against :meth:`stop`.
        """
        handle = self.handle
        assert handle is not None
        with self._lock:
            if self.stopped:  # Stop came first: do not start watching at all
                return None
            try:
                handle.watch()
            except Exception as exc:  # e.g. no client: never leave ``finished`` unresolved
                self.error = exc
                return None
            assert handle.future is not None  # watch() always leaves one
            return handle.future

    async def _follow(self, watch: concurrent.futures.Future[Result]) -> None:
        handle = self.handle
        assert handle is not None
        try:
            result = await asyncio.wrap_future(watch)
        except asyncio.CancelledError:
            if not self.stopped and not handle.stopped:  # the loop is shutting down
                _set_once(self.finished, None)
                raise
            self.stopped = True  # also after handle.stop() from code: the row offers Resume
            self._changed()
            self._end(None)
            return
        except Exception as exc:  # watching failed; the run itself may be fine
            self.error = exc
            self._changed()
            self._end(None)
            return
        try:
            self.thumbs, self.videos = await self.media.for_result(self.client, result)
        finally:
            self.result = result
            self.ended_at = time.time()
            self._changed()
            self.ui.apply(self.on_finished, self)
            self._end(result)

    def _end(self, result: Result | None) -> None:
        """Resolve ``finished`` after the UI changes queued before it were applied."""
        self.ui.apply(_set_once, self.finished, result)

    def stop(self) -> None:
        """Stop watching (the run goes on at the service); a no-op once it ended."""
        with self._lock:
            if self.finished.done():
                return
            self.stopped = True
            if self.handle is not None:
                self.handle.stop()

    def resume(self) -> None:
        """Watch again after a stop or a lost connection (a no-op otherwise)."""
        if self.handle is None or self.result is not None or not self.finished.done():
            return
        # The watch takes the session's client: build it here, in the caller's thread (the
        # loop thread cannot block on itself if a settings change replaced the client).
        self.client = self.session.client
        self.stopped = False
        self.error = None
        self.finished = concurrent.futures.Future()
        self._follow_or_end(self._begin_watch())  # the row says "watching again"


def _set_once(future: concurrent.futures.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def wait_all(runs: list[WidgetRun], timeout: float | None) -> None:
    """Block until every run's watch ended (Ctrl-C interrupts the wait, never the runs)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for run in runs:
        while True:
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                raise TimeoutError(
                    f"runs still in flight after {timeout:g} s; they go on, call wait() again later"
                )
            try:
                run.finished.result(timeout=left)
                break
            except concurrent.futures.TimeoutError:
                continue
