"""Live checks of ``url`` inputs in ``LaminaApp``: a ✓/✗ mark and a thumbnail fetched by the kernel.

Checks are debounced (a newer edit supersedes an older check), only http(s) URLs are fetched,
downloads are capped, and only a small thumbnail crosses the widget comm.
"""

from __future__ import annotations

import asyncio
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

__all__ = ["PREVIEW_DEBOUNCE", "PREVIEW_MAX_BYTES", "UrlPreviews"]

#: Seconds after the last edit before the kernel fetches the URL.
PREVIEW_DEBOUNCE = 0.4
#: Downloads bigger than this are refused (the mark then says why).
PREVIEW_MAX_BYTES = 10 * 1024 * 1024


class UrlPreviews:
    """Watches every ``url`` control of a widget and keeps its mark and preview current.

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

    def attach(self, controls: list[ParamControl]) -> None:
        """Observe the url controls and check the ones that already hold a value."""
        for control in controls:
            if control.param.type != "url":
                continue
            control.input.observe(self._observer(control), names="value")
            if control.get():
                self.check(control)

    def _observer(self, control: ParamControl) -> Any:
        def observer(_change: Any) -> None:
            try:
                self.check(control)
            except Exception as exc:  # guarded: a failed check must not break typing
                self.ui.show_error(exc)

        return observer

    def check(self, control: ParamControl) -> None:
        """✗ with the reason at once, or ``checking…`` and a background fetch."""
        name = control.param.name
        gen = self._gen[name] = self._gen.get(name, 0) + 1
        url = (control.get() or "").strip()
        problem = self.problems({name: url}).get(name) if url else "empty"
        if problem:
            control.set_mark(False, problem)
            control.set_preview(None)
            return
        control.set_mark(False, "checking…")
        client = self.session.client  # taken here: the loop thread must not build it
        self.session.runtime.submit(self._fetch(client, control, url, gen))

    async def _fetch(self, client: Any, control: ParamControl, url: str, gen: int) -> None:
        await asyncio.sleep(PREVIEW_DEBOUNCE)
        if self._gen.get(control.param.name) != gen:
            return  # the user typed on; a newer check is on its way
        try:
            thumb, kind = await fetch_preview(client, url, PREVIEW_THUMB_PX, PREVIEW_MAX_BYTES)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = f"not reachable from the kernel: {shorten(first_line(exc), 80)}"
            self.ui.apply(self._apply, control, gen, False, reason, None)
            return
        self.ui.apply(self._apply, control, gen, True, f"reachable ({kind})", thumb)

    def _apply(
        self, control: ParamControl, gen: int, ok: bool, reason: str, thumb: Media | None
    ) -> None:
        if self._gen.get(control.param.name) != gen:
            return
        # Preview first: the mark is what observers (and tests) wait for.
        control.set_preview(thumb if thumb and len(thumb[0]) <= MAX_COMM_BYTES else None)
        control.set_mark(ok, reason)


async def fetch_preview(client: Any, url: str, px: int, max_bytes: int) -> tuple[Media | None, str]:
    """(thumbnail or None, kind) of a URL input; raises when it is not an image or video."""
    data, ctype = await client.fetch_bytes(url, max_bytes=max_bytes)
    major = (ctype or "").split("/", 1)[0].strip().lower()
    if major == "video":
        return None, "video"
    from ..files import thumbnail

    try:
        thumb = await asyncio.to_thread(thumbnail, data, px)
    except ValueError as exc:
        raise ValueError(f"not an image or video ({ctype or 'unknown type'})") from exc
    return (thumb if len(thumb[0]) <= MAX_COMM_BYTES else None), "image"
