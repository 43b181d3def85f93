"""What the (sandbox) service says about runs, read through its public /v1 API from the test
process: the state the browser tests compare the page with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from lamina_notebook.sandbox import Sandbox


def _get(sandbox: Sandbox, path: str, **params: Any) -> Any:
    answer = httpx.get(
        f"{sandbox.base_url}/v1/{path}",
        params=params,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def run_view(sandbox: Sandbox, run_id: str) -> dict[str, Any]:
    """One run as `GET /v1/runs/{id}` shows it (status, outputs, progress)."""
    return dict(_get(sandbox, f"runs/{run_id}"))


def runs_of(sandbox: Sandbox, app: str) -> list[dict[str, Any]]:
    """Every run of `app` the service has, newest first (`GET /v1/runs?appId=`)."""
    return list(_get(sandbox, "runs", appId=sandbox.app_id(app), limit=100))


def full_ids(sandbox: Sandbox, app: str, short_ids: Sequence[str]) -> list[str]:
    """The service's run ids for the short ids a page shows (their first 8 characters)."""
    known = [r["runId"] for r in runs_of(sandbox, app)]
    found = []
    for short in short_ids:
        [match] = [i for i in known if i.startswith(short.strip())]
        found.append(match)
    return found


def estimate(sandbox: Sandbox, app: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """`POST /v1/apps/{id}/estimate`: one run's credits and the workspace's balance."""
    answer = httpx.post(
        f"{sandbox.base_url}/v1/apps/{sandbox.app_id(app)}/estimate",
        json={"inputs": inputs or {}},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json()["data"])
