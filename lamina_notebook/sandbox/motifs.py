"""Simple vector motifs for the sandbox's pictures: a lighthouse, a fox, a robot, ... (50 or so).

Each motif draws itself with Pillow polygons, ellipses and lines into a box whose height is one
unit and whose width is ``aspect`` units (y grows downwards, the ground is at ``v = 1``), through
a ``Pen`` that maps those units to pixels, mirrors the drawing when the subject faces the other
way, and can also paint light sources onto a glow layer (lit windows, a lighthouse lamp, fire).
Prompts find motifs by their words (see ``scenes.py``); the same inputs draw the same pixels.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

RGB = tuple[int, int, int]
Point = tuple[float, float]

WHITE: RGB = (246, 244, 238)
INK: RGB = (34, 30, 36)
WOOD: RGB = (120, 80, 48)
LEAF: RGB = (70, 140, 60)
LAMP: RGB = (255, 214, 120)
GLASS: RGB = (150, 195, 225)


def mix(a: Sequence[int], b: Sequence[int], t: float) -> RGB:
    """The colour ``t`` of the way from ``a`` to ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def dark(c: Sequence[int], f: float = 0.72) -> RGB:
    """``c`` in shadow."""
    return (round(c[0] * f), round(c[1] * f), round(c[2] * f))


def light(c: Sequence[int], t: float = 0.35) -> RGB:
    """``c`` in highlight (mixed towards white)."""
    return mix(c, (255, 255, 255), t)


class Pen:
    """Draws in a motif's unit box (1 unit = the box height), optionally mirrored left-right."""

    def __init__(
        self,
        draw: ImageDraw.ImageDraw,
        glow: ImageDraw.ImageDraw,
        box: tuple[float, float, float],
        aspect: float,
        flip: bool = False,
        lit: bool = False,
        season: str = "",
    ) -> None:
        self.d, self.g = draw, glow
        self.x0, self.y0, self.s = box
        self.aspect, self.flip = aspect, flip
        self.lit = lit  # lights on (night, storm, dusk): windows and lamps glow
        self.season = season  # "autumn", "snow" or "" (trees and ground follow it)

    def pt(self, u: float, v: float) -> Point:
        if self.flip:
            u = self.aspect - u
        return (self.x0 + u * self.s, self.y0 + v * self.s)

    def pts(self, seq: Iterable[Point]) -> list[Point]:
        return [self.pt(u, v) for u, v in seq]

    def px(self, units: float) -> int:
        """A length in pixels (at least one)."""
        return max(1, round(units * self.s))

    def poly(self, seq: Iterable[Point], fill: RGB, glow: bool = False) -> None:
        xy = self.pts(seq)
        self.d.polygon(xy, fill=fill)
        if glow:
            self.g.polygon(xy, fill=fill)

    def beam(self, seq: Iterable[Point], fill: RGB) -> None:
        """A shape of light only (the glow layer): beams, halos."""
        self.g.polygon(self.pts(seq), fill=fill)

    def _bbox(self, cx: float, cy: float, rx: float, ry: float) -> tuple[float, ...]:
        (x0, y0), (x1, y1) = self.pt(cx - rx, cy - ry), self.pt(cx + rx, cy + ry)
        return (min(x0, x1), y0, max(x0, x1), y1)

    def oval(
        self, cx: float, cy: float, rx: float, ry: float, fill: RGB, glow: bool = False
    ) -> None:
        box = self._bbox(cx, cy, rx, ry)
        self.d.ellipse(box, fill=fill)
        if glow:
            self.g.ellipse(box, fill=fill)

    def circle(self, cx: float, cy: float, r: float, fill: RGB, glow: bool = False) -> None:
        self.oval(cx, cy, r, r, fill, glow)

    def ring(self, cx: float, cy: float, rx: float, ry: float, fill: RGB, width: float) -> None:
        self.d.ellipse(self._bbox(cx, cy, rx, ry), outline=fill, width=self.px(width))

    def rect(
        self,
        u0: float,
        v0: float,
        u1: float,
        v1: float,
        fill: RGB,
        r: float = 0.0,
        glow: bool = False,
    ) -> None:
        (x0, y0), (x1, y1) = self.pt(u0, v0), self.pt(u1, v1)
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if box[2] - box[0] < 1 or box[3] - box[1] < 1:
            self.d.line(box, fill=fill)
            return
        radius = min(self.px(r), int((box[2] - box[0]) / 2), int((box[3] - box[1]) / 2))
        if r > 0 and radius > 0:
            self.d.rounded_rectangle(box, radius=radius, fill=fill)
        else:
            self.d.rectangle(box, fill=fill)
        if glow:
            self.g.rectangle(box, fill=fill)

    def line(self, seq: Iterable[Point], fill: RGB, width: float, glow: bool = False) -> None:
        xy = self.pts(seq)
        self.d.line(xy, fill=fill, width=self.px(width), joint="curve")
        if glow:
            self.g.line(xy, fill=fill, width=self.px(width), joint="curve")

    def arc(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        start: float,
        end: float,
        fill: RGB,
        width: float,
    ) -> None:
        """An elliptic arc, angles in degrees clockwise from 3 o'clock (as in Pillow)."""
        if self.flip:
            start, end = 180 - end, 180 - start
        self.d.arc(self._bbox(cx, cy, rx, ry), start, end, fill=fill, width=self.px(width))

    def chord(
        self, cx: float, cy: float, rx: float, ry: float, start: float, end: float, fill: RGB
    ) -> None:
        if self.flip:
            start, end = 180 - end, 180 - start
        self.d.chord(self._bbox(cx, cy, rx, ry), start, end, fill=fill)

    def blob(
        self,
        cx: float,
        cy: float,
        rx: float,
        ry: float,
        angle: float,
        fill: RGB,
        glow: bool = False,
    ) -> None:
        """An ellipse turned by ``angle`` degrees (petals, wings, leaves, tails)."""
        self.poly(ellipse_points(cx, cy, rx, ry, angle), fill, glow)


def ellipse_points(
    cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 28
) -> list[Point]:
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    out = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        out.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return out


def bez(p0: Point, p1: Point, p2: Point, n: int = 10) -> list[Point]:
    """Points along the quadratic Bézier curve from ``p0`` to ``p2`` pulled towards ``p1``."""
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


DrawFn = Callable[[Pen, RGB, random.Random], None]


@dataclass(frozen=True)
class Motif:
    """A drawable subject and how a scene places it.

    ``place``: ``ground`` (stands at the foreground), ``sea`` (floats on water), ``sky``,
    ``swim`` (mid-water), ``backdrop`` (spans the width behind), ``frame`` (head and shoulders),
    ``table`` (an object on a surface). ``home`` is the setting used when the prompt names none;
    ``weather`` is implied (a snowman brings snow).
    """

    name: str
    words: tuple[str, ...]
    draw: DrawFn
    place: str
    aspect: float
    scale: float
    colour: RGB
    home: str = ""
    weather: str = ""
    facing: bool = False  # may be mirrored to face left or right


MOTIFS: dict[str, Motif] = {}
WORDS: dict[str, str] = {}


def motif(
    name: str,
    words: Sequence[str],
    place: str,
    aspect: float,
    scale: float,
    colour: RGB,
    home: str = "",
    weather: str = "",
    facing: bool = False,
) -> Callable[[DrawFn], DrawFn]:
    """Register the decorated drawing function as motif ``name``, found by ``words``."""

    def register(fn: DrawFn) -> DrawFn:
        MOTIFS[name] = Motif(
            name, (name, *words), fn, place, aspect, scale, colour, home, weather, facing
        )
        for word in (name, *words):
            WORDS.setdefault(word, name)
        return fn

    return register


def _window(p: Pen, u0: float, v0: float, u1: float, v1: float, frame: RGB = WHITE) -> None:
    """A four-pane window: glass by day, warm light when the lights are on."""
    p.rect(u0, v0, u1, v1, frame)
    pad = (u1 - u0) * 0.1
    pane = LAMP if p.lit else GLASS
    p.rect(u0 + pad, v0 + pad, u1 - pad, v1 - pad, pane, glow=p.lit)
    if not p.lit:
        p.poly(
            [(u0 + pad, v1 - pad), (u1 - pad, v0 + pad), (u1 - pad, v0 + (v1 - v0) * 0.5)],
            light(GLASS, 0.4),
        )
    mu, mv = (u0 + u1) / 2, (v0 + v1) / 2
    w = (u1 - u0) * 0.08
    p.rect(mu - w / 2, v0 + pad, mu + w / 2, v1 - pad, frame)
    p.rect(u0 + pad, mv - w / 2, u1 - pad, mv + w / 2, frame)


def _branch(p: Pen, v: float) -> None:
    """A branch across the whole picture for perched birds."""
    p.line([(-3.0, v + 0.02), (p.aspect * 0.5, v), (p.aspect + 3.0, v - 0.03)], WOOD, 0.06)
    p.line([(-3.0, v + 0.04), (p.aspect + 3.0, v - 0.01)], dark(WOOD, 0.7), 0.015)
    for u, a in ((-0.2, -30), (p.aspect + 0.25, 200)):
        p.blob(u, v - 0.06, 0.09, 0.035, a, LEAF)


def _steam(p: Pen, u: float, v: float, height: float, n: int = 3) -> None:
    for i in range(n):
        x = u + (i - (n - 1) / 2) * 0.09
        pts = [(x + 0.025 * math.sin(k * 1.3 + i), v - height * k / 8) for k in range(9)]
        p.line(pts, (236, 236, 240), 0.018)


# --- landmarks and buildings ---------------------------------------------------------------


@motif("lighthouse", ("lighthouses", "beacon"), "coast", 0.62, 0.8, (200, 40, 45), "coast")
def _lighthouse(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = p.aspect / 2
    rock = (112, 104, 98)
    p.poly(
        [
            (cx - 0.3, 1.0),
            (cx - 0.24, 0.9),
            (cx - 0.1, 0.86),
            (cx + 0.08, 0.87),
            (cx + 0.22, 0.9),
            (cx + 0.31, 1.0),
        ],
        rock,
    )
    p.poly([(cx + 0.02, 1.0), (cx + 0.08, 0.87), (cx + 0.22, 0.9), (cx + 0.31, 1.0)], dark(rock))
    top, bottom = 0.3, 0.9

    def half(v: float) -> float:
        return 0.075 + (v - top) / (bottom - top) * 0.05

    bands = 5
    for i in range(bands):
        v0, v1 = top + (bottom - top) * i / bands, top + (bottom - top) * (i + 1) / bands
        col = c if i % 2 == 0 else WHITE
        p.poly(
            [(cx - half(v0), v0), (cx + half(v0), v0), (cx + half(v1), v1), (cx - half(v1), v1)],
            col,
        )
        p.poly(
            [
                (cx + half(v0) * 0.35, v0),
                (cx + half(v0), v0),
                (cx + half(v1), v1),
                (cx + half(v1) * 0.35, v1),
            ],
            dark(col, 0.74),
        )
    p.rect(cx - 0.03, 0.8, cx + 0.03, 0.9, (70, 50, 40), r=0.02)
    p.rect(cx - 0.018, 0.5, cx + 0.018, 0.56, LAMP if p.lit else (60, 70, 90), glow=p.lit)
    p.rect(cx - 0.11, 0.27, cx + 0.11, 0.3, (45, 45, 52))
    for k in range(7):
        u = cx - 0.1 + k * 0.2 / 6
        p.line([(u, 0.24), (u, 0.28)], (45, 45, 52), 0.008)
    p.line([(cx - 0.11, 0.24), (cx + 0.11, 0.24)], (45, 45, 52), 0.01)
    p.rect(cx - 0.06, 0.15, cx + 0.06, 0.27, LAMP, glow=True)
    p.rect(cx - 0.03, 0.17, cx + 0.03, 0.25, (255, 250, 225), glow=True)
    for u in (cx - 0.06, cx, cx + 0.06):
        p.line([(u, 0.15), (u, 0.27)], (45, 45, 52), 0.008)
    p.poly([(cx - 0.085, 0.155), (cx, 0.06), (cx + 0.085, 0.155)], dark(c, 0.8))
    p.poly([(cx, 0.06), (cx + 0.085, 0.155), (cx, 0.155)], dark(c, 0.6))
    p.circle(cx, 0.055, 0.015, (45, 45, 52))
    if p.lit:
        for side in (-1, 1):
            far = cx + side * 2.6
            p.beam([(cx, 0.2), (far, -0.25), (far, 0.6)], (96, 84, 44))
            p.beam([(cx, 0.2), (far, -0.05), (far, 0.42)], (110, 96, 50))


@motif(
    "house",
    ("cottage", "cabin", "home", "hut", "farmhouse", "barn"),
    "ground",
    1.1,
    0.55,
    (176, 58, 48),
    "meadow",
)
def _house(p: Pen, c: RGB, rng: random.Random) -> None:
    wall = (232, 220, 192)
    p.rect(0.16, 0.5, 0.94, 1.0, wall)
    p.rect(0.72, 0.5, 0.94, 1.0, dark(wall, 0.8))
    p.rect(0.68, 0.14, 0.77, 0.42, (150, 80, 60))
    p.rect(0.66, 0.12, 0.79, 0.16, (120, 64, 50))
    p.poly([(0.07, 0.54), (0.55, 0.13), (1.03, 0.54)], c)
    p.poly([(0.55, 0.13), (1.03, 0.54), (0.55, 0.54)], dark(c, 0.75))
    p.poly([(0.07, 0.54), (1.03, 0.54), (1.03, 0.57), (0.07, 0.57)], dark(c, 0.5))
    p.circle(0.55, 0.38, 0.06, WHITE)
    p.circle(0.55, 0.38, 0.045, LAMP if p.lit else GLASS, glow=p.lit)
    p.rect(0.47, 0.72, 0.63, 1.0, (110, 70, 45), r=0.02)
    p.circle(0.6, 0.87, 0.012, (230, 200, 90))
    _window(p, 0.22, 0.64, 0.38, 0.8)
    _window(p, 0.74, 0.64, 0.88, 0.8, light(wall, 0.3))
    for i, (u, v, r) in enumerate(((0.73, 0.08, 0.04), (0.77, 0.02, 0.05), (0.84, -0.05, 0.06))):
        p.circle(u, v, r, mix((200, 200, 205), WHITE, i * 0.2))


@motif(
    "castle",
    ("palace", "fortress", "citadel", "kingdom"),
    "ground",
    1.4,
    0.7,
    (160, 154, 146),
    "meadow",
)
def _castle(p: Pen, c: RGB, rng: random.Random) -> None:
    roof = (60, 78, 158)
    p.rect(0.2, 0.5, 1.2, 1.0, c)
    for k in range(10):
        u = 0.2 + k * 0.1
        p.rect(u, 0.45, u + 0.055, 0.5, c)
    p.rect(0.5, 0.22, 0.9, 1.0, light(c, 0.1))
    p.rect(0.78, 0.22, 0.9, 1.0, dark(c, 0.82))
    for k in range(5):
        u = 0.5 + k * 0.085
        p.rect(u, 0.17, u + 0.05, 0.22, light(c, 0.1))
    for u0 in (0.04, 1.12):
        p.rect(u0, 0.32, u0 + 0.24, 1.0, c)
        p.rect(u0 + 0.16, 0.32, u0 + 0.24, 1.0, dark(c, 0.8))
        p.poly([(u0 - 0.03, 0.33), (u0 + 0.12, 0.02), (u0 + 0.27, 0.33)], roof)
        p.poly([(u0 + 0.12, 0.02), (u0 + 0.27, 0.33), (u0 + 0.12, 0.33)], dark(roof, 0.7))
        p.line([(u0 + 0.12, 0.02), (u0 + 0.12, -0.08)], INK, 0.012)
        p.poly([(u0 + 0.12, -0.08), (u0 + 0.22, -0.055), (u0 + 0.12, -0.03)], (210, 40, 40))
        for v in (0.45, 0.62):
            p.rect(u0 + 0.1, v, u0 + 0.14, v + 0.08, LAMP if p.lit else INK, r=0.02, glow=p.lit)
    p.chord(0.7, 0.8, 0.1, 0.1, 180, 360, (60, 44, 36))
    p.rect(0.6, 0.8, 0.8, 1.0, (60, 44, 36))
    for u in (0.62, 0.66, 0.7, 0.74, 0.78):
        p.line([(u, 0.74), (u, 1.0)], (40, 30, 26), 0.008)
    for u in (0.58, 0.78):
        p.rect(u, 0.34, u + 0.04, 0.44, LAMP if p.lit else INK, r=0.02, glow=p.lit)
    for _ in range(30):
        u, v = rng.uniform(0.22, 1.18), rng.uniform(0.55, 0.98)
        p.rect(u, v, u + 0.05, v + 0.02, dark(c, 0.9))


@motif(
    "city",
    ("skyline", "skyscraper", "skyscrapers", "downtown", "metropolis", "town"),
    "backdrop",
    2.0,
    0.75,
    (84, 96, 122),
    "city",
)
def _city(p: Pen, c: RGB, rng: random.Random) -> None:
    u = 0.0
    while u < p.aspect:
        w = rng.uniform(0.12, 0.24)
        top = rng.uniform(0.1, 0.7)
        col = mix(c, (150, 160, 180), rng.uniform(0, 0.5))
        p.rect(u, top, u + w, 1.0, col)
        p.rect(u + w * 0.7, top, u + w, 1.0, dark(col, 0.8))
        if rng.random() < 0.35:
            p.line([(u + w / 2, top), (u + w / 2, top - 0.08)], dark(col, 0.6), 0.01)
        if rng.random() < 0.3:
            p.poly([(u, top), (u + w / 2, top - 0.07), (u + w, top)], dark(col, 0.7))
        for v in _steps(top + 0.04, 0.96, 0.06):
            for x in _steps(u + 0.02, u + w - 0.03, 0.045):
                on = p.lit and rng.random() < 0.55
                if p.lit and not on:
                    continue
                p.rect(x, v, x + 0.022, v + 0.03, LAMP if on else light(col, 0.4), glow=on)
        u += w + rng.uniform(-0.02, 0.02)


def _steps(start: float, stop: float, step: float) -> list[float]:
    n = max(0, int((stop - start) / step) + 1)
    return [start + i * step for i in range(n)]


@motif(
    "tower",
    ("clocktower", "belfry", "spire", "clock", "bigben", "minaret", "steeple"),
    "ground",
    0.4,
    0.85,
    (206, 184, 134),
    "city",
)
def _tower(p: Pen, c: RGB, rng: random.Random) -> None:
    p.rect(0.1, 0.35, 0.3, 1.0, c)
    p.rect(0.23, 0.35, 0.3, 1.0, dark(c, 0.78))
    for v in (0.5, 0.65, 0.8):
        p.rect(0.17, v, 0.21, v + 0.08, LAMP if p.lit else (70, 64, 60), r=0.02, glow=p.lit)
    p.rect(0.075, 0.2, 0.325, 0.37, light(c, 0.1))
    p.rect(0.26, 0.2, 0.325, 0.37, dark(c, 0.8))
    p.circle(0.2, 0.285, 0.075, (120, 96, 50))
    p.circle(0.2, 0.285, 0.062, (252, 246, 220) if not p.lit else LAMP, glow=p.lit)
    for k in range(12):
        a = k * math.pi / 6
        p.circle(0.2 + 0.05 * math.cos(a), 0.285 + 0.05 * math.sin(a), 0.005, INK)
    p.line([(0.2, 0.285), (0.2, 0.24)], INK, 0.01)
    p.line([(0.2, 0.285), (0.235, 0.3)], INK, 0.008)
    p.rect(0.1, 0.1, 0.3, 0.2, c)
    for u in (0.13, 0.22):
        p.chord(u + 0.025, 0.14, 0.025, 0.025, 180, 360, INK)
        p.rect(u, 0.14, u + 0.05, 0.19, INK)
    p.poly([(0.085, 0.1), (0.2, -0.1), (0.315, 0.1)], (70, 90, 80))
    p.poly([(0.2, -0.1), (0.315, 0.1), (0.2, 0.1)], dark((70, 90, 80), 0.7))


@motif("windmill", ("windmills", "mill"), "ground", 0.9, 0.75, (214, 200, 176), "meadow")
def _windmill(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.3, 1.0), (0.6, 1.0), (0.54, 0.36), (0.36, 0.36)], c)
    p.poly([(0.45, 1.0), (0.6, 1.0), (0.54, 0.36), (0.45, 0.36)], dark(c, 0.8))
    p.poly([(0.33, 0.37), (0.45, 0.22), (0.57, 0.37)], (128, 70, 52))
    p.chord(0.45, 0.9, 0.05, 0.05, 180, 360, (90, 60, 40))
    p.rect(0.4, 0.9, 0.5, 1.0, (90, 60, 40))
    p.rect(0.42, 0.6, 0.48, 0.68, LAMP if p.lit else INK, glow=p.lit)
    hub = (0.45, 0.32)
    start = rng.uniform(0, 90)
    for k in range(4):
        a = math.radians(start + k * 90)
        dx, dy = math.cos(a), math.sin(a)
        nx, ny = -dy, dx

        def at(
            t: float, s: float, dx: float = dx, dy: float = dy, nx: float = nx, ny: float = ny
        ) -> Point:
            return (hub[0] + dx * t + nx * s, hub[1] + dy * t + ny * s)

        p.poly([at(0.08, 0), at(0.45, 0), at(0.45, 0.09), at(0.08, 0.07)], (236, 230, 214))
        for t in (0.17, 0.26, 0.35):
            p.line([at(t, 0), at(t, 0.085)], (120, 90, 60), 0.008)
        p.line([at(0.0, 0), at(0.46, 0)], (100, 70, 48), 0.018)
    p.circle(*hub, 0.03, (80, 56, 40))


@motif("bridge", ("bridges", "viaduct"), "span", 2.6, 0.6, (192, 64, 42), "lake")
def _bridge(p: Pen, c: RGB, rng: random.Random) -> None:
    a = p.aspect
    towers = (a * 0.25, a * 0.75)
    top = 0.08
    for t in towers:
        p.rect(t - 0.045, top, t + 0.045, 1.0, c)
        p.rect(t + 0.015, top, t + 0.045, 1.0, dark(c, 0.75))
        for v in (0.2, 0.38):
            p.rect(t - 0.045, v, t + 0.045, v + 0.025, dark(c, 0.85))
    deck = 0.62
    cable = (
        bez((-0.2, 0.42), (towers[0] * 0.5, 0.35), (towers[0], top))
        + bez((towers[0], top), (a * 0.5, deck + 0.1), (towers[1], top))[1:]
        + bez((towers[1], top), (towers[1] + (a - towers[1]) * 0.5, 0.35), (a + 0.2, 0.42))[1:]
    )
    for (u0, v0), (u1, v1) in zip(cable[::2], cable[1::2], strict=False):
        for u, v in ((u0, v0), (u1, v1)):
            if v < deck - 0.02:
                p.line([(u, v), (u, deck)], dark(c, 0.9), 0.006)
    p.line(cable, c, 0.02)
    p.rect(-0.2, deck, a + 0.2, deck + 0.05, c)
    p.rect(-0.2, deck + 0.035, a + 0.2, deck + 0.05, dark(c, 0.6))
    for k in range(40):
        u = -0.2 + k * (a + 0.4) / 40
        if p.lit:
            p.circle(u, deck - 0.01, 0.008, LAMP, glow=True)


@motif("pyramid", ("pyramids", "egypt"), "backdrop", 1.8, 0.6, (214, 180, 120), "desert")
def _pyramid(p: Pen, c: RGB, rng: random.Random) -> None:
    for cx, h, w in ((1.35, 0.55, 0.5), (0.7, 0.95, 0.75)):
        top = 1.0 - h
        p.poly([(cx - w, 1.0), (cx, top), (cx, 1.0)], c)
        p.poly([(cx, top), (cx + w, 1.0), (cx, 1.0)], dark(c, 0.7))
        for k in range(1, 8):
            v = top + h * k / 8
            t = (v - top) / h
            p.line([(cx - w * t, v), (cx, v)], dark(c, 0.9), 0.004)


@motif(
    "mountain",
    ("mountains", "peak", "peaks", "alps", "summit", "volcano"),
    "backdrop",
    2.0,
    0.7,
    (104, 114, 140),
    "lake",
)
def _mountain(p: Pen, c: RGB, rng: random.Random) -> None:
    snow = (244, 246, 252)
    peaks = [(0.45, 0.12, 0.6), (1.2, 0.0, 0.75), (1.8, 0.3, 0.5)]
    rng.shuffle(peaks)
    for cx, top, hw in sorted(peaks, key=lambda t: -t[1]):
        cx += rng.uniform(-0.08, 0.08)
        col = mix(c, (180, 190, 210), top)
        p.poly([(cx - hw, 1.0), (cx, top), (cx + hw * 0.1, 1.0)], col)
        p.poly([(cx, top), (cx + hw, 1.0), (cx + hw * 0.1, 1.0)], dark(col, 0.7))
        cap = top + (1.0 - top) * 0.3
        k = (cap - top) / (1.0 - top)
        left, right = cx - hw * k, cx + hw * k
        jag = [(left + (right - left) * i / 6, cap + (0.04 if i % 2 else 0.0)) for i in range(7)]
        p.poly([(cx, top), *jag], snow)
        p.poly(
            [(cx, top), *[(u, v) for u, v in jag if u >= cx]],
            mix(snow, (150, 170, 205), 0.35),
        )


# --- animals ---------------------------------------------------------------------------------


@motif("fox", ("foxes", "vixen"), "ground", 1.5, 0.45, (222, 108, 36), "forest", facing=True)
def _fox(p: Pen, c: RGB, rng: random.Random) -> None:
    cream, leg = (246, 238, 222), (58, 36, 28)
    p.blob(0.3, 0.55, 0.3, 0.11, 22, c)
    p.blob(0.07, 0.455, 0.09, 0.07, 22, cream)
    p.rect(0.5, 0.66, 0.57, 1.0, dark(leg, 0.8), r=0.02)
    p.rect(0.9, 0.66, 0.97, 1.0, dark(leg, 0.8), r=0.02)
    p.oval(0.78, 0.62, 0.34, 0.16, c)
    p.oval(0.78, 0.68, 0.28, 0.1, dark(c, 0.85))
    p.rect(0.6, 0.68, 0.67, 1.0, leg, r=0.02)
    p.rect(1.0, 0.68, 1.07, 1.0, leg, r=0.02)
    p.oval(1.04, 0.6, 0.09, 0.14, cream)
    p.oval(1.16, 0.36, 0.14, 0.13, c)
    p.poly([(1.04, 0.32), (1.06, 0.08), (1.15, 0.26)], c)
    p.poly([(1.07, 0.28), (1.08, 0.14), (1.13, 0.26)], leg)
    p.poly([(1.17, 0.25), (1.25, 0.06), (1.28, 0.29)], c)
    p.poly([(1.2, 0.26), (1.25, 0.12), (1.26, 0.28)], leg)
    p.poly([(1.16, 0.33), (1.44, 0.43), (1.2, 0.5)], c)
    p.poly([(1.12, 0.42), (1.42, 0.45), (1.22, 0.52), (1.08, 0.5)], cream)
    p.circle(1.43, 0.43, 0.025, INK)
    p.oval(1.22, 0.34, 0.022, 0.018, INK)
    p.circle(1.227, 0.335, 0.006, WHITE)


@motif(
    "cat", ("cats", "kitten", "kitty", "kittens"), "ground", 0.95, 0.45, (228, 146, 70), "window"
)
def _cat(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.45
    stripe = dark(c, 0.7)
    p.line(bez((cx + 0.18, 0.96), (cx + 0.48, 0.95), (cx + 0.4, 0.6)), dark(c, 0.85), 0.07)
    p.oval(cx, 0.72, 0.26, 0.28, c)
    p.oval(cx, 0.74, 0.13, 0.2, light(c, 0.45))
    p.oval(cx + 0.17, 0.78, 0.09, 0.2, dark(c, 0.86))
    for dx in (-0.1, 0.1):
        p.oval(cx + dx, 0.97, 0.07, 0.035, light(c, 0.3))
    p.poly([(cx - 0.21, 0.3), (cx - 0.19, 0.06), (cx - 0.05, 0.17)], c)
    p.poly([(cx - 0.18, 0.25), (cx - 0.17, 0.11), (cx - 0.09, 0.18)], (240, 160, 170))
    p.poly([(cx + 0.21, 0.3), (cx + 0.19, 0.06), (cx + 0.05, 0.17)], c)
    p.poly([(cx + 0.18, 0.25), (cx + 0.17, 0.11), (cx + 0.09, 0.18)], (240, 160, 170))
    p.oval(cx, 0.32, 0.22, 0.18, c)
    for dx in (-0.05, 0.0, 0.05):
        p.line([(cx + dx, 0.16), (cx + dx * 1.2, 0.23)], stripe, 0.018)
    for sx in (-1, 1):
        p.line([(cx + sx * 0.2, 0.38), (cx + sx * 0.12, 0.36)], stripe, 0.014)
    for dx in (-0.085, 0.085):
        p.oval(cx + dx, 0.3, 0.05, 0.038, (150, 205, 70))
        p.oval(cx + dx, 0.3, 0.013, 0.034, INK)
        p.circle(cx + dx + 0.015, 0.29, 0.008, WHITE)
    p.poly([(cx - 0.025, 0.37), (cx + 0.025, 0.37), (cx, 0.395)], (230, 120, 140))
    p.oval(cx, 0.42, 0.08, 0.04, light(c, 0.55))
    p.arc(cx - 0.025, 0.4, 0.025, 0.02, 0, 180, INK, 0.01)
    p.arc(cx + 0.025, 0.4, 0.025, 0.02, 0, 180, INK, 0.01)
    for sx in (-1, 1):
        for dy in (-0.02, 0.02):
            p.line([(cx + sx * 0.06, 0.41), (cx + sx * 0.3, 0.4 + dy * 2)], (250, 250, 250), 0.006)


@motif(
    "dog",
    ("dogs", "puppy", "puppies", "doggo", "hound", "retriever", "corgi", "wolf"),
    "ground",
    1.35,
    0.45,
    (196, 142, 82),
    "meadow",
    facing=True,
)
def _dog(p: Pen, c: RGB, rng: random.Random) -> None:
    p.line(bez((0.28, 0.5), (0.1, 0.45), (0.12, 0.22)), c, 0.06)
    p.rect(0.32, 0.64, 0.4, 1.0, dark(c, 0.8), r=0.03)
    p.rect(0.84, 0.64, 0.92, 1.0, dark(c, 0.8), r=0.03)
    p.rect(0.24, 0.42, 0.98, 0.72, c, r=0.15)
    p.oval(0.5, 0.5, 0.14, 0.08, dark(c, 0.75))
    p.oval(0.62, 0.66, 0.3, 0.05, light(c, 0.3))
    p.rect(0.42, 0.66, 0.5, 1.0, c, r=0.03)
    p.rect(0.92, 0.66, 1.0, 1.0, c, r=0.03)
    for u in (0.46, 0.96):
        p.oval(u, 0.98, 0.06, 0.03, light(c, 0.35))
    p.poly([(0.86, 0.5), (0.92, 0.28), (1.1, 0.3), (1.04, 0.55)], c)
    p.oval(1.05, 0.3, 0.15, 0.14, c)
    p.rect(1.05, 0.3, 1.3, 0.46, light(c, 0.35), r=0.07)
    p.circle(1.28, 0.33, 0.04, INK)
    p.line([(1.16, 0.45), (1.28, 0.42)], INK, 0.01)
    p.oval(1.2, 0.5, 0.035, 0.05, (228, 96, 110))
    p.blob(0.96, 0.35, 0.055, 0.14, 15, dark(c, 0.6))
    p.circle(1.09, 0.26, 0.024, INK)
    p.circle(1.097, 0.253, 0.007, WHITE)
    p.poly([(0.87, 0.47), (0.97, 0.38), (1.0, 0.43), (0.9, 0.52)], (200, 40, 50))
    p.circle(0.93, 0.5, 0.02, (240, 200, 70))


@motif("owl", ("owls", "owlet"), "perch", 0.8, 0.55, (136, 98, 62), "forest")
def _owl(p: Pen, c: RGB, rng: random.Random) -> None:
    _branch(p, 0.96)
    face, belly = (232, 214, 176), (226, 204, 162)
    p.poly([(0.12, 0.3), (0.08, 0.08), (0.26, 0.24)], c)
    p.poly([(0.68, 0.3), (0.72, 0.08), (0.54, 0.24)], c)
    p.oval(0.4, 0.58, 0.3, 0.37, c)
    p.oval(0.4, 0.7, 0.19, 0.24, belly)
    for v in (0.6, 0.7, 0.8):
        for u in (0.32, 0.4, 0.48):
            p.arc(u, v, 0.025, 0.02, 20, 160, dark(c, 0.9), 0.01)
    p.blob(0.14, 0.63, 0.09, 0.26, 8, dark(c, 0.75))
    p.blob(0.66, 0.63, 0.09, 0.26, -8, dark(c, 0.75))
    for u in (0.28, 0.52):
        p.circle(u, 0.4, 0.14, face)
        p.circle(u, 0.4, 0.095, (250, 190, 40))
        p.circle(u, 0.4, 0.055, INK)
        p.circle(u + 0.02, 0.38, 0.016, WHITE)
    p.poly([(0.36, 0.46), (0.44, 0.46), (0.4, 0.56)], (230, 150, 40))
    for u in (0.32, 0.48):
        p.oval(u, 0.95, 0.04, 0.02, (230, 160, 50))


@motif(
    "bird",
    ("birds", "robin", "sparrow", "parrot", "songbird", "bluebird", "finch"),
    "perch",
    1.1,
    0.4,
    (64, 120, 200),
    "meadow",
    facing=True,
)
def _bird(p: Pen, c: RGB, rng: random.Random) -> None:
    _branch(p, 0.94)
    p.poly([(0.2, 0.55), (0.0, 0.78), (0.12, 0.82), (0.38, 0.64)], dark(c, 0.7))
    p.blob(0.46, 0.6, 0.29, 0.2, -18, c)
    p.blob(0.56, 0.68, 0.2, 0.13, -25, (244, 150, 80))
    p.blob(0.4, 0.57, 0.21, 0.1, -18, dark(c, 0.75))
    for k in range(3):
        p.line([(0.26 + k * 0.06, 0.56 + k * 0.02), (0.34 + k * 0.07, 0.6)], dark(c, 0.55), 0.008)
    p.circle(0.74, 0.38, 0.15, c)
    p.poly([(0.86, 0.34), (1.02, 0.41), (0.86, 0.45)], (244, 190, 60))
    p.circle(0.79, 0.35, 0.032, INK)
    p.circle(0.8, 0.34, 0.01, WHITE)
    for u in (0.46, 0.56):
        p.line([(u, 0.76), (u - 0.02, 0.93)], (120, 90, 60), 0.012)


@motif(
    "fish",
    ("fishes", "goldfish", "clownfish", "nemo", "koi", "salmon"),
    "swim",
    1.6,
    0.4,
    (246, 128, 36),
    "underwater",
    facing=True,
)
def _fish(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.4, 0.5), (0.05, 0.18), (0.16, 0.5), (0.05, 0.82)], dark(c, 0.85))
    p.poly([(0.62, 0.26), (0.82, 0.02), (1.04, 0.22)], dark(c, 0.85))
    p.oval(0.88, 0.5, 0.54, 0.3, c)
    cx, rx, ry = 0.88, 0.54, 0.3
    for u in (0.62, 1.08):
        for w, col in ((0.09, INK), (0.065, WHITE)):
            pts = []
            for t in _steps(u - w, u + w, w / 4):
                k = max(0.0, 1 - ((t - cx) / rx) ** 2)
                pts.append((t, 0.5 - ry * math.sqrt(k) * 0.98))
            for t in reversed(_steps(u - w, u + w, w / 4)):
                k = max(0.0, 1 - ((t - cx) / rx) ** 2)
                pts.append((t, 0.5 + ry * math.sqrt(k) * 0.98))
            p.poly(pts, col)
    p.oval(0.88, 0.62, 0.4, 0.1, light(c, 0.25))
    p.blob(0.9, 0.62, 0.12, 0.05, 30, dark(c, 0.75))
    p.circle(1.2, 0.42, 0.075, WHITE)
    p.circle(1.22, 0.42, 0.045, INK)
    p.circle(1.235, 0.405, 0.013, WHITE)
    p.arc(1.38, 0.56, 0.04, 0.03, 100, 200, INK, 0.012)


@motif(
    "whale",
    ("whales", "orca", "dolphin", "dolphins", "shark"),
    "swim",
    2.2,
    0.45,
    (70, 100, 142),
    "underwater",
    facing=True,
)
def _whale(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.42, 0.46), (0.06, 0.18), (0.16, 0.47), (0.04, 0.76)], dark(c, 0.8))
    body = (
        bez((0.35, 0.45), (0.9, 0.12), (1.75, 0.2))
        + bez((1.75, 0.2), (2.22, 0.3), (2.12, 0.62))[1:]
        + bez((2.12, 0.62), (1.7, 0.92), (0.9, 0.8))[1:]
        + bez((0.9, 0.8), (0.5, 0.66), (0.35, 0.5))[1:]
    )
    p.poly(body, c)
    belly = bez((1.05, 0.76), (1.7, 0.95), (2.12, 0.62)) + bez(
        (2.0, 0.62), (1.6, 0.72), (1.05, 0.76)
    )
    p.poly(belly, (226, 226, 220))
    for k in range(5):
        v = 0.66 + k * 0.035
        p.line(bez((1.2, v + 0.05), (1.65, v + 0.08), (2.0, v - 0.04)), (190, 190, 186), 0.008)
    p.blob(1.45, 0.78, 0.2, 0.06, 28, dark(c, 0.75))
    p.circle(1.9, 0.52, 0.03, INK)
    p.circle(1.91, 0.515, 0.01, WHITE)
    for _ in range(8):
        p.circle(rng.uniform(0.8, 1.7), rng.uniform(0.3, 0.5), 0.012, light(c, 0.3))


@motif(
    "dragon",
    ("dragons", "wyvern", "drake"),
    "ground",
    1.6,
    0.62,
    (64, 148, 88),
    "mountains",
    facing=True,
)
def _dragon(p: Pen, c: RGB, rng: random.Random) -> None:
    membrane = dark(c, 0.62)
    p.poly([(0.72, 0.45), (0.86, -0.05), (1.0, 0.08), (1.08, 0.02), (1.02, 0.36)], membrane)
    p.line(bez((0.5, 0.66), (0.2, 0.62), (0.12, 0.92)), c, 0.07)
    p.poly([(0.05, 0.86), (0.16, 0.84), (0.09, 0.98)], dark(c, 0.7))
    p.rect(0.52, 0.7, 0.62, 1.0, dark(c, 0.75), r=0.04)
    p.blob(0.72, 0.62, 0.3, 0.17, -12, c)
    p.blob(0.76, 0.7, 0.22, 0.08, -12, (226, 206, 120))
    p.rect(0.82, 0.7, 0.92, 1.0, c, r=0.04)
    for u in (0.57, 0.87):
        for dx in (-0.04, 0.0, 0.04):
            p.poly([(u + dx, 0.97), (u + dx + 0.04, 1.0), (u + dx + 0.02, 0.95)], WHITE)
    p.line([(0.9, 0.55), (1.08, 0.38), (1.16, 0.25)], c, 0.11)
    for k in range(9):
        u, v = 0.45 + k * 0.09, 0.47 - max(0, k - 4) * 0.06
        p.poly([(u - 0.03, v), (u, v - 0.06), (u + 0.03, v)], (230, 120, 50))
    p.blob(1.24, 0.2, 0.13, 0.075, 8, c)
    p.blob(1.34, 0.24, 0.09, 0.05, 10, light(c, 0.15))
    p.poly([(1.16, 0.15), (1.04, 0.02), (1.2, 0.13)], (236, 226, 200))
    p.poly([(1.22, 0.14), (1.14, 0.0), (1.26, 0.13)], (236, 226, 200))
    p.oval(1.25, 0.17, 0.03, 0.02, (255, 220, 40), glow=p.lit)
    p.circle(1.255, 0.17, 0.01, INK)
    p.circle(1.41, 0.22, 0.01, INK)
    p.poly([(0.74, 0.5), (0.66, -0.02), (0.92, 0.08), (1.04, 0.0), (1.12, 0.16), (0.98, 0.4)], c)
    for tip in ((0.66, -0.02), (0.92, 0.08), (1.04, 0.0)):
        p.line([(0.8, 0.45), tip], dark(c, 0.6), 0.014)
    flame = [(1.42, 0.26), (1.56, 0.16), (1.7, 0.22), (1.62, 0.3), (1.74, 0.38), (1.5, 0.33)]
    p.poly(flame, (255, 120, 30), glow=True)
    p.poly([(1.43, 0.26), (1.55, 0.21), (1.6, 0.27), (1.5, 0.3)], (255, 220, 90), glow=True)


@motif("butterfly", ("butterflies", "moth"), "sky", 1.2, 0.45, (240, 128, 30), "meadow")
def _butterfly(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.6
    for sx in (-1, 1):
        p.blob(cx + sx * 0.26, 0.32, 0.27, 0.19, sx * -35, INK)
        p.blob(cx + sx * 0.25, 0.33, 0.22, 0.15, sx * -35, c)
        p.blob(cx + sx * 0.2, 0.66, 0.19, 0.14, sx * 30, INK)
        p.blob(cx + sx * 0.19, 0.65, 0.15, 0.1, sx * 30, light(c, 0.15))
        for k in range(4):
            p.circle(cx + sx * (0.18 + k * 0.09), 0.14 + k * 0.06, 0.018, WHITE)
        p.circle(cx + sx * 0.22, 0.66, 0.04, (250, 230, 120))
        for tip in ((0.38, 0.25), (0.28, 0.42), (0.22, 0.62)):
            p.line([(cx, 0.45), (cx + sx * tip[0], tip[1])], dark(c, 0.5), 0.008)
        p.line(bez((cx, 0.28), (cx + sx * 0.04, 0.12), (cx + sx * 0.12, 0.04)), INK, 0.012)
        p.circle(cx + sx * 0.12, 0.04, 0.02, INK)
    p.blob(cx, 0.48, 0.035, 0.22, 0, INK)


@motif("penguin", ("penguins",), "ground", 0.65, 0.5, (32, 36, 48), "snow", "snow")
def _penguin(p: Pen, c: RGB, rng: random.Random) -> None:
    cx, orange = 0.32, (246, 150, 30)
    for dx in (-0.08, 0.08):
        p.oval(cx + dx, 0.97, 0.07, 0.03, orange)
    p.oval(cx, 0.56, 0.25, 0.42, c)
    p.blob(cx - 0.24, 0.6, 0.06, 0.2, 20, dark(c, 0.8))
    p.blob(cx + 0.24, 0.6, 0.06, 0.2, -20, dark(c, 0.8))
    p.oval(cx, 0.64, 0.17, 0.32, WHITE)
    p.oval(cx, 0.3, 0.14, 0.1, WHITE)
    for dx in (-0.06, 0.06):
        p.circle(cx + dx, 0.29, 0.025, INK)
        p.circle(cx + dx + 0.008, 0.282, 0.008, (255, 255, 255))
    p.poly([(cx - 0.04, 0.34), (cx + 0.04, 0.34), (cx, 0.41)], orange)


@motif(
    "rabbit",
    ("rabbits", "bunny", "bunnies", "hare"),
    "ground",
    0.8,
    0.45,
    (170, 150, 132),
    "meadow",
)
def _rabbit(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.38
    p.circle(cx + 0.26, 0.85, 0.07, WHITE)
    p.oval(cx, 0.74, 0.26, 0.25, c)
    p.oval(cx, 0.8, 0.14, 0.16, light(c, 0.45))
    for dx, a in ((-0.07, -10), (0.07, 10)):
        p.blob(cx + dx, 0.16, 0.055, 0.17, a, c)
        p.blob(cx + dx, 0.17, 0.028, 0.12, a, (240, 170, 180))
    p.circle(cx, 0.42, 0.16, c)
    for dx in (-0.06, 0.06):
        p.circle(cx + dx, 0.4, 0.025, INK)
        p.circle(cx + dx + 0.008, 0.392, 0.008, WHITE)
    p.poly([(cx - 0.02, 0.47), (cx + 0.02, 0.47), (cx, 0.49)], (230, 120, 140))
    for sx in (-1, 1):
        p.line([(cx + sx * 0.04, 0.49), (cx + sx * 0.2, 0.47)], (250, 250, 250), 0.006)
        p.oval(cx + sx * 0.1, 0.97, 0.08, 0.035, light(c, 0.2))


@motif("bear", ("bears", "teddy", "grizzly", "panda"), "ground", 0.9, 0.5, (130, 86, 52), "forest")
def _bear(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.45
    muzzle = light(c, 0.45)
    p.oval(cx, 0.72, 0.3, 0.27, c)
    p.oval(cx, 0.76, 0.17, 0.18, light(c, 0.2))
    for sx in (-1, 1):
        p.blob(cx + sx * 0.27, 0.7, 0.08, 0.15, sx * -25, dark(c, 0.85))
        p.oval(cx + sx * 0.16, 0.95, 0.1, 0.06, dark(c, 0.9))
        p.oval(cx + sx * 0.16, 0.95, 0.05, 0.035, muzzle)
        p.circle(cx + sx * 0.16, 0.13, 0.07, c)
        p.circle(cx + sx * 0.16, 0.13, 0.04, muzzle)
    p.circle(cx, 0.32, 0.2, c)
    p.oval(cx, 0.4, 0.09, 0.07, muzzle)
    p.oval(cx, 0.37, 0.035, 0.025, INK)
    p.arc(cx, 0.42, 0.04, 0.025, 20, 160, INK, 0.01)
    for dx in (-0.08, 0.08):
        p.circle(cx + dx, 0.28, 0.025, INK)
        p.circle(cx + dx + 0.008, 0.272, 0.008, WHITE)


# --- vehicles --------------------------------------------------------------------------------


@motif(
    "boat",
    ("boats", "sailboat", "sailboats", "yacht", "sail", "sailing", "dinghy"),
    "sea",
    1.0,
    0.55,
    (170, 52, 44),
    "sea",
    facing=True,
)
def _boat(p: Pen, c: RGB, rng: random.Random) -> None:
    p.line([(0.5, 0.05), (0.5, 0.8)], (100, 72, 50), 0.022)
    p.poly([(0.53, 0.08), (0.53, 0.74), (0.92, 0.74)], WHITE)
    p.poly([(0.53, 0.3), (0.53, 0.74), (0.92, 0.74)], (220, 220, 222))
    p.poly([(0.47, 0.16), (0.47, 0.72), (0.14, 0.72)], (236, 232, 220))
    p.line([(0.53, 0.5), (0.72, 0.5)], (200, 196, 190), 0.008)
    p.poly([(0.5, 0.04), (0.64, 0.07), (0.5, 0.1)], c)
    p.poly([(0.02, 0.76), (0.98, 0.76), (0.84, 0.96), (0.16, 0.96)], c)
    p.poly([(0.07, 0.8), (0.95, 0.8), (0.935, 0.83), (0.085, 0.83)], WHITE)
    p.poly([(0.14, 0.93), (0.86, 0.93), (0.84, 0.96), (0.16, 0.96)], dark(c, 0.6))


@motif(
    "ship",
    ("ships", "steamship", "ferry", "liner", "freighter", "vessel", "steamer"),
    "sea",
    2.0,
    0.5,
    (44, 54, 74),
    "sea",
    facing=True,
)
def _ship(p: Pen, c: RGB, rng: random.Random) -> None:
    p.rect(0.55, 0.42, 1.55, 0.62, WHITE)
    p.rect(0.75, 0.26, 1.35, 0.42, light(WHITE, 0.2))
    p.rect(0.95, 0.14, 1.25, 0.26, WHITE)
    for v, (u0, u1) in ((0.5, (0.6, 1.5)), (0.32, (0.8, 1.3))):
        for u in _steps(u0, u1, 0.07):
            p.rect(u, v, u + 0.04, v + 0.04, LAMP if p.lit else (70, 90, 120), glow=p.lit)
    p.poly([(0.45, 0.08), (0.65, 0.08), (0.62, 0.42), (0.48, 0.42)], (200, 50, 40))
    p.rect(0.45, 0.08, 0.65, 0.13, INK)
    for k, (u, v) in enumerate(((0.5, 0.0), (0.38, -0.08), (0.22, -0.12))):
        p.circle(u, v, 0.05 + k * 0.02, (200, 200, 206))
    p.poly([(0.02, 0.6), (1.98, 0.6), (1.82, 0.92), (0.2, 0.92)], c)
    p.poly([(0.1, 0.82), (1.88, 0.82), (1.82, 0.92), (0.2, 0.92)], (160, 40, 36))
    for u in _steps(0.3, 1.7, 0.14):
        p.circle(u, 0.69, 0.02, LAMP if p.lit else (200, 210, 220), glow=p.lit)


@motif(
    "car",
    ("cars", "automobile", "taxi", "sedan", "jeep", "racecar", "truck"),
    "ground",
    2.0,
    0.32,
    (204, 40, 48),
    "city",
    facing=True,
)
def _car(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.45, 0.5), (0.66, 0.14), (1.34, 0.14), (1.62, 0.5)], c)
    p.poly([(0.57, 0.48), (0.72, 0.2), (0.98, 0.2), (0.98, 0.48)], GLASS)
    p.poly([(1.04, 0.48), (1.04, 0.2), (1.3, 0.2), (1.5, 0.48)], GLASS)
    p.poly([(0.6, 0.46), (0.7, 0.27), (0.76, 0.27), (0.66, 0.46)], light(GLASS, 0.5))
    p.rect(0.04, 0.45, 1.96, 0.84, c, r=0.14)
    p.rect(0.06, 0.45, 1.94, 0.55, light(c, 0.25), r=0.06)
    p.rect(0.04, 0.74, 1.96, 0.84, dark(c, 0.6), r=0.05)
    p.line([(1.0, 0.5), (1.0, 0.78)], dark(c, 0.6), 0.01)
    p.rect(0.82, 0.56, 0.9, 0.58, dark(c, 0.5))
    p.rect(1.1, 0.56, 1.18, 0.58, dark(c, 0.5))
    p.oval(1.9, 0.56, 0.06, 0.04, LAMP if p.lit else (250, 240, 200), glow=p.lit)
    p.oval(0.08, 0.56, 0.04, 0.04, (230, 30, 30), glow=p.lit)
    if p.lit:
        p.beam([(1.92, 0.56), (3.2, 0.5), (3.2, 0.95)], (110, 100, 60))
    for u in (0.45, 1.55):
        p.circle(u, 0.82, 0.18, (30, 30, 34))
        p.circle(u, 0.82, 0.1, (170, 172, 180))
        p.circle(u, 0.82, 0.035, (90, 92, 100))


@motif(
    "bicycle",
    ("bicycles", "bike", "bikes", "cycling", "cyclist"),
    "ground",
    1.7,
    0.4,
    (30, 130, 150),
    "city",
    facing=True,
)
def _bicycle(p: Pen, c: RGB, rng: random.Random) -> None:
    tyre, spoke = (34, 34, 38), (180, 180, 186)
    for u in (0.38, 1.32):
        for k in range(8):
            a = k * math.pi / 8
            p.line(
                [
                    (u + 0.26 * math.cos(a), 0.7 + 0.26 * math.sin(a)),
                    (u - 0.26 * math.cos(a), 0.7 - 0.26 * math.sin(a)),
                ],
                spoke,
                0.006,
            )
        p.ring(u, 0.7, 0.28, 0.28, tyre, 0.04)
        p.circle(u, 0.7, 0.03, (120, 120, 126))
    frame = [
        ((0.38, 0.7), (0.78, 0.72)),
        ((0.78, 0.72), (0.62, 0.3)),
        ((0.62, 0.3), (1.14, 0.33)),
        ((1.14, 0.33), (0.78, 0.72)),
        ((0.38, 0.7), (0.62, 0.3)),
        ((1.14, 0.33), (1.32, 0.7)),
    ]
    for start, end in frame:
        p.line([start, end], c, 0.04)
    p.line([(0.62, 0.3), (0.6, 0.24)], INK, 0.025)
    p.poly([(0.5, 0.22), (0.72, 0.21), (0.68, 0.26), (0.52, 0.26)], INK)
    p.line([(1.13, 0.33), (1.1, 0.18), (1.24, 0.15)], INK, 0.025)
    p.circle(0.78, 0.72, 0.06, (90, 90, 96))
    p.line([(0.78, 0.72), (0.86, 0.84)], INK, 0.02)


@motif(
    "rocket",
    ("rockets", "spaceship", "spacecraft", "shuttle", "starship"),
    "sky",
    0.5,
    0.7,
    (214, 50, 50),
    "space",
)
def _rocket(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.25
    p.poly([(cx - 0.07, 0.84), (cx, 1.25), (cx + 0.07, 0.84)], (255, 130, 30), glow=True)
    p.poly([(cx - 0.04, 0.84), (cx, 1.08), (cx + 0.04, 0.84)], (255, 236, 140), glow=True)
    p.poly([(cx - 0.12, 0.6), (cx - 0.24, 0.88), (cx - 0.12, 0.82)], c)
    p.poly([(cx + 0.12, 0.6), (cx + 0.24, 0.88), (cx + 0.12, 0.82)], dark(c, 0.75))
    p.poly(
        [(cx - 0.08, 0.78), (cx + 0.08, 0.78), (cx + 0.06, 0.86), (cx - 0.06, 0.86)], (90, 92, 100)
    )
    body = (
        bez((cx - 0.12, 0.8), (cx - 0.14, 0.25), (cx, 0.02))
        + bez((cx, 0.02), (cx + 0.14, 0.25), (cx + 0.12, 0.8))[1:]
    )
    p.poly(body, (236, 236, 240))
    p.poly(
        [
            (cx + 0.05, 0.1),
            *bez((cx + 0.06, 0.1), (cx + 0.135, 0.35), (cx + 0.12, 0.8)),
            (cx + 0.05, 0.8),
        ],
        (196, 198, 206),
    )
    nose = (
        bez((cx - 0.095, 0.26), (cx - 0.08, 0.1), (cx, 0.02))
        + bez((cx, 0.02), (cx + 0.08, 0.1), (cx + 0.095, 0.26))[1:]
    )
    p.poly(nose, c)
    p.circle(cx, 0.44, 0.065, (120, 124, 136))
    p.circle(cx, 0.44, 0.048, (90, 170, 230), glow=p.lit)
    p.circle(cx - 0.015, 0.425, 0.014, WHITE)
    p.rect(cx - 0.015, 0.6, cx + 0.015, 0.86, dark(c, 0.8))


@motif(
    "airplane",
    ("airplanes", "plane", "planes", "aeroplane", "jet", "aircraft", "airliner"),
    "sky",
    2.0,
    0.32,
    (40, 90, 180),
    "meadow",
    facing=True,
)
def _airplane(p: Pen, c: RGB, rng: random.Random) -> None:
    body = (238, 240, 246)
    p.poly([(0.9, 0.46), (1.08, 0.46), (0.8, 0.14), (0.7, 0.14)], dark(body, 0.78))
    p.poly([(0.12, 0.46), (0.04, 0.06), (0.22, 0.06), (0.42, 0.46)], c)
    p.rect(0.1, 0.4, 1.82, 0.62, body, r=0.11)
    p.oval(1.8, 0.51, 0.15, 0.11, body)
    p.poly([(1.8, 0.44), (1.9, 0.45), (1.92, 0.5), (1.8, 0.5)], (60, 70, 90))
    p.rect(0.2, 0.55, 1.85, 0.58, c)
    for u in _steps(0.45, 1.62, 0.075):
        p.circle(u, 0.48, 0.018, (70, 86, 110))
    p.poly([(0.85, 0.56), (1.12, 0.56), (0.78, 0.98), (0.64, 0.98)], dark(body, 0.85))
    p.rect(0.84, 0.64, 1.04, 0.72, (180, 184, 194), r=0.04)
    p.poly([(0.14, 0.5), (0.34, 0.5), (0.2, 0.62), (0.08, 0.62)], dark(body, 0.85))


@motif(
    "train",
    ("trains", "locomotive", "railway", "railroad", "tram"),
    "ground",
    2.4,
    0.4,
    (40, 94, 64),
    "meadow",
    facing=True,
)
def _train(p: Pen, c: RGB, rng: random.Random) -> None:
    p.line([(-3.0, 0.98), (p.aspect + 3.0, 0.98)], (80, 80, 86), 0.02)
    p.rect(0.75, 0.34, 2.02, 0.72, c, r=0.17)
    p.rect(0.75, 0.34, 2.02, 0.42, light(c, 0.25), r=0.06)
    for u in (1.1, 1.5, 1.85):
        p.rect(u, 0.34, u + 0.03, 0.72, (220, 180, 70))
    p.chord(1.3, 0.34, 0.09, 0.09, 180, 360, (220, 180, 70))
    p.poly([(1.7, 0.36), (1.66, 0.1), (1.9, 0.08), (1.84, 0.36)], INK)
    for k, (u, v) in enumerate(((1.72, 0.0), (1.5, -0.08), (1.2, -0.12), (0.9, -0.14))):
        p.circle(u, v, 0.07 + k * 0.03, mix((190, 190, 196), WHITE, k * 0.2))
    p.rect(0.18, 0.14, 0.8, 0.76, dark(c, 0.85))
    p.rect(0.12, 0.1, 0.86, 0.16, INK)
    p.rect(0.32, 0.24, 0.64, 0.44, LAMP if p.lit else GLASS, glow=p.lit)
    p.poly([(2.02, 0.66), (2.3, 0.96), (2.02, 0.96)], (200, 40, 40))
    p.circle(2.04, 0.46, 0.06, LAMP, glow=True)
    for u, r in ((0.44, 0.17), (1.02, 0.15), (1.42, 0.15), (1.8, 0.12)):
        p.circle(u, 0.96 - r, r, (190, 40, 40))
        p.circle(u, 0.96 - r, r * 0.45, (70, 30, 30))
    p.line([(0.44, 0.8), (1.42, 0.82)], (200, 200, 206), 0.025)


@motif("balloon", ("balloons", "airship", "zeppelin"), "sky", 0.8, 0.6, (220, 60, 60), "meadow")
def _balloon(p: Pen, c: RGB, rng: random.Random) -> None:
    cx, cy, r = 0.4, 0.35, 0.34
    second = (252, 206, 60)

    def envelope(k: float) -> list[Point]:
        top = [
            (cx + r * k * math.cos(a), cy + r * math.sin(a))
            for a in [math.pi * (1 + i / 16) for i in range(17)]
        ]
        return [
            *top,
            (cx + r * k, cy + 0.08),
            (cx + 0.09 * k, 0.76),
            (cx - 0.09 * k, 0.76),
            (cx - r * k, cy + 0.08),
        ]

    p.oval(cx, cy + 0.05, r, r * 0.9, c)
    for i, k in enumerate((1.0, 0.74, 0.46, 0.18)):
        col = c if i % 2 == 0 else second
        p.poly(envelope(k), col)
        p.oval(cx, cy + 0.05, r * k, r * 0.9, col)
    for u0, u1 in ((cx - 0.09, cx - 0.07), (cx + 0.09, cx + 0.07)):
        p.line([(u0, 0.76), (u1, 0.88)], (90, 70, 50), 0.008)
    p.rect(cx - 0.08, 0.87, cx + 0.08, 0.99, (150, 100, 56), r=0.015)
    p.line([(cx - 0.08, 0.93), (cx + 0.08, 0.93)], (110, 72, 40), 0.008)


# --- plants ----------------------------------------------------------------------------------


def _canopy(p: Pen, c: RGB, blobs: Sequence[tuple[float, float, float]]) -> None:
    """Leafy clusters shaded from the upper left (snow on top in winter)."""
    if p.season == "autumn":
        c = (214, 110, 40)
    for u, v, r in blobs:
        p.circle(u + r * 0.12, v + r * 0.12, r, dark(c, 0.7))
    for u, v, r in blobs:
        p.circle(u, v, r * 0.92, c)
    for u, v, r in blobs:
        p.circle(u - r * 0.25, v - r * 0.3, r * 0.5, light(c, 0.2))
    if p.season == "snow":
        for u, v, r in blobs:
            p.chord(u, v, r * 0.9, r * 0.9, 200, 340, (246, 248, 252))


@motif(
    "tree",
    ("trees", "oak", "forest", "forests", "woods", "woodland", "grove", "orchard"),
    "ground",
    0.9,
    0.75,
    (64, 140, 58),
    "meadow",
)
def _tree(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.38, 1.0), (0.52, 1.0), (0.48, 0.45), (0.42, 0.45)], WOOD)
    p.poly([(0.45, 1.0), (0.52, 1.0), (0.48, 0.45), (0.45, 0.45)], dark(WOOD, 0.7))
    p.line([(0.46, 0.62), (0.3, 0.48)], WOOD, 0.03)
    p.line([(0.46, 0.58), (0.62, 0.46)], WOOD, 0.03)
    _canopy(
        p,
        c,
        [
            (0.45, 0.3, 0.24),
            (0.24, 0.45, 0.18),
            (0.66, 0.45, 0.18),
            (0.3, 0.22, 0.16),
            (0.6, 0.24, 0.16),
            (0.45, 0.5, 0.16),
        ],
    )
    if p.season != "snow" and p.season != "autumn" and rng.random() < 0.5:
        for _ in range(6):
            p.circle(rng.uniform(0.25, 0.65), rng.uniform(0.2, 0.55), 0.025, (214, 48, 48))


@motif(
    "pine",
    ("pines", "fir", "spruce", "christmas", "evergreen"),
    "ground",
    0.6,
    0.8,
    (38, 104, 62),
    "forest",
)
def _pine(p: Pen, c: RGB, rng: random.Random) -> None:
    p.rect(0.27, 0.85, 0.33, 1.0, WOOD)
    for k, (v, w) in enumerate(((0.9, 0.28), (0.66, 0.23), (0.44, 0.17), (0.24, 0.11))):
        top = v - 0.34 + k * 0.02
        p.poly([(0.3 - w, v), (0.3, top), (0.3 + w, v)], c)
        p.poly([(0.3, top), (0.3 + w, v), (0.3, v)], dark(c, 0.72))
        if p.season == "snow":
            p.poly(
                [
                    (0.3 - w * 0.45, top + (v - top) * 0.45),
                    (0.3, top),
                    (0.3 + w * 0.45, top + (v - top) * 0.45),
                ],
                (246, 248, 252),
            )


@motif(
    "palm",
    ("palms", "palmtree", "coconut", "tropical", "island"),
    "ground",
    0.9,
    0.8,
    (60, 150, 70),
    "beach",
)
def _palm(p: Pen, c: RGB, rng: random.Random) -> None:
    trunk = [(0.3 + 0.12 * (k / 10) ** 2, 1.0 - k * 0.072) for k in range(11)]
    for k in range(10):
        (u0, v0), (u1, v1) = trunk[k], trunk[k + 1]
        w = 0.04 - k * 0.002
        p.poly(
            [(u0 - w, v0), (u0 + w, v0), (u1 + w, v1), (u1 - w, v1)],
            (150, 110, 70) if k % 2 else (128, 92, 58),
        )
    top = trunk[-1]
    for a in (-170, -140, -110, -70, -40, -10, 200):
        r = math.radians(a)
        end = (top[0] + 0.38 * math.cos(r), top[1] + 0.38 * math.sin(r) * 0.6 + 0.12)
        mid = (top[0] + 0.24 * math.cos(r), top[1] + 0.24 * math.sin(r) * 0.6 - 0.06)
        pts = bez(top, mid, end, 8)
        p.line(pts, c, 0.05)
        p.line(pts, dark(c, 0.75), 0.012)
    for du in (-0.03, 0.02, 0.0):
        p.circle(top[0] + du, top[1] + 0.05 + abs(du), 0.03, (110, 74, 40))


@motif(
    "flower",
    (
        "flowers",
        "rose",
        "roses",
        "tulip",
        "tulips",
        "daisy",
        "bouquet",
        "blossom",
        "blossoms",
        "bloom",
        "garden",
        "poppy",
        "lily",
    ),
    "ground",
    0.9,
    0.6,
    (232, 82, 128),
    "meadow",
)
def _flower(p: Pen, c: RGB, rng: random.Random) -> None:
    for cx, top, r, col in (
        (0.2, 0.55, 0.09, light(c, 0.3)),
        (0.72, 0.45, 0.1, mix(c, (250, 200, 60), 0.6)),
        (0.45, 0.22, 0.16, c),
    ):
        p.line(bez((cx, 1.0), (cx + 0.05, (1.0 + top) / 2), (cx, top)), (60, 130, 60), 0.03)
        p.blob(cx + 0.08, (1.0 + top) / 2 + 0.1, 0.09, 0.03, -30, LEAF)
        for k in range(7):
            a = k * 2 * math.pi / 7
            p.blob(
                cx + r * 0.7 * math.cos(a),
                top + r * 0.7 * math.sin(a),
                r * 0.62,
                r * 0.36,
                math.degrees(a),
                dark(col, 0.85),
            )
        for k in range(7):
            a = (k + 0.5) * 2 * math.pi / 7
            p.blob(
                cx + r * 0.55 * math.cos(a),
                top + r * 0.55 * math.sin(a),
                r * 0.52,
                r * 0.32,
                math.degrees(a),
                col,
            )
        p.circle(cx, top, r * 0.34, (250, 206, 60))
        p.circle(cx + r * 0.08, top + r * 0.08, r * 0.18, (220, 150, 40))


@motif("sunflower", ("sunflowers",), "ground", 0.7, 0.8, (250, 196, 30), "meadow")
def _sunflower(p: Pen, c: RGB, rng: random.Random) -> None:
    cx, cy = 0.35, 0.26
    p.line([(cx, 1.0), (cx - 0.02, 0.6), (cx, cy)], (70, 130, 50), 0.045)
    for sx, v in ((-1, 0.66), (1, 0.52)):
        p.blob(cx + sx * 0.13, v, 0.13, 0.06, sx * -25, (70, 140, 60))
        p.line([(cx, v + 0.04), (cx + sx * 0.22, v - 0.06 * sx * sx)], (50, 110, 44), 0.008)
    for k in range(18):
        a = k * 2 * math.pi / 18
        p.blob(
            cx + 0.17 * math.cos(a),
            cy + 0.17 * math.sin(a),
            0.1,
            0.035,
            math.degrees(a),
            dark(c, 0.85),
        )
    for k in range(18):
        a = (k + 0.5) * 2 * math.pi / 18
        p.blob(cx + 0.15 * math.cos(a), cy + 0.15 * math.sin(a), 0.09, 0.032, math.degrees(a), c)
    p.circle(cx, cy, 0.1, (100, 60, 24))
    for k in range(40):
        a, r = k * 2.4, 0.085 * math.sqrt(k / 40)
        p.circle(cx + r * math.cos(a), cy + r * math.sin(a), 0.008, (60, 36, 14))


@motif(
    "cactus",
    ("cacti", "cactuses", "saguaro", "succulent"),
    "ground",
    0.7,
    0.7,
    (72, 142, 72),
    "desert",
)
def _cactus(p: Pen, c: RGB, rng: random.Random) -> None:
    p.rect(0.08, 0.46, 0.3, 0.58, c, r=0.06)
    p.rect(0.08, 0.24, 0.18, 0.58, c, r=0.05)
    p.rect(0.4, 0.38, 0.6, 0.5, c, r=0.06)
    p.rect(0.5, 0.16, 0.6, 0.5, c, r=0.05)
    p.rect(0.26, 0.08, 0.44, 1.0, c, r=0.09)
    p.rect(0.37, 0.12, 0.44, 1.0, dark(c, 0.75), r=0.04)
    p.rect(0.28, 0.12, 0.3, 0.98, light(c, 0.25))
    for u in (0.32, 0.36, 0.4):
        p.line([(u, 0.14), (u, 0.98)], dark(c, 0.8), 0.005)
    for _k in range(40):
        x = rng.choice((0.26, 0.44, 0.08, 0.6))
        v = rng.uniform(0.2, 0.95)
        p.line([(x, v), (x + (-0.02 if x < 0.35 else 0.02), v - 0.01)], (240, 236, 200), 0.004)
    p.circle(0.35, 0.08, 0.04, (240, 100, 140))
    p.circle(0.35, 0.08, 0.015, (250, 220, 80))


@motif(
    "mushroom",
    ("mushrooms", "toadstool", "toadstools", "fungi", "fungus"),
    "ground",
    1.0,
    0.45,
    (206, 40, 40),
    "forest",
)
def _mushroom(p: Pen, c: RGB, rng: random.Random) -> None:
    stem = (240, 230, 208)
    for cx, s in ((0.82, 0.45), (0.42, 1.0)):
        p.poly(
            [
                (cx - 0.12 * s, 1.0),
                (cx + 0.12 * s, 1.0),
                (cx + 0.09 * s, 1.0 - 0.5 * s),
                (cx - 0.09 * s, 1.0 - 0.5 * s),
            ],
            stem,
        )
        p.poly(
            [
                (cx + 0.03 * s, 1.0),
                (cx + 0.12 * s, 1.0),
                (cx + 0.09 * s, 1.0 - 0.5 * s),
                (cx + 0.02 * s, 1.0 - 0.5 * s),
            ],
            dark(stem, 0.85),
        )
        top = 1.0 - 0.5 * s
        p.oval(cx, top, 0.34 * s, 0.06 * s, (200, 180, 160))
        p.chord(cx, top, 0.38 * s, 0.4 * s, 180, 360, c)
        p.chord(cx + 0.05 * s, top, 0.3 * s, 0.32 * s, 200, 340, dark(c, 0.86))
        p.chord(cx - 0.05 * s, top - 0.02 * s, 0.24 * s, 0.3 * s, 190, 320, light(c, 0.15))
        for du, dv, r in (
            (-0.2, -0.12, 0.05),
            (0.0, -0.27, 0.06),
            (0.18, -0.15, 0.045),
            (-0.06, -0.1, 0.03),
        ):
            p.oval(cx + du * s, top + dv * s, r * s, r * s * 0.8, WHITE)
    for _k in range(6):
        u = rng.uniform(0.0, p.aspect)
        p.poly([(u - 0.02, 1.0), (u, 0.9), (u + 0.02, 1.0)], LEAF)


@motif(
    "bonsai",
    ("bonsais", "houseplant", "plant", "plants", "sapling"),
    "table",
    1.1,
    0.55,
    (56, 128, 62),
    "indoor",
)
def _bonsai(p: Pen, c: RGB, rng: random.Random) -> None:
    pot = (70, 88, 128)
    p.poly([(0.22, 0.84), (0.88, 0.84), (0.82, 1.0), (0.28, 1.0)], pot)
    p.poly([(0.6, 0.84), (0.88, 0.84), (0.82, 1.0), (0.6, 1.0)], dark(pot, 0.75))
    p.rect(0.18, 0.8, 0.92, 0.85, light(pot, 0.2))
    p.oval(0.55, 0.81, 0.34, 0.02, (70, 50, 36))
    trunk = [(0.52, 0.81), (0.44, 0.64), (0.6, 0.46), (0.5, 0.3)]
    p.line(trunk, (110, 76, 46), 0.07)
    p.line([(0.48, 0.58), (0.3, 0.5)], (110, 76, 46), 0.035)
    p.line([(0.58, 0.48), (0.76, 0.4)], (110, 76, 46), 0.035)
    for u, v, rx, ry in (
        (0.28, 0.46, 0.17, 0.075),
        (0.78, 0.36, 0.18, 0.075),
        (0.5, 0.22, 0.22, 0.095),
    ):
        p.oval(u + 0.01, v + 0.02, rx, ry, dark(c, 0.7))
        p.oval(u, v, rx * 0.95, ry * 0.85, c)
        p.oval(u - rx * 0.2, v - ry * 0.25, rx * 0.5, ry * 0.4, light(c, 0.25))


# --- people and objects ----------------------------------------------------------------------

SKINS: tuple[RGB, ...] = ((241, 200, 170), (224, 172, 136), (190, 136, 100), (140, 96, 66))
HAIRS: tuple[RGB, ...] = ((60, 40, 28), (30, 26, 26), (170, 120, 60), (200, 80, 40), (120, 80, 50))


@motif(
    "person",
    (
        "portrait",
        "face",
        "woman",
        "man",
        "girl",
        "boy",
        "people",
        "selfie",
        "lady",
        "child",
        "kid",
        "astronaut",
        "wizard",
        "king",
        "queen",
        "princess",
        "farmer",
        "chef",
        "student",
        "headshot",
        "human",
    ),
    "frame",
    0.85,
    0.92,
    (60, 100, 170),
    "studio",
)
def _person(p: Pen, c: RGB, rng: random.Random) -> None:
    skin, hair = rng.choice(SKINS), rng.choice(HAIRS)
    cx = 0.425
    p.oval(cx, 0.42, 0.25, 0.3, hair)
    if rng.random() < 0.5:
        p.rect(cx - 0.25, 0.42, cx + 0.25, 0.82, hair, r=0.1)
    p.oval(cx, 1.16, 0.47, 0.36, c)
    p.oval(cx + 0.2, 1.2, 0.3, 0.36, dark(c, 0.8))
    p.rect(cx - 0.07, 0.6, cx + 0.07, 0.84, dark(skin, 0.88))
    p.chord(cx, 0.82, 0.12, 0.08, 0, 180, dark(skin, 0.88))
    for sx in (-1, 1):
        p.oval(cx + sx * 0.19, 0.44, 0.035, 0.05, dark(skin, 0.92))
    p.oval(cx, 0.42, 0.185, 0.24, skin)
    p.oval(cx + 0.09, 0.44, 0.09, 0.2, dark(skin, 0.94))
    p.chord(cx, 0.3, 0.2, 0.16, 180, 360, hair)
    p.poly([(cx - 0.2, 0.3), (cx + 0.05, 0.24), (cx - 0.1, 0.36)], hair)
    for sx in (-1, 1):
        e = cx + sx * 0.075
        p.line([(e - 0.04, 0.345), (e + 0.04, 0.34)], dark(hair, 0.8), 0.014)
        p.oval(e, 0.395, 0.038, 0.022, WHITE)
        p.circle(e, 0.395, 0.019, (70, 100, 130))
        p.circle(e, 0.395, 0.009, INK)
        p.circle(e + 0.008, 0.388, 0.005, WHITE)
        p.circle(e + sx * 0.015, 0.5, 0.04, mix(skin, (230, 120, 120), 0.25))
    p.line([(cx, 0.41), (cx - 0.02, 0.49), (cx + 0.015, 0.5)], dark(skin, 0.75), 0.01)
    p.chord(cx, 0.545, 0.06, 0.035, 0, 180, (180, 70, 80))
    p.line([(cx - 0.06, 0.545), (cx + 0.06, 0.545)], (150, 56, 64), 0.008)
    p.poly(
        [
            (cx - 0.09, 0.8),
            (cx, 0.92),
            (cx + 0.09, 0.8),
            (cx + 0.15, 0.84),
            (cx, 1.0),
            (cx - 0.15, 0.84),
        ],
        light(c, 0.25),
    )


@motif(
    "bottle",
    (
        "bottles",
        "product",
        "perfume",
        "shampoo",
        "lotion",
        "serum",
        "wine",
        "potion",
        "cosmetics",
        "skincare",
    ),
    "table",
    0.45,
    0.7,
    (62, 110, 190),
    "studio",
)
def _bottle(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.225
    p.rect(cx - 0.13, 0.3, cx + 0.13, 1.0, c, r=0.05)
    p.rect(cx + 0.05, 0.3, cx + 0.13, 1.0, dark(c, 0.75), r=0.04)
    p.rect(cx - 0.05, 0.14, cx + 0.05, 0.32, c)
    p.rect(cx + 0.02, 0.14, cx + 0.05, 0.32, dark(c, 0.75))
    p.rect(cx - 0.065, 0.04, cx + 0.065, 0.15, (38, 38, 46), r=0.015)
    p.rect(cx - 0.1, 0.5, cx + 0.1, 0.76, (250, 248, 240))
    p.rect(cx - 0.1, 0.58, cx + 0.1, 0.6, c)
    p.rect(cx - 0.07, 0.64, cx + 0.07, 0.655, (150, 150, 150))
    p.rect(cx - 0.05, 0.68, cx + 0.05, 0.69, (180, 180, 180))
    p.rect(cx - 0.1, 0.33, cx - 0.07, 0.95, light(c, 0.5))


@motif("teapot", ("teapots", "tea", "kettle"), "table", 1.4, 0.45, (78, 124, 186), "indoor")
def _teapot(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.68
    _steam(p, 1.3, 0.22, 0.3, 2)
    p.arc(cx - 0.42, 0.58, 0.15, 0.18, 90, 270, dark(c, 0.85), 0.06)
    p.poly([(cx + 0.28, 0.52), (cx + 0.56, 0.22), (cx + 0.64, 0.24), (cx + 0.34, 0.74)], c)
    p.oval(cx, 0.62, 0.4, 0.31, c)
    p.oval(cx + 0.12, 0.66, 0.26, 0.26, dark(c, 0.85))
    p.oval(cx - 0.06, 0.6, 0.3, 0.24, c)
    p.arc(cx, 0.62, 0.39, 0.12, 10, 170, WHITE, 0.025)
    for k in range(5):
        p.circle(cx - 0.24 + k * 0.12, 0.72 + 0.02 * math.sin(k), 0.025, WHITE)
    p.oval(cx - 0.15, 0.48, 0.07, 0.1, light(c, 0.55))
    p.oval(cx, 0.33, 0.22, 0.055, dark(c, 0.8))
    p.oval(cx, 0.31, 0.2, 0.045, light(c, 0.1))
    p.circle(cx, 0.25, 0.045, dark(c, 0.75))
    p.oval(cx, 0.94, 0.24, 0.045, dark(c, 0.6))


@motif(
    "cup",
    ("cups", "mug", "mugs", "coffee", "latte", "cappuccino", "espresso", "cocoa"),
    "table",
    1.2,
    0.42,
    (240, 236, 228),
    "indoor",
)
def _cup(p: Pen, c: RGB, rng: random.Random) -> None:
    p.oval(0.56, 0.94, 0.52, 0.07, dark(c, 0.9))
    p.oval(0.56, 0.92, 0.48, 0.055, c)
    _steam(p, 0.53, 0.22, 0.22)
    p.arc(0.9, 0.56, 0.14, 0.16, -90, 90, dark(c, 0.85), 0.06)
    p.poly([(0.2, 0.3), (0.86, 0.3), (0.8, 0.86), (0.26, 0.86)], c)
    p.oval(0.53, 0.86, 0.27, 0.05, c)
    p.poly([(0.6, 0.3), (0.86, 0.3), (0.8, 0.86), (0.6, 0.88)], dark(c, 0.8))
    p.rect(0.3, 0.36, 0.36, 0.8, light(c, 0.6))
    p.oval(0.53, 0.3, 0.33, 0.07, light(c, 0.3))
    p.oval(0.53, 0.31, 0.29, 0.05, (116, 68, 36))
    p.oval(0.53, 0.31, 0.12, 0.025, (200, 160, 110))


@motif(
    "book",
    ("books", "novel", "library", "diary", "notebook", "reading"),
    "table",
    1.5,
    0.4,
    (150, 40, 50),
    "indoor",
)
def _book(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.02, 0.48), (0.75, 0.6), (1.48, 0.48), (1.48, 0.9), (0.75, 1.0), (0.02, 0.9)], c)
    page = (246, 240, 222)
    for side in (-1, 1):

        def u(x: float, side: int = side) -> float:
            return 0.75 + side * (0.75 - x)

        top = bez((u(0.06), 0.44), (u(0.4), 0.3), (0.75, 0.54))
        bottom = bez((0.75, 0.94), (u(0.4), 0.78), (u(0.06), 0.86))
        p.poly(top + bottom, page if side < 0 else dark(page, 0.9))
        for k in range(7):
            t = 0.1 + k * 0.11
            row = bez(
                (u(0.14), 0.47 + t * 0.42), (u(0.42), 0.36 + t * 0.45), (u(0.68), 0.6 + t * 0.3)
            )
            p.line(row, (170, 164, 150), 0.008)
    p.line([(0.75, 0.54), (0.75, 0.96)], dark(page, 0.7), 0.012)
    p.line([(0.75, 0.5), (0.8, 0.96)], (200, 40, 40), 0.015)


@motif(
    "guitar",
    ("guitars", "ukulele", "violin", "music", "musician"),
    "table",
    0.5,
    0.85,
    (206, 124, 52),
    "indoor",
)
def _guitar(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.25
    p.rect(cx - 0.035, 0.08, cx + 0.035, 0.62, (90, 56, 32))
    for v in _steps(0.14, 0.5, 0.05):
        p.line([(cx - 0.035, v), (cx + 0.035, v)], (210, 200, 180), 0.005)
    p.poly(
        [(cx - 0.055, 0.0), (cx + 0.055, 0.0), (cx + 0.045, 0.1), (cx - 0.045, 0.1)], (60, 38, 24)
    )
    for v in (0.02, 0.05, 0.08):
        for sx in (-1, 1):
            p.circle(cx + sx * 0.07, v, 0.012, (220, 220, 226))
    p.circle(cx, 0.8, 0.2, c)
    p.circle(cx, 0.56, 0.15, c)
    p.rect(cx - 0.15, 0.6, cx + 0.15, 0.72, c)
    p.circle(cx + 0.04, 0.84, 0.16, dark(c, 0.88))
    p.circle(cx, 0.62, 0.06, (120, 76, 40))
    p.circle(cx, 0.62, 0.048, (30, 20, 16))
    p.rect(cx - 0.07, 0.84, cx + 0.07, 0.87, (60, 38, 24))
    for dx in (-0.02, -0.008, 0.004, 0.016):
        p.line([(cx + dx, 0.02), (cx + dx, 0.86)], (236, 230, 210), 0.003)


@motif("umbrella", ("umbrellas", "parasol"), "ground", 1.0, 0.55, (220, 50, 60), "city")
def _umbrella(p: Pen, c: RGB, rng: random.Random) -> None:
    p.line([(0.5, 0.42), (0.5, 0.9)], (60, 50, 46), 0.025)
    p.arc(0.45, 0.9, 0.05, 0.05, 0, 180, (60, 50, 46), 0.025)
    wedges = 6
    for k in range(wedges):
        u0, u1 = 0.05 + k * 0.9 / wedges, 0.05 + (k + 1) * 0.9 / wedges
        edge = [
            (u, 0.42 - 0.3 * math.sqrt(max(0.0, 1 - ((u - 0.5) / 0.45) ** 2)))
            for u in _steps(u0, u1, (u1 - u0) / 6)
        ]
        col = c if k % 2 == 0 else WHITE
        p.poly(
            [(0.5, 0.1), *edge, (u1, 0.42), *bez((u1, 0.42), ((u0 + u1) / 2, 0.36), (u0, 0.42))],
            col,
        )
        p.poly([(0.5, 0.1), ((u0 + u1) / 2, 0.39), (u1, 0.42)], dark(col, 0.85))
    p.line([(0.5, 0.1), (0.5, 0.04)], (60, 50, 46), 0.02)


@motif(
    "tent",
    ("tents", "camping", "campsite", "campfire", "camp"),
    "ground",
    1.3,
    0.5,
    (234, 120, 40),
    "forest",
)
def _tent(p: Pen, c: RGB, rng: random.Random) -> None:
    p.poly([(0.05, 0.95), (0.6, 0.12), (1.15, 0.95)], c)
    p.poly([(0.6, 0.12), (1.15, 0.95), (0.6, 0.95)], dark(c, 0.75))
    p.poly(
        [(0.45, 0.95), (0.6, 0.45), (0.75, 0.95)], (60, 40, 30) if not p.lit else LAMP, glow=p.lit
    )
    p.line([(0.6, 0.12), (0.6, 0.05)], INK, 0.012)
    p.line([(0.05, 0.95), (-0.1, 1.0)], (90, 90, 90), 0.006)
    fire = (1.22, 0.96)
    for a in (-30, 30):
        p.blob(fire[0], fire[1] - 0.01, 0.07, 0.02, a, WOOD)
    p.poly([(1.16, 0.95), (1.22, 0.78), (1.28, 0.95)], (255, 120, 30), glow=True)
    p.poly([(1.19, 0.95), (1.22, 0.85), (1.25, 0.95)], (255, 230, 120), glow=True)


@motif("snowman", ("snowmen", "snowwoman"), "ground", 0.7, 0.6, (246, 248, 255), "snow", "snow")
def _snowman(p: Pen, c: RGB, rng: random.Random) -> None:
    cx, shadow = 0.35, (170, 190, 220)
    p.line([(cx - 0.12, 0.52), (cx - 0.32, 0.36), (cx - 0.36, 0.3)], WOOD, 0.02)
    p.line([(cx + 0.12, 0.52), (cx + 0.32, 0.38), (cx + 0.38, 0.4)], WOOD, 0.02)
    for v, r in ((0.79, 0.21), (0.52, 0.155), (0.3, 0.115)):
        p.circle(cx, v, r, shadow)
        p.circle(cx - r * 0.08, v - r * 0.08, r * 0.92, c)
    for v in (0.47, 0.54, 0.61):
        p.circle(cx, v, 0.018, INK)
    for dx in (-0.04, 0.04):
        p.circle(cx + dx, 0.28, 0.016, INK)
    p.poly([(cx, 0.31), (cx + 0.15, 0.33), (cx, 0.35)], (246, 130, 30))
    for k in range(5):
        p.circle(cx - 0.05 + k * 0.025, 0.37 + 0.01 * math.sin(k * 0.8 + 0.4), 0.008, INK)
    p.rect(cx - 0.12, 0.4, cx + 0.12, 0.44, (200, 40, 44), r=0.02)
    p.rect(cx + 0.05, 0.42, cx + 0.1, 0.55, (180, 34, 40), r=0.02)
    p.rect(cx - 0.13, 0.19, cx + 0.13, 0.21, INK)
    p.rect(cx - 0.08, 0.05, cx + 0.08, 0.2, INK)
    p.rect(cx - 0.08, 0.15, cx + 0.08, 0.18, (200, 40, 44))


@motif(
    "robot",
    ("robots", "android", "droid", "bot", "cyborg", "mech", "automaton"),
    "ground",
    0.75,
    0.6,
    (150, 164, 186),
    "meadow",
)
def _robot(p: Pen, c: RGB, rng: random.Random) -> None:
    metal, shadow, panel = c, dark(c, 0.72), (48, 58, 74)
    for u in (0.2, 0.43):
        p.rect(u, 0.78, u + 0.12, 0.95, shadow)
        p.rect(u - 0.02, 0.93, u + 0.14, 1.0, panel, r=0.02)
    p.rect(0.02, 0.45, 0.1, 0.72, shadow, r=0.03)
    p.rect(0.65, 0.45, 0.73, 0.72, shadow, r=0.03)
    p.arc(0.06, 0.76, 0.05, 0.05, 200, 340, panel, 0.02)
    p.arc(0.69, 0.76, 0.05, 0.05, 200, 340, panel, 0.02)
    p.rect(0.12, 0.42, 0.63, 0.8, metal, r=0.05)
    p.rect(0.5, 0.42, 0.63, 0.8, shadow, r=0.04)
    p.rect(0.14, 0.44, 0.2, 0.78, light(metal, 0.35))
    p.rect(0.22, 0.52, 0.53, 0.7, panel, r=0.02)
    for i, col in enumerate(((240, 70, 60), (250, 200, 60), (80, 220, 120))):
        p.circle(0.29 + i * 0.08, 0.58, 0.022, col, glow=True)
    p.rect(0.26, 0.64, 0.49, 0.66, (110, 200, 230))
    p.rect(0.32, 0.38, 0.43, 0.43, shadow)
    p.rect(0.15, 0.12, 0.6, 0.39, metal, r=0.06)
    p.rect(0.48, 0.12, 0.6, 0.39, shadow, r=0.05)
    p.rect(0.1, 0.2, 0.15, 0.32, shadow, r=0.02)
    p.rect(0.6, 0.2, 0.65, 0.32, shadow, r=0.02)
    for u in (0.28, 0.47):
        p.circle(u, 0.24, 0.058, panel)
        p.circle(u, 0.24, 0.04, (90, 230, 255), glow=True)
        p.circle(u - 0.012, 0.228, 0.012, WHITE)
    p.rect(0.3, 0.31, 0.45, 0.35, panel, r=0.01)
    for u in (0.33, 0.36, 0.39, 0.42):
        p.line([(u, 0.31), (u, 0.35)], light(metal, 0.2), 0.006)
    p.line([(0.375, 0.12), (0.375, 0.04)], shadow, 0.012)
    p.circle(0.375, 0.035, 0.025, (240, 70, 60), glow=True)


@motif(
    "pumpkin",
    ("pumpkins", "halloween", "jackolantern", "gourd"),
    "ground",
    1.2,
    0.4,
    (238, 128, 30),
    "meadow",
    "autumn",
)
def _pumpkin(p: Pen, c: RGB, rng: random.Random) -> None:
    cx = 0.6
    p.line([(cx, 0.3), (cx + 0.04, 0.14), (cx + 0.1, 0.1)], (90, 110, 50), 0.05)
    for dx, rx, f in (
        (-0.3, 0.22, 0.78),
        (0.3, 0.22, 0.7),
        (-0.15, 0.22, 0.9),
        (0.15, 0.22, 0.85),
        (0.0, 0.2, 1.0),
    ):
        p.oval(cx + dx, 0.62, rx, 0.34, dark(c, f))
    p.oval(cx - 0.05, 0.5, 0.06, 0.14, light(c, 0.3))
    if p.lit:
        for dx in (-0.15, 0.15):
            p.poly(
                [(cx + dx - 0.06, 0.58), (cx + dx + 0.06, 0.58), (cx + dx, 0.48)], LAMP, glow=True
            )
        p.poly([(cx - 0.2, 0.7), (cx + 0.2, 0.7), (cx, 0.84)], LAMP, glow=True)


@motif(
    "cake",
    ("cakes", "birthday", "cupcake", "dessert", "pie"),
    "table",
    1.0,
    0.5,
    (238, 160, 180),
    "indoor",
)
def _cake(p: Pen, c: RGB, rng: random.Random) -> None:
    p.oval(0.5, 0.96, 0.48, 0.05, (236, 236, 240))
    for top, bottom, rx in ((0.55, 0.93, 0.4), (0.3, 0.56, 0.28)):
        p.rect(0.5 - rx, top, 0.5 + rx, bottom, c)
        p.oval(0.5, bottom, rx, 0.05, c)
        p.rect(0.5 + rx * 0.4, top, 0.5 + rx, bottom, dark(c, 0.85))
        p.oval(0.5, top, rx, 0.05, WHITE)
        for k in range(9):
            u = 0.5 - rx + (k + 0.5) * 2 * rx / 9
            p.oval(u, top + 0.04, 2 * rx / 18, 0.04 + 0.02 * (k % 2), WHITE)
    for u in (0.34, 0.46, 0.58, 0.7):
        p.circle(u, 0.5, 0.03, (214, 40, 60))
    for u in (0.38, 0.5, 0.62):
        p.rect(u - 0.012, 0.14, u + 0.012, 0.3, (120, 170, 230))
        p.blob(u, 0.1, 0.018, 0.04, 0, (255, 200, 70), glow=True)


@motif("apple", ("apples", "fruit", "fruits", "pear"), "table", 1.0, 0.4, (206, 36, 40), "indoor")
def _apple(p: Pen, c: RGB, rng: random.Random) -> None:
    p.circle(0.38, 0.6, 0.3, c)
    p.circle(0.62, 0.6, 0.3, dark(c, 0.88))
    p.oval(0.5, 0.66, 0.36, 0.3, c)
    p.oval(0.3, 0.5, 0.08, 0.12, light(c, 0.45))
    p.line([(0.5, 0.34), (0.52, 0.18), (0.56, 0.12)], (90, 60, 30), 0.03)
    p.blob(0.66, 0.2, 0.12, 0.05, -20, (80, 150, 60))


@motif(
    "shoe",
    ("shoes", "sneaker", "sneakers", "boot", "boots", "trainers"),
    "table",
    2.0,
    0.35,
    (60, 120, 210),
    "studio",
    facing=True,
)
def _shoe(p: Pen, c: RGB, rng: random.Random) -> None:
    upper = [
        (0.12, 0.82),
        *bez((0.1, 0.6), (0.08, 0.3), (0.3, 0.3)),
        *bez((0.42, 0.36), (0.55, 0.42), (0.64, 0.3)),
        (0.76, 0.16),
        (0.9, 0.2),
        *bez((0.95, 0.34), (1.4, 0.44), (1.86, 0.62)),
        (1.94, 0.82),
    ]
    p.poly(upper, c)
    p.poly([(0.64, 0.3), (0.76, 0.16), (0.9, 0.2), (1.2, 0.46), (0.95, 0.5)], light(c, 0.25))
    p.poly([(1.5, 0.5), (1.86, 0.62), (1.94, 0.82), (1.5, 0.82)], dark(c, 0.8))
    p.poly([(0.2, 0.72), (0.7, 0.52), (1.25, 0.68), (0.7, 0.64), (0.3, 0.8)], WHITE)
    p.circle(0.2, 0.5, 0.04, dark(c, 0.6))
    for k in range(5):
        u, v = 0.72 + k * 0.1, 0.3 + k * 0.045
        p.line([(u, v - 0.03), (u + 0.08, v + 0.05)], WHITE, 0.02)
        p.line([(u + 0.08, v - 0.03), (u, v + 0.05)], light(c, 0.6), 0.015)
    p.rect(0.04, 0.8, 1.98, 0.96, WHITE, r=0.06)
    p.rect(0.04, 0.9, 1.98, 0.96, (196, 196, 200), r=0.03)
    p.line([(0.1, 0.85), (1.9, 0.85)], (220, 220, 224), 0.01)


@motif("sun", ("suns", "sunshine", "sunny", "sunburst"), "sky", 1.0, 0.45, (255, 206, 60), "meadow")
def _sun(p: Pen, c: RGB, rng: random.Random) -> None:
    for k in range(12):
        a = k * math.pi / 6
        tip = (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a))
        l0 = (0.5 + 0.3 * math.cos(a - 0.16), 0.5 + 0.3 * math.sin(a - 0.16))
        l1 = (0.5 + 0.3 * math.cos(a + 0.16), 0.5 + 0.3 * math.sin(a + 0.16))
        p.poly([l0, tip, l1], light(c, 0.2), glow=True)
    p.circle(0.5, 0.5, 0.3, c, glow=True)
    p.circle(0.46, 0.46, 0.2, light(c, 0.4), glow=True)


@motif(
    "moon", ("moons", "crescent", "lunar", "fullmoon"), "sky", 1.0, 0.45, (236, 234, 218), "meadow"
)
def _moon(p: Pen, c: RGB, rng: random.Random) -> None:
    p.circle(0.5, 0.5, 0.46, c, glow=True)
    for du, dv, r in (
        (-0.15, -0.1, 0.1),
        (0.12, 0.15, 0.13),
        (0.18, -0.18, 0.06),
        (-0.1, 0.22, 0.07),
    ):
        p.circle(0.5 + du, 0.5 + dv, r, dark(c, 0.84))
        p.circle(0.5 + du - r * 0.15, 0.5 + dv - r * 0.15, r * 0.8, dark(c, 0.9))


@motif(
    "planet",
    ("planets", "saturn", "jupiter", "world", "globe", "earth", "mars"),
    "sky",
    1.6,
    0.55,
    (222, 172, 110),
    "space",
)
def _planet(p: Pen, c: RGB, rng: random.Random) -> None:
    cx, cy, r = 0.8, 0.5, 0.36
    ring = (230, 210, 170)
    p.arc(cx, cy, 0.76, 0.17, 180, 360, dark(ring, 0.8), 0.05)
    p.circle(cx, cy, r, c)
    for k, (v0, v1) in enumerate(((-0.22, -0.14), (-0.05, 0.03), (0.12, 0.2))):
        pts = [(cx - math.sqrt(max(0, r * r - v * v)), cy + v) for v in _steps(v0, v1, 0.02)]
        pts += [
            (cx + math.sqrt(max(0, r * r - v * v)), cy + v) for v in reversed(_steps(v0, v1, 0.02))
        ]
        p.poly(pts, dark(c, 0.8) if k != 1 else light(c, 0.2))
    p.chord(cx, cy, r, r, 300, 60, dark(c, 0.7))
    p.arc(cx, cy, 0.76, 0.17, 0, 180, ring, 0.05)
    p.arc(cx, cy, 0.68, 0.14, 0, 180, dark(ring, 0.85), 0.02)


def sketch(name: str, height: int = 128, colour: RGB | None = None) -> Image.Image:
    """Motif ``name`` alone on a transparent canvas ``height`` px tall (previews, tests)."""
    m = MOTIFS[name]
    pad = height // 4
    size = (round(height * m.aspect) + 2 * pad, height + 2 * pad)
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    glow = Image.new("RGB", size)
    pen = Pen(ImageDraw.Draw(img), ImageDraw.Draw(glow), (pad, pad, height), m.aspect)
    m.draw(pen, colour or m.colour, random.Random(name))
    return img
