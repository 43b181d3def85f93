"""The sandbox's Starlette routes: the ``/api`` edition, generated files, samples, /healthz.

``v1.py`` adds the ``/v1`` edition and ``assets.py`` the asset uploads, over the same state; run
creation is shared here by both editions. Auth, rate limiting, faults and error envelopes for
uncaught problems live in ``middleware.py``. The private app of another workspace is listed and
its details are readable (as for a shared listing), but running it answers 403.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from . import compose, media
from .catalog import AppDef, search
from .context import (
    API,
    V1,
    ApiError,
    Context,
    base_url,
    ctx_of,
    edition_of,
    parse_int,
    read_json,
)
from .fetch import fetch_source
from .inputs import check_webhook, resolve_inputs, select_outputs
from .runs import NotEnoughCredits
from .state import Source, view
from .stats import now
from .webhooks import public_info

__all__ = ["ApiError", "Context", "build_routes_app"]
RUN_BODY = '{"inputs": {"Parameter name": "value"}}'


def list_limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    return None if raw in (None, "") else parse_int(raw, "limit", low=0, default=0)


async def list_apps(request: Request) -> JSONResponse:
    found = search(ctx_of(request).apps, request.query_params.get("search"), list_limit(request))
    return JSONResponse({"data": [a.summary() for a in found]})


async def get_app(request: Request) -> JSONResponse:
    app = ctx_of(request).app(request.path_params["app_id"])
    return JSONResponse({"data": app.details()})


async def run_app(request: Request) -> JSONResponse:
    """``POST /api/apps/{appId}/executions``."""
    return await create_run(request, API)


async def create_run(request: Request, edition: str) -> JSONResponse:
    """Start a run (both editions): validate everything, reserve credits, fetch url inputs."""
    ctx = ctx_of(request)
    ctx.stats.add("run_requests")
    app = ctx.runnable(ctx.app(request.path_params["app_id"], edition))
    body = await read_json(request, ctx.settings.max_body_bytes, RUN_BODY)
    if not isinstance(body, dict) or "inputs" not in body:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            'Body must be a JSON object {"inputs": {...}}.',
            details=['"inputs": missing'],
        )
    webhook = request.query_params.get("webhook")
    inputs, problems = resolve_inputs(app, body["inputs"])
    selected = None
    if edition == V1:
        selected, subset_problems = select_outputs(app, body.get("outputs"))
        problems += subset_problems
    hook_problem = check_webhook(webhook)
    if problems or hook_problem:
        only_hook = hook_problem is not None and not problems
        raise ctx.invalid(
            problems + ([hook_problem] if hook_problem else []),
            "WEBHOOK_INVALID_URL" if only_hook else "VALIDATION_ERROR",
            "Invalid webhook URL" if only_hook else f'Invalid inputs for app "{app.name}"',
        )
    expected = app.cost(selected)[0]
    if expected > ctx.account.available:  # before fetching anything; create() re-checks
        raise _short(expected, ctx.account.available)
    sources = await fetch_sources(ctx, app, inputs, request)
    try:
        rec = ctx.runner.create(
            app,
            inputs,
            sources,
            webhook,
            base_url(request),
            edition=edition,
            selected=selected,
        )
    except NotEnoughCredits as exc:
        raise _short(exc.needed, exc.available) from None
    if webhook:
        ctx.deliverer.schedule(rec)
    return JSONResponse({"data": view(rec, at=rec.created, edition=edition)}, 202)


def _short(needed: int, available: int) -> ApiError:
    return ApiError(
        402,
        "INSUFFICIENT_CREDITS",
        f"This run needs about {needed} credits and the workspace has {available} available. "
        "Top up in the Lamina app, or pick fewer outputs.",
    )


async def fetch_sources(
    ctx: Context, app: AppDef, inputs: dict[str, Any], request: Request | None
) -> dict[str, Source]:
    """Fetch every url input (each item of a ``multiple`` one, keyed ``"Name[i]"``)."""
    sources: dict[str, Source] = {}
    for p in app.params:
        if p.type != "url":
            continue
        value = inputs[p.name]
        items = [(f"{p.name}[{i}]", v) for i, v in enumerate(value)] if p.multiple else []
        for key, url in items or [(p.name, value)]:
            src, refused = await fetch_source(
                url,
                allow_remote=ctx.settings.allow_remote_urls,
                blobs=ctx.blobs,
                self_netloc=request.url.netloc if request is not None else "",
                self_port=ctx.port,
            )
            ctx.stats.add("url_fetches_refused" if refused else "url_fetches")
            sources[key] = src
    return sources


async def get_execution(request: Request) -> JSONResponse:
    rec = ctx_of(request).run(request.path_params["execution_id"], API)
    return JSONResponse({"data": view(rec)})


async def signing_key(request: Request) -> JSONResponse:
    return JSONResponse(public_info(ctx_of(request).signer))


async def healthz(request: Request) -> JSONResponse:
    ctx = ctx_of(request)
    return JSONResponse({"status": "ok", "apps": len(ctx.apps), "executions": len(ctx.store)})


async def sample(request: Request) -> Response:
    ctx = ctx_of(request)
    name = request.path_params["name"].removesuffix(".png")
    if name not in media.SAMPLES:
        raise ApiError(
            404,
            "NOT_FOUND",
            f"No sample {name!r}; try one of: "
            + ", ".join(f"/samples/{s}.png" for s in media.SAMPLES),
        )
    if name not in ctx.samples:
        ctx.samples[name] = await run_in_threadpool(media.sample_png, name)
    return Response(
        ctx.samples[name], media_type="image/png", headers={"Cache-Control": "public, max-age=3600"}
    )


async def output_file(request: Request) -> Response:
    """A generated output, rendered on first request and cached on disk by its inputs."""
    ctx = ctx_of(request)
    rec = ctx.store.get(request.path_params["execution_id"])
    name = request.path_params["name"]
    plan = next((p for p in rec.plans if name.startswith(p.out.id + ".")), None) if rec else None
    if rec is None or plan is None:
        raise ApiError(404, "NOT_FOUND", "No such output file.")
    out = next(o for o in view(rec)["outputs"] if o["id"] == plan.out.id)
    if out["status"] == "cancelled":
        raise ApiError(
            404, "NOT_FOUND", "This output was cancelled with its run; nothing was produced."
        )
    if out["status"] != "completed" or out["type"] == "text":
        raise ApiError(404, "NOT_FOUND", "This output is not ready; poll the execution first.")
    ttl = ctx.settings.output_ttl
    if ttl is not None and now() > rec.created + plan.finish + ttl:
        raise ApiError(
            404,
            "NOT_FOUND",
            "This output URL has expired; GET the execution again "
            "for fresh URLs, or re-run the app.",
        )
    path = await _render(ctx, rec.app, rec.inputs, plan.index, rec.sources, out["mimeType"])
    return FileResponse(path, media_type=out["mimeType"])


async def _render(
    ctx: Context,
    app: AppDef,
    inputs: dict[str, Any],
    index: int,
    sources: dict[str, Source],
    mime: str,
) -> Path:
    parts = [
        app.name,
        str(index),
        *(f"{k}={v}" for k, v in sorted(inputs.items())),
        *(f"{k}:{s.digest}" for k, s in sorted(sources.items())),
    ]
    key = media.digest("\x1f".join(parts).encode())[:32]
    path = ctx.files_dir / (key + (".mp4" if mime == "video/mp4" else ".png"))
    lock = ctx.locks.setdefault(key, asyncio.Lock())
    async with lock:
        if not path.exists():
            await run_in_threadpool(_write_output, app, inputs, index, sources, ctx.blobs, path)
    return path


def _write_output(
    app: AppDef,
    inputs: dict[str, Any],
    index: int,
    sources: dict[str, Source],
    blobs: dict[str, bytes],
    path: Path,
) -> None:
    tmp = path.with_name(path.name + ".part")
    if app.outputs[index].type == "video":
        from .video import render_video

        _, media_inputs, media_sources = compose.adapt(app, inputs, sources)
        render_video(media_inputs, media_sources, blobs, tmp)
    else:
        tmp.write_bytes(compose.render_image(app, inputs, index, sources, blobs))
    tmp.replace(path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR"
    edition = edition_of(request.url.path)
    where = (
        "The /v1 edition lives under /v1; see GET /v1/apps."
        if edition == V1
        else "The API lives under /api; see GET /api/apps."
    )
    message = (
        f"No route {request.method} {request.url.path}. {where}"
        if exc.status_code == 404
        else str(exc.detail)
    )
    return ApiError(exc.status_code, code, message).response(request.state.request_id)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response(request.state.request_id)


def build_routes_app(ctx: Context) -> Starlette:
    """The Starlette app with every route; wrap it with ``middleware.SandboxMiddleware``."""
    from . import assets, v1

    routes = [
        Route("/healthz", healthz),
        Route("/api/apps", list_apps),
        Route("/api/apps/{app_id}", get_app),
        Route("/api/apps/{app_id}/executions", run_app, methods=["POST"]),
        Route("/api/executions/{execution_id}", get_execution),
        Route("/api/webhooks/signing-key", signing_key),
        Route("/files/{execution_id}/{name}", output_file),
        Route("/samples/{name}", sample),
        *v1.routes(),
        *assets.routes(),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error, ApiError: _api_error}
    )
    app.state.ctx = ctx
    return app
