"""The style filters of the sandbox's apps, each recognisable at a glance.

Watercolour is pale washes bleeding on textured paper with an unpainted border; pixel art is
big blocks of a small palette; oil painting is thick directional brush strokes with relief;
anime is flat cel colour with bold ink outlines; neon noir is near black with glowing
magenta and cyan edges; photorealistic is smooth, with a blurred background and fine grain.
The Photo Stylizer and Catalog Studio looks (Disney / Pixar, Ghibli, Comic, Claymation,
Cyberpunk, Studio White, Lifestyle, Minimal) follow the same idea. Filters run at the
working size (512 px on the long side; ``WORK``) and are seeded, so the same inputs give the
same pixels; textures that don't depend on the seed are cached per size.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

WORK = 512
Filter = Callable[[Image.Image, random.Random], Image.Image]


def seeded(*parts: str) -> random.Random:
    """A random generator seeded from text (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --- building blocks --------------------------------------------------------------------------


def _soften(img: Image.Image, factor: int) -> Image.Image:
    """A cheap wide blur: shrink by ``factor`` and grow back smoothly."""
    w, h = img.size
    small = img.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.BOX)
    return small.resize((w, h), Image.Resampling.BILINEAR)


def _rgb(gray: Image.Image) -> Image.Image:
    return Image.merge("RGB", (gray, gray, gray))


@lru_cache(maxsize=16)
def _noise(size: tuple[int, int], cell: int, low: int, high: int) -> Image.Image:
    """Fixed grey noise (``low``..``high``) with blobs of ``cell`` pixels (the same every call)."""
    w, h = max(1, size[0] // cell), max(1, size[1] // cell)
    raw = Image.frombytes("L", (w, h), random.Random(f"noise{cell}").randbytes(w * h))
    raw = raw.point(lambda v: low + v * (high - low) // 255)
    return raw.resize(size, Image.Resampling.BILINEAR if cell > 1 else Image.Resampling.NEAREST)


@lru_cache(maxsize=16)
def _vignette_mask(size: tuple[int, int]) -> Image.Image:
    small = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(small).ellipse((-14, -14, 78, 78), fill=255)
    return small.filter(ImageFilter.GaussianBlur(9)).resize(size, Image.Resampling.BILINEAR)


def _vignette(img: Image.Image, strength: float) -> Image.Image:
    dark = ImageEnhance.Brightness(img).enhance(1 - strength)
    return Image.composite(img, dark, _vignette_mask(img.size))


def _tint(img: Image.Image, color: tuple[int, int, int], amount: float) -> Image.Image:
    return Image.blend(img, ImageChops.multiply(img, Image.new("RGB", img.size, color)), amount)


def _bloom(img: Image.Image, factor: int, amount: float) -> Image.Image:
    """Light spilling from bright areas (a wide blur screened back over the picture)."""
    return Image.blend(img, ImageChops.screen(img, _soften(img, factor)), amount)


def _grain(img: Image.Image, rng: random.Random, amount: int) -> Image.Image:
    """Seeded film grain of about ``amount`` levels (``Image.effect_noise`` isn't seeded).

    Drawn at half size and smoothed up: it reads as grain, and keeps the PNG fast to encode.
    """
    w, h = img.size
    hw, hh = max(1, w // 2), max(1, h // 2)
    raw = Image.frombytes("L", (hw, hh), rng.randbytes(hw * hh))
    noise = raw.point(lambda v: 128 + (v - 128) * amount // 128)
    return ImageChops.overlay(img, _rgb(noise.resize((w, h), Image.Resampling.BILINEAR)))


def _edges(img: Image.Image, blur: float = 0.0) -> Image.Image:
    gray = img.convert("L")
    if blur:
        gray = gray.filter(ImageFilter.GaussianBlur(blur))
    return gray.filter(ImageFilter.FIND_EDGES)


def _ink(img: Image.Image, threshold: int) -> Image.Image:
    """White with black lines where the shapes of ``img`` change colour (comics and anime).

    Traced on a half-size copy, so lines come out two pixels wide and specks (snowflakes,
    raindrops, grain) are too small to be outlined.
    """
    w, h = img.size
    half = img.convert("L").resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.BOX)
    half = half.filter(ImageFilter.MedianFilter(5))
    lines = half.filter(ImageFilter.FIND_EDGES).point(lambda v: 0 if v > threshold else 255)
    return lines.resize((w, h), Image.Resampling.NEAREST)


@lru_cache(maxsize=8)
def _neon_ramp(size: tuple[int, int]) -> Image.Image:
    """Magenta on the upper left turning cyan to the lower right."""
    w, h = size
    small = Image.new("RGB", (2, 2))
    small.putdata([(255, 40, 210), (150, 60, 255), (60, 120, 255), (0, 236, 255)])
    return small.resize((w, h), Image.Resampling.BILINEAR)


@lru_cache(maxsize=8)
def _scanline_mask(size: tuple[int, int]) -> Image.Image:
    lines = Image.new("L", size, 255)
    d = ImageDraw.Draw(lines)
    for y in range(0, size[1], 4):
        d.line((0, y, size[0], y), fill=165)
    return _rgb(lines)


@lru_cache(maxsize=8)
def _halftone(size: tuple[int, int]) -> Image.Image:
    dots = Image.new("L", size, 255)
    d = ImageDraw.Draw(dots)
    step = max(4, size[0] // 64)
    for y in range(0, size[1] + step, step):
        for x in range((y // step % 2) * step // 2, size[0] + step, step):
            r = step * 0.28
            d.ellipse((x - r, y - r, x + r, y + r), fill=120)
    return _rgb(dots)


@lru_cache(maxsize=8)
def _paper_mask(size: tuple[int, int]) -> Image.Image:
    """Where the watercolour reaches: all but a ragged unpainted border."""
    w, h = size
    rng = random.Random("paper")
    inset = 0.05
    pts = []
    for side in range(4):
        for k in range(12):
            t = k / 12
            j = rng.uniform(-0.018, 0.018)
            x, y = [
                (inset + (1 - 2 * inset) * t, inset + j),
                (1 - inset + j, inset + (1 - 2 * inset) * t),
                (1 - inset - (1 - 2 * inset) * t, 1 - inset + j),
                (inset + j, 1 - inset - (1 - 2 * inset) * t),
            ][side]
            pts.append((x * w, y * h))
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(pts, fill=255)
    return mask.filter(ImageFilter.GaussianBlur(max(1, min(w, h) // 160)))


# --- styles of Text to Image -----------------------------------------------------------------


def photorealistic(img: Image.Image, rng: random.Random) -> Image.Image:
    """Smooth, natural colour, a blurred background (depth of field), bloom and fine grain."""
    w, h = img.size
    smooth = img.filter(ImageFilter.BoxBlur(1))
    far = _soften(smooth, 6)
    focus = (
        Image.linear_gradient("L")
        .resize((1, h))
        .point(
            lambda v: max(0, 230 - v * 2) if v < 115 else min(90, (v - 200) * 2) if v > 200 else 0
        )
    )
    img = Image.composite(far, smooth, focus.resize((w, h)))
    img = ImageEnhance.Contrast(ImageEnhance.Color(img).enhance(0.92)).enhance(1.08)
    img = _bloom(img, 10, 0.3)
    return _vignette(_grain(img, rng, 8), 0.28)


def watercolor(img: Image.Image, rng: random.Random) -> Image.Image:
    """Pale washes that bleed past their shapes, dark wet edges, paper grain, a white border."""
    paper = Image.new("RGB", img.size, (250, 247, 238))
    vivid = ImageEnhance.Color(img).enhance(1.35)
    bleed = _soften(vivid, 12)
    wash = Image.blend(_soften(vivid, 3), bleed, 0.4)
    wash = Image.blend(wash, paper, 0.22)
    rims = _edges(_soften(wash, 2)).point(lambda v: 255 - min(90, v * 3))
    wash = ImageChops.multiply(wash, _rgb(rims))
    wash = ImageChops.multiply(wash, _rgb(_noise(img.size, 16, 222, 255)))
    pencil = _ink(img, 22).point(lambda v: 196 + v * 59 // 255)
    wash = ImageChops.multiply(wash, _rgb(pencil))
    grain = _rgb(_noise(img.size, 2, 232, 255))
    return Image.composite(wash, ImageChops.multiply(paper, grain), _paper_mask(img.size))


def pixel_art(img: Image.Image, rng: random.Random) -> Image.Image:
    """64 blocks across in a palette of 16 colours, no smoothing between them."""
    w, h = img.size
    block = max(1, round(max(w, h) / 64))
    small = img.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BOX)
    small = ImageEnhance.Contrast(ImageEnhance.Color(small).enhance(1.35)).enhance(1.1)
    small = small.quantize(16, dither=Image.Dither.NONE).convert("RGB")
    return small.resize((w, h), Image.Resampling.NEAREST)


def oil_painting(img: Image.Image, rng: random.Random) -> Image.Image:
    """Thick strokes that follow the forms, with the relief of impasto, on canvas, varnished."""
    w, h = img.size
    step = max(3, round(max(w, h) / 50))
    cols, rows = max(2, w // step + 1), max(2, h // step + 1)
    colour = ImageEnhance.Color(img).enhance(1.3).resize((cols, rows), Image.Resampling.BOX)
    cpx = colour.load()
    lum = colour.convert("L").filter(ImageFilter.GaussianBlur(1)).load()
    assert cpx is not None and lum is not None
    out = _soften(img, step)
    line = ImageDraw.Draw(out).line
    cells = [(x, y) for y in range(rows) for x in range(cols)]
    rng.shuffle(cells)
    length, width = step * 1.3, max(2, round(step * 0.85))
    rand = rng.random
    for x, y in cells:
        gx = lum[min(cols - 1, x + 1), y] - lum[max(0, x - 1), y]  # type: ignore[operator]
        gy = lum[x, min(rows - 1, y + 1)] - lum[x, max(0, y - 1)]  # type: ignore[operator]
        angle = math.atan2(gy, gx) + math.pi / 2 if abs(gx) + abs(gy) > 6 else 0.1 + rand()
        dx, dy = math.cos(angle) * length, math.sin(angle) * length
        cx, cy = (x + 0.2 + 0.6 * rand()) * step, (y + 0.2 + 0.6 * rand()) * step
        k = 0.88 + 0.24 * rand()
        r, g, b = cpx[x, y]  # type: ignore[misc]
        line((cx - dx, cy - dy, cx + dx, cy + dy), (int(r * k), int(g * k), int(b * k)), width)
    relief = ImageOps.autocontrast(out.convert("L").filter(ImageFilter.EMBOSS), cutoff=2)
    out = Image.blend(out, ImageChops.overlay(out, _rgb(relief)), 0.7)
    return _vignette(_tint(out, (255, 214, 150), 0.35), 0.35)


def anime(img: Image.Image, rng: random.Random) -> Image.Image:
    """Flat cel colours (a few tones per area) and bold black outlines, bright and clean."""
    w, h = img.size
    vivid = ImageEnhance.Color(img.filter(ImageFilter.BoxBlur(1))).enhance(1.4)
    palette = vivid.resize((max(1, w // 3), max(1, h // 3)), Image.Resampling.BOX).quantize(16)
    flat = vivid.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
    flat = ImageEnhance.Brightness(flat).enhance(1.06)
    return ImageChops.multiply(flat, _rgb(_ink(img, 20)))


def neon_noir(img: Image.Image, rng: random.Random) -> Image.Image:
    """Night-black with every edge glowing magenta to cyan, and light sources burning."""
    gray = img.convert("L")
    dark = ImageOps.colorize(gray.point(lambda v: v * v // 255), (2, 0, 8), (70, 40, 110))
    edges = _edges(img, 1.0).point(lambda v: min(255, v * 5))
    neon = ImageChops.multiply(_rgb(edges), _neon_ramp(img.size))
    glow = _soften(neon, 6).point(lambda v: min(255, v * 3))
    hot = ImageOps.colorize(
        gray.point(lambda v: 0 if v < 200 else (v - 200) * 4), "black", (255, 120, 220)
    )
    return ImageChops.add(ImageChops.add(ImageChops.add(dark, glow), neon), _soften(hot, 4))


# --- Photo Stylizer and Catalog Studio looks ---------------------------------------------------


def disney_pixar(img: Image.Image, rng: random.Random) -> Image.Image:
    """Soft, rounded, saturated and warm, glowing highlights (a 3D animation still)."""
    smooth = Image.blend(_soften(img, 2), _soften(img, 4), 0.4)
    vivid = ImageEnhance.Brightness(ImageEnhance.Color(smooth).enhance(1.6)).enhance(1.06)
    return _vignette(_bloom(_tint(vivid, (255, 214, 170), 0.3), 8, 0.5), 0.2)


def ghibli(img: Image.Image, rng: random.Random) -> Image.Image:
    """Lush pastel painted areas, thin soft lines, airy light and a little paper grain."""
    w, h = img.size
    soft = ImageEnhance.Color(_soften(img, 2)).enhance(1.25)
    palette = soft.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BOX).quantize(24)
    pastel = soft.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB")
    pastel = _tint(
        Image.blend(pastel, Image.new("RGB", img.size, (236, 246, 226)), 0.18),
        (214, 236, 255),
        0.15,
    )
    pastel = _bloom(ImageEnhance.Brightness(pastel).enhance(1.06), 8, 0.35)
    lines = _ink(img, 40).point(lambda v: 140 + v * 115 // 255)
    return ImageChops.multiply(
        ImageChops.multiply(pastel, _rgb(lines)), _rgb(_noise(img.size, 2, 236, 255))
    )


def comic(img: Image.Image, rng: random.Random) -> Image.Image:
    """Bold flat colours, halftone dots in the shadows, thick ink."""
    flat = ImageOps.posterize(ImageEnhance.Color(_soften(img, 2)).enhance(1.5), 3)
    shadow = img.convert("L").point(lambda v: 255 if v < 110 else 0)
    shaded = Image.composite(ImageChops.multiply(flat, _halftone(img.size)), flat, shadow)
    return ImageChops.multiply(shaded, _rgb(_ink(img, 22)))


def claymation(img: Image.Image, rng: random.Random) -> Image.Image:
    """Plasticine: few rounded colour lumps, raised and warm, with thumbprint texture."""
    w, h = img.size
    soft = ImageEnhance.Color(_soften(img, 4)).enhance(1.4)
    palette = soft.resize((max(1, w // 4), max(1, h // 4)), Image.Resampling.BOX).quantize(10)
    clay = _soften(soft.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB"), 2)
    relief = ImageOps.autocontrast(_soften(clay.convert("L"), 3).filter(ImageFilter.EMBOSS))
    clay = _tint(
        Image.blend(clay, ImageChops.overlay(clay, _rgb(relief)), 0.8), (255, 200, 160), 0.25
    )
    clay = ImageEnhance.Brightness(clay).enhance(1.08)
    return ImageChops.multiply(clay, _rgb(_noise(img.size, 6, 222, 255)))


def cyberpunk(img: Image.Image, rng: random.Random) -> Image.Image:
    """A magenta-cyan duotone with bloom and screen scanlines."""
    gray = ImageOps.autocontrast(img.convert("L"))
    duo = ImageOps.colorize(gray, (20, 0, 50), (0, 245, 255), mid=(255, 30, 140))
    return ImageChops.multiply(_bloom(duo, 8, 0.7), _scanline_mask(img.size))


def studio_white(img: Image.Image, rng: random.Random) -> Image.Image:
    bright = ImageEnhance.Brightness(ImageEnhance.Contrast(img).enhance(1.2)).enhance(1.12)
    return Image.blend(bright, Image.new("RGB", img.size, "white"), 0.12)


def lifestyle(img: Image.Image, rng: random.Random) -> Image.Image:
    return _vignette(_bloom(_tint(img, (255, 190, 120), 0.4), 10, 0.5), 0.35)


def minimal(img: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.posterize(ImageEnhance.Color(img).enhance(0.35), 3)


STYLES: dict[str, Filter] = {
    "Photorealistic": photorealistic,
    "Watercolor": watercolor,
    "Anime": anime,
    "Pixel Art": pixel_art,
    "Oil Painting": oil_painting,
    "Neon Noir": neon_noir,
    "Disney / Pixar": disney_pixar,
    "Ghibli": ghibli,
    "Comic": comic,
    "Claymation": claymation,
    "Cyberpunk": cyberpunk,
    "Studio White": studio_white,
    "Lifestyle": lifestyle,
    "Minimal": minimal,
}
BLOCKY = {pixel_art}


def stroke_for(style: str | None) -> float:
    """How much thicker a style needs the thinnest strokes (rain) to keep them: pixel art
    averages 8 px blocks, where a 1 px streak would vanish."""
    return 4.0 if style_filter(style) in BLOCKY else 1.0


def style_filter(style: str | None) -> Filter:
    """The filter for a style label; unknown labels (extra apps) map to one by their hash."""
    fn = STYLES.get(style or "")
    if fn is None:
        names = sorted(STYLES)
        fn = STYLES[names[seeded(style or "none").randrange(len(names))]]
    return fn


def apply_style(img: Image.Image, style: str | None, seed: str) -> Image.Image:
    """``img`` restyled (at its own size)."""
    return style_filter(style)(img.convert("RGB"), seeded("style", style or "", seed))


def enlarge(img: Image.Image, size: tuple[int, int], style: str | None) -> Image.Image:
    """``img`` scaled to ``size``: hard pixel blocks for pixel art, smooth for the others."""
    if img.size == size:
        return img
    blocky = style_filter(style) in BLOCKY
    method = Image.Resampling.NEAREST if blocky else Image.Resampling.BILINEAR
    return img.resize(size, method)
