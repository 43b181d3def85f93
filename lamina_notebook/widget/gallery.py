"""The Gallery tab of ``LaminaApp``: one card per run (heading and output tiles), newest first.

Only thumbnails cross the widget comm (bytes already downscaled by the kernel); full-size media
stays behind a safe link. Every service string goes through ``esc``/``safe_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..models import Execution, Media, Output
from ..render.html import esc, link, shorten
from ..render.outputs import output_html
from ..render.styles import ERROR_STYLE, MUTED_STYLE, STYLE_TAG
from ..session.media import GALLERY_THUMB_PX
from .media import MAX_COMM_BYTES, VIDEO_WIDGET_MAX_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from .runs import WidgetRun

__all__ = [
    "MAX_GALLERY_RUNS",
    "CardParts",
    "GalleryPanel",
    "RunCard",
    "changed_inputs",
    "media_values",
    "output_tile",
    "walk",
]

#: Run cards kept in the gallery; older runs stay in History.
MAX_GALLERY_RUNS = 24


def changed_inputs(inputs: Mapping[str, str], previous: Mapping[str, str] | None) -> dict[str, str]:
    """The inputs that differ from the previous run (all of them for the first run)."""
    if previous is None:
        return dict(inputs)
    changed = {k: v for k, v in inputs.items() if previous.get(k) != v}
    for k in previous:
        if k not in inputs:
            changed[k] = "(default)"
    return changed


def _inputs_line(inputs: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={shorten(v, 40)}" for k, v in inputs.items())


def _caption(output: Output, diff: Mapping[str, str]) -> W.HTML:
    changed = _inputs_line(diff)
    extra = f'<br><span style="{MUTED_STYLE}">{esc(changed)}</span>' if changed else ""
    # The widget's 28 px line height is for one-line controls; wrapped captions need less.
    return W.HTML(
        f'<div style="line-height:1.4;margin:4px 0">'
        f"<b>{esc(shorten(output.label, 80))}</b>{extra}</div>"
    )


def output_tile(
    output: Output,
    thumb: Media | None,
    video: bytes | None,
    diff: Mapping[str, str],
    *,
    fluid: bool = False,
) -> W.VBox:
    """One gallery tile: thumbnail + full-size link, video player, text, or failure.

    ``thumb`` is a downscaled image (a video's poster frame for videos); ``video`` holds a
    small video's bytes (at most ``VIDEO_WIDGET_MAX_BYTES``), else the player streams the URL.
    A ``fluid`` tile fills its container (a grid cell of a sweep) and scales its media down
    to fit; otherwise it is ``GALLERY_THUMB_PX`` wide, for the wrapping row of a run card.
    """
    parts: list[W.Widget] = [_caption(output, diff)]
    kind = output.kind if output.is_completed else "none"
    if kind == "image" and thumb is not None and len(thumb[0]) <= MAX_COMM_BYTES:
        parts.append(W.Image(value=thumb[0], format=_fmt(thumb[1]), layout=_media_layout(fluid)))
        parts.append(W.HTML(link(output.value, "full size ↗")))
    elif kind == "video" and video is not None and len(video) <= VIDEO_WIDGET_MAX_BYTES:
        parts.append(
            W.Video(
                value=video,
                format=_video_fmt(output),
                autoplay=False,
                loop=False,
                controls=True,
                layout=_media_layout(fluid),
            )
        )
        parts.append(W.HTML(link(output.value, "open video ↗")))
    else:
        # Failures, text, big videos (streamed from a safe URL), images without a thumbnail.
        small = thumb if thumb is not None and len(thumb[0]) <= MAX_COMM_BYTES else None
        parts.append(W.HTML(STYLE_TAG + output_html(output, small)))
    size = (
        W.Layout(width="100%", min_width="0", max_width="100%")
        if fluid
        else W.Layout(width=f"{GALLERY_THUMB_PX + 20}px", max_width="100%", margin="0 8px 8px 0")
    )
    tile = W.VBox(parts, layout=size)
    tile.add_class("lamina-tile")
    return tile


def _media_layout(fluid: bool) -> W.Layout:
    # object-fit keeps the aspect ratio when the cell is narrower than the thumbnail.
    if fluid:
        return W.Layout(
            width="100%", max_width=f"{GALLERY_THUMB_PX}px", height="auto", object_fit="contain"
        )
    return W.Layout(max_width=f"{GALLERY_THUMB_PX}px")


def _fmt(mime: str) -> str:
    sub = (mime or "image/png").split("/", 1)[-1].split(";", 1)[0].strip().lower()
    return "jpeg" if sub == "jpg" else (sub or "png")


def _video_fmt(output: Output) -> str:
    mime = (output.mime_type or "").lower()
    if "webm" in mime or (output.value or "").lower().split("?", 1)[0].endswith(".webm"):
        return "webm"
    return "mp4"


@dataclass(frozen=True)
class CardParts:
    """The widgets of one run card (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    head: W.HTML
    #: One tile per output once the run ended (caption, then thumbnail, player or text).
    tiles: W.HBox


class RunCard:
    """A run in the gallery: a heading line and a row of tiles, filled in when it ends."""

    def __init__(self, title: str) -> None:
        self.head = W.HTML(f"<b>{esc(title)}</b>")
        self.tiles = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        self.box = W.VBox([self.head, self.tiles])
        self.box.add_class("lamina-run-card")

    @property
    def parts(self) -> CardParts:
        return CardParts(self.box, self.head, self.tiles)

    def loading(self, app_name: str) -> None:
        """Empty the card while a run's outputs are being fetched."""
        self.head.value = f"<b>{esc(shorten(app_name, 80))}</b> loading…"
        self.tiles.children = []

    def fill(
        self,
        execution: Execution,
        thumbs: Mapping[str, Media],
        videos: Mapping[str, bytes],
        diff: Mapping[str, str],
        source: str,
    ) -> None:
        """Show the final outputs; ``source`` says where the run came from (e.g. history)."""
        when = f" · {source}" if source else ""
        status_style = ERROR_STYLE if execution.is_failed else MUTED_STYLE
        reason = ""
        if execution.is_failed:
            reason = f" · {shorten(execution.error_message or 'no reason given', 200)}"
        self.head.value = (
            f"<b>{esc(execution.app_name or '')}</b> · "
            f'<span style="{status_style}">{esc(execution.status)}{esc(reason)}</span> · '
            f'<code style="{MUTED_STYLE}">{esc(execution.execution_id)}</code>{esc(when)}'
        )
        self.tiles.children = [
            output_tile(o, thumbs.get(o.id), videos.get(o.id), diff) for o in execution.outputs
        ]


class GalleryPanel:
    """The Gallery tab: a card per run, added when it starts and filled in when it ends."""

    def __init__(self) -> None:
        self._empty = W.HTML(f'<span style="{MUTED_STYLE}">No runs yet.</span>')
        self.box = W.VBox([self._empty])
        self._cards: dict[int, RunCard] = {}  # id(run) -> card

    def card(self, run: WidgetRun) -> RunCard | None:
        """The card of ``run`` (also one that left the gallery), or None."""
        return self._cards.get(id(run))

    def add(self, run: WidgetRun) -> RunCard:
        """A new card on top; the gallery keeps the newest ``MAX_GALLERY_RUNS``."""
        card = RunCard(run.title)
        self._cards[id(run)] = card
        shown = [c for c in self.box.children if c is not self._empty]
        self.box.children = [card.box, *shown][:MAX_GALLERY_RUNS]
        return card

    def fill(self, run: WidgetRun) -> None:
        """Show a finished run's outputs, captioned with what changed since the run before."""
        card = self.card(run)
        if card is not None and run.result is not None:
            diff = changed_inputs(run.inputs, run.previous)
            card.fill(run.result.execution, run.thumbs, run.videos, diff, "")


def walk(root: W.Widget) -> list[W.Widget]:
    """Every widget under ``root`` (children of boxes, depth first), ``root`` included."""
    found: list[W.Widget] = []
    stack = [root]
    while stack:
        w = stack.pop()
        found.append(w)
        stack.extend(c for c in getattr(w, "children", ()) or () if isinstance(c, W.Widget))
    return found


def media_values(root: W.Widget) -> list[Any]:
    """Every Image/Video value under ``root`` (tests use it to check the comm stays small)."""
    return [w.value for w in walk(root) if isinstance(w, (W.Image, W.Video))]
