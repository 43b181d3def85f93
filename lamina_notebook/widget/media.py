"""What media may cross the widget comm, and how the widget gets it small enough.

Only thumbnails (downscaled in the kernel) and small videos are sent to the browser; full-size
media stays behind a safe link. ``GalleryMedia`` makes them for a finished run or a journaled one.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..models import Media
from ..render.html import safe_url
from ..session.media import GALLERY_THUMB_PX, MediaCache, fetch_media, in_image_thread

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Execution
    from ..session.results import Result

__all__ = ["MAX_COMM_BYTES", "VIDEO_WIDGET_MAX_BYTES", "GalleryMedia", "small_thumbnail"]

#: No single media value sent over the comm may exceed this (thumbnails are far below it).
MAX_COMM_BYTES = 300 * 1024
#: Videos up to this size play from kernel-fetched bytes; bigger ones stream from their URL.
VIDEO_WIDGET_MAX_BYTES = 2 * 1024 * 1024
#: Below this width a thumbnail no longer shows its subject: give up instead.
_MIN_THUMB_PX = 40


class GalleryMedia:
    """Thumbnails (at most ``MAX_COMM_BYTES`` each) and small videos for the gallery."""

    def __init__(self) -> None:
        self.cache = MediaCache()

    async def for_result(self, result: Result) -> tuple[dict[str, Media], dict[str, bytes]]:
        """Downscale the Result's embedded media (no refetch); its small videos as they are.

        A reused Result holds the journal's ~192 px thumbnails: they are kept at their own
        size (never enlarged)."""
        thumbs: dict[str, Media] = {}
        for output_id, (data, _mime) in result.media.items():
            small = await in_image_thread(small_thumbnail, data)
            if small is not None:
                thumbs[output_id] = small
        videos = {k: v for k, v in result.videos.items() if len(v) <= VIDEO_WIDGET_MAX_BYTES}
        return thumbs, videos

    async def for_execution(
        self, client: Any, execution: Execution
    ) -> tuple[dict[str, Media], dict[str, bytes]]:
        """Thumbnails of a journaled execution: the journal's stored ones (offline, instant),
        else fetched at gallery size (the output URLs may have expired)."""
        journal = getattr(client, "journal", None)
        if journal is not None:
            try:
                stored = journal.media([execution.execution_id]).get(execution.execution_id, {})
            except Exception:  # an unreadable journal: fetch instead
                stored = {}
            thumbs = {k: m.thumbnail for k, m in stored.items() if m.thumbnail is not None}
            if thumbs:
                return thumbs, {}
        media = await fetch_media(client, execution, GALLERY_THUMB_PX, cache=self.cache)
        thumbs = {k: v for k, v in media.items() if len(v[0]) <= MAX_COMM_BYTES}
        return thumbs, await self.videos(client, execution)

    async def videos(self, client: Any, execution: Execution) -> dict[str, bytes]:
        """Bytes of small completed videos (the rest streams from its URL in the browser)."""
        found: dict[str, bytes] = {}
        for out in execution.outputs:
            url = safe_url(out.value) if out.is_completed and out.kind == "video" else None
            if not url or url.lower().startswith("data:"):
                continue
            try:
                data, _ = await client.fetch_bytes(url, max_bytes=VIDEO_WIDGET_MAX_BYTES)
            except asyncio.CancelledError:
                raise
            except Exception:  # too big, expired, unreachable: the <video> tag streams it
                continue
            if len(data) <= VIDEO_WIDGET_MAX_BYTES:
                found[out.id] = data
        return found


def small_thumbnail(data: bytes) -> Media | None:
    """A gallery thumbnail under ``MAX_COMM_BYTES`` (halving the size if needed), or None."""
    from ..files import thumbnail

    px = GALLERY_THUMB_PX
    while px >= _MIN_THUMB_PX:
        try:
            thumb = thumbnail(data, px)
        except ValueError:
            return None
        if len(thumb[0]) <= MAX_COMM_BYTES:
            return thumb
        px //= 2
    return None
