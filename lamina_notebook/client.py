"""LaminaClient: the async client of the Lamina API (one httpx.AsyncClient, one ``_send`` choke
point with the rate budget, safe retries and error translation) and its endpoint methods, in
either edition of the API (:mod:`editions`); the ``/v1``-only calls are in :mod:`extras`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx

from . import __version__
from .config import resolve_credentials
from .editions import Edition, EditionProbe, fixed_edition, is_absent
from .errors import (
    AppNotFoundError,
    ConfigurationError,
    InvalidResponseError,
    LaminaError,
    NotFoundError,
    WaitTimeout,
)
from .extras import ExtrasMixin
from .models import App, Execution
from .scheduling import LONG_POLL_MAX, LONG_POLLS, Poller, RateBudget, Watch
from .starts import (
    DEFAULT_JOURNAL,
    journal_lost_start,
    journal_started,
    may_have_started,
    open_journal,
    refuse_unconfirmed,
)
from .transport import (
    KeyAuth,
    Reply,
    Sender,
    check_webhook_url,
    envelope_data,
    is_uuid,
    parse_json,
    require_id,
    resolve_by_name,
    started_execution,
)
from .uploads import MAX_UPLOAD_BYTES
from .validation import MAX_BODY_BYTES, InputValue, ValidInputs, validate_inputs
from .webhooks import is_loopback_host

if TYPE_CHECKING:  # pragma: no cover
    from .journal import Journal, JournalEntry
    from .webhooks import WebhookReceiver

__all__ = ["LaminaClient"]

log = logging.getLogger(__name__)

_DEFAULT: Any = DEFAULT_JOURNAL
#: (base URL, receiver URL) pairs already warned about: a loopback receiver for a remote API.
_WARNED_LOOPBACK: set[tuple[str, str]] = set()


class LaminaClient(ExtrasMixin):
    """Async client of the Lamina API.

    Credentials come from the arguments, else ``LAMINA_API_KEY`` / ``LAMINA_BASE_URL``, else
    ``~/.lamina/config.json``. Every request goes through one :class:`RateBudget` (default 90
    per minute, under the service's 100); reads are retried with capped, jittered backoff; run
    creation is only resent when it surely never reached the server (or got a 429). All
    executions being waited on are watched by one shared :class:`Poller` (with the service's
    long-poll for up to ``max_long_polls`` of them where the edition has it).

    ``api_edition`` (None: ``LAMINA_API_EDITION``, else ``"auto"``) picks the API's edition:
    ``"api"`` (``/api/apps/{id}/executions``), ``"v1"`` (``/v1/apps/{id}/runs``, plus cancel,
    uploads, estimates, run lists, account) or ``"auto"`` (found once per base URL at the
    first request, see :class:`~lamina_notebook.editions.EditionProbe`). The older
    ``api_prefix`` still works: ``"/v1"`` means the v1 edition, ``"/api"`` the api one.

    A client belongs to the event loop it is first used on (front ends run it on a dedicated
    loop thread); use it with ``async with`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        api_edition: str | None = None,
        api_prefix: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        rate_limit: float = 90,
        rate_period: float = 60.0,
        rate_burst: int | None = None,
        poll_interval: float = 3.0,
        min_poll_interval: float = 1.0,
        journal: Journal | str | os.PathLike[str] | None = _DEFAULT,
        max_retries: int = 5,
        retry_backoff: float = 0.5,
        retry_backoff_cap: float = 8.0,
        max_body_bytes: int | None = MAX_BODY_BYTES,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        max_long_polls: int = LONG_POLLS,
    ) -> None:
        fixed = fixed_edition(api_edition, api_prefix)
        creds = resolve_credentials(api_key, base_url, api_prefix=api_prefix)
        self.base_url = creds.base_url
        self.key_source = creds.key_source
        self._auth = KeyAuth(creds.api_key) if creds.api_key else None
        self._editions = EditionProbe(self.base_url, fixed, share=transport is None)
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_long_polls = max_long_polls
        self.poll_interval = poll_interval
        self.min_poll_interval = min_poll_interval
        self.budget = RateBudget(rate_limit, rate_period, burst=rate_burst)
        self.journal = open_journal(journal)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": f"lamina-notebook/{__version__}", "Accept": "application/json"},
            # Drop idle connections before common 5 s server keep-alive timeouts, so a POST is
            # rarely sent on a socket the server is closing (that would look "maybe sent").
            limits=httpx.Limits(keepalive_expiry=4.0),
        )
        self._sender = Sender(
            self._http,
            self.budget,
            max_retries=max_retries,
            backoff=retry_backoff,
            backoff_cap=retry_backoff_cap,
        )
        self._poller = Poller(
            self._poll_fetch,
            self.budget,
            on_change=self._record_update,
            wait_fetch=self._long_poll,
        )
        self._settled: Edition | None = None
        self._settle(self._editions.edition)
        self._assets: dict[str, str] = {}  # sha256 -> asset URL uploaded by this client
        self._apps: dict[str, App] = {}
        self._app_names: dict[str, str] = {}  # casefolded name -> app id, once resolved
        self._exec_apps: dict[str, tuple[str | None, str | None]] = {}
        self._webhooked: set[str] = set()
        self._receiver: WebhookReceiver | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._starts: set[asyncio.Task[Execution]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"LaminaClient(base_url={self.base_url!r}, key_source={self.key_source!r})"

    # -- the edition ----------------------------------------------------------------------------

    @property
    def edition_name(self) -> str | None:
        """``"api"`` or ``"v1"``; None while ``auto`` has not found the edition yet."""
        found = self._editions.edition
        return None if found is None else found.name

    @property
    def api_prefix(self) -> str | None:
        """The path prefix in use (``"/api"``, ``"/v1"``); None while not known yet."""
        found = self._editions.edition
        return None if found is None else found.prefix

    @property
    def edition_probes(self) -> int:
        """Extra requests this client spent on finding the edition (0 or 1)."""
        return self._editions.probes

    async def edition(self) -> Edition:
        """The edition this client speaks; ``auto`` finds it with one GET if not known yet
        (never with a run POST)."""
        self._bind()
        found = await self._editions.resolve(self._probe)
        self._settle(found)
        return found

    async def _probe(self, edition: Edition) -> bool:
        """True when ``edition`` answers ``GET .../apps?limit=1``; False on "no such route"."""
        try:
            await self._get_json(edition, "/apps", {"limit": "1"})
        except LaminaError as exc:
            if is_absent(exc):
                return False
            raise
        return True

    def _settle(self, edition: Edition | None) -> None:
        """Configure what depends on the edition (the long-polls) once, when it is known (the
        poller may switch long-polls off later, if the service lacks them after all)."""
        if edition is not None and edition is not self._settled:
            self._settled = edition
            self._poller.max_long_polls = (
                self.max_long_polls if edition.offers("server_wait") else 0
            )

    async def _offered(self, feature: str, what: str) -> Edition:
        """The edition, if it offers ``feature``; else NotOfferedError naming the fix."""
        edition = await self.edition()
        edition.require(feature, what)
        return edition

    async def __aenter__(self) -> LaminaClient:
        self._bind()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def busy(self) -> bool:
        """True while a run start, a watch or a request is in flight (a session replacing
        this client closes it only once it is idle)."""
        return bool(self._starts) or self._poller.active > 0 or self._sender.in_flight > 0

    async def aclose(self) -> None:
        """Stop polling, let run starts in flight finish journaling, close the connections."""
        if self._closed:
            return
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self._poller.aclose()
        if self._starts:
            await asyncio.gather(*self._starts, return_exceptions=True)
        await self._http.aclose()

    # -- the choke point ------------------------------------------------------------------------

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise LaminaError(
                "This LaminaClient belongs to another event loop.",
                hint="Use one client per event loop (asyncio.run makes a new loop each time): "
                "create the client inside the loop that uses it.",
            )
        if self._closed:
            raise LaminaError("This LaminaClient is closed.", hint="Create a new LaminaClient.")

    def _require_key(self) -> httpx.Auth:
        if self._auth is None:
            raise ConfigurationError(
                "No Lamina API key: none was passed, LAMINA_API_KEY is unset and "
                "~/.lamina/config.json has none.",
                hint="Run %lamina login (or set LAMINA_API_KEY=lma_...); %lamina sandbox "
                "works offline without a key.",
            )
        return self._auth

    def _url(self, edition: Edition, path: str) -> str:
        return f"{self.base_url}{edition.prefix}{path}"

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.base_url)
        return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())

    async def _send(
        self, method: str, url: str, *, api: bool = True, token_held: bool = False, **kw: Any
    ) -> Reply:
        """The choke point: every request of this client (see :class:`Sender`).

        ``token_held``: the poller's budget token goes with this request; the Sender releases
        it, and it is refunded here if nothing can be sent.
        """
        try:
            self._bind()
            auth = self._require_key() if api else None
        except LaminaError:
            if token_held:
                self.budget.refund()
            raise
        return await self._sender.send(
            method, url, auth=auth, budgeted=api, token_held=token_held, **kw
        )

    async def _get_json(
        self,
        edition: Edition,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        token_held: bool = False,
        timeout: float | None = None,
    ) -> Any:
        """GET an API path and parse JSON; an unreadable 2xx body is fetched again (it's a read)."""
        for attempt in range(self.max_retries + 1):
            reply = await self._send(
                "GET",
                self._url(edition, path),
                params=params,
                token_held=token_held and attempt == 0,
                timeout=timeout,
            )
            try:
                return parse_json(reply, path)
            except InvalidResponseError:
                if attempt >= self.max_retries:
                    raise
                await self._sender.backoff(attempt + 1, "GET", path, "unreadable body")
        raise AssertionError("unreachable")  # pragma: no cover

    # -- apps -----------------------------------------------------------------------------------

    async def list_apps(self, search: str | None = None, limit: int | None = None) -> list[App]:
        """The apps this key can run (``search`` filters by text; ``limit`` caps the count)."""
        params: dict[str, str] = {}
        if search:
            params["search"] = search
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ConfigurationError(f"limit must be a positive integer, got {limit!r}.")
            params["limit"] = str(limit)

        async def call(edition: Edition) -> list[App]:
            doc = await self._get_json(edition, "/apps", params or None)
            return [App.from_json(item) for item in envelope_data(doc, "/apps", list)]

        self._bind()
        apps = await self._editions.first_call(call)  # while auto looks: the call is the probe
        self._settle(self._editions.edition)
        return apps

    async def get_app(self, app_id: str) -> App:
        """One app with its parameters (cached: apps do not change during a session)."""
        app_id = require_id(app_id, "app id")
        cached = self._apps.get(app_id)
        if cached is not None:
            return cached
        path = f"/apps/{quote(app_id, safe='')}"
        doc = await self._get_json(await self.edition(), path)
        app = App.from_json(envelope_data(doc, path, dict))
        if app.parameters is None:
            app = App.from_json({**app.raw, "parameters": []})
        self._apps[app_id] = app
        self._apps[app.app_id] = app
        return app

    async def resolve_app(self, app: App | str) -> App:
        """An App with parameters from an App, an app id or an app name (case-insensitive).

        Raises AppNotFoundError listing candidates when a name matches no app or several.
        """
        if isinstance(app, App):
            return app if app.parameters is not None else await self.get_app(app.app_id)
        text = require_id(app, "app name or id")
        if text in self._apps:
            return self._apps[text]
        if is_uuid(text):
            try:
                return await self.get_app(text)
            except NotFoundError as exc:
                raise AppNotFoundError(
                    f"No app with id {text}.",
                    hint="%lamina apps lists the apps this key can "
                    "run; ids come from there (or use the app's name).",
                ) from exc
        key = text.casefold()
        if key in self._app_names:  # resolved before: get_app answers from its cache
            return await self.get_app(self._app_names[key])
        found = await resolve_by_name(text, self.list_apps)
        resolved = await self.get_app(found.app_id)
        self._app_names[key] = resolved.app_id
        return resolved

    def validate_inputs(self, app: App, inputs: Mapping[str, Any] | None) -> ValidInputs:
        """Check inputs against ``app.parameters``; raises InputValidationError, sends nothing.

        :meth:`run` sends the returned :class:`ValidInputs` as they are (no second check).
        """
        if isinstance(inputs, ValidInputs) and inputs.app_id == app.app_id:
            return inputs
        return validate_inputs(app, inputs, max_body_bytes=self.max_body_bytes)

    # -- runs -----------------------------------------------------------------------------------

    async def run(
        self,
        app: App | str,
        inputs: Mapping[str, Any] | None = None,
        webhook: str | None = None,
        *,
        token_held: bool = False,
    ) -> Execution:
        """Start a run; the execution is journaled before this returns.

        Inputs are validated first (no request at all if they are wrong), unless they are the
        :class:`ValidInputs` :meth:`validate_inputs` returned for this app. The POST is never
        resent once it may have reached the server. If the caller is cancelled while the POST
        is in flight, the start still completes in the background and lands in the journal.

        ``token_held``: the caller took a rate-budget token for this POST (``await
        client.budget.acquire()``), so it knows the POST goes out at once, with no wait in
        between (a grid marks its cell "starting" then); it is refunded if nothing is sent.
        """
        try:
            self._bind()
            resolved = await self.resolve_app(app)
            clean = self.validate_inputs(resolved, inputs)
            hook = webhook or self._receiver_hook()
            if hook is not None:
                check_webhook_url(hook)
            edition = await self.edition()  # known by now (a GET found it), never guessed
        except BaseException:
            if token_held:
                self.budget.refund()
            raise
        start = asyncio.get_running_loop().create_task(
            self._start(edition, resolved, dict(clean), hook, token_held=token_held)
        )
        self._starts.add(start)
        start.add_done_callback(self._start_done)
        try:
            return await asyncio.shield(start)
        except asyncio.CancelledError:
            log.warning(
                "run of %s was interrupted while starting; if the service accepted it, "
                "it is journaled (see %%lamina history)",
                resolved.name,
            )
            raise

    def _start_done(self, task: asyncio.Task[Execution]) -> None:
        """Forget a finished start; log its error if its caller was cancelled meanwhile."""
        self._starts.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("run start failed: %s", task.exception())

    async def _start(
        self,
        edition: Edition,
        app: App,
        inputs: dict[str, InputValue],
        hook: str | None,
        *,
        token_held: bool = False,
    ) -> Execution:
        path = edition.app_runs(app.app_id)
        params = {"webhook": hook} if hook else None
        try:
            reply = await self._send(
                "POST",
                self._url(edition, path),
                params=params,
                body={"inputs": inputs},
                creates_run=True,
                token_held=token_held,
            )
            execution = started_execution(reply, path).with_app(app.app_id, app.name)
        except LaminaError as exc:
            if may_have_started(exc):  # journaled before the caller hears of it
                journal_lost_start(
                    self.journal, exc, app=app, inputs=inputs, base_url=self.base_url, webhook=hook
                )
            raise
        self._remember_app(execution.execution_id, app.app_id, app.name)
        if hook is not None and hook == self._receiver_hook():
            self._webhooked.add(execution.execution_id)
        journal_started(
            self.journal, execution, app=app, inputs=inputs, base_url=self.base_url, webhook=hook
        )
        return execution

    def _record_update(self, execution: Execution) -> None:
        if self.journal is None:
            return
        try:
            self.journal.record_update(execution)
        except Exception as exc:
            log.warning("could not journal execution %s (%s)", execution.execution_id, exc)

    def _remember_app(self, execution_id: str, app_id: str | None, app_name: str | None) -> None:
        """Tag the execution's states with its app from now on, and a webhook delivery that
        came before this was known (e.g. while the run's POST reply was on its way)."""
        self._exec_apps[execution_id] = (app_id, app_name)
        self._poller.amend_delivered(execution_id, self._tag)

    def _tag(self, execution: Execution) -> Execution:
        app_id, app_name = self._exec_apps.get(execution.execution_id, (None, None))
        return execution.with_app(app_id, app_name)

    async def get_execution(self, execution_id: str) -> Execution:
        """The execution's current state (journaled); UnconfirmedRunError for a local id."""
        refuse_unconfirmed(execution_id, self.journal)
        execution = await self._fetch_execution(execution_id)
        self._record_update(execution)
        return execution

    async def _fetch_execution(self, execution_id: str, *, token_held: bool = False) -> Execution:
        if not token_held:  # the poller's ids were checked when their watch began
            execution_id = require_id(execution_id, "execution id")
        try:
            edition = await self.edition()
        except BaseException:
            if token_held:
                self.budget.refund()
            raise
        path = edition.run(execution_id)
        doc = await self._get_json(edition, path, token_held=token_held)
        return self._tag(Execution.from_json(envelope_data(doc, path, dict)))

    async def _poll_fetch(self, execution_id: str) -> Execution:
        """The poller's GET, sent with the budget token the poller took (the Sender releases
        it after that try; a retry takes its own)."""
        return await self._fetch_execution(execution_id, token_held=True)

    async def _long_poll(self, execution_id: str, hold: float) -> Execution:
        """The poller's long-poll: ``GET /v1/runs/{id}/wait?timeout=`` with the token the
        poller took; the service answers when the run ends or after ``hold`` seconds."""
        try:
            edition = await self.edition()
        except BaseException:
            self.budget.refund()
            raise
        path = edition.run(execution_id) + "/wait"
        seconds = max(1, min(int(LONG_POLL_MAX), round(hold)))
        doc = await self._get_json(
            edition,
            path,
            {"timeout": str(seconds)},
            token_held=True,
            timeout=seconds + self.timeout,  # the service may hold it that long
        )
        return self._tag(Execution.from_json(envelope_data(doc, path, dict)))

    async def signing_keys(self) -> list[dict[str, Any]]:
        """The service's webhook verification keys (JWKs); this answer has no ``data`` wrapper."""
        doc = await self._get_json(await self.edition(), "/webhooks/signing-key")
        keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
            raise InvalidResponseError(
                "signing-key answer has no list of keys", snippet=str(doc)[:200]
            )
        return keys

    # -- waiting --------------------------------------------------------------------------------

    def _interval(self, interval: float | None) -> float:
        value = self.poll_interval if interval is None else interval
        if value < self.min_poll_interval:
            log.info(
                "poll interval %.2f s raised to the floor of %.2f s", value, self.min_poll_interval
            )
        return max(value, self.min_poll_interval)

    def watch(
        self,
        execution: Execution | str,
        *,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> AsyncIterator[Execution]:
        """Yield the execution's state now and after each change, ending at a terminal state.

        Stopping the iteration (``break``, cancellation) stops watching only; the run goes on
        and can be resumed. ``timeout`` (seconds) raises :class:`WaitTimeout`.
        """
        return self._states(execution, timeout=timeout, interval=interval, progress=True)

    async def _states(
        self,
        execution: Execution | str,
        *,
        timeout: float | None,
        interval: float | None,
        progress: bool,
    ) -> AsyncIterator[Execution]:
        """:meth:`watch`; ``progress=False`` when only the end matters (a long-poll may then
        hold for up to 120 s: one request instead of one per interval)."""
        self._bind()
        initial = execution if isinstance(execution, Execution) else None
        execution_id = require_id(initial.execution_id if initial else execution, "execution id")
        await self.edition()  # the long-polls depend on it
        every = self._interval(interval)
        hooked = self._receiver is not None and execution_id in self._webhooked
        w = self._poller.watch(
            execution_id,
            every,
            initial=initial,
            first_poll_in=self._first_poll_in(initial, every),
            webhook=hooked,
            progress=progress,
        )
        try:
            async for state in _drain(w, execution_id, timeout):
                yield state
        finally:
            w.close()

    def _first_poll_in(self, initial: Execution | None, every: float) -> float:
        """When to look first: at once for a bare id (its state is unknown); else when the run
        is expected to be done, from the app's journaled durations; else after one interval.

        A small margin (5 % of the interval) keeps the poll from arriving just before the
        expected end because of millisecond timestamps or clock skew.
        """
        if initial is None:
            return 0.0
        expected = self.eta(initial)
        if expected is None:
            return every
        return max(self.min_poll_interval, expected + 0.05 * every)

    def typical_duration(self, app_id: str | None) -> float | None:
        """Median duration of the app's recent completed runs, from the journal; None if unknown."""
        if self.journal is None or not app_id:
            return None
        try:
            return self.journal.typical_duration(app_id)
        except Exception:  # an unreadable journal only costs the estimate
            return None

    def eta(self, execution: Execution, elapsed: float | None = None) -> float | None:
        """Seconds until ``execution`` is expected to end (never negative); None if unknown.

        The one ETA of the package: :meth:`typical_duration` minus ``elapsed`` (default: the
        time since the service created the run). Used for the first poll and by the front ends.
        """
        if execution.is_terminal:
            return None
        typical = self.typical_duration(execution.app_id)
        if typical is None:
            return None
        if elapsed is None:
            created = execution.created_at
            elapsed = max(0.0, time.time() - created.timestamp()) if created is not None else 0.0
        return max(0.0, typical - elapsed)

    async def wait(
        self,
        execution: Execution | str,
        *,
        timeout: float | None = None,
        interval: float | None = None,
        on_update: Callable[[Execution], None] | None = None,
        check: bool = False,
    ) -> Execution:
        """Wait for a terminal state; ``check=True`` raises ExecutionFailed on failure.

        Where the edition has the service's long-poll, a wait without ``on_update`` costs one
        request per run and up to 120 s; with ``on_update`` it still sees the end the moment
        it happens and the states in between as often as polling would.
        """
        last: Execution | None = None
        states = self._states(
            execution, timeout=timeout, interval=interval, progress=on_update is not None
        )
        async for state in states:
            last = state
            if on_update is not None:
                on_update(state)
        assert last is not None
        return last.raise_for_status() if check else last

    async def resume(self, execution_id: str) -> Execution:
        """Reattach to a run (e.g. from an earlier process): journal details + a fresh GET."""
        refuse_unconfirmed(execution_id, self.journal)
        entry = self.journal.get(execution_id) if self.journal is not None else None
        if entry is not None:
            self._remember_app(execution_id, entry.app_id, entry.app_name)
            hook = self._receiver_hook()
            if hook is not None and entry.webhook_url == hook:
                self._webhooked.add(execution_id)
        try:
            return await self.get_execution(execution_id)
        except NotFoundError as exc:
            if entry is not None and entry.base_url and entry.base_url != self.base_url:
                exc.hint = (
                    f"This run was started against {entry.base_url}; point "
                    "LAMINA_BASE_URL (and the key) there to resume it."
                )
            raise

    def history(self, app: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """Journaled runs, newest first (``app`` is an id or a name); [] without a journal."""
        return self.journal.history(app=app, limit=limit) if self.journal is not None else []

    # -- files and webhooks ---------------------------------------------------------------------

    async def fetch_bytes(self, url: str, max_bytes: int = 200_000_000) -> tuple[bytes, str | None]:
        """Download an output URL as ``(content, content type)``.

        The key is sent only when the URL is on the API's own host, never to a CDN.
        """
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            raise InvalidResponseError("an output URL is not http(s)", snippet=str(url)[:100])
        own = self._same_origin(url)
        try:
            reply = await self._send("GET", url, api=own, max_bytes=max_bytes)
        except NotFoundError as exc:
            exc.hint = (
                "Output URLs expire; get fresh ones with %lamina resume EXECUTION_ID "
                "(client.get_execution), then save them."
            )
            raise
        return reply.content, reply.headers.get("content-type")

    async def save(
        self, execution: Execution, folder: str | os.PathLike[str], *, overwrite: bool = False
    ) -> Path:
        """Download every output of ``execution`` into ``folder`` with a manifest; its path.

        Downloads go through :meth:`fetch_bytes` (the rate budget for the API's own host, and
        the key never sent elsewhere); see :func:`lamina_notebook.files.save`.
        """
        from .files import save

        return await save(self, execution, folder, overwrite=overwrite)

    def use_webhooks(self, receiver: WebhookReceiver | None) -> None:
        """Take completion from ``receiver``'s verified deliveries; None switches back to polling.

        Runs started afterwards get the receiver's URL as webhook; their polling drops to a slow
        safety net. A receiver only this machine can reach (127.0.0.1, no ``public_url``) is
        not handed to a service elsewhere: that warns once and those runs are polled as usual.
        """
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._receiver = receiver
        if receiver is not None:
            self._unsubscribe = receiver.subscribe(self._deliver_threadsafe)
            if self._unreachable(receiver):
                self._warn_unreachable(receiver)

    def _unreachable(self, receiver: WebhookReceiver) -> bool:
        """True when ``receiver`` listens on loopback but the API is elsewhere."""
        return receiver.is_loopback and not is_loopback_host(urlsplit(self.base_url).hostname)

    def _receiver_hook(self) -> str | None:
        """The webhook URL for runs started now: the receiver's, if the service can reach it."""
        receiver = self._receiver
        if receiver is None or self._unreachable(receiver):
            return None
        return receiver.url

    def _warn_unreachable(self, receiver: WebhookReceiver) -> None:
        try:
            where = receiver.url
        except LaminaError:  # not listening yet
            where = f"{receiver.host}:{receiver.port or '<port>'}"
        key = (self.base_url, where)
        if key in _WARNED_LOOPBACK:
            return
        _WARNED_LOOPBACK.add(key)
        message = (
            f"The webhook receiver listens on {where}, which {self.base_url} cannot reach, so "
            "it is not used: runs are polled as usual. To get webhooks, give it a public "
            "address that forwards to it: WebhookReceiver(public_url='https://<your tunnel>"
            f"{receiver.path}') (a tunnel such as ngrok or cloudflared)."
        )
        log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _deliver_threadsafe(self, execution: Execution) -> None:
        """Called on the receiver's thread: hop onto the client's loop."""
        loop = self._loop
        if loop is None or loop.is_closed() or self._closed:
            self._record_update(self._tag(execution))  # the journal is thread-safe
            return
        try:
            loop.call_soon_threadsafe(lambda: self._poller.deliver(self._tag(execution)))
        except RuntimeError:  # the loop closed between the check and the call
            self._record_update(self._tag(execution))


# -- helpers ----------------------------------------------------------------------------------


async def _drain(w: Watch, execution_id: str, timeout: float | None) -> AsyncIterator[Execution]:
    """The watch's states until a terminal one; WaitTimeout after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        remaining = None if deadline is None else deadline - loop.time()
        try:
            state = await w.next(remaining)
        except asyncio.TimeoutError:
            raise WaitTimeout(execution_id, timeout or 0.0, w.last) from None
        yield state
        if state.is_terminal:
            return
