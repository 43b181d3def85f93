"""What the sandbox's apps produce: Pillow images, an H.264 MP4, text, and the sample pictures.

Text to Image draws what its prompt names (``scenes.compose``: subjects, setting, time and
weather) and applies its Style (``styles``); apps with an upload restyle the uploaded picture.
Everything is a pure function of the inputs (and fetched source bytes), so the same inputs give
the same bytes. Rendering happens when a file is first requested; see ``app.py``.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import scenes, styles

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .catalog import AppDef
    from .state import Source

LONG_SIDE = 1024
MIN_UPSCALE_PX = 64
MAX_UPSCALE_SIDE = 2048
VIDEO_SIZE, VIDEO_FPS, VIDEO_FRAMES = 512, 24, 60
SAMPLES = ("portrait", "product", "landscape", "tiny")
RATIOS = {"1:1": (1, 1), "16:9": (16, 9), "9:16": (9, 16), "4:3": (4, 3), "3:4": (3, 4)}
VIDEO_MISSING = (
    "Video output needs imageio-ffmpeg on the sandbox: pip install 'lamina-notebook[video]'"
)


def size_for(ratio: str | None, long_side: int = LONG_SIDE) -> tuple[int, int]:
    """Pixel size for an aspect ratio label (unknown labels give a square)."""
    rw, rh = RATIOS.get(ratio or "1:1", (1, 1))
    if rw >= rh:
        return long_side, round(long_side * rh / rw)
    return round(long_side * rw / rh), long_side


def _image_size(
    app: AppDef, inputs: Mapping[str, str], index: int, sources: Mapping[str, Source]
) -> tuple[int, int]:
    if app.kind == "catalog":
        return (LONG_SIDE, LONG_SIDE) if index == 0 else size_for("3:4")
    if app.kind == "upscale":
        w, h = sources["Upload"].size or (256, 256)
        factor = 2 if inputs.get("Scale") == "2x" else 4
        shrink = min(1.0, MAX_UPSCALE_SIDE / (max(w, h) * factor))
        return max(1, round(w * factor * shrink)), max(1, round(h * factor * shrink))
    return size_for(inputs.get("Aspect Ratio"))


def output_meta(
    app: AppDef, inputs: Mapping[str, str], index: int, sources: Mapping[str, Source]
) -> dict[str, Any]:
    """``ext``, ``mimeType`` and ``dimensions`` (and ``durationSeconds``) without rendering."""
    kind = app.outputs[index].type
    if kind == "text":
        return {"mimeType": "text/plain"}
    if kind == "video":
        return {
            "ext": ".mp4",
            "mimeType": "video/mp4",
            "dimensions": {"width": VIDEO_SIZE, "height": VIDEO_SIZE},
            "durationSeconds": VIDEO_FRAMES / VIDEO_FPS,
        }
    w, h = _image_size(app, inputs, index, sources)
    return {"ext": ".png", "mimeType": "image/png", "dimensions": {"width": w, "height": h}}


def _key(app: AppDef, inputs: Mapping[str, str]) -> str:
    return app.name + "|" + "|".join(f"{k}={inputs[k]}" for k in sorted(inputs))


def render_text(app: AppDef, inputs: Mapping[str, str], index: int) -> str:
    """Text outputs: product copy, or an extra app's fixed text."""
    fixed = app.outputs[index].text
    if fixed is not None:
        return fixed
    rng = styles.seeded(_key(app, inputs), str(index))
    described = " ".join((inputs.get("Product") or inputs.get("Prompt") or app.name).split())
    described = described.rstrip(" .;:,!") or app.name
    # A headline names the product by its first clause; the description keeps the whole text.
    product = described.split(",")[0].split(". ")[0].strip() or described
    tone = inputs.get("Tone", "Professional")
    if index == 0:
        lines = {
            "Professional": [
                f"{product}: built to perform, made to last",
                f"Meet {product}, the reliable choice",
            ],
            "Playful": [f"Say hello to {product}!", f"{product}: seriously fun"],
            "Luxury": [f"{product}. Quiet excellence.", f"The art of {product}"],
            "Minimal": [f"{product}.", f"Just {product}."],
        }.get(tone, [f"{product}"])
        return rng.choice(lines)
    benefits = [
        "thoughtful details",
        "materials that age well",
        "a design that gets out of the way",
        "everyday comfort",
        "honest craftsmanship",
        "a price that makes sense",
    ]
    picks = rng.sample(benefits, 2)
    return (
        f"{described} brings {picks[0]} and {picks[1]}. Written in a {tone.lower()} tone "
        "by the Lamina sandbox: deterministic copy for testing your notebook."
    )


CANVAS_PROMPTS = {
    "portrait": "a portrait",
    "product": "a product bottle",
    "landscape": "",
}


def _canvas(kind: str, size: tuple[int, int], seed: str) -> Image.Image:
    """A generated ``portrait``, ``product`` or ``landscape`` (a landscape chosen by ``seed``)."""
    return scenes.compose(CANVAS_PROMPTS.get(kind, "") or seed, size, kind)


def sample_png(name: str) -> bytes:
    """The sample pictures served under ``/samples/``; ``tiny`` is 32 px (fails the upscaler)."""
    if name not in SAMPLES:
        raise KeyError(name)
    size = (32, 32) if name == "tiny" else (768, 768)
    kind = "portrait" if name == "tiny" else name
    return _png(_canvas(kind, size, "sample"))


def standin(url: str) -> Image.Image:
    """A generated picture for a url the sandbox may not fetch (chosen by words in the url)."""
    lowered = url.lower()
    words = " ".join(re.findall(r"[a-z]+", lowered))
    if scenes.read_prompt(words).subjects:
        return scenes.compose(words, (768, 768), url)
    kind = "landscape"
    if any(w in lowered for w in ("photo", "portrait", "face", "selfie", "person", "me")):
        kind = "portrait"
    if any(w in lowered for w in ("product", "shoe", "bottle", "item", "catalog")):
        kind = "product"
    return _canvas(kind, (768, 768), url)


def _source_image(data: bytes | None, url: str) -> Image.Image:
    from PIL import Image

    if data is None:
        return standin(url)
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


def _fit(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    from PIL import ImageOps

    return ImageOps.fit(img, size)


def _work(size: tuple[int, int]) -> tuple[int, int]:
    scale = styles.WORK / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _caption(img: Image.Image, text: str) -> Image.Image:
    """The prompt drawn small in a translucent band at the bottom."""
    from PIL import ImageDraw, ImageFont

    w, h = img.size
    band = max(18, h // 28)
    try:
        font: Any = ImageFont.load_default(size=band * 0.6)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    out = img.convert("RGB") if img.mode != "RGB" else img.copy()
    d = ImageDraw.Draw(out, "RGBA")
    d.rectangle((0, h - band, w, h), fill=(0, 0, 0, 120))
    d.text((band // 3, h - band * 0.8), text[:120], fill=(255, 255, 255, 230), font=font)
    return out


def render_image(
    app: AppDef,
    inputs: Mapping[str, str],
    index: int,
    sources: Mapping[str, Source],
    blobs: Mapping[str, bytes],
) -> bytes:
    """A PNG for image output ``index`` of ``app`` run with ``inputs``."""
    from PIL import Image

    size = _image_size(app, inputs, index, sources)
    seed = _key(app, inputs) + f"#{index}"
    style = inputs.get("Style")
    upload = sources.get("Upload")
    if upload is not None:
        src = _source_image(blobs.get(upload.digest or ""), upload.url)
        if app.kind == "upscale":
            sharp = src.resize(size, Image.Resampling.LANCZOS)
            return _png(styles.apply_style(sharp, "Studio White", seed))
        src = _fit(src, _work(size))
    else:
        src = scenes.compose(
            _subject_text(app, inputs),
            _work(size),
            inputs.get("Seed", ""),
            stroke=styles.stroke_for(style),
        )
    if app.kind == "catalog" and index == 1:
        src = src.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = styles.enlarge(styles.apply_style(src, style, seed), size, style)
    if "Prompt" in inputs:
        out = _caption(out, inputs["Prompt"])
    return _png(out)


def _subject_text(app: AppDef, inputs: Mapping[str, str]) -> str:
    """What a picture without an upload shows: the prompt, else every text input (extra apps)."""
    if "Prompt" in inputs:
        return inputs["Prompt"]
    return " ".join(v for k, v in sorted(inputs.items()) if k not in ("Style", "Seed")) or app.name


def _png(img: Image.Image) -> bytes:
    """``img`` as an RGB PNG, encoded for speed: every row "Up"-filtered, fast run-length deflate.

    Pillow's encoder tries five filters on every row; one fixed filter (computed for the whole
    image at once) and level-1 ``Z_RLE`` deflate are several times faster on the textured 1024 px
    pictures, for files about the same size (flat pictures compress less, but stay small).
    """
    from PIL import ImageChops

    rgb = img.convert("RGB")
    w, h = rgb.size
    above = ImageChops.offset(rgb, 0, 1)  # each row's predictor: the row above ...
    above.paste((0, 0, 0), (0, 0, w, 1))  # ... and zeros for the first
    data = ImageChops.subtract_modulo(rgb, above).tobytes()
    stride = w * 3
    raw = b"".join(b"\x02" + data[i : i + stride] for i in range(0, len(data), stride))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", deflate.compress(raw) + deflate.flush())
        + chunk(b"IEND", b"")
    )


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
