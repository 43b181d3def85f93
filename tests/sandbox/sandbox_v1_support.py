"""Helpers for the sandbox's /v1 tests: HTTP clients for each edition, deadline-bound polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
TERMINAL = ("completed", "failed", "cancelled")
ENVELOPE = {"error", "code", "retryable", "requestId"}


def client(sb: Any, edition: str, **kw: Any) -> httpx.Client:
    """An httpx client on ``sb``'s ``/api`` or ``/v1`` edition, with the key."""
    kw.setdefault("timeout", 60)
    return httpx.Client(
        base_url=f"{sb.base_url}/{edition}",
        headers={"x-api-key": sb.api_key},
        trust_env=False,
        **kw,
    )


def until(probe: Callable[[], T | None], timeout: float = 30.0, every: float = 0.01) -> T:
    """``probe()``'s first truthy answer, polled every ``every`` s; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer within {timeout} s (last: {got!r})")
        time.sleep(every)


def ended(c: httpx.Client, path: str, timeout: float = 60.0) -> dict[str, Any]:
    """The ``data`` of the run at ``path`` once it has ended (polled; fails after ``timeout``)."""

    def probe() -> dict[str, Any] | None:
        data: dict[str, Any] = c.get(path).json()["data"]
        return data if data["status"] in TERMINAL else None

    return until(probe, timeout, every=0.02)


def run_app(sb: Any, app: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Start ``app`` on ``sb``'s /api edition and return the ended execution's ``data``."""
    with client(sb, "api") as c:
        r = c.post(f"/apps/{sb.app_id(app)}/executions", json={"inputs": inputs})
        assert r.status_code == 202, r.text
        return ended(c, f"/executions/{r.json()['data']['executionId']}")


def run_path(edition: str, run_id: str) -> str:
    return f"/runs/{run_id}" if edition == "v1" else f"/executions/{run_id}"


def start(
    c: httpx.Client, sb: Any, edition: str, app: str, inputs: dict[str, Any], **body: Any
) -> dict[str, Any]:
    """POST a run in ``edition``; asserts the 202 and returns its ``data``."""
    path = f"/apps/{sb.app_id(app)}/" + ("runs" if edition == "v1" else "executions")
    r = c.post(path, json={"inputs": inputs, **body})
    assert r.status_code == 202, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def finish(c: httpx.Client, edition: str, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the run until it is terminal (with a deadline); its last ``data``."""

    def probe() -> dict[str, Any] | None:
        data: dict[str, Any] = c.get(run_path(edition, run_id)).json()["data"]
        return data if data["status"] in TERMINAL else None

    return until(probe, timeout)
