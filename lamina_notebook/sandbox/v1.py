"""The ``/v1`` edition: the same resources as ``/api`` with ``runId``, plus what only ``/v1`` has.

Shared with ``/api`` (one state): apps, runs, the signing key. Only here: cancel, estimate, the
list of runs, the server-side wait (a long-poll) and the account. Asset uploads are in
``assets.py``. Every answer is ``{"data": ...}`` except the signing key and the list of runs
(which adds ``pagination``).
"""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .app import create_run, list_limit, signing_key
from .catalog import browse
from .context import V1, ApiError, ctx_of, parse_int
from .state import TERMINAL, view
from .webhooks import USER_ID

RUN_FIELDS = (
    "runId",
    "workflowId",
    "status",
    "source",
    "errorMessage",
    "startedAt",
    "completedAt",
    "createdAt",
)
STATUSES = ("queued", "running", *TERMINAL)
LIST_DEFAULT, LIST_MAX = 25, 100
WAIT_DEFAULT, WAIT_MAX = 60.0, 120.0
ACCOUNT = {
    "user": {"id": USER_ID, "email": "sandbox@example.com"},
    "workspace": {
        "id": "ws_sandbox",
        "name": "Sandbox Workspace",
        "slug": "sandbox",
        "role": "owner",
    },
    "memberships": [
        {
            "workspaceId": "ws_sandbox",
            "name": "Sandbox Workspace",
            "slug": "sandbox",
            "role": "owner",
        },
        {
            "workspaceId": "ws_sandbox_team",
            "name": "Sandbox Team",
            "slug": "sandbox-team",
            "role": "member",
        },
    ],
}


async def list_apps(request: Request) -> JSONResponse:
    """``GET /v1/apps``: a bare browse lists 10 public apps plus every workspace app."""
    found = browse(ctx_of(request).apps, request.query_params.get("search"), list_limit(request))
    return JSONResponse({"data": [a.summary() for a in found]})


async def get_app(request: Request) -> JSONResponse:
    app = ctx_of(request).app(request.path_params["app_id"], V1)
    return JSONResponse({"data": app.details(V1)})


async def run_app(request: Request) -> JSONResponse:
    """``POST /v1/apps/{appId}/runs``: body ``{"inputs": {...}, "outputs"?: [labels]}``."""
    return await create_run(request, V1)


async def get_run(request: Request) -> JSONResponse:
    rec = ctx_of(request).run(request.path_params["run_id"], V1)
    return JSONResponse({"data": view(rec, edition=V1)})


async def cancel_run(request: Request) -> JSONResponse:
    """``POST /v1/runs/{runId}/cancel``: idempotent; a finished run answers its status."""
    ctx = ctx_of(request)
    ctx.stats.add("cancel_requests")
    rec = ctx.run(request.path_params["run_id"], V1)
    ctx.runner.cancel(rec)
    return JSONResponse({"data": {"runId": rec.id, "status": rec.status_at()}})


async def wait_run(request: Request) -> JSONResponse:
    """``GET /v1/runs/{runId}/wait?timeout=``: answer as soon as the run is terminal, or with
    ``"timeout": true`` after ``timeout`` s (default 60, at most 120; times ``time_scale``)."""
    ctx = ctx_of(request)
    rec = ctx.run(request.path_params["run_id"], V1)
    raw = request.query_params.get("timeout")
    timeout = WAIT_DEFAULT
    if raw not in (None, ""):
        try:
            timeout = float(raw)
            if not 0 <= timeout < float("inf"):
                raise ValueError
        except ValueError:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"timeout must be a number of seconds between 0 and {WAIT_MAX:g}, got {raw[:40]!r}",
            ) from None
    ctx.stats.add("waits")
    done = await ctx.runner.wait_terminal(rec, min(timeout, WAIT_MAX) * ctx.settings.time_scale)
    body: dict[str, object] = {"data": view(rec, edition=V1)}
    if not done:
        ctx.stats.add("wait_timeouts")
        body["timeout"] = True
    return JSONResponse(body)


def _since(raw: str | None) -> float | None:
    if raw in (None, ""):
        return None
    assert raw is not None
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"since must be an ISO-8601 timestamp like 2026-06-01T12:00:00Z, got {raw[:40]!r}",
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


async def list_runs(request: Request) -> JSONResponse:
    """``GET /v1/runs?status=&appId=&limit=&offset=&since=``, newest first."""
    ctx = ctx_of(request)
    q = request.query_params
    status = q.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"status must be one of: {', '.join(STATUSES)}; got {status[:40]!r}",
        )
    limit = min(LIST_MAX, parse_int(q.get("limit"), "limit", low=1, default=LIST_DEFAULT))
    offset = parse_int(q.get("offset"), "offset", low=0, default=0)
    since = _since(q.get("since"))
    app_id = q.get("appId") or None
    ctx.stats.add("run_lists")
    rows = []
    for rec in ctx.store.records():
        if app_id is not None and rec.app.app_id != app_id:
            continue
        if since is not None and rec.created < since:
            continue
        data = view(rec, edition=V1)
        if status is not None and data["status"] != status:
            continue
        data["source"] = rec.source
        rows.append({k: data[k] for k in RUN_FIELDS})
    page = rows[offset : offset + limit]
    return JSONResponse(
        {"data": page, "pagination": {"total": len(rows), "limit": limit, "offset": offset}}
    )


async def estimate(request: Request) -> JSONResponse:
    """``POST /v1/apps/{appId}/estimate``: the credits of a full run, and what the workspace
    has (``affordable`` counts credits that runs in flight are still expected to spend)."""
    ctx = ctx_of(request)
    app = ctx.runnable(ctx.app(request.path_params["app_id"], V1))
    ctx.stats.add("estimates")
    ctx.runner.settle_all()
    expected, low, high = app.cost()
    return JSONResponse(
        {
            "data": {
                "appId": app.app_id,
                "name": app.name,
                "estimatedCredits": {"expected": expected, "min": low, "max": high},
                "breakdown": [s.to_json() for s in app.steps()],
                "currentBalance": ctx.account.balance,
                "affordable": expected <= ctx.account.available,
            }
        }
    )


async def account(request: Request) -> JSONResponse:
    """``GET /v1/account``: who the key belongs to, never the key."""
    return JSONResponse({"data": ACCOUNT})


def routes() -> list[Route]:
    return [
        Route("/v1/apps", list_apps),
        Route("/v1/apps/{app_id}", get_app),
        Route("/v1/apps/{app_id}/runs", run_app, methods=["POST"]),
        Route("/v1/apps/{app_id}/estimate", estimate, methods=["POST"]),
        Route("/v1/runs", list_runs),
        Route("/v1/runs/{run_id}", get_run),
        Route("/v1/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
        Route("/v1/runs/{run_id}/wait", wait_run),
        Route("/v1/webhooks/signing-key", signing_key),
        Route("/v1/account", account),
    ]
