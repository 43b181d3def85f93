"""The sandbox's Starlette routes: the five API endpoints, generated files, samples, /healthz.

Auth, rate limiting, faults and error envelopes for uncaught problems live in
``middleware.py``. The private app of another workspace is listed and its details are readable
(as for a shared listing), but running it answers 403.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from . import media
from .catalog import OWN_WORKSPACE, AppDef, search
from .fetch import fetch_source
from .state import ExecutionStore, Source, check_webhook, validate_inputs, view
from .stats import Settings, Stats, now
from .webhooks import Deliverer, Signer, public_info


class ApiError(Exception):
    """An answer in the error envelope: ``{"error", "code", "retryable", "requestId", ...}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[str] | None = None,
        retryable: bool = False,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.retryable = details, retryable
        self.headers, self.extra = headers or {}, extra or {}

    def body(self, request_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "error": self.message,
            "code": self.code,
            "retryable": self.retryable,
            "requestId": request_id,
        }
        if self.details is not None:
            data["details"] = self.details
        data.update(self.extra)
        return data

    def response(self, request_id: str) -> JSONResponse:
        return JSONResponse(self.body(request_id), self.status, headers=self.headers)


@dataclass
class Context:
    """Everything the routes share; built by ``Sandbox``."""

    settings: Settings
    stats: Stats
    apps: list[AppDef]
    store: ExecutionStore
    signer: Signer
    deliverer: Deliverer
    files_dir: Path
    keys: set[str]
    port: int = 0
    revoked: set[str] = field(default_factory=set)  # keys revoked at run time (Sandbox.revoke_key)
    blobs: dict[str, bytes] = field(default_factory=dict)
    samples: dict[str, bytes] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def app(self, app_id: str) -> AppDef:
        for a in self.apps:
            if a.app_id == app_id:
                return a
        raise ApiError(
            404,
            "NOT_FOUND",
            f"App {app_id!r} not found. List apps with GET /api/apps and use an appId from there.",
        )


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def list_apps(request: Request) -> JSONResponse:
    raw_limit = request.query_params.get("limit")
    limit = None
    if raw_limit not in (None, ""):
        try:
            limit = int(raw_limit)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise ApiError(
                400,
                "VALIDATION_ERROR",
                f"limit must be a whole number >= 0, got {raw_limit[:40]!r}",
            ) from None
    found = search(_ctx(request).apps, request.query_params.get("search"), limit)
    return JSONResponse({"data": [a.summary() for a in found]})


async def get_app(request: Request) -> JSONResponse:
    app = _ctx(request).app(request.path_params["app_id"])
    return JSONResponse({"data": app.details()})


async def _read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Request body is not valid JSON ({exc}). "
            'Send {"inputs": {"Parameter name": "value"}}.',
        ) from None


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"Request body is larger than {limit} bytes. Pass images as URLs, not inline data.",
    )


async def run_app(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    ctx.stats.add("run_requests")
    app = ctx.app(request.path_params["app_id"])
    if app.workspace != OWN_WORKSPACE:
        raise ApiError(
            403,
            "FORBIDDEN",
            f'App "{app.name}" belongs to another workspace and is '
            "not public. Ask its owner to share it, or use an app of your workspace.",
        )
    body = await _read_json(request, ctx.settings.max_body_bytes)
    if not isinstance(body, dict) or "inputs" not in body:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            'Body must be a JSON object {"inputs": {...}}.',
            details=['"inputs": missing'],
        )
    webhook = request.query_params.get("webhook")
    inputs, problems = validate_inputs(app, body["inputs"])
    hook_problem = check_webhook(webhook)
    if problems or hook_problem:
        only_hook = hook_problem is not None and not problems
        raise ApiError(
            400,
            "WEBHOOK_INVALID_URL" if only_hook else "VALIDATION_ERROR",
            "Invalid webhook URL" if only_hook else f'Invalid inputs for app "{app.name}"',
            details=problems + ([hook_problem] if hook_problem else []),
        )
    sources = await _fetch_sources(ctx, app, inputs, request)
    rec = ctx.store.create(app, inputs, sources, webhook, _base(request))
    if webhook:
        ctx.deliverer.schedule(rec)
    return JSONResponse({"data": view(rec, at=rec.created)}, 202)


async def _fetch_sources(
    ctx: Context, app: AppDef, inputs: dict[str, str], request: Request
) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for p in app.params:
        if p.type != "url":
            continue
        src, refused = await fetch_source(
            inputs[p.name],
            allow_remote=ctx.settings.allow_remote_urls,
            blobs=ctx.blobs,
            self_netloc=request.url.netloc,
            self_port=ctx.port,
        )
        ctx.stats.add("url_fetches_refused" if refused else "url_fetches")
        sources[p.name] = src
    return sources


async def get_execution(request: Request) -> JSONResponse:
    execution_id = request.path_params["execution_id"]
    rec = _ctx(request).store.get(execution_id)
    if rec is None:
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Execution {execution_id[:80]!r} not found. Use the "
            "executionId returned by POST /api/apps/{appId}/executions.",
        )
    return JSONResponse({"data": view(rec)})


async def signing_key(request: Request) -> JSONResponse:
    return JSONResponse(public_info(_ctx(request).signer))


async def healthz(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    return JSONResponse({"status": "ok", "apps": len(ctx.apps), "executions": len(ctx.store)})


async def sample(request: Request) -> Response:
    ctx = _ctx(request)
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
    ctx = _ctx(request)
    rec = ctx.store.get(request.path_params["execution_id"])
    name = request.path_params["name"]
    plan = next((p for p in rec.plans if name.startswith(p.out.id + ".")), None) if rec else None
    if rec is None or plan is None:
        raise ApiError(404, "NOT_FOUND", "No such output file.")
    out = next(o for o in view(rec)["outputs"] if o["id"] == plan.out.id)
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
    inputs: dict[str, str],
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
    inputs: dict[str, str],
    index: int,
    sources: dict[str, Source],
    blobs: dict[str, bytes],
    path: Path,
) -> None:
    tmp = path.with_name(path.name + ".part")
    if app.outputs[index].type == "video":
        from .video import render_video

        render_video(inputs, sources, blobs, tmp)
    else:
        tmp.write_bytes(media.render_image(app, inputs, index, sources, blobs))
    tmp.replace(path)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "NOT_FOUND" if exc.status_code == 404 else "HTTP_ERROR"
    message = (
        f"No route {request.method} {request.url.path}. The API lives under /api; see "
        "GET /api/apps."
        if exc.status_code == 404
        else str(exc.detail)
    )
    return ApiError(exc.status_code, code, message).response(request.state.request_id)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response(request.state.request_id)


def build_routes_app(ctx: Context) -> Starlette:
    """The Starlette app with every route; wrap it with ``middleware.SandboxMiddleware``."""
    routes = [
        Route("/healthz", healthz),
        Route("/api/apps", list_apps),
        Route("/api/apps/{app_id}", get_app),
        Route("/api/apps/{app_id}/executions", run_app, methods=["POST"]),
        Route("/api/executions/{execution_id}", get_execution),
        Route("/api/webhooks/signing-key", signing_key),
        Route("/files/{execution_id}/{name}", output_file),
        Route("/samples/{name}", sample),
    ]
    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error, ApiError: _api_error}
    )
    app.state.ctx = ctx
    return app
