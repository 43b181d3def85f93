"""``Sandbox``: the whole imitation service, served by uvicorn in a background thread.

``with Sandbox(time_scale=0.05) as sb:`` binds 127.0.0.1 on a free port, waits until /healthz
answers, and on exit stops the server and removes its generated files.
"""

from __future__ import annotations

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

from .app import Context, build_routes_app
from .catalog import build_catalog
from .middleware import QuietDrops, SandboxMiddleware
from .state import ExecutionStore
from .stats import Settings, Stats
from .webhooks import Deliverer, Signer

DEFAULT_KEY = "lma_sandbox"
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
        )
        self.settings.validate()
        self.host, self._port = host, port
        self._api_key = api_key
        self.stats = Stats()
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
        return Context(
            settings=self.settings,
            stats=self.stats,
            apps=self._apps,
            store=store,
            signer=self._signer,
            deliverer=Deliverer(self._signer, self.settings, self.stats),
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


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key:
        raise ValueError(f"an API key must be a non-empty string, got {key!r}")
