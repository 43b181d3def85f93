"""Live checks of ``url`` inputs in ``LaminaApp``: thumbnails fetched by the kernel, and whether it
could reach them.

Checks are debounced (a newer edit supersedes an older check), only http(s) URLs are fetched,
downloads are capped, and only small thumbnails cross the widget comm. A URL whose picture the
widget already has (an uploaded file) is not fetched again. A value that fails validation is not
fetched at all: the field's one message says what is wrong, the status line stays empty.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..models import Media
from ..render.html import shorten
from ..session.media import PREVIEW_THUMB_PX
from .media import MAX_COMM_BYTES
from .ui import first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..session.session import Session
    from .controls import ParamControl
    from .ui import UI

__all__ = ["PREVIEW_DEBOUNCE", "PREVIEW_MAX_BYTES", "UrlPreviews", "fetch_preview"]

#: Seconds after the last edit before the kernel fetches the URL.
PREVIEW_DEBOUNCE = 0.4
#: Downloads bigger than this are refused (the status line then says why).
PREVIEW_MAX_BYTES = 10 * 1024 * 1024
#: Thumbnails remembered by URL (uploads, earlier checks), newest kept.
CACHE_SIZE = 64

#: (thumbnail or None, kind) or the reason the kernel could not fetch it.
Found = tuple[Media | None, str] | str


class UrlPreviews:
    """Keeps the status line and previews of every ``url`` control of a widget current.

    ``problems(values)`` gives the validation problems of inputs by parameter name (the
    controls' own check), so a URL that cannot be sent is never fetched.
    """

    def __init__(
        self, session: Session, ui: UI, problems: Callable[[Mapping[str, Any]], dict[str, str]]
    ) -> None:
        self.session = session
        self.ui = ui
        self.problems = problems
        self._gen: dict[str, int] = {}
        self._known: OrderedDict[str, tuple[Media | None, str]] = OrderedDict()
        #: The client of the latest check made on the main thread: checks triggered on the loop
        #: thread (an upload filled the field) use it, since they must not build one.
        self.client: Any = None

    def attach(self, controls: list[ParamControl]) -> None:
        """Observe the url controls and check the ones that already hold a value."""
        for control in controls:
            if control.param.type != "url":
                continue
            control.input.observe(self.ui.observer(self._observer(control)), names="value")
            if control.urls():
                self.check(control)

    def _observer(self, control: ParamControl) -> Callable[[Any], None]:
        def observer(_change: Any) -> None:
            self.check(control)

        return observer

    def remember(self, url: str, thumb: Media | None, kind: str) -> None:
        """What ``url`` shows (an uploaded file's thumbnail): later checks need no fetch."""
        self._known[url] = (thumb, kind)
        self._known.move_to_end(url)
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)

    def check(self, control: ParamControl) -> None:
        """Nothing for an empty or invalid value (the field's message says why); else the
        known thumbnails at once, or ``checking…`` and a background fetch."""
        name = control.param.name
        gen = self._gen[name] = self._gen.get(name, 0) + 1
        urls = control.urls()
        value: Any = urls if control.multiple else (urls[0] if urls else "")
        if not urls or self.problems({name: value}).get(name):
            control.set_status("")
            control.set_previews([])
            return
        if all(u in self._known for u in urls):
            self._show(control, gen, urls, {u: self._known[u] for u in urls})
            return
        if not self.session.runtime.in_loop_thread():
            self.client = self.session.client  # taken here: the loop thread must not build it
        if self.client is None:
            return
        control.set_status("checking…")
        self.session.runtime.submit(self._fetch(self.client, control, urls, gen))

    async def _fetch(self, client: Any, control: ParamControl, urls: list[str], gen: int) -> None:
        await asyncio.sleep(PREVIEW_DEBOUNCE)
        if self._gen.get(control.param.name) != gen:
            return  # the user typed on; a newer check is on its way
        found: dict[str, Found] = {}

        async def one(url: str) -> None:
            if url in self._known:
                found[url] = self._known[url]
                return
            try:
                found[url] = await fetch_preview(client, url, PREVIEW_THUMB_PX, PREVIEW_MAX_BYTES)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                found[url] = shorten(first_line(exc), 80)

        await asyncio.gather(*(one(u) for u in urls))
        self.ui.apply(self._show, control, gen, urls, found)

    def _show(
        self, control: ParamControl, gen: int, urls: list[str], found: Mapping[str, Found]
    ) -> None:
        if self._gen.get(control.param.name) != gen:
            return
        thumbs: list[Media | None] = []
        failed: list[tuple[str, str]] = []
        kinds: list[str] = []
        for url in urls:
            item = found.get(url, "not checked")
            if isinstance(item, str):
                failed.append((url, item))
                continue
            thumb, kind = item
            self.remember(url, thumb, kind)
            kinds.append(kind)
            thumbs.append(thumb if thumb and len(thumb[0]) <= MAX_COMM_BYTES else None)
        # Previews first: the status line is what observers (and tests) wait for.
        control.set_previews(thumbs)
        if not failed:
            what = kinds[0] if len(set(kinds)) == 1 else "media"
            text = f"reachable ({what})" if len(urls) == 1 else f"{len(urls)} reachable ({what})"
            control.set_status(text, ok=True)
            return
        url, reason = failed[0]
        where = "" if len(urls) == 1 else f"{len(failed)} of {len(urls)}, e.g. {shorten(url, 60)}: "
        control.set_status(f"not reachable from the kernel: {where}{reason}", ok=False)


async def fetch_preview(client: Any, url: str, px: int, max_bytes: int) -> tuple[Media | None, str]:
    """(thumbnail or None, kind) of a URL input; raises when it is not an image or video."""
    data, ctype = await client.fetch_bytes(url, max_bytes=max_bytes)
    major = (ctype or "").split("/", 1)[0].strip().lower()
    if major in ("video", "audio"):
        return None, major
    from ..files import thumbnail
    from ..session.media import in_image_thread

    try:
        thumb = await in_image_thread(thumbnail, data, px)
    except ValueError as exc:
        raise ValueError(f"not an image or video ({ctype or 'unknown type'})") from exc
    return (thumb if len(thumb[0]) <= MAX_COMM_BYTES else None), "image"
