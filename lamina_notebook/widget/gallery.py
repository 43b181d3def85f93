"""Progress rows and gallery tiles of :class:`~lamina_notebook.widget.LaminaApp`.

Only thumbnails cross the widget comm (bytes already downscaled by the kernel); full-size media
stays behind a safe link. Every service string goes through ``esc``/``safe_url``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W

from ..models import Execution, Media, Output
from ..render.html import esc, fmt_duration, link, shorten
from ..render.outputs import output_html
from ..render.styles import ERROR_STYLE, MUTED_STYLE, STYLE_TAG
from ..session.media import GALLERY_THUMB_PX

__all__ = [
    "MAX_COMM_BYTES",
    "VIDEO_WIDGET_MAX_BYTES",
    "ProgressRow",
    "RunCard",
    "changed_inputs",
    "media_values",
    "output_tile",
    "walk",
]

#: No single media value sent over the comm may exceed this (thumbnails are far below it).
MAX_COMM_BYTES = 300 * 1024
#: Videos up to this size play from kernel-fetched bytes; bigger ones stream from their URL.
VIDEO_WIDGET_MAX_BYTES = 2 * 1024 * 1024

_BAR_STYLE = {
    "queued": "",
    "running": "info",
    "completed": "success",
    "failed": "danger",
    "cancelled": "danger",
}


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


class ProgressRow:
    """One in-flight run: a bar, a text label, and a Stop button.

    The bar is driven by polling: status, outputs k of n, elapsed time and the ETA. It ends
    ``success`` or ``danger``; a stopped watch ends ``warning`` with how to resume.
    """

    def __init__(self, title: str, on_stop: Callable[[], None]) -> None:
        self.title = title
        self.started = time.monotonic()
        self.bar = W.FloatProgress(
            value=0.0, min=0.0, max=1.0, bar_style="", layout=W.Layout(width="180px")
        )
        self.label = W.Label(
            f"{title} · starting…", layout=W.Layout(flex="1 1 auto", min_width="0")
        )
        self.label.add_class("lamina-progress-label")  # wraps instead of running off the edge
        self.stop_button = W.Button(
            description="Stop",
            icon="stop",
            tooltip=(
                "Stop watching this run (it may still finish on the server and can be resumed)"
            ),
            layout=W.Layout(width="80px"),
        )
        self.stop_button.on_click(lambda _b: on_stop())
        self.box = W.HBox(
            [self.bar, self.label, self.stop_button], layout=W.Layout(align_items="center")
        )
        self.status = "starting"
        self.finished = False

    def update(self, execution: Execution, eta: float | None) -> None:
        """Show the latest polled state (call again with the same execution to tick elapsed)."""
        if self.finished:
            return
        self.status = execution.status
        elapsed = time.monotonic() - self.started
        parts = [self.title, execution.status]
        total = execution.outputs_total
        if total:
            parts.append(f"{execution.outputs_done}/{total} outputs")
        parts.append(fmt_duration(elapsed))
        if execution.is_terminal:
            self._finish(execution, parts)
            return
        parts.append(f"ETA ~{fmt_duration(eta)}" if eta is not None else "ETA unknown")
        with self.bar.hold_sync():  # value and style in one comm message, not two
            self.bar.value = max(0.02, execution.fraction_done)
            self.bar.bar_style = _BAR_STYLE.get(execution.status, "info")
        self.label.value = " · ".join(parts)

    def _finish(self, execution: Execution, parts: list[str]) -> None:
        self.finished = True
        with self.bar.hold_sync():
            self.bar.value = 1.0
            self.bar.bar_style = "success" if execution.is_completed else "danger"
        if execution.is_failed and execution.error_message:
            parts.append(shorten(execution.error_message, 120))
        self.label.value = " · ".join(parts)
        self.stop_button.layout.display = "none"

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stopped(self, execution_id: str | None) -> None:
        """The watch was stopped: say the run goes on and how to pick it up again."""
        self.finished = True
        self.bar.bar_style = "warning"
        where = f" (Resume, %lamina resume {execution_id}, or History)" if execution_id else ""
        self.label.value = (
            f"{self.title} · stopped watching; the run may still finish on "
            f"the server and can be resumed{where}"
        )
        self._button("Resume", "play", "Watch this run again")

    def resumed(self) -> None:
        """Watching again after a stop."""
        self.finished = False
        self.bar.bar_style = "info"
        self.label.value = f"{self.title} · watching again…"
        self._button(
            "Stop",
            "stop",
            "Stop watching this run (it may still finish on the server and can be resumed)",
        )

    def lost(self, message: str, execution_id: str) -> None:
        """Watching failed (network, timeout): the run itself may be fine."""
        self.finished = True
        self.bar.bar_style = "warning"
        self.label.value = (
            f"{self.title} · lost track: {shorten(message, 160)}; the run may "
            f"still finish, resume it with Resume or %lamina resume "
            f"{execution_id}"
        )
        self._button("Resume", "play", "Watch this run again")

    def _button(self, text: str, icon: str, tooltip: str) -> None:
        self.stop_button.description = text
        self.stop_button.icon = icon
        self.stop_button.tooltip = tooltip
        self.stop_button.layout.display = ""

    def failed_to_start(self, message: str) -> None:
        self.finished = True
        self.bar.value = 1.0
        self.bar.bar_style = "danger"
        self.label.value = f"{self.title} · not started: {shorten(message, 200)}"
        self.stop_button.layout.display = "none"


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


class RunCard:
    """A run in the gallery: a heading line and a row of tiles, filled in when it ends."""

    def __init__(self, title: str) -> None:
        self.head = W.HTML(f"<b>{esc(title)}</b>")
        self.tiles = W.HBox([], layout=W.Layout(flex_flow="row wrap"))
        self.box = W.VBox([self.head, self.tiles])
        self.box.add_class("lamina-run-card")

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
