"""What every route shares: the error envelope, the ``Context``, and request helpers.

Both editions (``/api`` and ``/v1``) read and write the same ``Context``: one catalogue, one run
store, one account, one asset store. The edition only changes paths, the run id's field name and
the wording of hints that name a path.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .catalog import AppDef
from .inputs import Problem, details
from .state import ExecutionRecord, ExecutionStore
from .stats import Settings, Stats

if TYPE_CHECKING:  # pragma: no cover
    from .assets import AssetStore
    from .runs import Account, Runner
    from .webhooks import Deliverer, Signer

API, V1 = "api", "v1"


class ApiError(Exception):
    """An answer in the error envelope: ``{"error", "code", "retryable", "requestId", ...}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
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


def edition_of(path: str) -> str | None:
    """``"api"`` or ``"v1"`` for an API path, None for everything else (files, assets, ...)."""
    for name in (API, V1):
        prefix = "/" + name
        if path == prefix or path.startswith(prefix + "/"):
            return name
    return None


@dataclass
class Context:
    """Everything the routes share; built by ``Sandbox``."""

    settings: Settings
    stats: Stats
    apps: list[AppDef]
    store: ExecutionStore
    signer: Signer
    deliverer: Deliverer
    runner: Runner
    account: Account
    assets: AssetStore
    files_dir: Path
    keys: set[str]
    port: int = 0
    revoked: set[str] = field(default_factory=set)  # keys revoked at run time (Sandbox.revoke_key)
    blobs: dict[str, bytes] = field(default_factory=dict)
    samples: dict[str, bytes] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None  # the server's loop, seen at the first request

    def app(self, app_id: str, edition: str = API) -> AppDef:
        for a in self.apps:
            if a.app_id == app_id:
                return a
        raise ApiError(
            404,
            "NOT_FOUND",
            f"App {app_id!r} not found. List apps with GET /{edition}/apps and use an appId "
            "from there.",
        )

    def run(self, run_id: str, edition: str = API) -> ExecutionRecord:
        rec = self.store.get(run_id)
        if rec is not None:
            return rec
        if edition == V1:
            hint = (
                "Use the runId returned by POST /v1/apps/{appId}/runs, or list runs with "
                "GET /v1/runs."
            )
            raise ApiError(404, "NOT_FOUND", f"Run {run_id[:80]!r} not found. {hint}")
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Execution {run_id[:80]!r} not found. Use the "
            "executionId returned by POST /api/apps/{appId}/executions.",
        )

    def runnable(self, app: AppDef) -> AppDef:
        """``app``, or 403 when it belongs to another workspace and is not public."""
        if not app.runnable:
            raise ApiError(
                403,
                "FORBIDDEN",
                f'App "{app.name}" belongs to another workspace and is '
                "not public. Ask its owner to share it, or use an app of your workspace.",
            )
        return app

    def invalid(self, problems: list[Problem], code: str, message: str) -> ApiError:
        """A 400 naming every problem, in the ``details`` form the knob selects."""
        form = self.settings.validation_details
        return ApiError(400, code, message, details=details(problems, code, message, form))


def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def read_body(request: Request, limit: int, too_large: ApiError) -> bytes:
    """The raw body, refused with ``too_large`` past ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, example: str) -> Any:
    """The JSON body (None when empty); 413 past ``limit``, 400 naming ``example`` when broken."""
    raw = await read_body(request, limit, too_large(limit))
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            f"Request body is not valid JSON ({exc}). Send {example}.",
        ) from None


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"Request body is larger than {limit} bytes. Pass images as URLs, not inline data.",
    )


def parse_int(raw: str | None, name: str, *, low: int, default: int) -> int:
    """A whole-number query parameter >= ``low`` (``default`` when absent), else 400."""
    if raw in (None, ""):
        return default
    assert raw is not None
    try:
        value = int(raw)
        if value < low:
            raise ValueError
    except ValueError:
        raise ApiError(
            400, "VALIDATION_ERROR", f"{name} must be a whole number >= {low}, got {raw[:40]!r}"
        ) from None
    return value
