"""Fetching url inputs safely: loopback (or the sandbox itself) only, with a size cap and timeout.

A sandbox exposed on a network must not become a proxy into it (SSRF), so host names other
than ``localhost`` are never resolved and non-loopback addresses are never connected to.
"""

from __future__ import annotations

import io
import ipaddress
from urllib.parse import urlsplit

import httpx

from .media import digest
from .state import Source

MAX_FETCH_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT = 5.0


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is ``localhost`` or a loopback IP literal."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https"):
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _via_self(url: str, self_netloc: str, self_port: int) -> str | None:
    """``url`` rewritten to 127.0.0.1 when it names the sandbox itself (e.g. its LAN address)."""
    parts = urlsplit(url)
    if parts.netloc != self_netloc:
        return None
    return parts._replace(scheme="http", netloc=f"127.0.0.1:{self_port}").geturl()


async def fetch_source(
    url: str,
    *,
    allow_remote: bool,
    blobs: dict[str, bytes],
    self_netloc: str = "",
    self_port: int = 0,
) -> tuple[Source, bool]:
    """Fetch ``url`` into ``blobs`` (by digest); returns (source, refused)."""
    target = _via_self(url, self_netloc, self_port) if self_port else None
    if target is None:
        if not (allow_remote or is_loopback_url(url)):
            return Source(url=url, refused=True, size=(768, 768)), True
        target = url
    try:
        data = await _get(target)
    except (httpx.HTTPError, ValueError) as exc:
        return Source(url=url, error=str(exc) or type(exc).__name__), False
    try:
        size = _image_size(data)
    except Exception:
        return Source(
            url=url, error="not an image the sandbox can read (PNG, JPEG, WebP, GIF)"
        ), False
    key = digest(data)
    blobs[key] = data
    return Source(url=url, digest=key, size=size), False


async def _get(url: str) -> bytes:
    # trust_env=False: a proxy from the environment must not see (or reroute) loopback fetches.
    async with (
        httpx.AsyncClient(timeout=FETCH_TIMEOUT, trust_env=False, follow_redirects=False) as client,
        client.stream("GET", url) as resp,
    ):
        if resp.status_code != 200:
            raise ValueError(f"HTTP {resp.status_code}")
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
            if total > MAX_FETCH_BYTES:
                raise ValueError(f"larger than {MAX_FETCH_BYTES // (1024 * 1024)} MB")
            chunks.append(chunk)
        return b"".join(chunks)


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.size
