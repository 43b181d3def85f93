"""One widget run from POST to gallery (``WidgetRun``), and the widget's thumbnail fetching.

The POST and the watch run on the session's runtime loop; the run is created once (never
retried blindly: ``client.run`` journals it before returning) and watched through a
``results.RunHandle``. UI changes go back through the widget's ``_ui`` entry point.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..models import Media
from ..render.html import safe_url
from ..session.media import GALLERY_THUMB_PX, MediaCache, fetch_media, in_image_thread
from ..session.results import Result, RunHandle
from .gallery import MAX_COMM_BYTES, VIDEO_WIDGET_MAX_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.session import Session
    from .app import LaminaApp
    from .gallery import ProgressRow, RunCard
    from .sweep import Sweep

__all__ = ["GalleryMedia", "WidgetRun", "wait_all"]


class WidgetRun:
    """A run started (or adopted) by a widget: its inputs, UI rows, handle and final media.

    ``created`` resolves to the RunHandle once the service accepted the run (or to the
    error); ``finished`` resolves when watching ended (result, failure to watch, or a stop).
    """

    def __init__(
        self,
        widget: LaminaApp,
        inputs: Mapping[str, str],
        title: str,
        previous: Mapping[str, str] | None,
    ) -> None:
        self.widget = widget
        self.inputs = dict(inputs)
        self.title = title
        self.previous = dict(previous) if previous is not None else None
        self.row: ProgressRow | None = None
        self.card: RunCard | None = None
        self.sweep: Sweep | None = None
        self.handle: RunHandle | None = None
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.thumbs: dict[str, Media] = {}
        self.videos: dict[str, bytes] = {}
        self.created: concurrent.futures.Future[RunHandle] = concurrent.futures.Future()
        self.finished: concurrent.futures.Future[Result | None] = concurrent.futures.Future()
        self.stopped = False
        self.ended_at = 0.0
        self._client: Any = None
        self._lock = threading.Lock()  # orders Stop against (re)starting the watch

    @property
    def execution_id(self) -> str | None:
        return self.handle.execution_id if self.handle is not None else None

    @property
    def watching(self) -> bool:
        """Starting or being watched (not ended, not stopped)."""
        return not self.finished.done() and not self.stopped

    # -- start ----------------------------------------------------------------------------
    def start(self, sweep: Sweep | None) -> None:
        """POST on the loop thread (the client is taken here, in the caller's thread)."""
        self.sweep = sweep
        self._client = self.widget.session.client
        self.widget.session.runtime.submit(self._create())

    def adopt(self, execution: Execution) -> None:
        """Watch an existing execution (e.g. picked in History while still in flight)."""
        self._client = self.widget.session.client
        self.handle = RunHandle(self.widget.session, execution, self.inputs)
        self.handle.on_change(lambda _h: self.widget._ui(self.widget.update_row, self))
        self.created.set_result(self.handle)
        self.widget.session.runtime.submit(self._follow())

    async def _create(self) -> None:
        try:
            execution = await self._client.run(self.widget.app, self.inputs)
        except BaseException as exc:
            self.error = exc
            self.created.set_exception(exc)
            self.widget._ui(self._not_started, exc)
            self._end(None)
            if not isinstance(exc, Exception):
                raise
            return
        self.handle = RunHandle(self.widget.session, execution, self.inputs)
        self.handle.on_change(lambda _h: self.widget._ui(self.widget.update_row, self))
        self.created.set_result(self.handle)
        self.widget._ui(self.widget.update_row, self)  # the POST's answer: "queued"
        await self._follow()  # it honours a Stop pressed while the POST was in flight

    def _not_started(self, exc: BaseException) -> None:
        from ..render import error_html

        if self.row is not None:
            self.row.failed_to_start(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        self.widget._status.value = error_html(exc)
        if self.sweep is not None:
            self.sweep.refresh()

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
            raise KeyboardInterrupt(
                f"interrupted; execution {handle.execution_id} was created "
                "and is journaled: resume it from History or with "
                f"%lamina resume {handle.execution_id}"
            )
        return handle

    # -- watching -------------------------------------------------------------------------
    async def _follow(self) -> None:
        handle = self.handle
        assert handle is not None
        with self._lock:
            if self.stopped:  # Stop came first: do not start watching at all
                self.widget._ui(self._show_stopped)
                self._end(None)
                return
            try:
                handle.watch()
            except Exception as exc:  # e.g. no client: never leave ``finished`` unresolved
                self.error = exc
                self.widget._ui(self._show_lost, exc)
                self._end(None)
                return
            watch = handle.future
        try:
            result = await asyncio.wrap_future(watch) if watch is not None else handle.result()
        except asyncio.CancelledError:
            if not self.stopped and not handle.stopped:  # the loop is shutting down
                _set_once(self.finished, None)
                raise
            self.stopped = True  # also after handle.stop() from code: the row offers Resume
            self.widget._ui(self._show_stopped)
            self._end(None)
            return
        except Exception as exc:  # watching failed; the run itself may be fine
            self.error = exc
            self.widget._ui(self._show_lost, exc)
            self._end(None)
            return
        try:
            self.thumbs, self.videos = await self.widget._media.for_result(self._client, result)
        finally:
            self.result = result
            self.ended_at = time.time()
            self.widget._ui(self.widget.update_row, self)
            self.widget._ui(self.widget.finish_run, self)
            self._end(result)

    def _end(self, result: Result | None) -> None:
        """Resolve ``finished`` after the UI changes queued before it were applied."""
        self.widget._ui(_set_once, self.finished, result)

    def _show_stopped(self) -> None:
        if self.row is not None:
            self.row.stopped(self.execution_id)
        if self.sweep is not None:
            self.sweep.refresh()

    def _show_lost(self, exc: BaseException) -> None:
        if self.row is not None:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.row.lost(first, self.execution_id or "")

    def stop(self) -> None:
        """Stop watching (the run goes on at the service); a no-op once it ended."""
        with self._lock:
            if self.finished.done():
                return
            self.stopped = True
            if self.handle is not None:
                self.handle.stop()

    def resume(self) -> None:
        """Watch again after a stop or a lost connection."""
        if self.handle is None or self.result is not None or not self.finished.done():
            return
        # The watch takes the session's client: build it here, in the caller's thread (the
        # loop thread cannot block on itself if a settings change replaced the client).
        self._client = self.widget.session.client
        self.stopped = False
        self.error = None
        self.finished = concurrent.futures.Future()
        if self.row is not None:
            self.row.resumed()
        self.widget.session.runtime.submit(self._follow())
        self.widget._ensure_ticker()


class GalleryMedia:
    """Thumbnails (at most ``MAX_COMM_BYTES`` each) and small videos for the gallery."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache = MediaCache()

    async def for_result(
        self, client: Any, result: Result
    ) -> tuple[dict[str, Media], dict[str, bytes]]:
        """Downscale the Result's embedded media (no refetch) and fetch small videos."""
        thumbs: dict[str, Media] = {}
        for output_id, (data, _mime) in result.media.items():
            small = await in_image_thread(small_thumbnail, data)
            if small is not None:
                thumbs[output_id] = small
        return thumbs, await self.videos(client, result.execution)

    async def for_execution(
        self, client: Any, execution: Execution
    ) -> tuple[dict[str, Media], dict[str, bytes]]:
        """Thumbnails of an execution from the journal (History): fetched at gallery size."""
        media = await fetch_media(client, execution, GALLERY_THUMB_PX, cache=self.cache)
        thumbs = {k: v for k, v in media.items() if len(v[0]) <= MAX_COMM_BYTES}
        return thumbs, await self.videos(client, execution)

    async def videos(self, client: Any, execution: Execution) -> dict[str, bytes]:
        """Bytes of small completed videos (the rest streams from its URL in the browser)."""
        found: dict[str, bytes] = {}
        for out in execution.outputs:
            url = safe_url(out.value) if out.is_completed and out.kind == "video" else None
            if not url or url.lower().startswith("data:"):
                continue
            try:
                data, _ = await client.fetch_bytes(url, max_bytes=VIDEO_WIDGET_MAX_BYTES)
            except asyncio.CancelledError:
                raise
            except Exception:  # too big, expired, unreachable: the <video> tag streams it
                continue
            if len(data) <= VIDEO_WIDGET_MAX_BYTES:
                found[out.id] = data
        return found


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


def small_thumbnail(data: bytes) -> Media | None:
    """A gallery thumbnail under ``MAX_COMM_BYTES`` (halving the size if needed), or None."""
    from ..files import thumbnail

    px = GALLERY_THUMB_PX
    while px >= 40:
        try:
            thumb = thumbnail(data, px)
        except ValueError:
            return None
        if len(thumb[0]) <= MAX_COMM_BYTES:
            return thumb
        px //= 2
    return None
