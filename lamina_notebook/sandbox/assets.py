"""Asset uploads: ``POST /v1/assets/upload-urls``, the presigned-style ``PUT``, the asset URL.

As with the service's storage backend, the upload URL needs no API key: it carries an
unguessable signature and an expiry instead. The ``PUT`` must send a ``Content-Type`` of the
declared media type (``image/*``, ``video/*``, ``audio/*``) and at most ``max_upload_bytes``;
re-sending before the expiry replaces the bytes, as a storage PUT does. The asset URL is public
(a CDN URL) and reusable across runs; the sandbox's own apps fetch it like any loopback URL.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import secrets
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .context import ApiError, ctx_of, read_body, read_json
from .inputs import Problem
from .state import iso
from .stats import now

MEDIA_TYPES = ("image", "video", "audio")
MAX_FILES = 20
UPLOAD_BODY = '{"files": [{"filename": "photo.png", "mediaType": "image"}]}'
FALLBACK_TYPE = {"image": "image/png", "video": "video/mp4", "audio": "audio/mpeg"}


@dataclass
class Asset:
    """One upload slot: where its bytes go, how to sign for it, and (once PUT) what it holds."""

    asset_id: str
    filename: str
    media_type: str
    content_type_hint: str
    signature: str
    expires: float
    path: Path
    content_type: str | None = None  # set by a successful PUT
    size: int = 0


class AssetStore:
    """Upload slots by asset id; the bytes live in the sandbox's temporary files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._assets: dict[str, Asset] = {}

    def issue(self, filename: str, media_type: str, ttl: float) -> Asset:
        asset_id = str(uuid.uuid4())
        hint = mimetypes.guess_type(filename)[0] or ""
        if not hint.startswith(media_type + "/"):
            hint = FALLBACK_TYPE[media_type]
        asset = Asset(
            asset_id=asset_id,
            filename=filename,
            media_type=media_type,
            content_type_hint=hint,
            signature=secrets.token_urlsafe(32),
            expires=now() + ttl,
            path=self.folder / asset_id,
        )
        with self._lock:
            self._assets[asset_id] = asset
        return asset

    def get(self, asset_id: str) -> Asset | None:
        with self._lock:
            return self._assets.get(asset_id)


def _file_problems(files: Any) -> list[Problem]:
    if not isinstance(files, list) or not files:
        return [
            Problem(
                "files",
                "invalid_type",
                f'"files": must be a non-empty list, e.g. {UPLOAD_BODY}',
                got=files if not isinstance(files, list) else [],
            )
        ]
    if len(files) > MAX_FILES:
        return [
            Problem(
                "files",
                "invalid_value",
                f'"files": at most {MAX_FILES} per request, got {len(files)}',
                got=len(files),
            )
        ]
    problems: list[Problem] = []
    for i, f in enumerate(files):
        name = f.get("filename") if isinstance(f, dict) else None
        kind = f.get("mediaType") if isinstance(f, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            problems.append(
                Problem(
                    f"files[{i}].filename",
                    "invalid_value",
                    f'"files[{i}].filename": must be a file name of 1 to 255 characters, '
                    f"got {name!r}"[:300],
                    got=name,
                )
            )
        elif any(c in name for c in "/\\\x00") or name.strip() in (".", ".."):
            problems.append(
                Problem(
                    f"files[{i}].filename",
                    "invalid_value",
                    f'"files[{i}].filename": a bare file name, without folders, got {name!r}'[:300],
                    got=name,
                )
            )
        if kind not in MEDIA_TYPES:
            problems.append(
                Problem(
                    f"files[{i}].mediaType",
                    "invalid_option",
                    f'"files[{i}].mediaType": must be one of: image, video, audio; got {kind!r}'[
                        :300
                    ],
                    allowed=list(MEDIA_TYPES),
                    got=kind,
                )
            )
    return problems


async def upload_urls(request: Request) -> JSONResponse:
    """``POST /v1/assets/upload-urls``: one upload slot per requested file."""
    ctx = ctx_of(request)
    body = await read_json(request, ctx.settings.max_body_bytes, UPLOAD_BODY)
    files = body.get("files") if isinstance(body, dict) else None
    problems = _file_problems(files)
    if problems:
        raise ctx.invalid(problems, "VALIDATION_ERROR", "Invalid upload request")
    base = str(request.base_url).rstrip("/")
    uploads = []
    assert isinstance(files, list)
    for f in files:
        filename, media_type = f["filename"].strip(), f["mediaType"]
        asset = ctx.assets.issue(filename, media_type, ctx.settings.upload_ttl)
        uploads.append(
            {
                "filename": filename,
                "mediaType": media_type,
                "contentTypeHint": asset.content_type_hint,
                "uploadUrl": f"{base}/uploads/{asset.asset_id}?expires={int(asset.expires)}"
                f"&signature={asset.signature}",
                "assetUrl": f"{base}/assets/{asset.asset_id}/{quote(filename)}",
                "assetId": asset.asset_id,
                "expiresAt": iso(asset.expires),
            }
        )
    ctx.stats.add("upload_urls", len(uploads))
    return JSONResponse({"data": {"uploads": uploads}})


def _refuse(ctx: Any, status: int, code: str, message: str) -> ApiError:
    ctx.stats.add("uploads_refused")
    return ApiError(status, code, message)


async def put_upload(request: Request) -> Response:
    """``PUT /uploads/{assetId}?expires=&signature=``: no API key; the signature is the key."""
    ctx = ctx_of(request)
    asset = ctx.assets.get(request.path_params["asset_id"])
    given = request.query_params.get("signature", "")
    if asset is None or not hmac.compare_digest(given.encode(), asset.signature.encode()):
        raise _refuse(
            ctx,
            403,
            "SIGNATURE_MISMATCH",
            "This upload URL is not valid (unknown asset or wrong signature). Use the uploadUrl "
            "exactly as POST /v1/assets/upload-urls returned it.",
        )
    if now() > asset.expires:
        raise _refuse(
            ctx,
            403,
            "UPLOAD_URL_EXPIRED",
            f"This upload URL expired at {iso(asset.expires)}. Ask for a new one with "
            "POST /v1/assets/upload-urls.",
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith(asset.media_type + "/"):
        raise _refuse(
            ctx,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Type {content_type or '(none)'!r} does not match this upload's mediaType "
            f'"{asset.media_type}": send {asset.media_type}/* (suggested: '
            f"{asset.content_type_hint}).",
        )
    limit = ctx.settings.max_upload_bytes
    try:
        data = await read_body(
            request,
            limit,
            ApiError(
                413,
                "PAYLOAD_TOO_LARGE",
                f"The file is larger than the upload limit of {limit} bytes. Send a smaller or "
                "more compressed file.",
            ),
        )
    except ApiError:
        ctx.stats.add("uploads_refused")
        raise
    if not data:
        raise _refuse(ctx, 400, "VALIDATION_ERROR", "The upload is empty; PUT the file's bytes.")
    tmp = asset.path.with_name(asset.path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(asset.path)
    asset.content_type, asset.size = content_type, len(data)
    ctx.stats.add("uploads")
    etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
    return Response(status_code=200, headers={"ETag": etag})


async def get_asset(request: Request) -> Response:
    """``GET /assets/{assetId}/{filename}``: public, like a CDN URL; 404 until the PUT lands."""
    ctx = ctx_of(request)
    asset = ctx.assets.get(request.path_params["asset_id"])
    if (
        asset is None
        or asset.content_type is None
        or request.path_params["filename"] != asset.filename
    ):
        raise ApiError(
            404,
            "NOT_FOUND",
            "No such asset (or its upload has not landed yet): PUT the file to its uploadUrl "
            "first.",
        )
    return FileResponse(
        asset.path,
        media_type=asset.content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def routes() -> list[Route]:
    return [
        Route("/v1/assets/upload-urls", upload_urls, methods=["POST"]),
        Route("/uploads/{asset_id}", put_upload, methods=["PUT"]),
        Route("/assets/{asset_id}/{filename}", get_asset),
    ]
