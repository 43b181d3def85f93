"""One widget run from POST to result (``WidgetRun``): its state, and nothing on screen.

The POST and the watch run on the session's runtime loop; the run is created once (never
retried blindly: ``client.run`` journals it before returning) and watched through a
``results.RunHandle``. A run tells the widget what happened through two callbacks, both
applied through the :class:`~.ui.UI` port in order: ``on_update(run)`` after any change of
state or progress (read :attr:`WidgetRun.phase`), ``on_finished(run)`` once it has a Result.

Two ways to stop: :meth:`WidgetRun.cancel` cancels the run at the service (it stops producing
and billing; the watch then ends with the ``cancelled`` state), :meth:`WidgetRun.detach` only
stops watching (the run goes on; :meth:`WidgetRun.resume` watches it again). A run whose
identical request completed before is *reused*: it starts finished, from the journal, with
nothing sent (:func:`reusable`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..editions import NotOfferedError
from ..errors import stopped_watching
from ..models import Media
from ..session.results import Result, RunHandle

if TYPE_CHECKING:  # pragma: no cover
    from ..journal import JournalEntry
    from ..models import App, Execution
    from ..session.session import Session
    from .media import GalleryMedia
    from .ui import UI

__all__ = [
    "Phase",
    "RunCallback",
    "WidgetRun",
    "offers",
    "reusable",
    "reused_handle",
    "wait_all",
]

#: Where a run is: before the POST's answer, watched, detached (resumable), watch failed
#: (resumable), refused by the service, or finished with a Result (also a cancelled run and
#: a reused one).
Phase = Literal["starting", "watching", "detached", "lost", "not started", "ended"]
RunCallback = Callable[["WidgetRun"], None]


def offers(client: Any, feature: str) -> bool | None:
    """Whether the client's edition of the service offers ``feature`` (``cancel``,
    ``uploads``, ``estimate``); None while ``auto`` has not found the edition yet."""
    name = getattr(client, "edition_name", None)
    if name is None:
        return None
    from ..editions import EDITIONS

    edition = EDITIONS.get(name)
    return None if edition is None else edition.offers(feature)


def reusable(
    session: Session, client: Any, app: App, inputs: Mapping[str, Any]
) -> RunHandle | None:
    """A finished handle on a completed run of the same request in the journal (same app,
    inputs, service; variant 0), drawn from the journal alone, or None. No request."""
    journal = getattr(client, "journal", None)
    if journal is None:
        return None
    entry = journal.find_reusable(app.app_id, inputs, base_url=client.base_url)
    return None if entry is None else reused_handle(session, client, app, entry)


def reused_handle(session: Session, client: Any, app: App, entry: JournalEntry) -> RunHandle:
    """A finished handle on the journaled run ``entry`` (its stored thumbnails as media)."""
    media: dict[str, Media] = {}
    with contextlib.suppress(Exception):  # unreadable media: the card shows links instead
        stored = client.journal.media([entry.execution_id]).get(entry.execution_id, {})
        media = {k: m.thumbnail for k, m in stored.items() if m.thumbnail is not None}
    execution = entry.to_execution()
    if not execution.app_name:
        execution = execution.with_app(app.app_id, app.name)
    result = Result(execution, media, entry.inputs, session=session, reused_from=entry.execution_id)
    return RunHandle(session, execution, entry.inputs, client=client, result=result)


class WidgetRun:
    """A run started (or adopted, or reused) by a widget: its inputs, handle, outcome, media.

    ``created`` resolves to the RunHandle once the service accepted the run and it is being
    watched (or to the error); ``finished`` resolves when watching ended (result, failure to
    watch, or a detach), after the UI changes it caused were applied.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        media: GalleryMedia,
        inputs: Mapping[str, Any],
        title: str,
        *,
        on_update: RunCallback,
        on_finished: RunCallback,
    ) -> None:
        self.session = session
        self.app = app
        self.ui = ui
        self.media = media
        self.inputs = dict(inputs)
        #: ``#3 Prompt=a fox, Style=Anime``: the number and the distinguishing inputs (the
        #: widget renews it when the runs on screen change).
        self.title = title
        #: The title with whole values (the row's tooltip).
        self.full_title = title
        self.on_update = on_update
        self.on_finished = on_finished
        self.handle: RunHandle | None = None
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.thumbs: dict[str, Media] = {}
        self.videos: dict[str, bytes] = {}
        #: The journal's small thumbnail of the first output (~192 px, a few KB): what grid
        #: cells and static copies embed.
        self.small_thumb: Media | None = None
        #: The finished execution with media URLs as the page can load them (the Jupyter
        #: server's proxy for the sandbox's loopback URLs): what HTML links and players use.
        self.shown: Execution | None = None
        self.created: concurrent.futures.Future[RunHandle] = concurrent.futures.Future()
        self.finished: concurrent.futures.Future[Result | None] = concurrent.futures.Future()
        self.detached = False
        #: Cancel was asked for (the service is being told, or will be once the POST answers).
        self.cancelling = False
        #: Whether the service can cancel this run (None: not known yet).
        self.can_cancel: bool | None = None
        self.started_at = time.monotonic()
        self.ended_at = 0.0
        #: The client that started and watches this run (taken in the caller's thread).
        self.client: Any = None
        self._to_send = inputs  # ValidInputs from the widget go out without a second check
        self._lock = threading.Lock()  # orders Detach/Cancel against (re)starting the watch

    @property
    def execution_id(self) -> str | None:
        return self.handle.execution_id if self.handle is not None else None

    @property
    def reused(self) -> bool:
        """True for a run answered by a completed identical run from the journal."""
        return self.result is not None and self.result.reused

    @property
    def watching(self) -> bool:
        """Starting or being watched (not ended, not detached)."""
        return not self.finished.done() and not self.detached

    @property
    def phase(self) -> Phase:
        """Where the run is now (see :data:`Phase`)."""
        if self.result is not None:
            return "ended"
        if self.handle is None:
            return "not started" if self.error is not None else "starting"
        if self.detached:
            return "detached"
        return "lost" if self.error is not None else "watching"

    def _changed(self) -> None:
        self.ui.apply(self.on_update, self)

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """POST on the loop thread (the client is taken here, in the caller's thread)."""
        self.client = self.session.client
        self.can_cancel = offers(self.client, "cancel")
        self.session.runtime.submit(self._create())

    def adopt(self, execution: Execution) -> None:
        """Watch an existing execution (e.g. picked in History while still in flight)."""
        self.client = self.session.client
        self.can_cancel = offers(self.client, "cancel")
        self._watch_handle(RunHandle(self.session, execution, self.inputs, client=self.client))

    def reuse(self, handle: RunHandle) -> None:
        """Take a finished (reused) handle: the run ends at once, nothing is sent."""
        self.client = handle_client = self.session.client
        self.handle = handle
        self.can_cancel = offers(handle_client, "cancel")
        self.created.set_result(handle)
        done: concurrent.futures.Future[Result] = concurrent.futures.Future()
        done.set_result(handle.result())
        self._follow_or_end(done)

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
        self.can_cancel = offers(self.client, "cancel")
        self._watch_handle(RunHandle(self.session, execution, self.inputs, client=self.client))
        if self.cancelling:  # Cancel was pressed while the POST was on its way
            await self._cancel()

    def _watch_handle(self, handle: RunHandle) -> None:
        """Start watching ``handle`` and only then hand it out (``created``).

        Whoever gets the handle can detach it at once; the watch is already running then, so
        the detach cancels it instead of being undone by a watch that starts later.
        """
        self.handle = handle
        handle.on_change(lambda _h: self._changed())
        watch = self._begin_watch()  # honours a Detach pressed while the POST was in flight
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
        """Block until the service accepted the run; Ctrl-C waits for the answer, then detaches.

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
            self.detach()
            raise KeyboardInterrupt(f"interrupted. {stopped_watching(handle.execution_id)}")
        return handle

    # -- watching -------------------------------------------------------------------------
    def _begin_watch(self) -> concurrent.futures.Future[Result] | None:
        """Start the handle's watch and return it; None if a Detach came first or it failed.

        Runs in the caller's thread, under the lock that orders it against :meth:`detach`.
        """
        handle = self.handle
        assert handle is not None
        with self._lock:
            if self.detached:  # Detach came first: do not start watching at all
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
            if not self.detached and not handle.stopped:  # the loop is shutting down
                _set_once(self.finished, None)
                raise
            self.detached = True  # also after handle.stop() from code: the row offers Resume
            self._changed()
            self._end(None)
            return
        except Exception as exc:  # watching failed; the run itself may be fine
            self.error = exc
            self._changed()
            self._end(None)
            return
        try:
            self.thumbs, self.videos = await self.media.for_result(result)
            self.small_thumb = await asyncio.to_thread(_stored_thumb, self.client, result)
            self.shown = await asyncio.to_thread(_displayed, result.execution, self.session)
        finally:
            self.result = result
            self.cancelling = False
            self.ended_at = time.time()
            self._changed()
            self.ui.apply(self.on_finished, self)
            self._end(result)

    def _end(self, result: Result | None) -> None:
        """Resolve ``finished`` after the UI changes queued before it were applied."""
        self.ui.apply(_set_once, self.finished, result)

    # -- detach, resume, cancel -----------------------------------------------------------
    def detach(self) -> None:
        """Stop watching (the run goes on at the service); a no-op once it ended."""
        with self._lock:
            if self.finished.done():
                return
            self.detached = True
            if self.handle is not None:
                self.handle.stop()

    def resume(self) -> None:
        """Watch again after a detach or a lost connection (a no-op otherwise)."""
        if self.handle is None or self.result is not None or not self.finished.done():
            return
        # The watch takes the session's client: build it here, in the caller's thread (the
        # loop thread cannot block on itself if a settings change replaced the client).
        self.client = self.session.client
        self.detached = False
        self.error = None
        self.finished = concurrent.futures.Future()
        self._follow_or_end(self._begin_watch())  # the row says "watching" again

    def cancel(self) -> bool:
        """Cancel the run at the service: it stops producing outputs and spending credits,
        and the watch ends with its ``cancelled`` state. Returns at once (the request goes
        from the loop thread); a run still starting is cancelled as soon as its POST answers.
        A detached run is watched again to show its end. False when there is nothing to
        cancel (it ended, was refused, or the service offers no cancel)."""
        if self.result is not None or self.can_cancel is False:
            return False
        if self.handle is None and self.error is not None:
            return False  # never started: nothing to cancel
        self.cancelling = True
        if self.handle is None:  # the POST is on its way: _create cancels after it answers
            self._changed()
            return True
        if self.finished.done():
            self.resume()
        self._changed()
        self.session.runtime.submit(self._cancel())
        return True

    async def _cancel(self) -> None:
        handle = self.handle
        assert handle is not None
        try:
            await self.client.cancel(handle.execution_id)
        except asyncio.CancelledError:
            raise
        except NotOfferedError as exc:
            self.can_cancel = False
            self.cancelling = False
            self.ui.show_error(exc)
            self._changed()
        except Exception as exc:  # the run goes on: say why it was not cancelled
            self.cancelling = False
            self.ui.show_error(exc)
            self._changed()


def _displayed(execution: Execution, session: Session) -> Execution:
    """The execution with the sandbox's loopback media URLs through the Jupyter server's proxy
    (a worker thread: finding the server may take a loopback request the first time)."""
    from ..session.proxy import display_execution

    try:
        return display_execution(execution, session)
    except Exception:  # a malformed LAMINA_PROXY_PREFIX: show the URLs as they are
        return execution


def _stored_thumb(client: Any, result: Result) -> Media | None:
    """The first output's thumbnail as the journal stored it (a reused Result carries those
    already); None without one."""
    if result.reused:
        return next(iter(result.media.values()), None)
    journal = getattr(client, "journal", None)
    if journal is None:
        return None
    try:
        stored = journal.media([result.execution.execution_id]).get(
            result.execution.execution_id, {}
        )
    except Exception:  # an unreadable journal: the gallery thumbnail is used instead
        return None
    order = [o.id for o in result.execution.outputs]
    for key in [*order, *stored]:
        item = stored.get(key)
        if item is not None and item.thumbnail is not None:
            return item.thumbnail
    return None


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
