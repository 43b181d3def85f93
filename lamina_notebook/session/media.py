"""Fetch output media for display: small embedded images and video poster frames.

The kernel fetches the bytes (so outputs show where the browser cannot reach the URL: Binder,
the sandbox, expired signed URLs in saved notebooks) and downscales them to ``embed_max_px``.
At a run's completion :func:`fetch_outputs` also makes what the journal keeps of each output
(:class:`~lamina_notebook.journal.StoredMedia`: kind, type, size, dimensions, duration and a
small JPEG thumbnail) and keeps small videos' bytes. Runs on the runtime loop; ffmpeg work goes
to a worker thread, Pillow work to the one image thread (:func:`in_image_thread`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import functools
import logging
import mimetypes
import os
import re
import struct
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from ..journal import StoredMedia

if TYPE_CHECKING:  # pragma: no cover
    from ..client import LaminaClient
    from ..models import Execution, Media, Output

__all__ = [
    "EMBED_VIDEO_BYTES",
    "GALLERY_THUMB_PX",
    "HISTORY_THUMB_PX",
    "PREVIEW_THUMB_PX",
    "STORED_THUMB_BYTES",
    "STORED_THUMB_PX",
    "FetchedOutputs",
    "MediaCache",
    "VideoProbe",
    "fetch_media",
    "fetch_outputs",
    "in_image_thread",
    "poster_frame",
    "probe_video",
    "stored_thumbnail",
]

log = logging.getLogger("lamina_notebook.session")

T = TypeVar("T")

#: Longest side, in pixels, of a thumbnail in the widget's gallery (a tile is this wide).
GALLERY_THUMB_PX = 320
#: Longest side of the thumbnail in a row of ``%lamina history``.
HISTORY_THUMB_PX = 96
#: Longest side of the preview under a ``url`` input of the widget.
PREVIEW_THUMB_PX = 160
#: Longest side of the thumbnail the journal keeps of each output: twice a history row's, so
#: it stays sharp on HiDPI screens and in grid cells.
STORED_THUMB_PX = HISTORY_THUMB_PX * 2
#: Byte budget of one stored thumbnail (JPEG): 1 000 runs stay about 10 MB at most.
STORED_THUMB_BYTES = 12_000
#: Completed videos up to this size are kept as bytes (``Result.videos``), so a saved notebook
#: can embed them; bigger ones are shown by their poster and link.
EMBED_VIDEO_BYTES = 2 * 1024 * 1024

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


@dataclass(frozen=True)
class VideoProbe:
    """A video's first frame (PNG) with its pixel size, and its duration when ffmpeg said."""

    poster: bytes = field(repr=False)
    width: int | None
    height: int | None
    duration: float | None


_DURATION = re.compile(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def probe_video(video: bytes, timeout: float = 30.0) -> VideoProbe | None:
    """The first frame and duration of ``video`` via imageio-ffmpeg's binary; None without it
    (or when ffmpeg cannot read the bytes).

    imageio-ffmpeg is optional (the ``video`` extra); without it videos show no poster, just
    the player and the link. Blocking: call it in a worker thread.
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
                "-hide_banner",
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
    if proc.returncode != 0 or not proc.stdout.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    width, height = struct.unpack(">II", proc.stdout[16:24])  # the PNG's IHDR chunk
    found = _DURATION.search(proc.stderr)
    duration = None
    if found:
        hours, minutes, seconds = found.groups()
        duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return VideoProbe(proc.stdout, int(width), int(height), duration)


def poster_frame(video: bytes, timeout: float = 30.0) -> bytes | None:
    """The first frame of ``video`` as PNG bytes (see :func:`probe_video`); None without it."""
    probe = probe_video(video, timeout)
    return probe.poster if probe is not None else None


def stored_thumbnail(data: bytes, max_px: int = STORED_THUMB_PX) -> bytes:
    """The journal's thumbnail of an image: JPEG within :data:`STORED_THUMB_BYTES`.

    Transparency is flattened onto white (one format for every stored thumbnail); the quality
    steps down, then the size, until it fits. Raises ValueError when the bytes are no image.
    Pillow work: call it in the image thread.
    """
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        img.draft("RGB", (max_px, max_px))
        img = ImageOps.exif_transpose(img) or img
        img = img.convert("RGBA")
        img.thumbnail((max(1, max_px), max(1, max_px)), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not an image Pillow can read: {exc}") from exc
    flat = Image.new("RGB", img.size, "white")
    flat.paste(img, mask=img.getchannel("A"))
    while True:
        for quality in (75, 65, 55, 45):
            out = io.BytesIO()
            flat.save(out, format="JPEG", quality=quality, optimize=True)
            if out.tell() <= STORED_THUMB_BYTES:
                return out.getvalue()
        if max(flat.size) <= 32:
            return out.getvalue()  # a 32 px JPEG is far below the budget; never loops forever
        flat = flat.resize((max(1, flat.width * 3 // 4), max(1, flat.height * 3 // 4)))


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    """Pixel size of an image as displayed (EXIF rotation applied) from its header only."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if img.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated a quarter turn
                width, height = height, width
            return width, height
    except Exception:  # untrusted bytes: no size rather than a crash
        return None, None


def _image_versions(data: bytes, max_px: int) -> tuple[Media, bytes, tuple[int | None, int | None]]:
    """One image's embedded version (``max_px``), stored thumbnail and original pixel size.

    The thumbnail is made from the embedded version (already small), not the original.
    """
    from ..files import thumbnail

    embed = thumbnail(data, max_px)
    return embed, stored_thumbnail(embed[0]), _image_size(data)


@dataclass
class FetchedOutputs:
    """What :func:`fetch_outputs` found: embedded media, small videos, and the journal's record.

    ``media``: ``{output id: (bytes, mime)}`` downscaled images and video posters (as
    :func:`fetch_media`); ``videos``: ``{output id: bytes}`` of completed videos up to
    :data:`EMBED_VIDEO_BYTES`; ``stored``: one :class:`StoredMedia` per completed non-text
    output, with a thumbnail where the bytes could be fetched and read.
    """

    media: dict[str, Media] = field(default_factory=dict)
    videos: dict[str, bytes] = field(default_factory=dict)
    stored: list[StoredMedia] = field(default_factory=list)


async def fetch_outputs(
    client: LaminaClient,
    execution: Execution,
    max_px: int = 1024,
    *,
    video_max_bytes: int = EMBED_VIDEO_BYTES,
) -> FetchedOutputs:
    """Fetch a finished run's images and videos once: for display and for the journal.

    Every completed output that is not text gets a :class:`StoredMedia` (kind and type always,
    size and thumbnail when its bytes could be fetched; audio and plain links are never
    downloaded). Failures never raise: the output is then recorded without a thumbnail.
    """
    wanted = [
        o for o in execution.outputs if o.is_completed and o.value and o.kind not in ("text",)
    ]
    found = await asyncio.gather(*(_one_output(client, o, max_px, video_max_bytes) for o in wanted))
    fetched = FetchedOutputs()
    for output, (stored, media, video) in zip(wanted, found, strict=True):
        fetched.stored.append(stored)
        if media is not None:
            fetched.media[output.id] = media
        if video is not None:
            fetched.videos[output.id] = video
    return fetched


async def _one_output(
    client: LaminaClient, output: Output, max_px: int, video_max_bytes: int
) -> tuple[StoredMedia, Media | None, bytes | None]:
    kind = output.kind
    dims = output.dimensions or {}
    base = StoredMedia(
        output_id=output.id,
        kind=kind,
        mime=_output_mime(output),
        width=_int_or_none(dims.get("width")),
        height=_int_or_none(dims.get("height")),
        duration=output.duration_seconds,
    )
    if kind not in ("image", "video"):
        return base, None, None
    try:
        if kind == "image":
            return await _fetch_image(client, output, max_px, base)
        return await _fetch_video(client, output, max_px, video_max_bytes, base)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # untrusted bytes/URLs, expired links: kind and type only
        log.debug("no media for output %s: %s", output.id, exc)
        return base, None, None


async def _fetch_image(
    client: LaminaClient, output: Output, max_px: int, base: StoredMedia
) -> tuple[StoredMedia, Media | None, bytes | None]:
    assert output.value is not None
    data = _data_url_bytes(output.value)
    ctype = None
    if data is None:
        data, ctype = await client.fetch_bytes(output.value, max_bytes=MAX_IMAGE_BYTES)
    embed, thumb, (width, height) = await in_image_thread(_image_versions, data, max_px)
    stored = StoredMedia(
        output_id=base.output_id,
        kind=base.kind,
        mime=_bytes_mime(data, ctype) or base.mime,
        thumb=thumb,
        byte_size=len(data),
        width=width or base.width,
        height=height or base.height,
        duration=base.duration,
    )
    return stored, embed, None


async def _fetch_video(
    client: LaminaClient, output: Output, max_px: int, video_max_bytes: int, base: StoredMedia
) -> tuple[StoredMedia, Media | None, bytes | None]:
    assert output.value is not None
    if output.value.startswith("data:"):
        return base, None, None
    data, ctype = await client.fetch_bytes(output.value, max_bytes=MAX_VIDEO_BYTES)
    small = data if len(data) <= video_max_bytes else None
    probe = await asyncio.to_thread(probe_video, data)
    embed = thumb = None
    if probe is not None:
        embed, thumb, _size = await in_image_thread(_image_versions, probe.poster, max_px)
    stored = StoredMedia(
        output_id=base.output_id,
        kind=base.kind,
        mime=_bytes_mime(data, ctype) or base.mime,
        thumb=thumb,
        byte_size=len(data),
        width=(probe.width if probe else None) or base.width,
        height=(probe.height if probe else None) or base.height,
        duration=(probe.duration if probe else None) or base.duration,
    )
    return stored, embed, small


def _output_mime(output: Output) -> str | None:
    """The output's media type as the service said or its URL's extension tells."""
    if output.mime_type:
        return output.mime_type
    value = output.value or ""
    if value.startswith("data:"):
        return value[5:].split(";", 1)[0].split(",", 1)[0] or None
    guessed, _ = mimetypes.guess_type(urlsplit(value).path)
    return guessed


def _bytes_mime(data: bytes, ctype: str | None) -> str | None:
    from ..files import sniff_mime

    sniffed = sniff_mime(data)
    if sniffed:
        return sniffed
    header = (ctype or "").split(";", 1)[0].strip().lower()
    return header if "/" in header and header != "application/octet-stream" else None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
