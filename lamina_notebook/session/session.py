"""The process-wide front-end session: settings, the runtime, the client, app cache, sandbox.

``get_session()`` returns the one Session that ``%lamina`` and ``LaminaApp`` share, so a key
entered with ``%lamina login`` or a sandbox started by ``%lamina sandbox`` serves both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .runtime import Runtime

if TYPE_CHECKING:  # pragma: no cover
    from ..client import LaminaClient
    from ..models import App

__all__ = ["SANDBOX_KEY", "Session", "Settings", "get_session", "reset_session"]

#: Key used for an external sandbox named by LAMINA_SANDBOX_URL (LAMINA_SANDBOX_KEY overrides).
SANDBOX_KEY = "lma_sandbox"

# Settings the client depends on. Poll intervals are applied to the live client; a change of
# any other one (in its effective value: a key equal to LAMINA_API_KEY is no change) replaces it.
_CLIENT_FIELDS = frozenset(
    {
        "api_key",
        "base_url",
        "api_edition",
        "api_prefix",
        "poll_interval",
        "min_poll_interval",
        "rate_limit",
        "journal_path",
        "request_timeout",
        "max_retries",
    }
)
#: A replaced client closes once it has had nothing in flight for this many seconds: its
#: watches, and the media fetches that follow them, finish on it first.
RETIRE_IDLE = 10.0
RETIRE_CHECK = 0.5


@dataclass
class Settings:
    """What the front ends can configure (mirrors the ``LaminaMagics`` traits).

    ``api_key`` is excluded from the repr so it never lands in output or logs.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    api_edition: str | None = None  # "auto" | "api" | "v1"; None: LAMINA_API_EDITION, else auto
    api_prefix: str | None = None  # the older setting: "/v1" means the v1 edition
    poll_interval: float = 3.0
    min_poll_interval: float = 1.0  # the service's guidance; tests against the sandbox lower it
    timeout: float | None = None  # how long a blocking run waits; None = until it ends
    request_timeout: float = 30.0
    max_retries: int = 5  # retries of reads (never of a run creation)
    embed_max_px: int = 512  # one embedded copy per image; ~88 KB per saved photo output
    rate_limit: int = 90
    journal_path: str | None = None
    sandbox_time_scale: float = 1.0
    sandbox_process: bool = True  # %lamina sandbox in a child process (False: in this process)
    # A grid (or batch) starting more new runs than this asks first ("Start N runs (~C
    # credits)? [y/N]"); one that the balance cannot cover always asks. None: only then.
    confirm_over: int | None = 10


@dataclass
class SandboxState:
    """The sandbox the session points at, and the settings to restore when it stops."""

    base_url: str
    embedded: Any | None  # the SandboxProcess (or in-process Sandbox); None for LAMINA_SANDBOX_URL
    previous: tuple[str | None, str | None, str | None]  # api_key, base_url, key_origin


class Session:
    """Settings + runtime + a lazily built :class:`LaminaClient` + app cache + sandbox.

    The client is built on the runtime's loop on first use and replaced when the effective
    value of a setting it depends on changes; the old one finishes what it has in flight (runs
    being watched, their media) and closes when idle. Methods are called from the main thread.
    """

    def __init__(self, settings: Settings | None = None, runtime: Runtime | None = None) -> None:
        self.settings = settings or Settings()
        self.runtime = runtime or Runtime()
        self.key_origin: str | None = None  # where settings.api_key came from, e.g. "%lamina login"
        self.sandbox: SandboxState | None = None
        self._client: LaminaClient | None = None
        self._client_signature: tuple[Any, ...] | None = None
        self._retiring: set[LaminaClient] = set()  # replaced clients finishing their work
        self._lock = threading.RLock()
        self._apps: list[App] = []
        self._apps_at = 0.0
        self._app_details: dict[str, App] = {}  # app id -> App with parameters
        self._pending: set[str] = set()  # background fetches in flight

    # -- settings and client -------------------------------------------------------------
    def configure(self, **changes: Any) -> None:
        """Change settings; the client is replaced on next use if one it depends on changed."""
        known = {f.name for f in dataclasses.fields(Settings)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            dirty = False
            for name, value in changes.items():
                if getattr(self.settings, name) != value:
                    setattr(self.settings, name, value)
                    dirty = dirty or name in _CLIENT_FIELDS
            if dirty:
                self._client_settings_changed()

    def set_api_key(self, key: str | None, origin: str | None) -> None:
        """Use ``key`` (None: LAMINA_API_KEY / ~/.lamina); ``origin`` is what doctor shows."""
        self.configure(api_key=key or None)
        self.key_origin = origin if key else None

    @property
    def client(self) -> LaminaClient:
        """The client for the current settings (built on the loop thread on first use)."""
        with self._lock:
            if self._client is None:
                signature = self._signature()
                self._client = self.runtime.run_sync(self._build_client())
                self._client_signature = signature
            return self._client

    def _signature(self) -> tuple[Any, ...] | None:
        """The effective client settings besides poll intervals (the key only as a digest);
        None when they cannot be resolved (the client build will say why)."""
        from ..config import resolve_credentials
        from ..editions import fixed_edition

        s = self.settings
        try:
            creds = resolve_credentials(s.api_key, s.base_url, api_prefix=s.api_prefix)
            edition = fixed_edition(s.api_edition, s.api_prefix)
        except Exception:
            return None
        key = hashlib.sha256(creds.api_key.encode()).hexdigest() if creds.api_key else None
        return (
            key,
            creds.base_url,
            edition,  # None: auto (what it finds is remembered per base URL)
            s.request_timeout,
            s.rate_limit,
            s.max_retries,
            s.journal_path,
        )

    def _client_settings_changed(self) -> None:
        """Keep the client when only poll intervals changed (set on it live); else replace it."""
        client = self._client
        if client is None:
            return
        signature = self._signature()
        if signature is None or signature != self._client_signature:
            self._drop_client()
            return
        client.poll_interval = self.settings.poll_interval
        client.min_poll_interval = self.settings.min_poll_interval

    async def _build_client(self) -> LaminaClient:
        from ..client import LaminaClient

        s = self.settings
        kwargs: dict[str, Any] = {
            "api_edition": s.api_edition,
            "api_prefix": s.api_prefix,
            "timeout": s.request_timeout,
            "rate_limit": s.rate_limit,
            "poll_interval": s.poll_interval,
            "min_poll_interval": s.min_poll_interval,
            "max_retries": s.max_retries,
        }
        if s.journal_path:
            kwargs["journal"] = s.journal_path
        return LaminaClient(s.api_key, s.base_url, **kwargs)

    def _drop_client(self) -> None:
        """Forget the client; it closes once idle, so runs it watches are not cut off."""
        client, self._client = self._client, None
        self._apps, self._apps_at, self._app_details = [], 0.0, {}
        if client is not None and self.runtime.running:
            self._retiring.add(client)
            self.runtime.submit(self._close_when_idle(client))

    async def _close_when_idle(self, client: LaminaClient) -> None:
        """Close ``client`` after it had nothing in flight for RETIRE_IDLE seconds."""
        loop = asyncio.get_running_loop()
        try:
            idle_since: float | None = None
            while not client.closed:
                if client.busy:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since >= RETIRE_IDLE:
                    break
                await asyncio.sleep(RETIRE_CHECK)
        finally:  # also when the runtime shuts down and cancels this task
            self._retiring.discard(client)
            await client.aclose()

    def key_source(self) -> str | None:
        """Where the API key comes from (never the key itself); None when there is none."""
        if self.settings.api_key:
            return self.key_origin or "LaminaMagics.api_key"
        # Resolved from the environment / ~/.lamina/config.json, not by building a client:
        # %load_ext asks this, and a client costs httpx, the loop thread and the journal.
        from ..config import resolve_credentials

        s = self.settings
        try:
            return resolve_credentials(None, s.base_url, api_prefix=s.api_prefix).key_source
        except Exception:  # a broken config file must not break doctor/the load message
            return None

    def run(self, coro: Any, on_tick: Any = None) -> Any:
        """Shortcut for ``self.runtime.run_sync`` (blocking the main thread)."""
        return self.runtime.run_sync(coro, on_tick=on_tick)

    # -- app cache (for completion and name lookups) -------------------------------------
    def cached_apps(self) -> list[App]:
        """Apps seen so far; never blocks. Call :meth:`refresh_apps` to fill it."""
        return list(self._apps)

    def cached_app(self, name_or_id: str) -> App | None:
        """The app with parameters, if already fetched; starts a background fetch otherwise."""
        for app in self._apps:
            if name_or_id in (app.app_id, app.name):
                detail = self._app_details.get(app.app_id)
                if detail is None:
                    self._fetch_detail_in_background(app.app_id)
                return detail
        detail = self._app_details.get(name_or_id)
        return detail

    def remember_app(self, app: App) -> None:
        """Cache an app (with parameters) someone fetched, e.g. ``run``/``info``."""
        if app.parameters is not None:
            self._app_details[app.app_id] = app
        if all(a.app_id != app.app_id for a in self._apps):
            self._apps.append(app)

    def remember_apps(self, apps: list[App]) -> None:
        """Replace the app list (after a ``list_apps`` without a search)."""
        self._apps, self._apps_at = list(apps), time.monotonic()

    def refresh_apps(self, max_age: float = 300.0) -> None:
        """Fetch the app list in the background if it is older than ``max_age`` seconds."""
        if time.monotonic() - self._apps_at < max_age:
            return
        self._background("__list__", lambda c: c.list_apps(), self.remember_apps)

    def _fetch_detail_in_background(self, app_id: str) -> None:
        self._background(app_id, lambda c: c.get_app(app_id), self.remember_app)

    def _background(
        self, tag: str, call: Callable[[LaminaClient], Awaitable[Any]], store: Callable[[Any], None]
    ) -> None:
        """Best-effort fetch on the loop (completion must never wait for the network)."""
        if tag in self._pending:
            return
        try:
            client = self.client  # built here, in the main thread, never from the loop
        except Exception:
            return
        self._pending.add(tag)

        async def fetch() -> None:
            try:
                store(await call(client))
            finally:
                self._pending.discard(tag)

        future = self.runtime.submit(fetch())
        future.add_done_callback(lambda f: f.cancelled() or f.exception())  # swallow: best effort

    # -- sandbox --------------------------------------------------------------------------
    def start_sandbox(self, time_scale: float | None = None) -> SandboxState:
        """Point the session at a sandbox: LAMINA_SANDBOX_URL if set, else an embedded one."""
        if self.sandbox is not None:
            return self.sandbox
        previous = (self.settings.api_key, self.settings.base_url, self.key_origin)
        external = os.environ.get("LAMINA_SANDBOX_URL")
        if external:
            key = os.environ.get("LAMINA_SANDBOX_KEY") or SANDBOX_KEY
            state = SandboxState(external.rstrip("/"), None, previous)
        else:
            from ..sandbox import Sandbox, SandboxProcess

            scale = self.settings.sandbox_time_scale if time_scale is None else time_scale
            # A child process by default: the sandbox's drawing then never holds the kernel's
            # GIL (see sandbox/process.py); in-process only when asked (fast test set-ups).
            sb: Sandbox | SandboxProcess = (
                SandboxProcess(time_scale=scale)
                if self.settings.sandbox_process
                else Sandbox(time_scale=scale)
            )
            sb.start()
            key = sb.api_key
            state = SandboxState(sb.base_url, sb, previous)
        self.sandbox = state
        self.configure(base_url=state.base_url)
        self.set_api_key(key, "sandbox")
        return state

    def stop_sandbox(self) -> bool:
        """Stop the embedded sandbox and restore the previous key/base URL; False if none ran."""
        state, self.sandbox = self.sandbox, None
        if state is None:
            return False
        key, base_url, origin = state.previous
        self.configure(base_url=base_url)
        self.set_api_key(key, origin)
        if state.embedded is not None:
            state.embedded.stop()
        return True

    def close(self) -> None:
        """Close the client, stop the sandbox and the loop thread."""
        self.stop_sandbox()
        with self._lock:
            client, self._client = self._client, None
            clients = [c for c in (client, *self._retiring) if c is not None]
            self._retiring.clear()
        if clients and self.runtime.running:
            # closing is best effort; the loop is going away anyway
            with contextlib.suppress(Exception):
                self.runtime.submit(_close_all(clients)).result(timeout=5)
        self.runtime.close()


async def _close_all(clients: list[LaminaClient]) -> None:
    await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


_session: Session | None = None
_session_lock = threading.Lock()


def get_session() -> Session:
    """The process-wide session shared by the magics and the widget."""
    global _session
    with _session_lock:
        if _session is None:
            _session = Session()
        return _session


def reset_session() -> None:
    """Close and forget the process-wide session (extension unload, tests)."""
    global _session
    with _session_lock:
        session, _session = _session, None
    if session is not None:
        session.close()
