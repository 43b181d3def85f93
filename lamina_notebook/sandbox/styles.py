"""Generated pictures (scenes, portraits, products) and the style filters applied to them.

All drawing is seeded, so the same inputs always give the same pixels. Pictures are drawn at a
working size (512 px on the long side) and scaled up by the caller, which keeps filters fast.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

WORK = 512
Filter = Callable[[Image.Image, random.Random], Image.Image]


def seeded(*parts: str) -> random.Random:
    """A random generator seeded from text (stable across processes, unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _hsv(rng: random.Random, s: float, v: float, hue: float | None = None) -> tuple[int, ...]:
    import colorsys

    h = rng.random() if hue is None else hue % 1.0
    return tuple(int(c * 255) for c in colorsys.hsv_to_rgb(h, s, v))


def _gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    h = size[1]
    column = Image.new("RGB", (1, h))
    for y in range(h):
        t = y / max(1, h - 1)
        mixed = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        column.putpixel((0, y), mixed)
    return column.resize(size)


def scene(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A landscape: sky, sun, three hill layers, trees and a house, all from ``rng``."""
    w, h = size
    hue = rng.random()
    img = _gradient(size, _hsv(rng, 0.55, 0.95, hue), _hsv(rng, 0.25, 1.0, hue + 0.08))
    draw = ImageDraw.Draw(img)
    sx, sy, r = rng.uniform(0.15, 0.85) * w, rng.uniform(0.1, 0.35) * h, rng.uniform(0.05, 0.1) * w
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=_hsv(rng, 0.6, 1.0, hue + 0.5))
    for layer in range(3):
        base = h * (0.5 + 0.15 * layer)
        amp, freq, phase = h * rng.uniform(0.04, 0.1), rng.uniform(1.5, 4), rng.uniform(0, 6.3)
        points = [
            (x, base - amp * math.sin(freq * x / w * math.pi + phase)) for x in range(0, w + 8, 8)
        ]
        color = _hsv(rng, 0.5 + 0.1 * layer, 0.75 - 0.18 * layer, hue + 0.3 + 0.05 * layer)
        draw.polygon([*points, (w, h), (0, h)], fill=color)
        for _ in range(rng.randint(2, 6)):
            tx = rng.uniform(0, w)
            ty = base - amp * math.sin(freq * tx / w * math.pi + phase) + 4
            th = rng.uniform(0.05, 0.12) * h
            draw.polygon(
                [(tx, ty - th), (tx - th / 3, ty), (tx + th / 3, ty)],
                fill=_hsv(rng, 0.6, 0.35 - 0.05 * layer, hue + 0.35),
            )
    hx, hy, hw = rng.uniform(0.2, 0.7) * w, h * 0.72, w * 0.12
    draw.rectangle((hx, hy, hx + hw, hy + hw * 0.7), fill=_hsv(rng, 0.4, 0.9))
    draw.polygon(
        [(hx - 6, hy), (hx + hw / 2, hy - hw * 0.5), (hx + hw + 6, hy)], fill=_hsv(rng, 0.7, 0.6)
    )
    return img


def portrait(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A friendly generated face on a soft backdrop (no real person, no copyrighted asset)."""
    w, h = size
    img = _gradient(size, _hsv(rng, 0.3, 0.95), _hsv(rng, 0.45, 0.7))
    d = ImageDraw.Draw(img)
    cx, cy, fw = w / 2, h * 0.45, w * 0.22
    d.ellipse((cx - fw * 1.9, h * 0.78, cx + fw * 1.9, h * 1.4), fill=_hsv(rng, 0.6, 0.6))
    d.rectangle((cx - fw * 0.35, cy + fw * 0.9, cx + fw * 0.35, h * 0.82), fill=(224, 172, 140))
    d.ellipse((cx - fw * 1.1, cy - fw * 1.5, cx + fw * 1.1, cy + fw * 0.6), fill=(70, 45, 30))
    d.ellipse((cx - fw, cy - fw * 1.2, cx + fw, cy + fw * 1.2), fill=(236, 188, 156))
    for ex in (-0.4, 0.4):
        x = cx + ex * fw
        d.ellipse((x - fw * 0.14, cy - fw * 0.25, x + fw * 0.14, cy + fw * 0.05), fill="white")
        d.ellipse((x - fw * 0.07, cy - fw * 0.17, x + fw * 0.07, cy - fw * 0.03), fill=(40, 60, 90))
    d.arc(
        (cx - fw * 0.45, cy + fw * 0.1, cx + fw * 0.45, cy + fw * 0.75),
        20,
        160,
        fill=(170, 60, 70),
        width=max(2, int(fw * 0.08)),
    )
    return img


def product(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A bottle on a plinth, the kind of picture a catalog app gets."""
    w, h = size
    img = _gradient(size, (245, 243, 238), (205, 200, 190))
    d = ImageDraw.Draw(img)
    cx = w / 2
    d.rectangle((cx - w * 0.3, h * 0.78, cx + w * 0.3, h), fill=(180, 172, 160))
    d.ellipse((cx - w * 0.3, h * 0.74, cx + w * 0.3, h * 0.82), fill=(200, 193, 182))
    body = _hsv(rng, 0.65, 0.75)
    d.rounded_rectangle(
        (cx - w * 0.13, h * 0.32, cx + w * 0.13, h * 0.78), radius=int(w * 0.05), fill=body
    )
    d.rectangle((cx - w * 0.05, h * 0.18, cx + w * 0.05, h * 0.33), fill=body)
    d.rectangle((cx - w * 0.06, h * 0.13, cx + w * 0.06, h * 0.19), fill=(40, 40, 48))
    d.rectangle((cx - w * 0.1, h * 0.46, cx + w * 0.1, h * 0.62), fill=(250, 248, 240))
    d.rectangle((cx - w * 0.1, h * 0.52, cx + w * 0.1, h * 0.535), fill=body)
    d.rectangle((cx + w * 0.06, h * 0.35, cx + w * 0.09, h * 0.74), fill=(255, 255, 255))
    return img


# --- style filters -------------------------------------------------------------------------


def _outline(img: Image.Image, threshold: int, blur: float = 1.0) -> Image.Image:
    """A white image with black lines where ``img`` has edges (the ink of comics and anime)."""
    edges = img.convert("L").filter(ImageFilter.GaussianBlur(blur)).filter(ImageFilter.FIND_EDGES)
    return edges.point(lambda v: 0 if v > threshold else 255).filter(ImageFilter.MinFilter(3))


def _grain(img: Image.Image, rng: random.Random, amount: float) -> Image.Image:
    # Seeded bytes rather than Image.effect_noise, whose C rand() would break determinism.
    w, h = max(1, img.size[0] // 2), max(1, img.size[1] // 2)
    raw = Image.frombytes("L", (w, h), rng.randbytes(w * h)).point(lambda v: 96 + v // 4)
    noise = raw.resize(img.size, Image.Resampling.BILINEAR).convert("RGB")
    return Image.blend(img, ImageChops.overlay(img, noise), amount)


def _vignette(img: Image.Image, strength: float) -> Image.Image:
    w, h = img.size
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).ellipse((-w * 0.2, -h * 0.2, w * 1.2, h * 1.2), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(min(w, h) * 0.15))
    dark = ImageEnhance.Brightness(img).enhance(1 - strength)
    return Image.composite(img, dark, mask)


def _tint(img: Image.Image, color: tuple[int, int, int], amount: float) -> Image.Image:
    return Image.blend(img, ImageChops.multiply(img, Image.new("RGB", img.size, color)), amount)


def _glow(img: Image.Image, radius: float, amount: float) -> Image.Image:
    return Image.blend(
        img, ImageChops.screen(img, img.filter(ImageFilter.GaussianBlur(radius))), amount
    )


def photorealistic(img: Image.Image, rng: random.Random) -> Image.Image:
    img = ImageEnhance.Contrast(img.filter(ImageFilter.GaussianBlur(2))).enhance(1.15)
    return _vignette(_grain(img, rng, 0.25), 0.35)


def watercolor(img: Image.Image, rng: random.Random) -> Image.Image:
    soft = Image.blend(
        img.filter(ImageFilter.MedianFilter(7)), Image.new("RGB", img.size, "white"), 0.3
    )
    bleed = soft.filter(ImageFilter.GaussianBlur(3))
    edges = ImageOps.invert(img.convert("L").filter(ImageFilter.FIND_EDGES)).convert("RGB")
    return _grain(ImageChops.multiply(bleed, Image.blend(edges, bleed, 0.5)), rng, 0.35)


def anime(img: Image.Image, rng: random.Random) -> Image.Image:
    flat = img.filter(ImageFilter.MedianFilter(5)).quantize(10, dither=Image.Dither.NONE)
    flat = ImageEnhance.Color(flat.convert("RGB")).enhance(1.6)
    return ImageChops.multiply(flat, _outline(img, 24).convert("RGB"))


def pixel_art(img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    small = img.resize((max(1, w // 12), max(1, h // 12)), Image.Resampling.BOX)
    small = small.quantize(16, dither=Image.Dither.NONE).convert("RGB")
    return ImageEnhance.Color(small.resize((w, h), Image.Resampling.NEAREST)).enhance(1.3)


def oil_painting(img: Image.Image, rng: random.Random) -> Image.Image:
    paint = ImageEnhance.Color(img.filter(ImageFilter.ModeFilter(9))).enhance(1.4)
    paint = _tint(paint, (255, 196, 110), 0.45)
    strokes = paint.convert("L").filter(ImageFilter.GaussianBlur(1)).filter(ImageFilter.EMBOSS)
    strokes = ImageOps.autocontrast(strokes).convert("RGB")
    return _vignette(Image.blend(paint, ImageChops.overlay(paint, strokes), 0.8), 0.45)


def neon_noir(img: Image.Image, rng: random.Random) -> Image.Image:
    gray = img.convert("L")
    dark = ImageOps.colorize(gray, (5, 0, 20), (60, 30, 110))
    edges = gray.filter(ImageFilter.GaussianBlur(1)).filter(ImageFilter.FIND_EDGES)
    neon = ImageOps.colorize(edges.point(lambda v: min(255, v * 4)), (0, 0, 0), (255, 40, 200))
    cyan = ImageOps.colorize(
        edges.filter(ImageFilter.GaussianBlur(4)).point(lambda v: min(255, v * 6)),
        (0, 0, 0),
        (0, 240, 255),
    )
    return _scanlines(ImageChops.add(ImageChops.add(dark, neon), cyan))


def _scanlines(img: Image.Image) -> Image.Image:
    lines = Image.new("L", img.size, 255)
    d = ImageDraw.Draw(lines)
    for y in range(0, img.size[1], 4):
        d.line((0, y, img.size[0], y), fill=170)
    return ImageChops.multiply(img, Image.merge("RGB", (lines, lines, lines)))


def disney_pixar(img: Image.Image, rng: random.Random) -> Image.Image:
    smooth = img.filter(ImageFilter.MedianFilter(7)).filter(ImageFilter.GaussianBlur(2))
    vivid = ImageEnhance.Color(smooth).enhance(1.5)
    return _vignette(_glow(_tint(vivid, (255, 214, 170), 0.35), 12, 0.6), 0.25)


def ghibli(img: Image.Image, rng: random.Random) -> Image.Image:
    pastel = img.filter(ImageFilter.MedianFilter(5)).quantize(14, dither=Image.Dither.NONE)
    pastel = ImageEnhance.Brightness(pastel.convert("RGB")).enhance(1.08)
    pastel = _tint(
        Image.blend(pastel, Image.new("RGB", img.size, (214, 240, 200)), 0.35),
        (200, 235, 255),
        0.25,
    )
    lines = _outline(img, 40, 1.5).convert("RGB")
    return _grain(Image.blend(pastel, ImageChops.multiply(pastel, lines), 0.5), rng, 0.2)


def comic(img: Image.Image, rng: random.Random) -> Image.Image:
    flat = ImageEnhance.Color(ImageOps.posterize(img, 2)).enhance(1.8)
    w, h = img.size
    dots = Image.new("L", img.size, 255)
    d = ImageDraw.Draw(dots)
    for y in range(0, h, 8):
        for x in range((y // 8 % 2) * 4, w, 8):
            d.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=150)
    shaded = Image.composite(
        ImageChops.multiply(flat, dots.convert("RGB")),
        flat,
        ImageOps.invert(img.convert("L")).point(lambda v: 255 if v > 110 else 0),
    )
    return ImageChops.multiply(shaded, _outline(img, 30).convert("RGB"))


def claymation(img: Image.Image, rng: random.Random) -> Image.Image:
    clay = ImageOps.posterize(img.filter(ImageFilter.ModeFilter(9)), 3)
    clay = ImageEnhance.Color(clay.filter(ImageFilter.GaussianBlur(1.5))).enhance(1.5)
    relief = ImageOps.autocontrast(
        clay.convert("L").filter(ImageFilter.GaussianBlur(3)).filter(ImageFilter.EMBOSS)
    ).convert("RGB")
    return _grain(_tint(ImageChops.overlay(clay, relief), (255, 190, 150), 0.3), rng, 0.3)


def cyberpunk(img: Image.Image, rng: random.Random) -> Image.Image:
    gray = ImageOps.autocontrast(img.convert("L"))
    duo = ImageOps.colorize(gray, (20, 0, 50), (0, 245, 255), mid=(255, 30, 140))
    return _scanlines(_glow(duo, 8, 0.7))


def studio_white(img: Image.Image, rng: random.Random) -> Image.Image:
    bright = ImageEnhance.Brightness(ImageEnhance.Contrast(img).enhance(1.2)).enhance(1.12)
    return Image.blend(bright, Image.new("RGB", img.size, "white"), 0.12)


def lifestyle(img: Image.Image, rng: random.Random) -> Image.Image:
    return _vignette(_glow(_tint(img, (255, 190, 120), 0.4), 10, 0.5), 0.35)


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


def apply_style(img: Image.Image, style: str | None, seed: str) -> Image.Image:
    """``img`` restyled; unknown style names (extra apps) map to a filter by their hash."""
    rng = seeded("style", style or "", seed)
    fn = STYLES.get(style or "")
    if fn is None:
        names = sorted(STYLES)
        fn = STYLES[names[seeded(style or "none").randrange(len(names))]]
    return fn(img.convert("RGB"), rng)
