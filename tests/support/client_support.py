"""A LaminaClient tuned for the fast test sandbox, and the two API editions every client test
runs in, shared by the client test modules."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lamina_notebook.client import LaminaClient

FAST_CLIENT_OPTIONS: dict[str, Any] = {
    "poll_interval": 0.05,
    "min_poll_interval": 0.01,
    "rate_limit": 0,
    "retry_backoff": 0.01,
    "retry_backoff_cap": 0.05,
}
#: The editions of the API the sandbox serves, both from one state.
EDITIONS = ("api", "v1")
#: A run creation in either edition (what a "never resend a POST" seam watches for).
RUN_POST = re.compile(r"/(api/apps/[^/]+/executions|v1/apps/[^/]+/runs)$")


def fast_client(sb: Any, **kw: Any) -> LaminaClient:
    """A client for ``sb``: quick polls, tiny backoffs, no rate budget unless ``kw`` sets one.

    Its edition is ``kw["api_edition"]``, else ``LAMINA_API_EDITION`` (which the ``edition``
    fixture sets), else auto.
    """
    return LaminaClient(sb.api_key, sb.base_url, **{**FAST_CLIENT_OPTIONS, **kw})


def is_run_post(request: httpx.Request) -> bool:
    return request.method == "POST" and RUN_POST.search(request.url.path) is not None


@pytest.fixture(params=EDITIONS)
def edition(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once per edition, chosen the way a user would: ``LAMINA_API_EDITION``
    (so every client the test builds, and a subprocess it starts, speaks that edition)."""
    monkeypatch.setenv("LAMINA_API_EDITION", request.param)
    yield request.param


@dataclass(frozen=True)
class Exchange:
    """One request as it left the client and how it was answered (no headers: no key)."""

    method: str
    path: str
    query: dict[str, str]
    body_keys: tuple[str, ...]  # top-level keys of a JSON body; ("<bytes>",) for raw content
    status: int
    answer_keys: tuple[str, ...]  # top-level keys of a JSON answer
    data_keys: tuple[str, ...] = ()  # keys of its "data" (of the first item, for a list)

    @property
    def line(self) -> str:
        """``GET /v1/runs/ID -> 200``, as in a wire transcript."""
        query = "?" + "&".join(f"{k}=..." for k in self.query) if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


class Recorder(httpx.AsyncBaseTransport):
    """The real HTTP transport, recording every exchange. ``absent`` (a path prefix such as
    ``"/v1"``, or a compiled pattern) makes it answer 404 there without sending anything, the
    way a service that lacks that edition (or endpoint) does: an ``/api``-only Lamina, from
    the one sandbox."""

    def __init__(self, absent: str | re.Pattern[str] | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.absent = absent
        self.exchanges: list[Exchange] = []
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self._is_absent(request.url.path):
            body = {
                "error": f"No route {request.method} {request.url.path}.",
                "code": "NOT_FOUND",
                "retryable": False,
            }
            response = httpx.Response(404, json=body, request=request)
        else:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        self.exchanges.append(_exchange(request, response))
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=response.content, request=request
        )

    def _is_absent(self, path: str) -> bool:
        if isinstance(self.absent, re.Pattern):
            return self.absent.search(path) is not None
        return bool(self.absent) and path.startswith(f"{self.absent}/")

    async def aclose(self) -> None:
        await self.inner.aclose()

    def lines(self) -> list[str]:
        return [e.line for e in self.exchanges]


def _keys(raw: bytes, content_type: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    if content_type is not None and "json" not in content_type:
        return ("<bytes>",)
    try:
        doc = json.loads(raw)
    except ValueError:
        return ("<bytes>",)
    return tuple(sorted(doc)) if isinstance(doc, dict) else ()


def _data_keys(raw: bytes) -> tuple[str, ...]:
    try:
        data = json.loads(raw).get("data")
    except (ValueError, AttributeError):
        return ()
    if isinstance(data, list):
        data = data[0] if data else None
    return tuple(sorted(data)) if isinstance(data, dict) else ()


def _exchange(request: httpx.Request, response: httpx.Response) -> Exchange:
    answer = _keys(response.content, response.headers.get("content-type"))
    return Exchange(
        method=request.method,
        path=request.url.path,
        query=dict(request.url.params),
        body_keys=_keys(request.content, request.headers.get("content-type")),
        status=response.status_code,
        answer_keys=answer,
        data_keys=_data_keys(response.content) if "data" in answer else (),
    )
