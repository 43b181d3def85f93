"""Lamina's official TypeScript SDK (uselamina/sdk) as figure 2's baseline, reimplemented in Python.

Only what a user's "start a run, then wait for it" needs, each step as the SDK does it:

- ``LaminaClient.request`` (src/client.ts): ``fetch(baseUrl + path)`` with ``x-api-key``, a JSON
  body for objects; the body is parsed, and any non-2xx answer throws (no retry, no 429
  handling, no Retry-After).
- ``runs.run`` (src/executions.ts): ``POST /v1/apps/{appId}/runs`` with ``{"inputs": ...}``.
- ``runs.wait`` = ``waitForExecution`` (src/polling.ts): poll ``GET /v1/runs/{runId}`` at once,
  call ``onPoll``, return when the status is ``completed`` or ``failed`` (``cancelled`` is not
  terminal there), throw once 30 min have passed since the call, else sleep ``intervalMs``
  (5000) *after* the answer and poll again. So polls are one interval plus one round trip apart.

The sandbox serves the seeds' ``/api`` edition (``/api/apps/{id}/executions``,
``/api/executions/{id}``, ``executionId``), whose run JSON is the same; ``detect_edition`` uses
``/v1`` whenever the server answers there. The loop does not change with the paths.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

#: src/polling.ts ``isTerminalStatus``.
TERMINAL = ("completed", "failed")
#: src/polling.ts defaults (seconds here; milliseconds there).
INTERVAL = 5.0
TIMEOUT = 30 * 60.0


class SdkError(Exception):
    """What the SDK's ``createLaminaError`` throws for a non-2xx answer (status and body)."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"HTTP {status}: {str(payload)[:200]}")
        self.status = status
        self.payload = payload


@dataclass(frozen=True)
class Edition:
    """Where runs live: the SDK's ``/v1`` paths, or the seeds' ``/api`` ones."""

    runs_of_app: str  # POST path, ``{app}`` filled in
    run: str  # GET path, ``{run}`` filled in
    id_field: str  # the run id's name in the POST answer


V1 = Edition("/v1/apps/{app}/runs", "/v1/runs/{run}", "runId")
API = Edition("/api/apps/{app}/executions", "/api/executions/{run}", "executionId")


class LaminaSdk:
    """``new LaminaClient({apiKey, baseUrl})`` with its ``runs.run`` and ``runs.wait``."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.edition = V1

    async def detect_edition(self) -> Edition:
        """``/v1`` if the server answers ``GET /v1/apps``, else the ``/api`` edition."""
        try:
            await self.request("/v1/apps?limit=1")
            self.edition = V1
        except SdkError:
            self.edition = API
        return self.edition

    async def request(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """src/client.ts ``request``: one fetch, the body parsed, a non-2xx answer thrown."""
        headers = {"x-api-key": self.api_key}
        if isinstance(body, dict):
            headers["content-type"] = "application/json"
        response = await self.http.request(
            method, f"{self.base_url}{path}", headers=headers, json=body
        )
        text = response.text
        payload: Any = None
        if text:
            is_json = "application/json" in response.headers.get("content-type", "")
            payload = response.json() if is_json else text
        if not response.is_success:
            raise SdkError(response.status_code, payload)
        return payload

    async def runs_run(self, app_id: str, inputs: dict[str, str]) -> dict[str, Any]:
        """src/executions.ts ``run``: the POST's envelope (``data`` holds the run id)."""
        path = self.edition.runs_of_app.format(app=quote(app_id, safe=""))
        return dict(await self.request(path, method="POST", body={"inputs": inputs}))

    def run_id(self, started: dict[str, Any]) -> str:
        return str(started["data"][self.edition.id_field])

    async def runs_wait(
        self,
        run_id: str,
        *,
        interval: float = INTERVAL,
        timeout: float = TIMEOUT,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """src/polling.ts ``waitForExecution``, step for step (seconds instead of ms)."""
        started_at = time.time()  # Date.now()
        path = self.edition.run.format(run=quote(run_id, safe=""))
        while True:
            payload = dict(await self.request(path))
            if on_poll is not None:
                on_poll(payload["data"])
            if payload["data"]["status"] in TERMINAL:
                return payload
            if time.time() - started_at >= timeout:
                raise TimeoutError(
                    f"Timed out waiting for execution {run_id} after {timeout * 1000:.0f}ms"
                )
            await asyncio.sleep(interval)
