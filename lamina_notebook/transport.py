"""The client's view of the wire: the one ``Sender`` every request goes through (rate budget,
safe retries, error translation), the key header, reply envelopes, salvaging a damaged run
answer, and resolving an app name to one app (helpers of :mod:`client`).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx

from .errors import (
    APIError,
    AppNotFoundError,
    ConfigurationError,
    InputValidationError,
    InvalidResponseError,
    LaminaError,
    RateLimitError,
    TransportError,
    error_from_response,
)
from .models import App, Execution
from .scheduling import RateBudget, backoff_delay

log = logging.getLogger("lamina_notebook.client")

#: httpx errors raised before any byte of the request left: safe to resend even a POST.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
#: httpx errors that no retry can fix (a bad URL, an invalid header).
NOT_RETRYABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
RETRY_STATUSES = frozenset({500, 502, 503, 504})
#: The longest a 429's Retry-After may pause the whole budget (the service's window is 60 s):
#: an untrusted huge value must not freeze every request of the client.
MAX_RETRY_PAUSE = 120.0
_EXECUTION_ID = re.compile(r'"(?:executionId|runId)"\s*:\s*"([^"\\]{1,200})"')
MAY_HAVE_STARTED = (
    "The run MAY have been created (and billed) even so; it was not sent again. Check "
    "%lamina history and the app's executions in Lamina before starting it again."
)


class KeyAuth(httpx.Auth):
    """Adds ``x-api-key`` to API requests only; its repr never shows the key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "<x-api-key: ***>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._key
        yield request


@dataclass(frozen=True)
class Reply:
    """A fully read HTTP answer."""

    status_code: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class _Extra:
    """What few requests add: raw bytes with their headers, a longer timeout."""

    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    timeout: float | None = None


class Sender:
    """Sends one logical request: a budget token, httpx, retries, error translation.

    Each try holds a budget token from before it is sent until its answer is read (or it
    failed), then releases it: the budget counts its slot from then (see :class:`RateBudget`).
    With ``token_held`` the first try uses a token the caller already took, and releases it.

    Reads retry on transport errors, 429 (after Retry-After, pausing the whole budget) and
    500/502/503/504 with capped, jittered backoff. Run creation (``creates_run``) is resent
    only after a 429 or when the connection failed before anything was sent.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        budget: RateBudget,
        *,
        max_retries: int,
        backoff: float,
        backoff_cap: float,
    ) -> None:
        self.http = http
        self.budget = budget
        self.max_retries = max_retries
        self.backoff_base = backoff
        self.backoff_cap = backoff_cap
        self.in_flight = 0  # logical requests under way (LaminaClient.busy)

    async def send(
        self,
        method: str,
        url: str,
        *,
        auth: httpx.Auth | None,
        budgeted: bool = True,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        creates_run: bool = False,
        token_held: bool = False,
        max_bytes: int | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """A 2xx reply; else an :class:`APIError`, or a :class:`TransportError` (no answer).

        ``body`` goes out as JSON, ``content`` as raw bytes (with ``headers``, e.g. an upload's
        Content-Type); ``timeout`` overrides the client's for this request (a long-poll).
        A 3xx is an error saying where it pointed: API requests never follow redirects (a
        custom key header would go along); only key-less GETs (output files) do.
        """
        self.in_flight += 1
        try:
            return await self._send(
                method,
                url,
                auth=auth,
                budgeted=budgeted,
                params=params,
                body=body,
                creates_run=creates_run,
                token_held=token_held,
                max_bytes=max_bytes,
                extra=_Extra(content, headers, timeout),
            )
        finally:
            self.in_flight -= 1

    async def _send(
        self,
        method: str,
        url: str,
        *,
        auth: httpx.Auth | None,
        budgeted: bool,
        params: Mapping[str, str] | None,
        body: Any,
        creates_run: bool,
        token_held: bool,
        max_bytes: int | None,
        extra: _Extra,
    ) -> Reply:
        attempt = 0
        while True:
            # Each try holds one token until its answer is in (or it failed), never longer: a
            # retry must not wait for a slot its own failed try still holds. The first try may
            # use a token the caller took (token_held), which is released here all the same.
            if budgeted and (attempt > 0 or not token_held):
                await self.budget.acquire()
            try:
                try:
                    reply = await self.exchange(method, url, params, body, auth, max_bytes, extra)
                finally:
                    if budgeted:
                        self.budget.release()
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # DecodingError: an answer came but its body could not be decoded (e.g. a broken
                # gzip stream); the request arrived, so a run POST may have started.
                sent = not isinstance(exc, NOT_SENT)
                retryable = not isinstance(exc, NOT_RETRYABLE)
                if retryable and attempt < self.max_retries and (not creates_run or not sent):
                    attempt += 1
                    await self.backoff(attempt, method, url, type(exc).__name__)
                    continue
                raise transport_error(exc, method, url, sent, creates_run) from exc
            if reply.status_code < 300:
                return reply
            error = error_for(reply, creates_run, method, url)
            if isinstance(error, RateLimitError):
                # Refused, so nothing ran: even a POST may go again. Everyone waits for
                # Retry-After (else RateLimit-Reset) so the other calls do not keep hitting
                # the limit; the older plain-text 429 ("Too many requests from this IP")
                # is a 429 all the same.
                wait = error.retry_after
                if wait is None:
                    wait = _reset_seconds(reply.headers.get("ratelimit-reset"))
                if wait is None:
                    wait = backoff_delay(attempt + 1, self.backoff_base, self.backoff_cap)
                wait = min(wait, MAX_RETRY_PAUSE)
                log.info("429 on %s %s; every request pauses %.1f s", method, url_path(url), wait)
                self.budget.pause(wait)
            retry = isinstance(error, RateLimitError) or (
                reply.status_code in RETRY_STATUSES and not creates_run
            )
            if not retry or attempt >= self.max_retries:
                raise error
            attempt += 1
            if not isinstance(error, RateLimitError):
                await self.backoff(attempt, method, url, f"HTTP {reply.status_code}")

    async def exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: Any,
        auth: httpx.Auth | None,
        max_bytes: int | None,
        extra: _Extra | None = None,
    ) -> Reply:
        """One HTTP exchange, the body read in full (or up to ``max_bytes``)."""
        extra = extra or _Extra()
        request = self.http.build_request(
            method,
            url,
            params=params,
            json=body,
            content=extra.content,
            headers=extra.headers,
            timeout=httpx.USE_CLIENT_DEFAULT if extra.timeout is None else extra.timeout,
        )
        follow = method == "GET" and auth is None  # never carry the key header elsewhere
        response = await self.http.send(request, auth=auth, stream=True, follow_redirects=follow)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise LaminaError(
                        f"{url_path(url)} is larger than {max_bytes:,} bytes; stopped reading.",
                        hint="Raise max_bytes, or open the URL in a browser.",
                    )
                chunks.append(chunk)
            return Reply(response.status_code, response.headers, b"".join(chunks))
        finally:
            await response.aclose()

    async def backoff(self, attempt: int, method: str, url: str, why: str) -> None:
        delay = backoff_delay(attempt, self.backoff_base, self.backoff_cap)
        log.info(
            "%s %s failed (%s); retry %d/%d in %.2f s",
            method,
            url_path(url),
            why,
            attempt,
            self.max_retries,
            delay,
        )
        await asyncio.sleep(delay)


def url_path(url: str) -> str:
    """The path of a URL, for log lines and messages (no query, never a key)."""
    return urlsplit(url).path or "/"


def require_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"The {what} must be a non-empty string, got {value!r}.",
            hint="%lamina apps lists app ids; %lamina history lists runs.",
        )
    return value.strip()


def check_webhook_url(url: str) -> None:
    """Reject a webhook that is not http(s) before sending (the service would answer 400)."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputValidationError(
            "The webhook URL is not an http(s) URL; nothing was sent.",
            [f"webhook: {str(url)[:200]!r} must start with http:// or https://"],
            hint="Pass a reachable https://... address, or no webhook (polling works alone).",
        )


def transport_error(
    exc: httpx.HTTPError, method: str, url: str, sent: bool, creates_run: bool
) -> TransportError:
    """Our TransportError for an httpx failure (raise it ``from`` the httpx error)."""
    what = "connect to" if not sent else "get an answer from"
    message = f"Could not {what} the Lamina API ({method} {url_path(url)}): {type(exc).__name__}"
    if str(exc):
        message += f": {exc}"
    if creates_run and sent:
        return TransportError(message, sent=True, hint=MAY_HAVE_STARTED)
    host = urlsplit(url).netloc
    return TransportError(
        message,
        sent=sent,
        hint=f"Check the network and that {host} is "
        "reachable (LAMINA_BASE_URL); reads were retried already.",
    )


def error_for(reply: Reply, creates_run: bool, method: str = "", url: str = "") -> APIError:
    """The APIError for an HTTP error reply (3xx too); a 5xx on run creation says the run
    may exist, a 3xx never does (a redirect means the request went to the wrong place)."""
    if 300 <= reply.status_code < 400:
        return redirect_error(reply, method, url)
    error = error_from_response(reply.status_code, reply.content, dict(reply.headers))
    if creates_run and reply.status_code >= 500:
        error.hint = MAY_HAVE_STARTED
    return error


def redirect_error(reply: Reply, method: str, url: str) -> APIError:
    """A 3xx answer as an error naming where it pointed; nothing was started by it.

    The client never follows an API redirect: the key header would go along, and a POST
    would be resent somewhere else. The contract documents none, so it means a wrong base
    URL (or edition), and the hint says which base URL the Location suggests.
    """
    location = reply.headers.get("location", "").strip()
    shown = location[:200] + ("..." if len(location) > 200 else "")
    where = f"pointing to {shown}" if location else "without saying where (no Location)"
    what = f"{method} {url_path(url)}" if method else url_path(url)
    nothing = " Nothing was started there; it was not sent again." if method == "POST" else ""
    target = urlsplit(location) if location else None
    if target is not None and target.scheme in ("http", "https") and target.netloc:
        origin = f"{target.scheme}://{target.netloc}"
        here = urlsplit(url)
        if (target.scheme, target.netloc) != (here.scheme, here.netloc):
            hint = (
                f"The API answered from another address: set LAMINA_BASE_URL={origin} (or "
                f"base_url=) if that is the Lamina service, then try again."
            )
        else:
            hint = (
                "The service moved this path: check the API edition (LAMINA_API_EDITION: "
                "'auto', 'v1' or 'api') and that LAMINA_BASE_URL has no extra path."
            )
    else:
        hint = "Check LAMINA_BASE_URL (scheme://host of the Lamina API) and try again."
    return APIError(
        f"{what} was answered with a redirect (HTTP {reply.status_code}) {where}; "
        f"redirects are not followed.{nothing}",
        status_code=reply.status_code,
        hint=hint,
    )


def _reset_seconds(value: str | None) -> float | None:
    """``RateLimit-Reset`` as seconds to wait (the draft standard's delta seconds)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or not 0 <= seconds < float("inf"):
        return None
    return seconds


def parse_json(reply: Reply, path: str) -> Any:
    try:
        return json.loads(reply.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        snippet = reply.content[:120].decode("utf-8", "replace")
        raise InvalidResponseError(
            f"{path} answered HTTP {reply.status_code} with a body that is not JSON",
            status_code=reply.status_code,
            snippet=snippet,
        ) from None


def envelope_data(doc: Any, path: str, kind: type) -> Any:
    """``doc["data"]`` checked to be a ``kind`` (dict or list), else InvalidResponseError."""
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, kind):
        raise InvalidResponseError(
            f'{path} answered without a {{"data": {kind.__name__}}} envelope',
            snippet=str(doc)[:200],
        )
    return data


def started_execution(reply: Reply, path: str) -> Execution:
    """The new execution from a 2xx run answer; salvages the id from a damaged body.

    The run exists once the service said 2xx, so an unreadable answer must not lose its id.
    """
    try:
        return Execution.from_json(envelope_data(parse_json(reply, path), path, dict))
    except InvalidResponseError as exc:
        found = _EXECUTION_ID.search(reply.content.decode("utf-8", "replace"))
        if found is None:
            exc.hint = MAY_HAVE_STARTED
            raise
        log.warning("run answer was damaged; recovered execution id %s", found.group(1))
        return Execution(execution_id=found.group(1), status="queued")


def is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


async def resolve_by_name(name: str, list_apps: Callable[..., Awaitable[list[App]]]) -> App:
    """The one app whose name equals ``name`` (case-insensitive), via the search endpoint.

    No match or several matches raise AppNotFoundError listing the candidates.
    """
    wanted = name.strip().casefold()
    apps = await list_apps(search=name)
    exact = [a for a in apps if a.name.casefold() == wanted]
    if not exact:  # the service's search may match differently: check the full list once
        apps = await list_apps()
        exact = [a for a in apps if a.name.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise AppNotFoundError(
            f"Several apps are called {name!r}.",
            candidates=[f"{a.name} ({a.app_id})" for a in exact],
            hint="Pass the app id instead of the name.",
        )
    names = [a.name for a in apps]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    close += [n for n in names if name.casefold() in n.casefold() and n not in close]
    raise AppNotFoundError(
        f"No app is called {name!r}.",
        candidates=close[:8],
        hint="%lamina apps lists the apps this key can run; use one of those names or an id.",
    )
