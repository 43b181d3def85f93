"""Keep results: stream an execution's outputs to disk with a manifest, and make thumbnails.

Output URLs may expire, so ``save`` writes each output with a real extension and a
``manifest.json`` (url, sha256, size, label). Pillow is imported only by ``thumbnail``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import mimetypes
import os
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx

from .errors import LaminaError

if TYPE_CHECKING:  # pragma: no cover
    from .models import Execution, Output

__all__ = [
    "MANIFEST_NAME",
    "Fetcher",
    "SaveError",
    "guess_extension",
    "safe_filename",
    "save",
    "sniff_mime",
    "thumbnail",
]

MANIFEST_NAME = "manifest.json"
#: Headers that carry credentials; they are stripped before fetching an output URL, which may
#: live on another host (a CDN) that must never see the API key.
_SECRET_HEADERS = ("x-api-key", "authorization", "cookie", "proxy-authorization")
_GENERIC_MIMES = {"application/octet-stream", "binary/octet-stream", "application/download", ""}
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/svg+xml": ".svg",
    "image/avif": ".avif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "video/x-matroska": ".mkv",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
    "audio/webm": ".weba",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/html": ".html",
    "application/json": ".json",
    "application/pdf": ".pdf",
}
_KNOWN_SUFFIXES = set(_EXTENSIONS.values()) | {".jpeg", ".tif", ".m4v", ".mpeg", ".csv"}
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
_CHUNK = 64 * 1024
_RETRY_DELAY = 0.25  # seconds before the first retry of a failed download; doubles


class SaveError(LaminaError):
    """Some outputs could not be downloaded; the rest and the manifest were written.

    ``manifest`` is the manifest path; ``failures`` lists ``(label, reason)`` pairs.
    """

    def __init__(self, manifest: Path, failures: Sequence[tuple[str, str]]) -> None:
        self.manifest = manifest
        self.failures = tuple(failures)
        lines = "\n".join(f"  - {label}: {reason}" for label, reason in self.failures)
        super().__init__(
            f"{len(self.failures)} output(s) could not be saved (manifest: {manifest}):\n{lines}",
            hint="Saving again into the same folder retries the missing outputs; if the URLs "
            "expired (HTTP 403/404/410), first fetch the execution again (%lamina resume ID) "
            "for fresh ones.",
        )


# -- naming -------------------------------------------------------------------------------------


def sniff_mime(data: bytes) -> str | None:
    """The media type told by the first bytes (PNG, JPEG, GIF, WebP, MP4/MOV, WebM, ...)."""
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand.startswith((b"avif", b"avis")):
            return "image/avif"
        return "audio/mp4" if brand.startswith(b"M4A") else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in data[:4096] else "video/x-matroska"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _mime_extension(mime: str | None) -> str | None:
    base = (mime or "").split(";", 1)[0].strip().lower()
    if base in _GENERIC_MIMES:
        return None
    return _EXTENSIONS.get(base) or mimetypes.guess_extension(base)


def _url_extension(url: str | None) -> str | None:
    if not url:
        return None
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    suffix = os.path.splitext(name)[1].lower()
    if suffix == ".jpeg":
        return ".jpg"
    return suffix if suffix in _KNOWN_SUFFIXES else None


def guess_extension(mime: str | None, url: str | None, data: bytes | None) -> str:
    """The file extension (with the dot): from ``mime``, else the URL's suffix, else the bytes.

    Generic types such as ``application/octet-stream`` are skipped; ``.bin`` when nothing tells.
    """
    found = _mime_extension(mime) or _url_extension(url)
    if not found and data:
        found = _mime_extension(sniff_mime(data))
    return found or ".bin"


def safe_filename(label: str, fallback: str = "output") -> str:
    """A file name stem from a label: no separators, no leading dots, no reserved names."""
    text = unicodedata.normalize("NFKC", label)
    text = re.sub(r"[^\w\- .()]+", "_", text, flags=re.UNICODE)
    text = re.sub(r"[\s_]+", lambda m: "_" if "_" in m.group() else " ", text)
    text = text.strip(" ._")[:80].rstrip(" ._")
    if not text or text.lower() in _WINDOWS_RESERVED:
        text = f"{fallback}_{text}" if text else fallback
    return text


def _unique_path(folder: Path, stem: str, ext: str, taken: set[str], reuse: str | None) -> Path:
    """``folder/stem.ext``, numbered ``stem (2).ext`` when taken (``reuse`` may be overwritten)."""
    n = 1
    while True:
        name = f"{stem}{ext}" if n == 1 else f"{stem} ({n}){ext}"
        if name == reuse or (name not in taken and not (folder / name).exists()):
            taken.add(name)
            return folder / name
        n += 1


# -- saving -------------------------------------------------------------------------------------


@dataclass
class _Saved:
    """One manifest row."""

    output: Output
    file: str | None = None
    sha256: str | None = None
    size: int | None = None
    mime: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        o = self.output
        url = o.value if o.value and o.value.startswith(("http://", "https://")) else None
        row = {
            "id": o.id,
            "label": o.label,
            "type": o.type,
            "status": o.status,
            "url": url,
            "file": self.file,
            "sha256": self.sha256,
            "bytes": self.size,
            "mime": self.mime,
        }
        if self.error or o.error:
            row["error"] = self.error or o.error
        return row


class Fetcher(Protocol):
    """Anything with the LaminaClient's ``fetch_bytes`` (used when not given an httpx client)."""

    async def fetch_bytes(self, url: str, max_bytes: int = ...) -> tuple[bytes, str | None]: ...


async def _download(
    http: httpx.AsyncClient | Fetcher, url: str, part: Path, max_bytes: int
) -> tuple[str, int, str | None, bytes]:
    """Fetch ``url`` into ``part``; returns (sha256, size, content type, first bytes)."""
    if isinstance(http, httpx.AsyncClient):
        return await _stream(http, url, part, max_bytes)
    data, ctype = await http.fetch_bytes(url, max_bytes=max_bytes)
    if len(data) > max_bytes:
        raise OSError(f"larger than the {max_bytes} byte limit (max_bytes=)")
    part.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), len(data), ctype, data[:4096]


class _Retryable(OSError):
    """A server-side or connection failure worth one more try (GET is safe to repeat)."""


async def _stream(
    http: httpx.AsyncClient, url: str, part: Path, max_bytes: int, attempts: int = 3
) -> tuple[str, int, str | None, bytes]:
    """Stream ``url`` to disk, retrying 5xx answers and broken connections with a short backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return await _stream_once(http, url, part, max_bytes)
        except (_Retryable, httpx.TransportError) as exc:
            if attempt == attempts:
                if isinstance(exc, httpx.TransportError):
                    raise OSError(f"download failed: {type(exc).__name__}: {exc}") from exc
                raise
            await asyncio.sleep(_RETRY_DELAY * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


async def _stream_once(
    http: httpx.AsyncClient, url: str, part: Path, max_bytes: int
) -> tuple[str, int, str | None, bytes]:
    """One GET streamed to ``part`` without credential headers (a CDN must never see the key)."""
    request = http.build_request("GET", url)
    for name in _SECRET_HEADERS:
        request.headers.pop(name, None)
    digest, size, head = hashlib.sha256(), 0, b""
    response = await http.send(request, stream=True, auth=None, follow_redirects=True)
    try:
        if response.status_code >= 400:
            expired = response.status_code in (403, 404, 410)
            kind = _Retryable if response.status_code >= 500 else OSError
            raise kind(
                f"HTTP {response.status_code} from the output URL"
                + (" (the URL has probably expired)" if expired else "")
            )
        with part.open("wb") as fh:
            async for chunk in response.aiter_bytes(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise OSError(f"larger than the {max_bytes} byte limit (max_bytes=)")
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                digest.update(chunk)
                fh.write(chunk)
        return digest.hexdigest(), size, response.headers.get("content-type"), head
    finally:
        await response.aclose()


def _decode_data_url(url: str) -> tuple[bytes, str | None]:
    header, _, payload = url.partition(",")
    mime = header[5:].split(";", 1)[0] or None
    if header.endswith(";base64"):
        return base64.b64decode(payload, validate=False), mime
    return unquote(payload).encode(), mime


async def _save_output(
    http: httpx.AsyncClient | Fetcher,
    output: Output,
    folder: Path,
    taken: set[str],
    reuse: str | None,
    max_bytes: int,
) -> _Saved:
    row = _Saved(output)
    value = output.value
    if not output.is_completed or value is None:
        return row
    stem = safe_filename(output.label, output.id or "output")
    part = folder / f".{stem}.{os.getpid()}.part"
    try:
        if value.startswith(("http://", "https://")):
            row.sha256, row.size, ctype, head = await _download(http, value, part, max_bytes)
            ext = guess_extension(output.mime_type or ctype, value, head)
            row.mime = _clean_mime(output.mime_type or ctype) or sniff_mime(head)
        elif value.startswith("data:"):
            data, mime = _decode_data_url(value)
            ext = guess_extension(output.mime_type or mime, None, data)
            row.mime = output.mime_type or mime or sniff_mime(data)
            _write_bytes(part, data, row)
        elif output.kind == "text":
            _write_bytes(part, value.encode("utf-8"), row)
            ext, row.mime = ".txt", "text/plain"
        else:
            row.error = "not an http(s) URL; not fetched"
            return row
        path = _unique_path(folder, stem, ext, taken, reuse)
        os.replace(part, path)
        row.file = path.name
    except (OSError, binascii.Error, ValueError) as exc:
        row.error = str(exc) or type(exc).__name__
    except (httpx.HTTPError, LaminaError) as exc:  # keep going with the other outputs
        row.error = f"download failed: {type(exc).__name__}: {exc}"
    finally:
        part.unlink(missing_ok=True)
    return row


def _clean_mime(mime: str | None) -> str | None:
    base = (mime or "").split(";", 1)[0].strip().lower()
    return None if base in _GENERIC_MIMES else base


def _write_bytes(part: Path, data: bytes, row: _Saved) -> None:
    part.write_bytes(data)
    row.sha256, row.size = hashlib.sha256(data).hexdigest(), len(data)


def _previous_manifest(folder: Path, execution_id: str, overwrite: bool) -> dict[str, str]:
    """Files of an earlier save of the same execution (label/id -> file), to overwrite in place."""
    path = folder / MANIFEST_NAME
    try:
        old = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(old, dict):
        return {}
    if old.get("executionId") != execution_id:
        if overwrite:
            return {}
        raise LaminaError(
            f"{folder} already holds the results of execution {old.get('executionId')}.",
            hint="Save each execution into its own folder (e.g. folder / execution_id), "
            "or pass overwrite=True to replace the manifest.",
        )
    return {
        str(o.get("id")): str(o["file"])
        for o in old.get("outputs", [])
        if isinstance(o, dict) and o.get("file")
    }


def _manifest(execution: Execution, rows: list[_Saved]) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "executionId": execution.execution_id,
        "appId": execution.app_id,
        "appName": execution.app_name,
        "status": execution.status,
        "errorMessage": execution.error_message,
        "createdAt": iso(execution.created_at),
        "completedAt": iso(execution.completed_at),
        "savedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "outputs": [row.to_json() for row in rows],
    }


async def save(
    http: httpx.AsyncClient | Fetcher,
    execution: Execution,
    folder: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    max_bytes: int = 2 * 1024**3,
) -> Path:
    """Write every finished output of ``execution`` into ``folder`` plus ``manifest.json``.

    ``http`` is an ``httpx.AsyncClient`` (outputs are streamed to disk with credential headers
    stripped, since output URLs may be on another host) or a :class:`Fetcher` such as the
    LaminaClient (its ``fetch_bytes`` decides about the key). Text outputs become ``.txt``
    files. File names come from the labels (sanitized, numbered on collision); extensions from
    ``mimeType``, the response's Content-Type, the URL, then the bytes. Failed outputs are
    listed in the manifest with their error. Saving the same execution again overwrites its
    own files.

    Returns
    -------
    Path
        The manifest's path.

    Raises
    ------
    SaveError
        After writing the manifest, when some outputs could not be downloaded.
    LaminaError
        When ``folder`` holds another execution's manifest and ``overwrite`` is False.
    """
    target = Path(folder).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    previous = _previous_manifest(target, execution.execution_id, overwrite)
    taken: set[str] = {MANIFEST_NAME}
    rows = []
    for output in execution.outputs:
        reuse = previous.get(output.id)
        rows.append(await _save_output(http, output, target, taken, reuse, max_bytes))
    manifest = target / MANIFEST_NAME
    tmp = target / f".{MANIFEST_NAME}.{os.getpid()}.part"
    tmp.write_text(json.dumps(_manifest(execution, rows), indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, manifest)
    failures = [(r.output.label, r.error) for r in rows if r.error and r.output.is_completed]
    if failures:
        raise SaveError(manifest, [(label, str(err)) for label, err in failures])
    return manifest


# -- thumbnails ---------------------------------------------------------------------------------


def thumbnail(data: bytes, max_px: int, *, target_bytes: int = 200_000) -> tuple[bytes, str]:
    """Downscale an image to fit ``max_px`` (aspect kept, never enlarged) and re-encode it.

    Pictures without transparency become JPEG at quality 85, lowered step by step while the
    result exceeds ``target_bytes``; images with alpha stay PNG, reduced to a 256-colour palette
    when larger than ``target_bytes``. Animated images give their first frame.

    Raises
    ------
    ValueError
        When the bytes are not an image Pillow can read.
    """
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        img.draft("RGB", (max_px, max_px))  # JPEG decodes at a reduced scale: much faster
        img = ImageOps.exif_transpose(img) or img
        has_alpha = img.mode in ("RGBA", "LA", "PA") or (
            img.mode == "P" and "transparency" in img.info
        )
        img = img.convert("RGBA" if has_alpha else "RGB")
        img.thumbnail((max(1, max_px), max(1, max_px)), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not an image Pillow can read: {exc}") from exc
    out = io.BytesIO()
    if not has_alpha:
        for quality in (85, 75, 65, 50):
            out = io.BytesIO()
            img.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= target_bytes:
                break
        return out.getvalue(), "image/jpeg"
    img.save(out, format="PNG", optimize=True)
    if out.tell() > target_bytes:
        out = io.BytesIO()
        img.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", optimize=True)
    return out.getvalue(), "image/png"
