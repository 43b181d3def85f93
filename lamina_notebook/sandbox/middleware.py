"""Everything around the routes: request ids, stats, auth, rate limit, faults, error envelopes.

Both editions (``/api`` and ``/v1``) pass through the same auth and the same rate limit, which
counts authenticated requests per client IP (as the service does: two kernels on one machine
share it). Faults are injected here so routes stay honest: ``redirect_status``/``error_rate``/
``force_429``/``latency`` act *before* handling; ``drop_rate``/``garbage_rate``/``truncate_rate``
act *after* the handler ran (a dropped POST has created its execution: the case a client must
never retry blindly). Asset uploads and downloads (``/uploads``, ``/assets``) are storage, not
the API: no key, no rate limit, no faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .context import ApiError, Context, edition_of
from .state import RateLimiter, reset_header

log = logging.getLogger("lamina_notebook.sandbox")
GARBAGE = (
    b"<!DOCTYPE html><html><body><h1>Bad Gateway</h1><p>sandbox garbage_rate</p></body></html>"
)
PLAIN_429 = b"Too many requests from this IP, please try again in a minute"
RUN_POST = re.compile(r"^/(api/apps/[^/]+/executions|v1/apps/[^/]+/runs)$")
SERVICE = "https://app.uselamina.ai"
REDIRECT_REASONS = {
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
}


class DroppedConnection(Exception):
    """Raised after a partial response so uvicorn closes the socket (``drop_rate``)."""


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every connection we drop on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class Redirect(Exception):
    """An answer of the ``redirect_status`` knob: a 3xx with a Location, creating nothing."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(location)
        self.status, self.location = status, location


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def api_key(scope: Scope) -> str | None:
    """The key from ``x-api-key`` or ``Authorization: Bearer``."""
    key = _header(scope, b"x-api-key")
    if key:
        return key.strip()
    auth = _header(scope, b"authorization") or ""
    scheme, _, token = auth.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class SandboxMiddleware:
    """Pure ASGI wrapper: buffers each answer so faults can rewrite it before it is sent."""

    def __init__(self, app: ASGIApp, ctx: Context, seed: int | None = None) -> None:
        self.app = app
        self.ctx = ctx
        self.limiter = RateLimiter()
        self.rng = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.ctx.loop is None:
            self.ctx.loop = asyncio.get_running_loop()
        request_id = "req_" + uuid.uuid4().hex[:20]
        scope.setdefault("state", {})["request_id"] = request_id
        edition = edition_of(scope["path"])
        is_api = edition is not None
        self.ctx.stats.add("requests")
        if edition is not None:
            self.ctx.stats.count("requests_by_edition", edition)
        extra: dict[str, str] = {"X-Request-Id": request_id}
        try:
            early = await self._before(scope, extra) if is_api else None
        except ApiError as err:
            early = err
        except Redirect as hop:
            await self._send_redirect(hop, extra, send)
            return
        if early is not None:
            await self._send_error(early, request_id, extra, send)
            return
        start, body = await self._run(scope, receive, request_id)
        await self._send(scope, start, body, extra, send, is_api)

    async def _before(self, scope: Scope, extra: dict[str, str]) -> ApiError | None:
        s, stats = self.ctx.settings, self.ctx.stats
        if s.latency > 0:
            stats.count("faults", "latency")
            await asyncio.sleep(self.rng.uniform(0, s.latency))
        if s.redirect_status and scope["method"] == "POST" and RUN_POST.match(scope["path"]):
            stats.count("faults", "redirect")
            query = scope.get("query_string", b"").decode("latin-1")
            location = s.redirect_location or SERVICE + scope["path"] + (
                f"?{query}" if query else ""
            )
            raise Redirect(s.redirect_status, location)
        if s.error_rate and self.rng.random() < s.error_rate:
            status = self.rng.choice((500, 503))
            stats.count("faults", f"error_{status}")
            if status == 500:
                return ApiError(
                    500,
                    "INTERNAL_ERROR",
                    "Internal server error (sandbox "
                    "error_rate). Safe to retry a GET; check before re-POSTing.",
                    retryable=True,
                )
            return ApiError(
                503,
                "RESOURCE_UNAVAILABLE",
                "Service temporarily unavailable (sandbox error_rate). Retry shortly.",
                retryable=True,
                headers={"Retry-After": "1"},
            )
        if s.force_429 > 0:
            s.force_429 -= 1
            stats.count("faults", "force_429")
            return _rate_limited(1.0, s.rate_limit or 100, s.rate_limit or 100)
        return self._auth_and_limit(scope, extra)

    def _auth_and_limit(self, scope: Scope, extra: dict[str, str]) -> ApiError | None:
        key = api_key(scope)
        if not key:
            return ApiError(
                401,
                "AUTH_MISSING_KEY",
                "Missing API key. Send it in the x-api-key "
                "header (or Authorization: Bearer); the sandbox's key is printed "
                "when it starts.",
            )
        if key in self.ctx.revoked:
            return ApiError(
                401,
                "AUTH_INVALID_KEY",
                "This API key was revoked. Create a new key "
                "in the Lamina app's workspace settings and use that one.",
            )
        if key not in self.ctx.keys:
            return ApiError(
                401,
                "AUTH_INVALID_KEY",
                "Invalid API key. Check LAMINA_API_KEY; for "
                "the sandbox use the key it printed when it started.",
            )
        s = self.ctx.settings
        if not s.rate_limit:
            return None
        allowed, remaining, reset = self.limiter.hit(client_ip(scope), s.rate_limit, s.rate_window)
        extra.update(
            {
                "RateLimit-Limit": str(s.rate_limit),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": reset_header(reset),
            }
        )
        if allowed:
            return None
        self.ctx.stats.add("rate_limited")
        return _rate_limited(reset, s.rate_limit, 0)

    async def _run(self, scope: Scope, receive: Receive, request_id: str) -> tuple[Message, bytes]:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        try:
            await self.app(scope, receive, capture)
        except Exception:
            log.exception("sandbox route failed")
            err = ApiError(
                500,
                "INTERNAL_ERROR",
                "Internal server error in the sandbox (see its log).",
                retryable=True,
            )
            return _start(500, [(b"content-type", b"application/json")]), _json(
                err.body(request_id)
            )
        start = next(m for m in messages if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        return start, body

    async def _send(
        self,
        scope: Scope,
        start: Message,
        body: bytes,
        extra: dict[str, str],
        send: Send,
        is_api: bool,
    ) -> None:
        status = int(start["status"])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        fault = self._after_fault(status) if is_api else None
        if fault == "garbage":
            body = GARBAGE
            headers = [(k, v) for k, v in headers if k != b"content-type"]
            headers.append((b"content-type", b"text/html; charset=utf-8"))
        elif fault == "truncate":
            body = body[: max(1, len(body) // 2)]
        headers.append((b"content-length", str(len(body)).encode()))
        self.ctx.stats.count("by_status", status)
        await send(_start(status, headers))
        if fault == "drop":
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise DroppedConnection("sandbox drop_rate")
        await send({"type": "http.response.body", "body": body})

    def _after_fault(self, status: int) -> str | None:
        if not 200 <= status < 300:
            return None
        s = self.ctx.settings
        for kind, rate in (
            ("drop", s.drop_rate),
            ("garbage", s.garbage_rate),
            ("truncate", s.truncate_rate),
        ):
            if rate and self.rng.random() < rate:
                self.ctx.stats.count("faults", kind)
                return kind
        return None

    async def _send_redirect(self, hop: Redirect, extra: dict[str, str], send: Send) -> None:
        """An Express-style redirect: plain text saying where, and the ``Location`` header."""
        reason = REDIRECT_REASONS.get(hop.status, "Redirect")
        body = f"{reason}. Redirecting to {hop.location}".encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"location", hop.location.encode("latin-1", "replace")),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        self.ctx.stats.count("by_status", hop.status)
        await send(_start(hop.status, headers))
        await send({"type": "http.response.body", "body": body})

    async def _send_error(
        self, err: ApiError, request_id: str, extra: dict[str, str], send: Send
    ) -> None:
        body = _json(err.body(request_id))
        content_type = b"application/json"
        if err.status == 429 and self.ctx.settings.rate_limit_body == "text":
            body, content_type = PLAIN_429, b"text/plain; charset=utf-8"
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in {**extra, **err.headers}.items()]
        self.ctx.stats.count("by_status", err.status)
        await send(_start(err.status, headers))
        await send({"type": "http.response.body", "body": body})


def _rate_limited(reset: float, limit: int, remaining: int) -> ApiError:
    seconds = reset_header(reset)
    return ApiError(
        429,
        "RATE_LIMITED",
        f"Rate limit of {limit} requests per window reached (counted per IP address). "
        f"Retry after {seconds} s.",
        retryable=True,
        headers={
            "Retry-After": seconds,
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": seconds,
        },
        extra={"retryAfter": int(seconds)},
    )


def _start(status: int, headers: list[Any]) -> Message:
    return {"type": "http.response.start", "status": status, "headers": headers}


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()
