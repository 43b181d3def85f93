"""Media URLs a visitor's browser can load: the sandbox's loopback URLs through the Jupyter server.

The sandbox serves its outputs at ``http://127.0.0.1:PORT/...``, which only a browser on the
kernel's own machine can reach. Behind a Jupyter server with jupyter-server-proxy (Binder, any
JupyterHub, a lab reached through a tunnel or a container port) the same bytes are served at
``{base_url}proxy/PORT/...`` on the page's own origin, with the page's login. :func:`display_url`
rewrites a sandbox URL to that root-relative form and leaves every other URL alone; the front ends
call it for each media URL they put into HTML (render's ``safe_url`` accepts root-relative paths).

How the Jupyter server's base URL is found, first match wins:

1. ``LAMINA_PROXY_PREFIX``: the server's base URL (``/`` or ``/user/me/``, or a whole
   ``https://host/user/me/``) to use as is, or ``off`` to never rewrite.
2. ``JUPYTERHUB_SERVICE_PREFIX`` (JupyterHub, so Binder, sets it for the single-user server and
   its kernels inherit it), when jupyter-server-proxy is installed beside the kernel.
3. The server that started this kernel (``JPY_PARENT_PID`` names it; its ``jpserver-PID.json``
   runtime file gives its URL, base URL and token), when a request through its ``proxy/PORT/``
   route reaches the sandbox's ``/healthz``: proof that the extension is on and routes to us.

No match: URLs stay as they are (a kernel run by nbclient, VS Code or a terminal has no server;
the local browser reaches 127.0.0.1 directly).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from .session import Session

__all__ = [
    "OVERRIDE_ENV",
    "ProxyRoute",
    "display_execution",
    "display_url",
    "proxy_route",
]

#: The explicit setting: the Jupyter server's base URL, or "off".
OVERRIDE_ENV = "LAMINA_PROXY_PREFIX"
HUB_ENV = "JUPYTERHUB_SERVICE_PREFIX"
PARENT_ENV = "JPY_PARENT_PID"
OFF_VALUES = frozenset({"off", "0", "no", "false", "none"})
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: How long the probe of a local server may take (a loopback round trip; it runs at most once
#: per sandbox and server, then the answer is cached).
PROBE_TIMEOUT = 3.0
#: A failed probe is retried after this long (the server may have been starting).
NEGATIVE_TTL = 30.0
# A path that could climb out of proxy/PORT/ once a browser normalizes it: dot segments (also
# percent-encoded), backslashes (read as "/" in http URLs), control characters and whitespace.
_UNSAFE_PATH = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)|\\|%5c|[\x00-\x20\x7f]", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True)
class ProxyRoute:
    """Where sandbox URLs go: ``prefix`` (the Jupyter server's base URL, ending in "/") and how
    it was found (``source``: the setting, the hub variable or the server file), for doctor."""

    prefix: str
    source: str

    def url(self, port: int, path: str) -> str:
        """``{prefix}proxy/{port}{path}`` (``path`` starts with "/" and may carry ?query#frag)."""
        return f"{self.prefix}proxy/{port}{path}"


_cache: dict[tuple[Any, ...], tuple[ProxyRoute | None, float]] = {}
_lock = threading.Lock()


def display_url(url: str, session: Session) -> str:
    """``url`` as the page should load it: a URL of the session's loopback sandbox becomes
    ``{base_url}proxy/PORT/...`` when a Jupyter server with jupyter-server-proxy serves the page;
    any other URL (the real service's, data:, other ports and hosts) comes back unchanged.

    Cheap after the first call (the route is cached); the first may probe a local Jupyter server
    once (a loopback request of a few ms). Callable from any thread. Raises ConfigurationError
    only for a malformed ``LAMINA_PROXY_PREFIX``.
    """
    target = _sandbox_target(url, session)
    if target is None:
        return url
    port, rest = target
    route = proxy_route(session)
    return url if route is None else route.url(port, rest)


def display_execution(execution: Execution, session: Session) -> Execution:
    """``execution`` with every media output's URL through :func:`display_url` (text outputs
    untouched), for a front end to hand to render; the same object when nothing changes."""
    outputs = []
    changed = False
    for output in execution.outputs:
        value = output.value
        if value is not None and output.kind in ("image", "video", "audio", "url"):
            shown = display_url(value, session)
            if shown != value:
                output = dataclasses.replace(output, value=shown)
                changed = True
        outputs.append(output)
    return dataclasses.replace(execution, outputs=tuple(outputs)) if changed else execution


def proxy_route(session: Session) -> ProxyRoute | None:
    """The route for this session's sandbox, or None when its URLs are best left as they are
    (no sandbox, a sandbox off loopback, no Jupyter server with jupyter-server-proxy found)."""
    port = _sandbox_port(session)
    if port is None:
        return None
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if override:
        return _route_from_setting(override)
    hub = os.environ.get(HUB_ENV, "").strip()
    parent = os.environ.get(PARENT_ENV, "").strip()
    key = (port, hub, parent, _runtime_dir())
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached is not None and (cached[0] is not None or now - cached[1] < NEGATIVE_TTL):
            return cached[0]
    route = _detect(port, hub, parent, key[3])
    with _lock:
        _cache[key] = (route, now)
    return route


def _route_from_setting(value: str) -> ProxyRoute | None:
    """LAMINA_PROXY_PREFIX read strictly: an explicit setting that is wrong must say so."""
    if value.lower() in OFF_VALUES:
        return None
    parts = urlsplit(value)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    rooted = not parts.scheme and not parts.netloc and value.startswith("/")
    if not (absolute or rooted) or parts.query or parts.fragment or _UNSAFE_PATH.search(value):
        raise ConfigurationError(
            f"{OVERRIDE_ENV}={value!r} is not a Jupyter server base URL. Set it to the path the "
            "browser uses for Jupyter, e.g. '/' or '/user/me/' (or 'https://host/user/me/'), or "
            f"to 'off' to keep the sandbox's own URLs; unset it to detect the server."
        )
    return ProxyRoute(_with_slash(value), OVERRIDE_ENV)


def _detect(port: int, hub: str, parent: str, runtime_dir: Path | None) -> ProxyRoute | None:
    if hub and _proxy_installed():
        prefix = _with_slash(hub if hub.startswith("/") else "/" + hub)
        return ProxyRoute(prefix, HUB_ENV)
    if not parent.isdigit() or runtime_dir is None:
        return None
    info_file = runtime_dir / f"jpserver-{parent}.json"
    try:
        info = json.loads(info_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict):
        return None
    server, base = str(info.get("url") or ""), str(info.get("base_url") or "/")
    if not server.startswith(("http://", "https://")) or not base.startswith("/"):
        return None  # e.g. a unix socket server: nothing to probe with urllib
    if _probe(server, str(info.get("token") or ""), port):
        return ProxyRoute(_with_slash(base), str(info_file))
    return None


def _probe(server_url: str, token: str, port: int) -> bool:
    """Does ``{server_url}proxy/{port}/healthz`` answer the sandbox's health, through the server?

    No environment proxies (this is loopback or this machine), no redirects (a login redirect is
    a no), the server's own token from its runtime file.
    """
    url = f"{_with_slash(server_url)}proxy/{port}/healthz"
    headers = {"Authorization": f"token {token}"} if token else {}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=PROBE_TIMEOUT) as r:
            if r.status != 200:
                return False
            body = json.loads(r.read(10_000))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "apps" in body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _sandbox_port(session: Session) -> int | None:
    """The port of the session's sandbox when it listens on loopback (what the proxy reaches)."""
    state = session.sandbox
    if state is None:
        return None
    parts = urlsplit(state.base_url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK or port is None:
        return None
    return port


def _sandbox_target(url: str, session: Session) -> tuple[int, str] | None:
    """(port, path?query#fragment) when ``url`` is a plain http URL of the session's sandbox."""
    port = _sandbox_port(session)
    if port is None or not url.startswith("http://"):
        return None
    parts = urlsplit(url)
    try:
        url_port = parts.port
    except ValueError:
        return None
    if parts.hostname not in LOOPBACK or url_port != port or parts.username is not None:
        return None
    path = parts.path or "/"
    if _UNSAFE_PATH.search(path) or _CONTROL.search(parts.query + parts.fragment):
        return None
    rest = path + (f"?{parts.query}" if parts.query else "")
    return port, rest + (f"#{parts.fragment}" if parts.fragment else "")


def _proxy_installed() -> bool:
    return importlib.util.find_spec("jupyter_server_proxy") is not None


def _runtime_dir() -> Path | None:
    """Jupyter's runtime folder (where servers write jpserver-PID.json), None without Jupyter."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    return Path(jupyter_runtime_dir())


def _with_slash(prefix: str) -> str:
    return prefix if prefix.endswith("/") else prefix + "/"
