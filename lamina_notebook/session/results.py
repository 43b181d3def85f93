"""What a run gives back to notebook code: ``Result`` (finished) and ``RunHandle`` (in flight).

Both display themselves through ``_repr_mimebundle_`` (built by ``render``), so ``Out[n]``, ``_``
and a saved notebook show the outputs with no widget state. A RunHandle watches its execution on
the session's runtime loop; stopping the watch never stops the run at the service. When a run
ends, what the journal keeps of its outputs (thumbnails, sizes) is stored before its Result is
handed out, so history, grids and reuse draw from local data. ``launch(..., reuse=True)`` hands
back a completed identical run from the journal instead of paying for it again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import stopped_watching
from ..models import Media
from .media import fetch_outputs
from .runtime import wait_future

if TYPE_CHECKING:  # pragma: no cover
    from ..journal import JournalEntry, StoredMedia
    from ..models import App, Execution
    from .session import Session

__all__ = [
    "Result",
    "ReuseSavings",
    "RunHandle",
    "has_kernel",
    "launch",
    "resume",
    "reuse_savings",
    "submit_uninterrupted",
]

log = logging.getLogger("lamina_notebook.session")

Bundle = tuple[dict[str, Any], dict[str, Any]]


class Result:
    """A finished run: the final :class:`Execution`, its embedded media and the inputs used.

    ``videos`` holds the bytes of small completed videos (up to ``media.EMBED_VIDEO_BYTES``) so
    a saved notebook can embed them. ``reused_from`` is the id of the journaled run this
    result was taken from instead of running again (then ``reused`` is True, ``media`` holds
    the journal's thumbnails and nothing was sent to the service). Attributes not defined here
    are read from the execution (``result.status``, ``result.outputs``, ``result.execution_id``).
    """

    def __init__(
        self,
        execution: Execution,
        media: Mapping[str, Media] | None = None,
        inputs: Mapping[str, Any] | None = None,
        *,
        session: Session | None = None,
        videos: Mapping[str, bytes] | None = None,
        reused_from: str | None = None,
    ) -> None:
        self.execution = execution
        self.media: dict[str, Media] = dict(media or {})
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.videos: dict[str, bytes] = dict(videos or {})
        self.reused_from = reused_from
        self._session = session

    @property
    def reused(self) -> bool:
        """True when this is a journaled run handed back instead of a new one."""
        return self.reused_from is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "execution":  # keep copy/pickle protocols sane
            raise AttributeError(name)
        return getattr(self.execution, name)

    def __repr__(self) -> str:
        e = self.execution
        return (
            f"<Result {e.app_name or e.app_id or 'app'} {e.execution_id} {e.status}: "
            f"{e.outputs_done}/{e.outputs_total} outputs{' (reused)' if self.reused else ''}>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        from .. import render

        e = self.execution
        data = {
            "text/plain": render.execution_text(e, inputs=self.inputs),
            "text/html": render.execution_html(
                self._shown_execution(), self.media, inputs=self.inputs, videos=self.videos
            ),
        }
        return data, render.execution_metadata(e, inputs=self.inputs)

    def _shown_execution(self) -> Execution:
        """The execution with the sandbox's loopback media URLs as the page can load them
        (through the Jupyter server's proxy on Binder: ``proxy.display_execution``); the text
        part keeps the URLs as they are, for downloads and terminals."""
        session = self._session
        if session is None or session.sandbox is None:
            return self.execution
        from .proxy import display_execution

        try:
            return display_execution(self.execution, session)
        except Exception as exc:  # a malformed LAMINA_PROXY_PREFIX: show the URLs as they are
            log.warning("media URLs left as they are: %s", exc)
            return self.execution

    @property
    def urls(self) -> list[str]:
        """Full-size URLs of the completed image/video/audio outputs (may be signed, may expire)."""
        return [
            o.value
            for o in self.execution.outputs
            if o.is_completed and o.value and o.kind in ("image", "video", "audio", "url")
        ]

    @property
    def texts(self) -> list[str]:
        """Values of the completed text outputs."""
        return [
            o.value
            for o in self.execution.outputs
            if o.is_completed and o.value is not None and o.kind == "text"
        ]

    @property
    def images(self) -> list[Any]:
        """The completed image outputs at full size, as Pillow images (fetched on first use)."""
        cached = self.__dict__.get("_images")
        if cached is None:
            session = self._get_session()
            client = session.client
            urls = [
                o.value
                for o in self.execution.outputs
                if o.is_completed and o.value and o.kind == "image"
            ]

            async def fetch_all() -> list[bytes]:
                return [(await client.fetch_bytes(u))[0] for u in urls]

            import io

            from PIL import Image

            cached = [Image.open(io.BytesIO(b)) for b in session.run(fetch_all())]
            self.__dict__["_images"] = cached
        return list(cached)

    def save(self, folder: str | Path = ".") -> Path:
        """Download every output into ``folder`` with a manifest; returns the manifest's path."""
        session = self._get_session()
        client = session.client
        return session.run(client.save(self.execution, Path(folder)))

    def _get_session(self) -> Session:
        if self._session is None:
            from .session import get_session

            self._session = get_session()
        return self._session


Listener = Callable[["RunHandle"], Any]


class RunHandle:
    """A run in flight. Watching happens on the runtime loop; the run itself is the service's.

    ``result()`` blocks until it ends, ``await handle`` awaits it, ``stop()`` stops watching
    (the run goes on and ``%lamina resume ID`` or ``result()`` picks it up again), ``cancel()``
    cancels it at the service. ``on_change(cb)`` registers ``cb(handle)``, called in the loop
    thread after every change.

    The handle watches with a client taken in the thread that asks (``watch()`` from the main
    thread takes the session's current client); on the loop thread it keeps the one it was
    created with (``client=``), since asking the session there could deadlock while another
    thread replaces the client. A handle made on the loop thread must be given its client.
    ``result=`` makes a finished handle (a reused run: ``reused`` is True).
    """

    def __init__(
        self,
        session: Session,
        execution: Execution,
        inputs: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        client: Any = None,
        result: Result | None = None,
    ) -> None:
        self.session = session
        self.execution = execution
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.timeout = timeout
        self.started = time.monotonic()
        self._result: Result | None = result
        self._error: BaseException | None = None
        self._future: concurrent.futures.Future[Result] | None = None
        self._stopped = False
        self._listeners: list[Listener] = []
        self._display_id: str | None = None
        self._live = False
        self._lock = threading.Lock()
        self._client: Any = client  # the client watching (see the class docstring)

    @property
    def eta(self) -> float | None:
        """Seconds until the run is expected to end (from the journal); None if unknown.

        Computed when asked (a journal read), never in the constructor, so a Ctrl-C right
        after a run was created cannot land in I/O between the POST and the watch.
        """
        if self.done():
            return None
        client = self._client
        if client is None and not self.session.runtime.in_loop_thread():
            client = self.session.client
        if client is None:
            return None
        return client.eta(self.execution, time.monotonic() - self.started)

    # -- state ----------------------------------------------------------------------------
    @property
    def execution_id(self) -> str:
        return self.execution.execution_id

    @property
    def status(self) -> str:
        return self.execution.status

    @property
    def reused(self) -> bool:
        """True for a completed identical run taken from the journal (nothing was sent)."""
        return self._result is not None and self._result.reused

    @property
    def future(self) -> concurrent.futures.Future[Result] | None:
        """The current watch as a future (None before watching); awaiting it never restarts a
        watch that :meth:`stop` cancelled, unlike ``await handle``."""
        return self._future

    @property
    def stopped(self) -> bool:
        """True after :meth:`stop` (or Ctrl-C) while the run had not ended."""
        return self._stopped and not self.done()

    def done(self) -> bool:
        """True once the run ended and its outputs were fetched (or watching failed)."""
        return self._result is not None or self._error is not None

    def __repr__(self) -> str:
        reused = " (reused)" if self.reused else ""
        name = self.execution.app_name or ""
        return f"<RunHandle {name} {self.execution_id} {self.status}{reused}>"

    # -- watching -------------------------------------------------------------------------
    def watch(self) -> RunHandle:
        """Start (or restart after :meth:`stop` or a failed watch) watching; returns self.

        A new watch forgets the previous one's error (a lost connection), so Resume works.
        """
        if self._result is not None:
            return self
        client = self._client
        if not self.session.runtime.in_loop_thread():
            client = self.session.client  # the current one, taken here (never on the loop)
        with self._lock:
            if self._result is not None or (self._future is not None and not self._future.done()):
                return self
            if client is None:
                raise RuntimeError(
                    "a RunHandle created on the lamina-loop thread needs its client "
                    "(RunHandle(..., client=client)) to watch from there"
                )
            self._error = None
            self._stopped = False
            self._client = client
            self._future = self.session.runtime.submit(self._watch(client))
        return self

    async def _watch(self, client: Any) -> Result:
        try:
            final = await client.wait(
                self.execution_id, timeout=self.timeout, on_update=self._on_update, check=False
            )
            self._on_update(final)
            fetched = await fetch_outputs(client, final, self.session.settings.embed_max_px)
            await _store_media(client, final.execution_id, fetched.stored)
            self._result = Result(
                self.execution,
                fetched.media,
                self.inputs,
                session=self.session,
                videos=fetched.videos,
            )
            return self._result
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._error = exc
            raise
        finally:
            self._notify()

    def _on_update(self, execution: Execution) -> None:
        # The client may call this with a copy that lacks app info; keep what we knew.
        if not execution.app_name and (self.execution.app_id or self.execution.app_name):
            execution = execution.with_app(self.execution.app_id, self.execution.app_name)
        self.execution = execution
        self._notify()

    def on_change(self, callback: Listener) -> None:
        """Call ``callback(handle)`` in the loop thread after every change and at the end."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            with contextlib.suppress(Exception):  # a broken listener must not kill the watch
                callback(self)
        self.refresh_display()

    def stop(self) -> None:
        """Stop watching; the run goes on at the service (resume with ``%lamina resume ID``).

        The handle reads ``stopped`` before its watch is cancelled: whoever awaits the watch
        (the widget's row, a done callback) sees the cancellation as a stop, never as a
        shutdown of the loop.
        """
        with self._lock:
            self._stopped = not self.done()
            future = self._future
            if future is not None and not future.done():
                future.cancel()
        self.refresh_display()

    def cancel(self) -> Execution:
        """Cancel the run at the service (it stops producing and billing); its state after.

        Blocks the calling thread (not the loop's) for the one request. A finished handle (a
        reused run too) sends nothing. The edition ``/api`` offers no cancel: the client's
        error says so. A watch going on ends with the cancelled state; a stopped one shows it.
        """
        if self._result is not None:
            return self.execution
        client = self._client if self._client is not None else self.session.client
        execution: Execution = self.session.run(self._cancel(client))
        return execution

    async def _cancel(self, client: Any) -> Execution:
        state: Execution = await client.cancel(self.execution_id)
        if state.execution_id == self.execution_id and state.status:
            self._on_update(state)
        return self.execution

    def result(
        self, timeout: float | None = None, on_tick: Callable[[], Any] | None = None
    ) -> Result:
        """Block until the run ends and return its :class:`Result` (restarts a stopped watch).

        Raises the watch's error (e.g. ``WaitTimeout``; :meth:`watch` tries again);
        ``timeout`` here only limits this call (``concurrent.futures.TimeoutError``), the
        watch keeps going.
        """
        if self._error is None:
            self.watch()
        future = self._future
        if self._result is None and self._error is None and future is not None:
            deadline = None if timeout is None else time.monotonic() + timeout

            def tick() -> None:
                if deadline is not None and time.monotonic() > deadline:
                    raise concurrent.futures.TimeoutError(
                        f"execution {self.execution_id} still {self.status}"
                    )
                if on_tick is not None:
                    on_tick()

            wait_future(future, on_tick=tick)
        if self._error is not None:
            raise self._error
        assert self._result is not None
        self.refresh_display()  # from the caller's thread: the saved notebook gets the end state
        return self._result

    def __await__(self) -> Generator[Any, None, Result]:
        if self._error is None:
            self.watch()
        if self._future is not None and self._result is None and self._error is None:
            yield from asyncio.wrap_future(self._future).__await__()
        return self.result()

    # -- display --------------------------------------------------------------------------
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Bundle:
        from .. import render

        if self._result is not None:
            return self._result._repr_mimebundle_()
        if self._error is not None:
            return (
                {
                    "text/plain": render.error_text(self._error),
                    "text/html": render.error_html(self._error),
                },
                render.execution_metadata(self.execution, inputs=self.inputs),
            )
        elapsed = time.monotonic() - self.started
        eta = self.eta
        text = render.progress_text(self.execution, elapsed, eta)
        html = render.progress_html(self.execution, elapsed, eta)
        if self.stopped:
            note = stopped_watching(self.execution_id)
            text += "\n" + render.plain(note)
            html += f'<div class="lamina-muted">{render.esc(note)}</div>'
        return (
            {"text/plain": text, "text/html": html},
            render.execution_metadata(self.execution, inputs=self.inputs),
        )

    def display(self, live: bool | None = None) -> None:
        """Display the current state; with ``live`` (default: in a kernel) later changes
        update that output in place through its display id, ending with the outputs."""
        from IPython.display import display

        data, metadata = self._repr_mimebundle_()
        self._display_id = self._display_id or uuid.uuid4().hex
        display(data, metadata=metadata, raw=True, display_id=self._display_id)
        self._live = has_kernel() if live is None else live

    def _ipython_display_(self) -> None:
        # `Out[n]` cannot be updated later; a display with a display id can. So a returned
        # handle shows itself as a live display (the displayhook then publishes nothing).
        self.display()

    def refresh_display(self) -> None:
        """Re-render the live display (no-op when the handle was never displayed live)."""
        if not self._live or self._display_id is None:
            return
        from IPython.display import update_display

        with contextlib.suppress(Exception):  # a closed front end must not break the watch
            data, metadata = self._repr_mimebundle_()
            update_display(data, metadata=metadata, raw=True, display_id=self._display_id)


def has_kernel() -> bool:
    """True in a Jupyter kernel (HTML front end, display updates work); False in a terminal."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def submit_uninterrupted(session: Session, coro: Any) -> tuple[Any, bool]:
    """Run ``coro`` to the end even through Ctrl-C; returns (value, interrupted).

    For creating a run: cancelling a POST that may have reached the service could lose a
    billed execution's id, so a Ctrl-C waits for the answer and is reported afterwards.
    """
    future = session.runtime.submit(coro)
    interrupted = False
    while True:
        try:
            return future.result(), interrupted
        except KeyboardInterrupt:
            interrupted = True


def launch(
    session: Session,
    app: App | str,
    inputs: Mapping[str, Any],
    *,
    webhook: str | None = None,
    timeout: float | None = None,
    reuse: bool = False,
    variant: int | None = None,
    fresh: bool = False,
) -> tuple[RunHandle, bool]:
    """Start a run (one POST, never retried blindly) and begin watching it.

    Returns ``(handle, interrupted)``; ``interrupted`` is True when Ctrl-C came during the
    POST (the run exists; the caller should stop watching and say how to resume).

    Reuse: with ``reuse=True`` (or ``variant=N``), a completed run of the same request in the
    journal (same app, same inputs after validation, same service, same variant; 0 unless
    given) comes back as a finished handle (``handle.reused``; its Result's media are the
    journal's thumbnails) and no run is sent. ``variant=N`` asks for sample N deliberately:
    reused if journaled, else run and journaled as variant N. ``fresh=True`` always runs and
    journals the request's next variant (a new sample, never a reuse). Reuse and variants
    need the app's parameters to validate the inputs (cached after the first lookup).
    """
    if fresh and variant is not None:
        raise ValueError("fresh=True runs the next variant; give fresh=True or variant=N")
    if variant is not None and (isinstance(variant, bool) or int(variant) < 0):
        raise ValueError(f"variant must be a whole number from 0, not {variant!r}")
    client = session.client
    journal = getattr(client, "journal", None)
    wanted = int(variant or 0)
    if journal is not None and (reuse or fresh or variant is not None):
        resolved = session.run(client.resolve_app(app))
        clean = client.validate_inputs(resolved, inputs)  # no request: InputValidationError
        if fresh:
            wanted = journal.next_variant(resolved.app_id, clean, base_url=client.base_url)
        else:
            entry = journal.find_reusable(
                resolved.app_id, clean, base_url=client.base_url, variant=wanted
            )
            if entry is not None:
                return _reused_handle(session, client, entry), False
        app, inputs = resolved, clean

    async def start() -> Execution:
        execution: Execution = await client.run(app, inputs, webhook=webhook)
        if wanted and journal is not None:  # before control returns, like the start itself
            try:
                journal.set_variant(execution.execution_id, wanted)
            except Exception as exc:  # the run is journaled; only its variant number is lost
                log.warning("could not record variant %s of %s: %s", wanted, execution, exc)
        return execution

    execution, interrupted = submit_uninterrupted(session, start())  # ValidInputs stay trusted
    handle = RunHandle(session, execution, inputs, timeout=timeout, client=client)
    if not interrupted:
        try:
            handle.watch()
        except KeyboardInterrupt:  # the run exists: report it like a Ctrl-C during the POST
            interrupted = True
    if interrupted:
        handle.stop()  # not watching, and it says so: handle.stopped, resumable
    return handle, interrupted


def _reused_handle(session: Session, client: Any, entry: JournalEntry) -> RunHandle:
    """A finished handle on a journaled run, drawn from the journal alone (no request)."""
    stored: dict[str, StoredMedia] = {}
    with contextlib.suppress(Exception):  # unreadable media: the Result shows links instead
        stored = client.journal.media([entry.execution_id]).get(entry.execution_id, {})
    media = {oid: m.thumbnail for oid, m in stored.items() if m.thumbnail is not None}
    execution = entry.to_execution()
    result = Result(execution, media, entry.inputs, session=session, reused_from=entry.execution_id)
    return RunHandle(session, execution, entry.inputs, client=client, result=result)


async def _store_media(client: Any, execution_id: str, stored: Sequence[StoredMedia]) -> None:
    """Keep what is known of a finished run's outputs in the journal (a worker thread: the
    file may wait on another kernel's lock). A failure costs only the offline copy."""
    journal = getattr(client, "journal", None)
    if journal is None or not stored:
        return
    try:
        await asyncio.to_thread(journal.record_media, execution_id, stored)
    except Exception as exc:
        log.warning("could not store the media of %s in the journal: %s", execution_id, exc)


@dataclass(frozen=True)
class ReuseSavings:
    """What reusing journaled runs saved: ``runs`` not sent, and their ``credits`` when the
    price of every one is known (None otherwise: a partial sum would understate it)."""

    runs: int
    credits: float | None


def reuse_savings(
    items: Iterable[Result | RunHandle | None], credits: Mapping[str, float] | None = None
) -> ReuseSavings:
    """Count the reused runs among ``items`` (Results or handles; None and runs in flight
    are skipped) and sum their price from ``credits`` (app id -> credits of one run, e.g. the
    ``expected`` of ``client.estimate(app)``) when it is known for each of their apps."""
    apps: list[str | None] = []
    for item in items:
        if isinstance(item, RunHandle):
            if not item.reused:
                continue
            apps.append(item.execution.app_id)
        elif isinstance(item, Result) and item.reused:
            apps.append(item.execution.app_id)
    total: float | None = None
    if credits is not None and all(a is not None and a in credits for a in apps):
        total = float(sum(credits[a] for a in apps if a is not None))
    return ReuseSavings(runs=len(apps), credits=total)


def resume(session: Session, execution_id: str, *, timeout: float | None = None) -> RunHandle:
    """A handle on an existing execution (also one started by an earlier kernel), watching."""
    client = session.client
    execution = session.run(client.resume(execution_id))
    inputs: dict[str, Any] = {}
    entry = _journal_entry(client, execution_id)
    if entry is not None:
        inputs = dict(entry.inputs or {})
        execution = execution.with_app(entry.app_id, entry.app_name)
    return RunHandle(session, execution, inputs, timeout=timeout, client=client).watch()


def _journal_entry(client: Any, execution_id: str) -> Any:
    journal = getattr(client, "journal", None)
    if journal is None:
        return None
    with contextlib.suppress(Exception):
        return journal.get(execution_id)
    return None
