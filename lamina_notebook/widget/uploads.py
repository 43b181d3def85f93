"""Local files as ``url`` inputs in ``LaminaApp``: the file picker beside each URL field.

A file picked in the browser reaches the kernel through the widget comm; the kernel uploads it
with ``client.upload`` (once per content: the asset URL is cached by its hash, in the client and
the journal) and puts the asset URL into the field, with a thumbnail made from the local bytes
(no download). Where the edition of the service takes no uploads (``/api``) the picker says so
and is disabled once that is known.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..editions import NotOfferedError
from ..models import Media
from ..render.html import shorten
from ..session.media import PREVIEW_THUMB_PX, in_image_thread
from .media import MAX_COMM_BYTES
from .ui import first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..session.session import Session
    from .controls import ParamControl
    from .preview import UrlPreviews
    from .ui import UI

__all__ = ["NO_UPLOADS", "FileInputs", "picked_files"]

#: What the picker says where the service takes no uploads.
NO_UPLOADS = (
    "This edition of the service (/api) takes no uploads: give a public https:// URL, "
    "or use the /v1 edition (LAMINA_API_EDITION=v1)."
)


def picked_files(value: Any) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of each file in a FileUpload value (ipywidgets 8: a tuple of dicts
    with ``name`` and ``content``, a memoryview)."""
    files = []
    for item in value or ():
        if not isinstance(item, dict) or item.get("content") is None:
            continue
        files.append((str(item.get("name") or "upload"), bytes(item["content"])))
    return files


class FileInputs:
    """Uploads the files picked beside the url fields and fills the fields with asset URLs."""

    def __init__(self, session: Session, ui: UI, previews: UrlPreviews) -> None:
        self.session = session
        self.ui = ui
        self.previews = previews

    def attach(self, controls: Sequence[ParamControl], edition: str | None) -> None:
        """Watch each url field's picker; ``edition`` ``"api"`` disables them at once."""
        for control in controls:
            if control.upload is None:
                continue
            control.upload.observe(self.ui.observer(self._picked(control)), names="value")
            if edition == "api":
                self.unavailable(control)

    def unavailable(self, control: ParamControl) -> None:
        """The service takes no uploads: the picker is disabled and its tooltip says why."""
        if control.upload is not None:
            control.upload.disabled = True
            control.upload.tooltip = NO_UPLOADS

    def _picked(self, control: ParamControl) -> Callable[[Any], None]:
        def picked(change: Any) -> None:
            files = picked_files(change["new"])
            if not files:
                return
            assert control.upload is not None
            control.upload.value = ()  # the same file can be picked again
            names = ", ".join(name for name, _ in files)
            control.set_status(f"uploading {shorten(names, 80)}…")
            client = self.session.client  # taken here: the loop thread must not build it
            self.previews.client = client
            self.session.runtime.submit(self._upload(client, control, files))

        return picked

    async def _upload(
        self, client: Any, control: ParamControl, files: list[tuple[str, bytes]]
    ) -> None:
        urls: list[str] = []
        try:
            for name, data in files:
                url = await client.upload(data, filename=name)
                thumb, kind = await _local_thumbnail(data)
                self.previews.remember(url, thumb, kind)
                urls.append(url)
        except asyncio.CancelledError:
            raise
        except NotOfferedError:
            self.ui.apply(self._refused, control)
            return
        except Exception as exc:
            reason = f"upload failed: {shorten(first_line(exc), 160)}"
            self.ui.apply(control.set_status, reason)
            if urls:
                self.ui.apply(self._fill, control, urls, names_of(files))
            return
        self.ui.apply(self._fill, control, urls, names_of(files))

    def _refused(self, control: ParamControl) -> None:
        self.unavailable(control)
        control.set_status(NO_UPLOADS, ok=False)

    def _fill(self, control: ParamControl, urls: list[str], names: str) -> None:
        """Put the asset URLs into the field (a ``multiple`` field: appended as lines); the
        field's observers then show the previews from the remembered thumbnails."""
        if control.multiple:
            kept = [u for u in control.urls() if u not in urls]
            control.input.value = "\n".join([*kept, *urls])
        else:
            control.input.value = urls[-1]
        control.set_status(f"uploaded {shorten(names, 80)}", ok=True)


def names_of(files: Sequence[tuple[str, bytes]]) -> str:
    return ", ".join(name for name, _ in files)


async def _local_thumbnail(data: bytes) -> tuple[Media | None, str]:
    """A preview of uploaded bytes without downloading them back: (thumbnail, kind)."""
    from ..files import sniff_mime, thumbnail

    kind = (sniff_mime(data) or "").split("/", 1)[0] or "file"
    if kind != "image":
        return None, kind
    try:
        thumb = await in_image_thread(thumbnail, data, PREVIEW_THUMB_PX)
    except ValueError:
        return None, kind
    return (thumb if len(thumb[0]) <= MAX_COMM_BYTES else None), "image"
