"""The Gallery tab of ``LaminaApp``: one card per run (heading and output tiles), newest first.

Captions always show the *distinguishing* inputs: the inputs whose values differ between the runs
on screen (all of a lone run's), so every picture says which prompt and style made it, however
many runs came between. Only thumbnails cross the widget comm (bytes already downscaled by the
kernel), shown at their own size, never stretched; full-size media stays behind a safe link,
routed through the Jupyter server's proxy for the sandbox (``WidgetRun.shown``). A reused run
carries a "reused" mark. Every service string goes through ``esc``/``safe_url``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..models import Execution, Media, Output
from ..render.html import esc, link, short_id, shorten
from ..render.outputs import output_html
from ..render.styles import ERROR_STYLE, MUTED_STYLE, STYLE_TAG
from ..session.media import GALLERY_THUMB_PX
from .media import MAX_COMM_BYTES, VIDEO_WIDGET_MAX_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from .runs import WidgetRun

__all__ = [
    "MAX_GALLERY_RUNS",
    "REUSED_MARK",
    "CardParts",
    "GalleryPanel",
    "RunCard",
    "distinguishing",
    "inputs_line",
    "media_values",
    "output_tile",
    "walk",
]

#: Run cards kept in the gallery; older runs stay in History.
MAX_GALLERY_RUNS = 24
#: The mark of a run answered by an earlier identical run (nothing sent, nothing billed).
REUSED_MARK = (
    '<span class="lamina-reused" title="answered by an earlier run with the same inputs: '
    f'no new run, nothing billed" style="{MUTED_STYLE}">♻ reused</span>'
)
_DEFAULT = "(default)"


def distinguishing(inputs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The input names whose values differ between ``inputs`` (an input some runs lack
    counts as its default), in first-seen order; every name of a lone run's inputs."""
    names = list(dict.fromkeys(k for one in inputs for k in one))
    if len(inputs) <= 1:
        return names
    return [k for k in names if len({_key(one.get(k, _DEFAULT)) for one in inputs}) > 1]


def _key(value: Any) -> str:
    return repr(value) if not isinstance(value, str) else value


def inputs_line(inputs: Mapping[str, Any], names: Sequence[str], limit: int = 60) -> str:
    """``Prompt=a fox, Style=Anime``: the named inputs of one run (plain text)."""
    shown = []
    for name in names:
        value = inputs.get(name, _DEFAULT)
        text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        shown.append(f"{name}={shorten(text, limit)}")
    return ", ".join(shown)


def _caption(output: Output, line: str, reused: bool) -> W.HTML:
    extra = f'<br><span style="{MUTED_STYLE}">{esc(line)}</span>' if line else ""
    mark = f" {REUSED_MARK}" if reused else ""
    # The widget's 28 px line height is for one-line controls; wrapped captions need less.
    html = W.HTML(
        f'<div style="line-height:1.4;margin:4px 0">'
        f"<b>{esc(shorten(output.label, 80))}</b>{mark}{extra}</div>"
    )
    html.add_class("lamina-caption")
    return html


def output_tile(
    output: Output,
    thumb: Media | None,
    video: bytes | None,
    line: str,
    *,
    fluid: bool = False,
    reused: bool = False,
) -> W.VBox:
    """One gallery tile: thumbnail + full-size link, video player, text, or failure.

    ``thumb`` is a downscaled image (a video's poster frame for videos); ``video`` holds a
    small video's bytes (at most ``VIDEO_WIDGET_MAX_BYTES``), else the player streams the URL.
    ``line`` is the caption's inputs line. A ``fluid`` tile fills its container (a grid cell
    of a sweep) and scales its media down to fit; otherwise it is ``GALLERY_THUMB_PX`` wide,
    for the wrapping row of a run card. Pictures are never enlarged beyond their own size.
    """
    parts: list[W.Widget] = [_caption(output, line, reused)]
    kind = output.kind if output.is_completed else "none"
    if kind == "image" and thumb is not None and len(thumb[0]) <= MAX_COMM_BYTES:
        image = W.Image(value=thumb[0], format=_fmt(thumb[1]), layout=_media_layout(fluid))
        image.add_class("lamina-thumb")
        parts.append(image)
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
    # Natural size up to the tile (never stretched: the journal's thumbnails are ~192 px);
    # object-fit keeps the proportions when a cell is narrower than the picture.
    return W.Layout(
        width="auto",
        height="auto",
        max_width="100%" if fluid else f"{GALLERY_THUMB_PX}px",
        object_fit="contain",
        align_self="flex-start",
    )


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
        self.title = title
        self.head = W.HTML(f"<b>{esc(title)}</b>")
        self.tiles = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        self.box = W.VBox([self.head, self.tiles])
        self.box.add_class("lamina-run-card")
        self._filled: tuple[Any, ...] | None = None

    @property
    def parts(self) -> CardParts:
        return CardParts(self.box, self.head, self.tiles)

    def loading(self, app_name: str) -> None:
        """Empty the card while a run's outputs are being fetched."""
        self.head.value = f"<b>{esc(shorten(app_name, 80))}</b> loading…"
        self.tiles.children = []
        self._filled = None

    def fill(
        self,
        execution: Execution,
        thumbs: Mapping[str, Media],
        videos: Mapping[str, bytes],
        line: str,
        source: str = "",
        *,
        reused: bool = False,
        title: str | None = None,
    ) -> None:
        """Show the final outputs; ``line`` is the caption's inputs, ``source`` where the run
        came from (e.g. history)."""
        self._filled = (execution, thumbs, videos, source, reused)
        self.title = title if title is not None else self.title
        self._head(execution, source, reused)
        self.tiles.children = [
            output_tile(o, thumbs.get(o.id), videos.get(o.id), line, reused=reused)
            for o in execution.outputs
        ]

    def _head(self, execution: Execution, source: str, reused: bool) -> None:
        when = f" · {esc(source)}" if source else ""
        status_style = ERROR_STYLE if execution.is_failed else MUTED_STYLE
        reason = ""
        if execution.is_failed:
            reason = f" · {shorten(execution.error_message or 'no reason given', 200)}"
        name = self.title or execution.app_name or ""
        full = execution.execution_id
        self.head.value = (
            f"<b>{esc(shorten(name, 160))}</b> · "
            f'<span style="{status_style}">{esc(execution.status)}{esc(reason)}</span> · '
            f'<code class="lamina-short-id" title="{esc(full)}" style="{MUTED_STYLE}">'
            f"{esc(short_id(full))}</code>" + (f" · {REUSED_MARK}" if reused else "") + when
        )

    def recaption(self, title: str, line: str) -> None:
        """New title and caption lines (the runs on screen changed), same outputs."""
        if self._filled is None:
            if title != self.title:
                self.title = title
                self.head.value = f"<b>{esc(title)}</b>"
            return
        self.title = title
        execution, _thumbs, _videos, source, reused = self._filled
        self._head(execution, source, reused)
        for tile, output in zip(self.tiles.children, execution.outputs, strict=False):
            caption = tile.children[0] if tile.children else None
            if isinstance(caption, W.HTML):
                fresh = _caption(output, line, reused).value
                if caption.value != fresh:
                    caption.value = fresh


class GalleryPanel:
    """The Gallery tab: a card per run, added when it starts and filled in when it ends."""

    def __init__(self) -> None:
        self._empty = W.HTML(f'<span style="{MUTED_STYLE}">No runs yet.</span>')
        self.box = W.VBox([self._empty])
        self.box.add_class("lamina-gallery-tab")
        self._cards: dict[int, tuple[WidgetRun, RunCard]] = {}  # id(run) -> card

    def card(self, run: WidgetRun) -> RunCard | None:
        """The card of ``run`` (also one that left the gallery), or None."""
        found = self._cards.get(id(run))
        return found[1] if found is not None else None

    def on_screen(self) -> list[WidgetRun]:
        """The runs whose cards are in the gallery, newest first."""
        by_box = {id(card.box): run for run, card in self._cards.values()}
        return [by_box[id(c)] for c in self.box.children if id(c) in by_box]

    def add(self, run: WidgetRun) -> RunCard:
        """A new card on top; the gallery keeps the newest ``MAX_GALLERY_RUNS``."""
        card = RunCard(run.title)
        self._cards[id(run)] = (run, card)
        shown = [c for c in self.box.children if c is not self._empty]
        self.box.children = [card.box, *shown][:MAX_GALLERY_RUNS]
        return card

    def fill(self, run: WidgetRun, names: Sequence[str]) -> None:
        """Show a finished run's outputs, captioned with its distinguishing inputs."""
        card = self.card(run)
        if card is not None and run.result is not None:
            shown = run.shown or run.result.execution
            line = inputs_line(run.inputs, names)
            card.fill(shown, run.thumbs, run.videos, line, reused=run.reused, title=run.title)

    def recaption(self, names: Sequence[str]) -> None:
        """Every card on screen captioned with ``names`` (the distinguishing inputs)."""
        for run in self.on_screen():
            card = self.card(run)
            if card is not None:
                card.recaption(run.title, inputs_line(run.inputs, names))


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
