"""Fetch output media for display: small embedded images and video poster frames.

The kernel fetches the bytes (so outputs show where the browser cannot reach the URL: Binder,
the sandbox, expired signed URLs in saved notebooks) and downscales them to ``embed_max_px``.
Runs on the runtime loop; ffmpeg work goes to a worker thread, Pillow work to the one image
thread (:func:`in_image_thread`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import functools
import os
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from ..client import LaminaClient
    from ..models import Execution, Media, Output

__all__ = [
    "GALLERY_THUMB_PX",
    "HISTORY_THUMB_PX",
    "PREVIEW_THUMB_PX",
    "MediaCache",
    "fetch_media",
    "in_image_thread",
    "poster_frame",
]

T = TypeVar("T")

#: Longest side, in pixels, of a thumbnail in the widget's gallery (a tile is this wide).
GALLERY_THUMB_PX = 320
#: Longest side of the thumbnail in a row of ``%lamina history``.
HISTORY_THUMB_PX = 96
#: Longest side of the preview under a ``url`` input of the widget.
PREVIEW_THUMB_PX = 160

# Big enough for a short sandbox/preview video; larger downloads are not worth a poster.
MAX_IMAGE_BYTES = 40 * 1024 * 1024
MAX_VIDEO_BYTES = 200 * 1024 * 1024


_image_pool: concurrent.futures.ThreadPoolExecutor | None = None
_image_pool_lock = threading.Lock()


async def in_image_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run Pillow work (decode, resize, re-encode) in the process's single image thread.

    Pillow's JPEG/PNG encoders hold the GIL for a whole C call (about 8 ms for a 1024 px
    image), so several pool threads encoding at once kept the kernel's event loop waiting for
    the GIL for tens of milliseconds (48 widget runs finishing together: p99 lag 35-100 ms).
    One thread bounds the wait to one call; decode and resize release the GIL anyway, so
    little throughput is lost on the few cores a kernel has.
    """
    global _image_pool
    with _image_pool_lock:
        if _image_pool is None:
            _image_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="lamina-image"
            )
        pool = _image_pool
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args))


class MediaCache:
    """A small LRU of embedded media keyed by (execution id, output id, max_px).

    A miss is also remembered (value None) so an expired URL is not fetched on every redraw.
    """

    def __init__(self, max_items: int = 256) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[str, str, int], Media | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> tuple[bool, Media | None]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: tuple[str, str, int], media: Media | None) -> None:
        with self._lock:
            self._items[key] = media
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


_default_cache = MediaCache()


async def fetch_media(
    client: LaminaClient,
    execution: Execution,
    max_px: int = 1024,
    *,
    cache: MediaCache | None = None,
    outputs: Iterable[Output] | None = None,
) -> dict[str, Media]:
    """Embeddable media for the completed image/video outputs of ``execution``.

    Returns ``{output id: (bytes, mime)}``: a downscaled image, or a video's poster frame.
    Outputs whose fetch fails (expired URL, no ffmpeg) are left out: render then falls back
    to the URL link, so a missing thumbnail never hides a result.
    """
    cache = _default_cache if cache is None else cache
    wanted = [
        o
        for o in (execution.outputs if outputs is None else outputs)
        if o.is_completed and o.value and o.kind in ("image", "video")
    ]
    results = await asyncio.gather(
        *(_one(client, execution.execution_id, o, max_px, cache) for o in wanted)
    )
    return {o.id: m for o, m in zip(wanted, results, strict=True) if m is not None}


async def _one(
    client: LaminaClient, execution_id: str, output: Output, max_px: int, cache: MediaCache
) -> Media | None:
    key = (execution_id, output.id, max_px)
    hit, media = cache.get(key)
    if hit:
        return media
    try:
        media = await _fetch_and_shrink(client, output, max_px)
    except asyncio.CancelledError:
        raise
    except Exception:  # untrusted bytes/URLs: any failure means "no thumbnail", not a crash
        media = None
    cache.put(key, media)
    return media


async def _fetch_and_shrink(client: LaminaClient, output: Output, max_px: int) -> Media | None:
    from ..files import thumbnail

    assert output.value is not None
    if output.kind == "image":
        data = _data_url_bytes(output.value)
        if data is None:
            data, _ = await client.fetch_bytes(output.value, max_bytes=MAX_IMAGE_BYTES)
        return await in_image_thread(thumbnail, data, max_px)
    if output.value.startswith("data:"):
        return None
    data, _ = await client.fetch_bytes(output.value, max_bytes=MAX_VIDEO_BYTES)
    frame = await asyncio.to_thread(poster_frame, data)
    if frame is None:
        return None
    return await in_image_thread(thumbnail, frame, max_px)


def _data_url_bytes(url: str) -> bytes | None:
    """The bytes of a base64 ``data:image/...`` URL; None for anything else."""
    if not url.startswith("data:image/") or ";base64," not in url:
        return None
    try:
        return base64.b64decode(url.split(";base64,", 1)[1], validate=False)
    except (binascii.Error, ValueError):
        return None


def poster_frame(video: bytes, timeout: float = 30.0) -> bytes | None:
    """The first frame of ``video`` as PNG bytes, via imageio-ffmpeg's binary; None without it.

    imageio-ffmpeg is optional (the ``video`` extra); without it videos show no poster, just
    the player and the link.
    """
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    fd, path = tempfile.mkstemp(suffix=".video")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(video)
        proc = subprocess.run(
            [
                exe,
                "-v",
                "error",
                "-i",
                path,
                "-frames:v",
                "1",
                "-f",
                "image2pipe",
                "-vcodec",
                "png",
                "-",
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        os.unlink(path)
    return proc.stdout if proc.returncode == 0 and proc.stdout else None
