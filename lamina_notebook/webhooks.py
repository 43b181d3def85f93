"""Webhook deliveries from Lamina: ``verify_webhook`` checks one, ``WebhookReceiver`` serves them.

The receiver is a stdlib HTTP server in a daemon thread; it verifies each delivery (Ed25519
signature, timestamp window, request id), drops duplicates and hands executions to subscribers
before it answers 200 (see :meth:`WebhookReceiver.subscribe`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import urlsplit

from .errors import InvalidResponseError, WebhookVerificationError
from .models import Execution

if TYPE_CHECKING:  # pragma: no cover
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookReceiver",
    "WebhookStats",
    "is_loopback_host",
    "load_public_keys",
    "verify_webhook",
]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Lamina-Webhook-Signature"
TIMESTAMP_HEADER = "X-Lamina-Webhook-Timestamp"
REQUEST_ID_HEADER = "X-Lamina-Webhook-Request-Id"

#: What ``keys`` may be: one key or a list of JWK dicts, a ``{"keys": [...]}`` document,
#: base64 DER/SPKI strings (the seed's Node sample), PEM text, raw 32-byte keys, key objects.
KeySource = Union[Mapping[str, Any], str, bytes, Iterable[Any], "Ed25519PublicKey"]


class _Rejected(WebhookVerificationError):
    """A failed check, with the HTTP status a receiver answers (400 malformed, 401 forged)."""

    def __init__(self, message: str, status: int, *, retry_keys: bool = False) -> None:
        super().__init__(message, hint=_HINT)
        self.status = status
        self.retry_keys = retry_keys


_HINT = (
    "Deliveries must come from Lamina, signed with a key from /api/webhooks/signing-key, "
    "within 5 minutes of their timestamp."
)


# -- keys ---------------------------------------------------------------------------------------


def _b64decode(text: str) -> bytes:
    """Decode base64 or base64url, with or without padding."""
    cleaned = "".join(text.split())
    cleaned += "=" * (-len(cleaned) % 4)
    alt = b"-_" if ("-" in cleaned or "_" in cleaned) else None
    return base64.b64decode(cleaned, altchars=alt, validate=True)


def _key_from_bytes(data: bytes) -> Ed25519PublicKey:
    """A raw 32-byte key, DER/SPKI bytes or PEM text (as bytes)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    pem = data.lstrip().startswith(b"-----BEGIN")
    key = (serialization.load_pem_public_key if pem else serialization.load_der_public_key)(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"a {type(key).__name__}, not an Ed25519 key")
    return key


def _key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey | None:
    """An OKP/Ed25519 JWK's key; None for JWKs of other kinds (skipped, not an error)."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        return None
    x = jwk.get("x")
    if not isinstance(x, str):
        raise ValueError("Ed25519 JWK without an 'x' string")
    raw = _b64decode(x)
    if len(raw) != 32:
        raise ValueError(f"JWK 'x' holds {len(raw)} bytes, an Ed25519 key has 32")
    return _key_from_bytes(raw)


def _collect(source: Any, out: list[Ed25519PublicKey]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if isinstance(source, Ed25519PublicKey):
        out.append(source)
    elif isinstance(source, Mapping):
        if "keys" in source:
            _collect(source["keys"], out)
        else:
            key = _key_from_jwk(source)
            if key is not None:
                out.append(key)
    elif isinstance(source, str):
        pem = "-----BEGIN" in source
        out.append(_key_from_bytes(source.encode() if pem else _b64decode(source)))
    elif isinstance(source, (bytes, bytearray)):
        out.append(_key_from_bytes(bytes(source)))
    elif isinstance(source, Iterable):
        for item in source:
            _collect(item, out)
    else:
        raise ValueError(f"unsupported key of type {type(source).__name__}")


def load_public_keys(keys: KeySource) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key in ``keys`` (see :data:`KeySource` for the accepted forms).

    Raises
    ------
    WebhookVerificationError
        When a key cannot be read or none of them is an Ed25519 key.
    """
    out: list[Ed25519PublicKey] = []
    try:
        _collect(keys, out)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise WebhookVerificationError(
            f"cannot read the webhook signing key: {exc}",
            hint="Pass the JSON of /api/webhooks/signing-key (JWKs) or the base64 DER/SPKI key.",
        ) from exc
    if not out:
        raise WebhookVerificationError(
            "no Ed25519 key among the webhook signing keys",
            hint="Pass the JSON of /api/webhooks/signing-key (JWKs with kty OKP, crv Ed25519).",
        )
    return out


# -- verification -------------------------------------------------------------------------------


def _check_timestamp(raw: str, tolerance: float, now: float | None) -> None:
    text = raw.strip()
    if not text.isdigit():
        raise _Rejected(f"{TIMESTAMP_HEADER} is not an integer of unix seconds: {text[:40]!r}", 400)
    skew = int(text) - (time.time() if now is None else now)
    if abs(skew) > tolerance:
        when = "in the future" if skew > 0 else "old"
        raise _Rejected(
            f"timestamp is {abs(skew):.0f} s {when}, outside the {tolerance:g} s window "
            "(a replay, or this machine's clock is wrong)",
            401,
        )


def _check_signature(
    raw_body: bytes, timestamp: str, signature_hex: str, keys: list[Ed25519PublicKey]
) -> None:
    from cryptography.exceptions import InvalidSignature

    try:
        signature = bytes.fromhex(signature_hex.strip())
    except ValueError:
        raise _Rejected(f"{SIGNATURE_HEADER} is not hex", 401) from None
    if len(signature) != 64:
        raise _Rejected(
            f"{SIGNATURE_HEADER} holds {len(signature)} bytes, an Ed25519 signature has 64", 401
        )
    message = timestamp.encode("utf-8") + b"." + raw_body
    for key in keys:
        try:
            key.verify(signature, message)
            return
        except InvalidSignature:
            continue
    raise _Rejected(
        f"signature does not match the body under any of {len(keys)} signing key(s)",
        401,
        retry_keys=True,
    )


def _check_body(raw_body: bytes, request_id: str) -> dict[str, Any]:
    try:
        document = json.loads(raw_body)
    except ValueError:
        raise _Rejected("body is not JSON", 400) from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise _Rejected('body has no "data" object', 400)
    execution_id = data.get("executionId") or data.get("runId")
    if execution_id != request_id:
        raise _Rejected(
            f"{REQUEST_ID_HEADER} {request_id[:80]!r} differs from data.executionId "
            f"{str(execution_id)[:80]!r}",
            400,
        )
    return data


def verify_webhook(
    raw_body: bytes,
    headers: Mapping[str, str],
    keys: KeySource,
    *,
    tolerance: float = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify one delivery and return its ``data`` object (the execution JSON).

    Checks, in order: the three ``X-Lamina-Webhook-*`` headers are present (any case), the
    timestamp is integer unix seconds within ``tolerance`` of ``now``, the signature is 64 bytes
    of hex and verifies as Ed25519 over ``"{timestamp}.{raw body}"`` under any key, and the body
    is ``{"data": {...}}`` whose ``executionId`` equals the request id header.

    Raises
    ------
    WebhookVerificationError
        Naming the first check that failed.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    values = []
    for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER, REQUEST_ID_HEADER):
        value = lowered.get(name.lower())
        if not value:
            raise _Rejected(f"missing header {name}", 400)
        values.append(value)
    signature, timestamp, request_id = values
    _check_timestamp(timestamp, tolerance, now)
    _check_signature(bytes(raw_body), timestamp.strip(), signature, load_public_keys(keys))
    return _check_body(bytes(raw_body), request_id.strip())


# -- receiver -----------------------------------------------------------------------------------


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, ``127.x.x.x``, ``::1`` (and the wildcard addresses, whose URL
    the receiver gives as 127.0.0.1): addresses only this machine can reach."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name in ("localhost", "0.0.0.0", "::") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class WebhookStats:
    """Counters of a receiver (read them; the receiver updates them under its lock)."""

    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    key_refreshes: int = 0
    callback_errors: int = 0
    last_rejection: str | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "lamina-webhook-receiver"

    def do_GET(self) -> None:
        code = 200 if self.path.split("?")[0] == self.server.receiver.path else 404
        self._answer(code, "lamina-notebook webhook receiver: POST deliveries here")

    def do_POST(self) -> None:
        receiver = self.server.receiver
        if self.path.split("?")[0] != receiver.path:
            self._answer(404, "not found")
            return
        body = self._read_body(receiver.max_body)
        if body is None:
            return
        status, text, execution = receiver._handle(body, dict(self.headers.items()))
        if execution is not None:  # hand over first: a 200 means the subscribers have it
            receiver._notify(execution)
        self._answer(status, text)

    def _read_body(self, limit: int) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self._answer(411, "Content-Length required")
            return None
        if int(length) > limit:
            self._answer(413, f"body over {limit} bytes")
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _answer(self, status: int, text: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("webhook receiver: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog of 5 stalls a burst of deliveries (a sweep's runs
    # finishing together) behind 1 s SYN retries; 128 absorbs it.
    request_queue_size = 128
    receiver: WebhookReceiver


Keys = KeySource | Callable[[], KeySource]


class WebhookReceiver:
    """Receive Lamina webhook deliveries on a local HTTP server in a background thread.

    Parameters
    ----------
    keys
        The signing keys (any :data:`KeySource` form), or a zero-argument callable returning
        them: it is called on the first delivery and again (at most every
        ``key_refresh_interval`` seconds) when a signature does not verify, so a rotated key is
        picked up.
    host, port, path
        Where to listen (port 0: any free port; the default host takes local connections
        only); other paths get 404.
    public_url
        The URL to hand the service instead of ``http://host:port/path`` (e.g. a tunnel's).
    tolerance, max_body
        Allowed clock distance of a delivery's timestamp (s); larger bodies get 413 unread.
    remember
        How many delivered request ids are kept for de-duplication (oldest dropped first).
    """

    def __init__(
        self,
        keys: Keys,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/lamina/webhook",
        public_url: str | None = None,
        tolerance: float = 300,
        max_body: int = 1_000_000,
        remember: int = 1000,
        key_refresh_interval: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.path = path if path.startswith("/") else "/" + path
        self.public_url = public_url
        self.tolerance = tolerance
        self.max_body = max_body
        self.remember = max(1, remember)
        self.key_refresh_interval = key_refresh_interval
        self.stats = WebhookStats()
        self._fetch_keys: Callable[[], KeySource] | None = None
        self._keys: list[Ed25519PublicKey] | None = None
        if callable(keys) and not isinstance(keys, (Mapping, str, bytes, list, tuple)):
            self._fetch_keys = keys
        else:
            self._keys = load_public_keys(keys)  # bad keys fail here, not on the first delivery
        self._keys_fetched_at = float("-inf")
        self._keys_lock = threading.Lock()
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, Execution] = OrderedDict()
        self._subscribers: list[Callable[[Execution], None]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = f"listening on {self.url}" if self.running else "stopped"
        return f"<WebhookReceiver {state}, {self.stats.accepted} accepted>"

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> WebhookReceiver:
        """Bind and serve in a daemon thread (idempotent); returns self."""
        from .errors import ConfigurationError

        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            raise ConfigurationError(
                f"The webhook receiver cannot listen on {self.host}:{self.port}: {exc}.",
                hint="Pick another port, or port=0 for any free one.",
            ) from exc
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="lamina-webhooks",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The URL to pass as ``?webhook=`` (``public_url`` when given)."""
        from .errors import ConfigurationError

        if self.public_url:
            return self.public_url
        if self._server is None:
            raise ConfigurationError(
                "The webhook receiver is not listening yet.",
                hint="Call receiver.start() (or use it in a with block).",
            )
        host, port = self._server.server_address[:2]
        host = str(host)
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}{self.path}"

    @property
    def is_loopback(self) -> bool:
        """True when deliveries can only come from this machine: no ``public_url`` (or a
        loopback one) and a loopback host, so a service elsewhere can never reach it."""
        host = urlsplit(self.public_url).hostname if self.public_url else self.host
        return is_loopback_host(host)

    # -- subscribers --------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[Execution], None]) -> Callable[[], None]:
        """Call ``callback(execution)`` once per accepted delivery; returns an unsubscribe function.

        Callbacks run on the receiver's thread *before* the delivery is answered, so a 200 means
        every subscriber has been handed the execution: a delivery the sender saw acknowledged
        is never lost to a crash between the answer and the hand-off, and whoever sees the 200
        sees the subscribers' effects. Keep callbacks short (hand work to your own loop with
        ``loop.call_soon_threadsafe``): they delay the answer, and past the service's 15 s
        delivery timeout it sends again; that retry is answered "duplicate ignored" without a
        second call. A callback that raises is logged and counted in ``stats.callback_errors``;
        the delivery is still answered 200 (a resend would not fix a local bug, and the other
        subscribers already have it).
        """
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def get(self, execution_id: str) -> Execution | None:
        """The execution from an accepted delivery, if one arrived (and is still remembered)."""
        with self._lock:
            return self._seen.get(execution_id)

    def _notify(self, execution: Execution) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(execution)
            except Exception:
                with self._lock:
                    self.stats.callback_errors += 1
                log.exception("webhook subscriber %r failed", callback)

    # -- one delivery -------------------------------------------------------------------------

    def _current_keys(self, *, refresh: bool = False) -> list[Ed25519PublicKey] | None:
        """The keys to verify with; a refresh happens at most every ``key_refresh_interval`` s."""
        if self._fetch_keys is None:
            return self._keys
        with self._keys_lock:
            stale = time.monotonic() - self._keys_fetched_at >= self.key_refresh_interval
            if self._keys is None or (refresh and stale):
                self._keys_fetched_at = time.monotonic()
                self._keys = load_public_keys(self._fetch_keys())
                with self._lock:
                    self.stats.key_refreshes += 1
            elif refresh:
                return None
            return self._keys

    def _verify(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        keys = self._current_keys() or []
        try:
            return verify_webhook(body, headers, keys, tolerance=self.tolerance)
        except _Rejected as exc:
            fresh = self._current_keys(refresh=True) if exc.retry_keys else None
            if fresh is None:
                raise
            return verify_webhook(body, headers, fresh, tolerance=self.tolerance)

    def _handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str, Execution | None]:
        """Verify, de-duplicate and parse; returns (HTTP status, text, execution to announce)."""
        try:
            data = self._verify(body, headers)
            execution = Execution.from_json(data)
        except _Rejected as exc:
            return self._reject(exc.status, exc.message)
        except InvalidResponseError as exc:
            return self._reject(400, f"execution JSON not understood: {exc.message}")
        except Exception as exc:  # key fetch failed or keys unreadable: let Lamina retry later
            log.warning("webhook receiver cannot get signing keys: %s", exc)
            return self._reject(503, "signing keys unavailable")
        with self._lock:
            if execution.execution_id in self._seen:
                self.stats.duplicates += 1
                return 200, "duplicate ignored", None
            self._seen[execution.execution_id] = execution
            while len(self._seen) > self.remember:
                self._seen.popitem(last=False)
            self.stats.accepted += 1
        return 200, "ok", execution

    def _reject(self, status: int, reason: str) -> tuple[int, str, None]:
        with self._lock:
            self.stats.rejected += 1
            self.stats.last_rejection = reason
        log.info("webhook delivery rejected (%d): %s", status, reason)
        return status, reason, None
