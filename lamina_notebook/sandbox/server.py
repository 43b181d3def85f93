"""``Sandbox``: the whole imitation service, served by uvicorn in a background thread.

``with Sandbox(time_scale=0.05) as sb:`` binds 127.0.0.1 on a free port, waits until /healthz
answers, and on exit stops the server and removes its generated files. Both editions of the API
are served from one state: ``sb.base_url + "/api"`` and ``sb.base_url + "/v1"``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from .app import build_routes_app, fetch_sources
from .assets import AssetStore
from .catalog import build_catalog
from .context import Context
from .inputs import resolve_inputs
from .middleware import QuietDrops, SandboxMiddleware
from .runs import Account, Runner
from .state import ExecutionStore
from .stats import Settings, Stats
from .webhooks import Deliverer, Signer

DEFAULT_KEY = "lma_sandbox"
DEFAULT_CREDITS = 1_000_000
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Sandbox:
    """An offline imitation of the Lamina API; see docs/architecture.md for every knob."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = DEFAULT_KEY,
        extra_keys: Iterable[str] = (),
        time_scale: float = 1.0,
        rate_limit: int = 100,
        rate_window: float = 60.0,
        error_rate: float = 0.0,
        latency: float = 0.0,
        drop_rate: float = 0.0,
        fail_rate: float = 0.0,
        force_429: int = 0,
        garbage_rate: float = 0.0,
        truncate_rate: float = 0.0,
        output_ttl: float | None = None,
        durations: Mapping[str, float] | None = None,
        extra_apps: Iterable[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        signing_key_path: str | os.PathLike[str] | None = None,
        max_body_bytes: int = 1_000_000,
        allow_remote_urls: bool = False,
        credit_balance: int = DEFAULT_CREDITS,
        validation_details: str = "list",
        rate_limit_body: str = "json",
        redirect_status: int = 0,
        redirect_location: str = "",
        max_upload_bytes: int = 25_000_000,
        upload_ttl: float = 3600.0,
        queue_seconds: float | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key must be a non-empty string, e.g. 'lma_sandbox'")
        self.settings = Settings(
            time_scale=time_scale,
            rate_limit=rate_limit,
            rate_window=rate_window,
            error_rate=error_rate,
            latency=latency,
            drop_rate=drop_rate,
            fail_rate=fail_rate,
            force_429=force_429,
            garbage_rate=garbage_rate,
            truncate_rate=truncate_rate,
            output_ttl=output_ttl,
            max_body_bytes=max_body_bytes,
            allow_remote_urls=allow_remote_urls,
            validation_details=validation_details,
            rate_limit_body=rate_limit_body,
            redirect_status=redirect_status,
            redirect_location=redirect_location,
            max_upload_bytes=max_upload_bytes,
            upload_ttl=upload_ttl,
            queue_seconds=queue_seconds,
        )
        self.settings.validate()
        self.host, self._port = host, port
        self._api_key = api_key
        self.stats = Stats()
        self._account = Account(_credits(credit_balance))
        self._signer = Signer(signing_key_path)
        self._apps = build_catalog(extra_apps, durations)
        self._seed = seed
        self._keys = {api_key, *extra_keys}
        self._revoked: set[str] = set()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._files: Path | None = None
        self._ctx: Context | None = None

    # --- public surface -----------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running; call start() or use `with Sandbox()`")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def public_key_spki_b64(self) -> str:
        """The webhook public key as base64 DER/SPKI (the seed's Node.js sample's form)."""
        return self._signer.spki_b64

    @property
    def signing_jwk(self) -> dict[str, str]:
        return self._signer.jwk()

    def app_id(self, name: str) -> str:
        """The appId of the app called ``name`` (exact name)."""
        for app in self._apps:
            if app.name == name:
                return app.app_id
        raise KeyError(f"no sandbox app {name!r}; apps: {', '.join(a.name for a in self._apps)}")

    @property
    def app_names(self) -> list[str]:
        return [a.name for a in self._apps]

    def completed_at(self, execution_id: str) -> float | None:
        """Wall-clock epoch at which the execution became (or will become) terminal."""
        rec = self._ctx.store.get(execution_id) if self._ctx else None
        return None if rec is None else rec.completed_at

    def configure(self, **knobs: Any) -> None:
        """Change knobs while running, e.g. ``sb.configure(error_rate=0.2, force_429=3)``."""
        unknown = set(knobs) - Settings.names()
        if unknown:
            raise TypeError(
                f"unknown sandbox knob(s) {sorted(unknown)}; known: {sorted(Settings.names())}"
            )
        trial = Settings(**{**self.settings.__dict__, **knobs})
        trial.validate()
        for name, value in knobs.items():
            setattr(self.settings, name, value)

    def revoke_key(self, key: str) -> None:
        """Revoke ``key`` as a workspace admin would: from now on every request sent with it
        gets 401 ``AUTH_INVALID_KEY`` saying the key was revoked (the sandbox's own key too)."""
        _check_key(key)
        self._keys.discard(key)
        self._revoked.add(key)

    def add_key(self, key: str) -> None:
        """Accept ``key`` from now on (also one revoked earlier)."""
        _check_key(key)
        self._revoked.discard(key)
        self._keys.add(key)

    def reset_stats(self) -> None:
        self.stats.reset()

    @property
    def balance(self) -> int:
        """The workspace's credits now (runs spend them step by step; see docs)."""
        if self._ctx is not None:
            self._ctx.runner.settle_all()
        return self._account.balance

    def set_balance(self, credits: int) -> None:
        """Make the workspace's current balance ``credits`` (e.g. 0 to see 402s)."""
        self._account.set_balance(_credits(credits))

    def outputs_produced(self, run_id: str) -> int:
        """Outputs ``run_id`` has produced so far (a cancelled run stops producing)."""
        if self._ctx is not None:
            rec = self._ctx.store.get(run_id)
            if rec is not None:
                self._ctx.runner.settle(rec)
        return int(self.stats.outputs_produced[run_id])

    def start_run(
        self, app: str, inputs: Mapping[str, Any] | None = None, *, source: str = "web"
    ) -> str:
        """Start a run as if from elsewhere (``source`` "web", "cli", ...) and return its id:
        it shows in ``GET /v1/runs`` with that source and spends credits like any run."""
        if self._ctx is None or self._ctx.loop is None:
            raise RuntimeError("the sandbox is not running; call start() or use `with Sandbox()`")
        found = next((a for a in self._apps if a.name == app), None)
        if found is None:
            self.app_id(app)  # raises KeyError naming the apps
        assert found is not None
        clean, problems = resolve_inputs(found, dict(inputs or {}))
        if problems:
            raise ValueError("; ".join(p.text for p in problems))
        ctx = self._ctx

        async def create() -> str:
            sources = await fetch_sources(ctx, found, clean, None)
            return ctx.runner.create(
                found, clean, sources, None, self.base_url, edition="v1", source=source
            ).id

        assert ctx.loop is not None, "the sandbox is not running"
        return asyncio.run_coroutine_threadsafe(create(), ctx.loop).result(timeout=30)

    @property
    def pending_deliveries(self) -> int:
        return self._ctx.deliverer.pending if self._ctx else 0

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind, serve in a daemon thread, and return once /healthz answers."""
        if self._server is not None:
            return self
        if self.host not in LOOPBACK:
            logging.getLogger("lamina_notebook.sandbox").warning(
                "sandbox listening on %s: anyone who can reach it can use it", self.host
            )
        sock = self._bind()
        self._files = Path(tempfile.mkdtemp(prefix="lamina-sandbox-"))
        self._ctx = self._context()
        app = SandboxMiddleware(build_routes_app(self._ctx), self._ctx, self._seed)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
            ws="none",
        )
        self._server = uvicorn.Server(config)
        uvicorn_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, QuietDrops) for f in uvicorn_log.filters):
            uvicorn_log.addFilter(QuietDrops())
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"lamina-sandbox-{self._port}",
            daemon=True,
        )
        self._thread.start()
        try:
            self._wait_ready(sock)
        except BaseException:
            self.stop()
            raise
        return self

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen on {self.host}:{self._port} ({exc}); pick another "
                "port, or port=0 for a free one"
            ) from exc
        self._port = sock.getsockname()[1]
        return sock

    def _context(self) -> Context:
        assert self._files is not None
        store = ExecutionStore(self.settings, self.stats, self._seed)
        runner = Runner(store, self._account, self.stats)
        (self._files / "assets").mkdir()
        return Context(
            settings=self.settings,
            stats=self.stats,
            apps=self._apps,
            store=store,
            signer=self._signer,
            deliverer=Deliverer(self._signer, self.settings, self.stats, runner),
            runner=runner,
            account=self._account,
            assets=AssetStore(self._files / "assets"),
            files_dir=self._files,
            keys=self._keys,
            port=self._port,
            revoked=self._revoked,
        )

    def _wait_ready(self, sock: socket.socket, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        url = (
            f"http://127.0.0.1:{self._port}/healthz"
            if self.host in ("0.0.0.0", "127.0.0.1")
            else f"{self.base_url}/healthz"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self._thread is not None and not self._thread.is_alive():
                raise RuntimeError("the sandbox server thread exited during start-up")
            try:
                with opener.open(url, timeout=1.0) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"the sandbox did not answer {url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Shut the server down, join its thread, and delete generated files."""
        server, thread = self._server, self._thread
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=10)
        self._server = self._thread = None
        if self._files is not None:
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"{self.base_url}" if self._server is not None else "stopped"
        return f"<Sandbox {state} apps={len(self._apps)}>"


def _credits(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"credit_balance is a whole number of credits >= 0, got {value!r}")
    return value


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError(f"an API key must be a non-empty string, got {key!r}")
