"""Outputs of the apps whose parameters are not named like the built-in ones.

``media.py`` draws from ``Upload``/``Style``/``Prompt`` inputs; the awkward catalogue apps name
theirs otherwise (``Garment``, ``Your Photo``, ``Reference Images``). This module maps them onto
what ``media`` reads (so every app gets the same drawing), and draws the mood board itself,
since it tiles several fetched pictures. Everything stays a pure function of the inputs.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import media

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .catalog import AppDef
    from .state import Source

BOARD_SIZES = {"Grid": (1024, 1024), "Strip": (1536, 512)}


def adapt(
    app: AppDef, inputs: Mapping[str, Any], sources: Mapping[str, Source]
) -> tuple[AppDef, dict[str, Any], dict[str, Source]]:
    """``app``, ``inputs`` and ``sources`` as ``media`` expects them (unchanged for built-ins)."""
    if app.kind == "photoshoot":
        background = str(inputs.get("Background") or "")
        style = "Studio White" if "studio" in background.lower() else "Lifestyle"
        return (
            replace(app, kind="catalog"),
            {**inputs, "Style": style},
            {"Upload": sources["Garment"]} if "Garment" in sources else {},
        )
    if app.kind == "selfie":
        return (
            replace(app, kind="stylize"),
            {**inputs, "Style": "Disney / Pixar", "Prompt": f"Selfie with {inputs['Celebrity']}"},
            {"Upload": sources["Your Photo"]} if "Your Photo" in sources else {},
        )
    return app, dict(inputs), dict(sources)


def output_meta(
    app: AppDef, inputs: Mapping[str, Any], index: int, sources: Mapping[str, Source]
) -> dict[str, Any]:
    """``ext``, ``mimeType`` and ``dimensions`` of an output, without rendering it."""
    if app.kind == "moodboard":
        w, h = BOARD_SIZES.get(str(inputs.get("Layout")), BOARD_SIZES["Grid"])
        return {"ext": ".png", "mimeType": "image/png", "dimensions": {"width": w, "height": h}}
    return media.output_meta(*_args(app, inputs, index, sources))


def render_text(app: AppDef, inputs: Mapping[str, Any], index: int) -> str:
    media_app, media_inputs, _ = adapt(app, inputs, {})
    return media.render_text(media_app, media_inputs, index)


def render_image(
    app: AppDef,
    inputs: Mapping[str, Any],
    index: int,
    sources: Mapping[str, Source],
    blobs: Mapping[str, bytes],
) -> bytes:
    """The PNG of image output ``index``."""
    if app.kind == "moodboard":
        return render_board(inputs, sources, blobs)
    media_app, media_inputs, media_sources = adapt(app, inputs, sources)
    return media.render_image(media_app, media_inputs, index, media_sources, blobs)


def _args(
    app: AppDef, inputs: Mapping[str, Any], index: int, sources: Mapping[str, Source]
) -> tuple[AppDef, dict[str, Any], int, dict[str, Source]]:
    media_app, media_inputs, media_sources = adapt(app, inputs, sources)
    return media_app, media_inputs, index, media_sources


def board_sources(sources: Mapping[str, Source]) -> list[Source]:
    """The mood board's pictures, in the order given (``"Reference Images[0]"``, ...)."""
    keyed = [(k, s) for k, s in sources.items() if k.startswith("Reference Images[")]
    return [s for _, s in sorted(keyed, key=lambda kv: int(kv[0].rsplit("[", 1)[1][:-1]))]


def _tile(src: Source, blobs: Mapping[str, bytes], size: tuple[int, int]) -> Image.Image:
    """One picture fitted to ``size``: the fetched bytes, or a flat colour for a refused URL."""
    from PIL import Image, ImageOps

    data = blobs.get(src.digest or "")
    if data is None:
        shade = hashlib.sha256(src.url.encode()).digest()
        return Image.new("RGB", size, (64 + shade[0] // 2, 64 + shade[1] // 2, 64 + shade[2] // 2))
    with Image.open(io.BytesIO(data)) as img:
        return ImageOps.fit(img.convert("RGB"), size)


def render_board(
    inputs: Mapping[str, Any], sources: Mapping[str, Source], blobs: Mapping[str, bytes]
) -> bytes:
    """A grid (or a strip) of the reference pictures on a light board, the title on top."""
    from PIL import Image, ImageDraw, ImageFont

    layout = str(inputs.get("Layout") or "Grid")
    width, height = BOARD_SIZES.get(layout, BOARD_SIZES["Grid"])
    pictures = board_sources(sources)
    title = str(inputs.get("Title") or "").strip()
    board = Image.new("RGB", (width, height), (244, 241, 236))
    gap = 16
    top = gap + (56 if title else 0)
    n = max(1, len(pictures))
    cols = n if layout == "Strip" else math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    cell_w = (width - gap * (cols + 1)) // cols
    cell_h = (height - top - gap * rows) // rows
    for i, src in enumerate(pictures):
        r, c = divmod(i, cols)
        x = gap + c * (cell_w + gap)
        y = top + r * (cell_h + gap)
        board.paste(_tile(src, blobs, (max(1, cell_w), max(1, cell_h))), (x, y))
    if title:
        draw = ImageDraw.Draw(board)
        try:
            font: Any = ImageFont.load_default(size=36)
        except TypeError:  # Pillow < 10.1
            font = ImageFont.load_default()
        draw.text((gap, gap), title[:80], fill=(40, 36, 32), font=font)
    buf = io.BytesIO()
    board.save(buf, "PNG")
    return buf.getvalue()
