"""Pictures that follow the prompt: subjects, a setting, the time of day and the weather.

``read_prompt`` finds what a prompt asks for by its words (motif nouns in ``motifs.py``, colour
and size adjectives, time, weather and setting words); ``compose`` draws it: a sky for the time
and weather, the setting's land, the main subject large and a second one smaller, each shaded
from the light's side, the whole lit by the time of day (night is dark and blue, dusk warm),
then rain, snow, fog or lightning over it and light sources glowing on top. The same prompt,
size and seed always give the same pixels; a prompt with no known noun gets a landscape chosen
by its text.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from .motifs import MOTIFS, RGB, WORDS, Motif, Pen, dark, light, mix

TIME_WORDS = {
    "night": "night",
    "nighttime": "night",
    "midnight": "night",
    "moonlight": "night",
    "moonlit": "night",
    "starry": "night",
    "stars": "night",
    "dark": "night",
    "nocturnal": "night",
    "dawn": "dawn",
    "sunrise": "dawn",
    "morning": "dawn",
    "daybreak": "dawn",
    "dusk": "dusk",
    "sunset": "dusk",
    "evening": "dusk",
    "twilight": "dusk",
    "sundown": "dusk",
    "day": "day",
    "daytime": "day",
    "noon": "day",
    "afternoon": "day",
}
WEATHER_WORDS = {
    "storm": "storm",
    "stormy": "storm",
    "thunder": "storm",
    "thunderstorm": "storm",
    "lightning": "storm",
    "tempest": "storm",
    "hurricane": "storm",
    "rain": "rain",
    "rainy": "rain",
    "raining": "rain",
    "drizzle": "rain",
    "downpour": "rain",
    "showers": "rain",
    "snow": "snow",
    "snowy": "snow",
    "snowing": "snow",
    "snowfall": "snow",
    "blizzard": "snow",
    "winter": "snow",
    "wintry": "snow",
    "snowflakes": "snow",
    "frost": "snow",
    "frosty": "snow",
    "fog": "fog",
    "foggy": "fog",
    "mist": "fog",
    "misty": "fog",
    "haze": "fog",
    "hazy": "fog",
    "autumn": "autumn",
    "autumnal": "autumn",
    "fall": "autumn",
    "leaves": "autumn",
}
SETTING_WORDS = {
    "forest": "forest",
    "woods": "forest",
    "woodland": "forest",
    "jungle": "forest",
    "city": "city",
    "town": "city",
    "street": "city",
    "downtown": "city",
    "urban": "city",
    "mountain": "mountains",
    "mountains": "mountains",
    "alps": "mountains",
    "valley": "mountains",
    "desert": "desert",
    "dunes": "desert",
    "sahara": "desert",
    "beach": "beach",
    "shore": "beach",
    "island": "beach",
    "tropical": "beach",
    "sea": "sea",
    "ocean": "sea",
    "waves": "sea",
    "coast": "coast",
    "seaside": "coast",
    "cliff": "coast",
    "cliffs": "coast",
    "harbor": "coast",
    "harbour": "coast",
    "lake": "lake",
    "river": "lake",
    "pond": "lake",
    "meadow": "meadow",
    "field": "meadow",
    "garden": "meadow",
    "park": "meadow",
    "farm": "meadow",
    "countryside": "meadow",
    "prairie": "meadow",
    "underwater": "underwater",
    "undersea": "underwater",
    "reef": "underwater",
    "coral": "underwater",
    "aquarium": "underwater",
    "space": "space",
    "galaxy": "space",
    "cosmos": "space",
    "universe": "space",
    "orbit": "space",
    "nebula": "space",
    "room": "indoor",
    "kitchen": "indoor",
    "table": "indoor",
    "desk": "indoor",
    "cafe": "indoor",
    "indoors": "indoor",
    "inside": "indoor",
    "shelf": "indoor",
    "bedroom": "indoor",
    "window": "window",
    "windowsill": "window",
    "studio": "studio",
}
COLOUR_WORDS: dict[str, RGB] = {
    "red": (206, 40, 40),
    "crimson": (180, 20, 50),
    "orange": (240, 130, 30),
    "yellow": (246, 204, 40),
    "golden": (222, 172, 50),
    "gold": (222, 172, 50),
    "green": (56, 150, 64),
    "blue": (46, 100, 204),
    "teal": (30, 140, 140),
    "turquoise": (40, 190, 190),
    "purple": (130, 60, 176),
    "violet": (140, 80, 200),
    "pink": (242, 120, 172),
    "white": (240, 240, 242),
    "black": (42, 40, 48),
    "brown": (130, 84, 50),
    "grey": (140, 142, 148),
    "gray": (140, 142, 148),
    "silver": (196, 198, 208),
}
SIZE_WORDS = {
    "tiny": 0.72,
    "small": 0.8,
    "little": 0.8,
    "miniature": 0.72,
    "big": 1.1,
    "large": 1.1,
    "giant": 1.18,
    "huge": 1.18,
    "enormous": 1.2,
    "massive": 1.2,
}
DEFAULT_SETTINGS = ("meadow", "lake", "coast", "desert", "mountains", "forest")
OUTDOOR_FOR = {"frame": "meadow", "table": "window"}

SKY: dict[str, list[tuple[float, RGB]]] = {
    "day": [(0.0, (58, 126, 220)), (0.7, (146, 194, 240)), (1.0, (200, 224, 246))],
    "dawn": [
        (0.0, (84, 100, 172)),
        (0.5, (222, 150, 172)),
        (0.85, (255, 190, 140)),
        (1.0, (255, 216, 164)),
    ],
    "dusk": [
        (0.0, (34, 28, 84)),
        (0.45, (168, 66, 100)),
        (0.8, (246, 118, 56)),
        (1.0, (255, 178, 78)),
    ],
    "night": [(0.0, (3, 5, 18)), (0.7, (14, 22, 58)), (1.0, (32, 42, 88))],
}
AMBIENT: dict[str, RGB] = {
    "day": (255, 255, 255),
    "dawn": (250, 212, 196),
    "dusk": (236, 158, 126),
    "night": (62, 76, 128),
}
INDOOR_AMBIENT: dict[str, RGB] = {
    "day": (255, 252, 244),
    "dawn": (252, 226, 206),
    "dusk": (236, 184, 150),
    "night": (160, 124, 92),
}
WEATHER_AMBIENT: dict[str, RGB] = {
    "storm": (136, 138, 156),
    "rain": (184, 186, 198),
    "fog": (224, 226, 232),
    "snow": (236, 240, 248),
}
WEATHER_SKY: dict[str, tuple[RGB, float]] = {
    "storm": ((62, 64, 74), 0.78),
    "rain": ((128, 134, 148), 0.6),
    "snow": ((224, 228, 236), 0.65),
    "fog": ((196, 200, 206), 0.7),
}
HORIZON = {
    "meadow": 0.6,
    "lake": 0.56,
    "sea": 0.6,
    "coast": 0.6,
    "beach": 0.58,
    "desert": 0.62,
    "forest": 0.56,
    "mountains": 0.62,
    "city": 0.68,
    "underwater": 1.0,
    "space": 1.0,
    "indoor": 0.5,
    "window": 0.62,
    "studio": 1.0,
}
GROUND = {
    "meadow": 0.92,
    "lake": 0.94,
    "sea": 0.9,
    "coast": 0.95,
    "beach": 0.93,
    "desert": 0.92,
    "forest": 0.93,
    "mountains": 0.93,
    "city": 0.93,
    "underwater": 0.93,
    "space": 0.92,
    "indoor": 0.86,
    "window": 0.83,
    "studio": 0.9,
}
SCENERY = {"mountains": ("mountain",), "lake": ("mountain",), "city": ("city",)}
GRASS: RGB = (98, 162, 72)
SAND: RGB = (226, 196, 140)
SNOW: RGB = (242, 245, 250)
WATER: RGB = (46, 110, 160)


@dataclass(frozen=True)
class Reading:
    """What a prompt asks for: subjects (motif name, colour from the prompt) and the scene."""

    subjects: tuple[tuple[str, RGB | None], ...]
    time: str = "day"
    weather: frozenset[str] = field(default_factory=frozenset)
    setting: str = ""
    size: float = 1.0


def _forms(word: str) -> list[str]:
    """The word and its likely singulars (foxes -> fox, wolves -> wolf)."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("ves") and len(word) > 4:
        forms += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    return forms


def _lookup(table: dict[str, str], word: str) -> str | None:
    return next((table[f] for f in _forms(word) if f in table), None)


def read_prompt(prompt: str) -> Reading:
    """Subjects, time, weather, setting and size from the words of ``prompt``."""
    words = re.findall(r"[a-z]+", prompt.lower())
    text = " ".join(words)
    subjects: list[tuple[str, RGB | None]] = []
    setting_subjects: list[tuple[str, RGB | None]] = []
    time, setting, size = "", "", 1.0
    weather: set[str] = set()
    pending: RGB | None = None
    previous: str | None = None
    for word in words:
        if word in COLOUR_WORDS:
            pending, previous = COLOUR_WORDS[word], None
            continue
        if word in SIZE_WORDS and not subjects:
            size = SIZE_WORDS[word]
        found_setting = _lookup(SETTING_WORDS, word)
        if found_setting and not setting:
            setting = found_setting
        if word in TIME_WORDS and not time:
            time = TIME_WORDS[word]
        found_weather = _lookup(WEATHER_WORDS, word)
        if found_weather:
            weather.add(found_weather)
        name = _lookup(WORDS, word)
        if name is None:
            previous = None
            continue
        if previous is not None:  # "palm tree", "teddy bear": one thing, named by the first word
            continue
        previous = name
        seen = [n for n, _ in subjects + setting_subjects]
        if name not in seen:
            (setting_subjects if found_setting else subjects).append((name, pending))
        pending = None
    if re.search(r"\bunder (the )?(sea|water|ocean|waves)\b", text):
        setting = "underwater"
    if "storm" in weather:
        weather.add("rain")
    chosen = (subjects or setting_subjects)[:2]
    for name, _ in chosen[:1]:
        motif = MOTIFS[name]
        if motif.weather:
            weather.add(motif.weather)
    return Reading(tuple(chosen), time or "day", frozenset(weather), setting, size)


# --- drawing helpers --------------------------------------------------------------------------


def _gradient(size: tuple[int, int], stops: Sequence[tuple[float, RGB]]) -> Image.Image:
    """A vertical gradient through ``stops`` (position 0..1, colour)."""
    w, h = size
    column = Image.new("RGB", (1, h))
    px = column.load()
    assert px is not None
    for y in range(h):
        t = y / max(1, h - 1)
        for (t0, c0), (t1, c1) in itertools.pairwise(stops):
            if t <= t1 or (t1, c1) == stops[-1]:
                px[0, y] = mix(c0, c1, min(1.0, max(0.0, (t - t0) / max(1e-6, t1 - t0))))
                break
    return column.resize((w, h), Image.Resampling.NEAREST)


def _times(c: Sequence[int], k: Sequence[int]) -> RGB:
    return (c[0] * k[0] // 255, c[1] * k[1] // 255, c[2] * k[2] // 255)


def _wave(
    w: int, base: float, amp: float, freq: float, phase: float, step: int = 6
) -> list[tuple[float, float]]:
    return [
        (x, base - amp * math.sin(freq * x / max(1, w) * math.pi + phase))
        for x in range(0, w + step, step)
    ]


@dataclass
class Scene:
    """One picture being drawn: its layers, its light, and the reading it follows."""

    reading: Reading
    rng: random.Random
    size: tuple[int, int]
    setting: str
    #: How many times thicker than usual the thinnest strokes (rain) are drawn: a style that
    #: averages blocks of pixels (pixel art) would otherwise wipe them out.
    stroke: float = 1.0
    sky: Image.Image = field(init=False)
    world: Image.Image = field(init=False)
    glow: Image.Image = field(init=False)
    sun_x: float = 0.7

    def __post_init__(self) -> None:
        w, h = self.size
        self.world = Image.new("RGBA", self.size, (0, 0, 0, 0))
        self.things = Image.new("RGBA", self.size, (0, 0, 0, 0))  # subjects, lit by a key light
        self.glow = Image.new("RGB", self.size, (0, 0, 0))
        self.wd = ImageDraw.Draw(self.world)
        self.gd = ImageDraw.Draw(self.glow)
        self.sgd = self.gd
        self.horizon = h * HORIZON[self.setting]
        self.ground = h * GROUND[self.setting]
        self.u = min(w, h) / 512  # one "pixel" at the 512 px working size

    @property
    def time(self) -> str:
        return self.reading.time

    @property
    def weather(self) -> frozenset[str]:
        return self.reading.weather

    @property
    def overcast(self) -> bool:
        return bool(self.weather & {"storm", "rain", "fog"})

    @property
    def lit(self) -> bool:
        return self.time in ("night", "dusk") or "storm" in self.weather

    @property
    def season(self) -> str:
        return "snow" if "snow" in self.weather else "autumn" if "autumn" in self.weather else ""

    def ambient(self) -> RGB:
        if self.setting == "underwater":
            return (96, 176, 206) if self.time != "night" else (30, 60, 96)
        if self.setting == "space":
            return (236, 236, 246)
        table = INDOOR_AMBIENT if self.setting in ("indoor", "window") else AMBIENT
        amb = table[self.time]
        if self.setting not in ("indoor", "window", "studio"):
            for name, k in WEATHER_AMBIENT.items():
                if name in self.weather:
                    amb = _times(amb, k)
        return amb

    def ground_colour(self, base: RGB = GRASS) -> RGB:
        if self.season == "snow":
            return SNOW
        if self.season == "autumn" and base == GRASS:
            return (196, 150, 66)
        return base


def _pixel(image: Image.Image, xy: tuple[int, int]) -> RGB:
    """One RGB pixel as a tuple (Pillow types ``getpixel`` loosely)."""
    value = image.getpixel(xy)
    if isinstance(value, tuple):
        return (int(value[0]), int(value[1]), int(value[2]))
    level = int(value or 0)
    return (level, level, level)


def _horizon_colour(scene: Scene) -> RGB:
    """The sky's colour just above the horizon: what far land and haze fade into."""
    return _pixel(scene.sky, (0, max(0, int(scene.horizon) - 2)))


# --- sky --------------------------------------------------------------------------------------


def _sky_stops(scene: Scene) -> list[tuple[float, RGB]]:
    if scene.setting == "underwater":
        top = (50, 170, 206) if scene.time != "night" else (10, 40, 70)
        return [(0.0, top), (1.0, (4, 34, 76) if scene.time != "night" else (2, 10, 26))]
    if scene.setting == "space":
        return [(0.0, (2, 2, 10)), (1.0, (16, 10, 40))]
    if scene.setting == "studio":
        hue = scene.rng.choice(((220, 226, 236), (236, 226, 214), (214, 230, 222), (232, 218, 228)))
        return [(0.0, hue), (1.0, dark(hue, 0.78))]
    stops = SKY[scene.time]
    for name, (grey, amount) in WEATHER_SKY.items():
        if name in scene.weather:
            night = 0.45 if scene.time == "night" else 1.0
            stops = [(t, dark(mix(c, grey, amount), night)) for t, c in stops]
    return stops


def _draw_sky(scene: Scene) -> None:
    w, h = scene.size
    rng = scene.rng
    span = max(1, int(scene.horizon)) if scene.horizon < h else h
    sky = _gradient((w, span), _sky_stops(scene))
    if span < h:
        full = Image.new("RGB", (w, h), sky.getpixel((0, span - 1)))
        full.paste(sky, (0, 0))
        sky = full
    scene.sky = sky
    if scene.setting in ("studio",):
        return
    d = ImageDraw.Draw(sky, "RGBA")
    sky_glow = Image.new("RGB", (w, h))
    scene.sgd = ImageDraw.Draw(sky_glow)  # sun, moon and stars shine on the sky only
    if scene.setting == "space":
        _stars(scene, d, 420)
        scene.sky = _shine(sky, sky_glow, 1.0)
        _nebula(scene)
        return
    if scene.setting == "underwater":
        _rays(scene)
        return
    scene.sun_x = rng.uniform(0.15, 0.85)
    sx = scene.sun_x * w
    behind_clouds = scene.time == "night" and scene.overcast  # the moon shows through a gap
    if scene.time == "night":
        if not scene.overcast or "storm" in scene.weather:
            _stars(scene, d, 160 if not scene.overcast else 40)
        if not behind_clouds:
            _moon(scene, d, sx)
    elif not scene.overcast and not any(n == "sun" for n, _ in scene.reading.subjects):
        low = scene.time in ("dawn", "dusk")
        r = (0.09 if scene.time == "dusk" else 0.065) * h
        sy = scene.horizon - r * 0.5 if low else rng.uniform(0.1, 0.2) * h
        colour = {"dawn": (255, 226, 170), "dusk": (255, 150, 70)}.get(scene.time, (255, 248, 220))
        for i in range(12):  # a soft halo: faint rings, brighter inwards, no visible steps
            k = 2.8 - i * 0.15
            d.ellipse((sx - r * k, sy - r * k, sx + r * k, sy + r * k), fill=(*colour, 9))
        scene.sgd.ellipse((sx - r, sy - r, sx + r, sy + r), fill=colour)
        d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=colour)
    if behind_clouds:
        _clouds(scene, d)
        _moon(scene, d, sx)
        scene.sky = _shine(sky, sky_glow, 1.0)
        return
    scene.sky = _shine(sky, sky_glow, 1.0 if scene.time == "night" else 0.8)
    _clouds(scene, ImageDraw.Draw(scene.sky, "RGBA"))


def _moon(scene: Scene, d: ImageDraw.ImageDraw, sx: float) -> None:
    """A full moon with a faint halo (unless the prompt's subject is the moon itself)."""
    if any(n == "moon" for n, _ in scene.reading.subjects):
        return
    h = scene.size[1]
    r = 0.055 * h
    sy = scene.rng.uniform(0.1, 0.22) * h
    for i in range(10):  # moonlit haze, faint rings brighter inwards
        k = 2.6 - i * 0.14
        d.ellipse((sx - r * k, sy - r * k, sx + r * k, sy + r * k), fill=(200, 210, 240, 7))
    d.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(238, 236, 220))
    d.ellipse((sx - r * 0.5, sy - r * 0.4, sx - r * 0.1, sy), fill=(214, 212, 198))
    d.ellipse((sx + r * 0.2, sy + r * 0.1, sx + r * 0.6, sy + r * 0.5), fill=(220, 218, 202))
    scene.sgd.ellipse((sx - r, sy - r, sx + r, sy + r), fill=(120, 120, 112))


def _stars(scene: Scene, d: ImageDraw.ImageDraw, count: int) -> None:
    w, h = scene.size
    rng = scene.rng
    top = scene.horizon if scene.horizon < h else h
    for _ in range(int(count * w * h / 512 / 512)):
        x, y = rng.uniform(0, w), rng.uniform(0, top * 0.95)
        r = rng.choice((0.6, 0.8, 1.0, 1.0, 1.6)) * scene.u
        c = rng.choice(((255, 255, 255), (210, 220, 255), (255, 236, 200)))
        d.ellipse((x - r, y - r, x + r, y + r), fill=(*c, 255))
        if r > 1.2 * scene.u:
            scene.sgd.ellipse((x - r * 2, y - r * 2, x + r * 2, y + r * 2), fill=(90, 90, 110))


def _nebula(scene: Scene) -> None:
    small = Image.new("RGB", (48, 48))
    d = ImageDraw.Draw(small)
    rng = scene.rng
    for _ in range(5):
        x, y, r = rng.uniform(0, 48), rng.uniform(0, 48), rng.uniform(6, 16)
        c = rng.choice(((90, 30, 120), (30, 60, 130), (130, 30, 80), (20, 90, 110)))
        d.ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=c)
    cloud = small.filter(ImageFilter.GaussianBlur(5)).resize(scene.size, Image.Resampling.BILINEAR)
    scene.sky = ImageChops.screen(scene.sky, cloud)
    if not any(MOTIFS[n].name == "planet" for n, _ in scene.reading.subjects):
        w, h = scene.size
        x, y, r = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.3) * h, 0.05 * h
        c = rng.choice(((200, 120, 90), (120, 160, 210), (210, 190, 140)))
        dd = ImageDraw.Draw(scene.sky)
        dd.ellipse((x - r, y - r, x + r, y + r), fill=c)
        dd.chord((x - r, y - r, x + r, y + r), 300, 120, fill=dark(c, 0.55))


def _rays(scene: Scene) -> None:
    w, h = scene.size
    rng = scene.rng
    for _ in range(5):
        x = rng.uniform(-0.1, 1.0) * w
        spread = rng.uniform(0.04, 0.1) * w
        shift = 0.25 * w
        scene.gd.polygon(
            [(x, 0), (x + spread, 0), (x + spread * 2.5 + shift, h), (x + shift, h)],
            fill=(22, 44, 46),
        )


def _cloud(
    d: ImageDraw.ImageDraw,
    x: float,
    y: float,
    s: float,
    top: RGB,
    under: RGB,
    rng: random.Random,
    alpha: int = 255,
) -> None:
    """A fluffy cloud: a flat darker base under a few lit puffs."""
    d.ellipse((x - s * 1.3, y - s * 0.25, x + s * 1.3, y + s * 0.35), fill=(*under, alpha))
    for _ in range(5):
        dx, r = rng.uniform(-0.9, 0.9) * s, rng.uniform(0.35, 0.6) * s
        d.ellipse((x + dx - r, y - r * 1.2, x + dx + r, y + r * 0.4), fill=(*top, alpha))


def _clouds(scene: Scene, d: ImageDraw.ImageDraw) -> None:
    w = scene.size[0]
    rng = scene.rng
    top, under = {
        "day": ((252, 252, 254), (214, 220, 234)),
        "dawn": ((255, 222, 220), (214, 160, 176)),
        "dusk": ((255, 168, 130), (140, 70, 100)),
        "night": ((48, 54, 80), (24, 28, 46)),
    }[scene.time]
    sky_top = scene.horizon
    if "storm" in scene.weather or "rain" in scene.weather:
        storm = "storm" in scene.weather
        base = (72, 74, 86) if storm else (150, 154, 166)
        if scene.time == "night":
            base = dark(base, 0.5)
        for layer in range(3):
            shade = dark(base, 1.0 - 0.18 * layer) if storm else light(base, 0.1 * layer)
            for _ in range(int(7 * w / 512) + 3):
                x = rng.uniform(-0.1, 1.1) * w
                y = rng.uniform(-0.05, 0.2 + 0.08 * layer) * sky_top
                s = rng.uniform(0.12, 0.22) * w
                _cloud(d, x, y, s, light(shade, 0.08), dark(shade, 0.85), rng)
        return
    if "fog" in scene.weather:
        return
    if "snow" in scene.weather:
        top, under = light(top, 0.1), mix(under, (200, 206, 216), 0.5)
    for _ in range(rng.randint(2, 4)):
        x, y = rng.uniform(0.05, 0.95) * w, rng.uniform(0.1, 0.45) * sky_top
        _cloud(d, x, y, rng.uniform(0.07, 0.12) * w, top, under, rng)


# --- land -------------------------------------------------------------------------------------


def _hills(scene: Scene, base: RGB, layers: int = 3, far: float = 0.0) -> None:
    w, h = scene.size
    rng = scene.rng
    span = scene.ground - scene.horizon
    haze = _horizon_colour(scene)
    for layer in range(layers):
        y = scene.horizon + span * (far + layer * 0.32)
        amp = h * rng.uniform(0.02, 0.05)
        pts = _wave(w, y, amp, rng.uniform(1.2, 3.0), rng.uniform(0, 6.3))
        colour = mix(dark(base, 0.8 + 0.1 * layer), haze, 0.45 - 0.2 * layer)
        scene.wd.polygon([*pts, (w, h), (0, h)], fill=colour)
        if layer == 0 and scene.setting in ("meadow", "lake", "mountains"):
            for _ in range(rng.randint(3, 7)):
                x = rng.uniform(0, w)
                ty = y - amp * 0.5 + h * 0.01
                r = rng.uniform(0.008, 0.014) * h
                tree = mix(dark(GRASS, 0.55), haze, 0.3)
                if scene.season == "autumn":
                    tree = mix((180, 90, 40), haze, 0.3)
                scene.wd.polygon([(x - r, ty), (x, ty - r * 3.5), (x + r, ty)], fill=tree)


def _water(scene: Scene, top: float, bottom: float) -> None:
    w, _ = scene.size
    rng = scene.rng
    haze = _horizon_colour(scene)
    far, near = mix(WATER, haze, 0.45), dark(WATER, 0.7)
    if "snow" in scene.weather or "fog" in scene.weather:
        far = mix(far, (200, 206, 214), 0.3)
    band = _gradient((w, max(1, int(bottom - top))), [(0.0, far), (1.0, near)]).convert("RGBA")
    scene.world.paste(band, (0, int(top)))
    rough = 2.0 if "storm" in scene.weather else 1.0
    for _ in range(int(60 * rough)):
        y = rng.uniform(top, bottom)
        t = (y - top) / max(1, bottom - top)
        x = rng.uniform(0, w)
        length = (0.02 + 0.06 * t) * w * rough
        colour = light(mix(far, near, t), 0.3 if rough < 2 else 0.5)
        scene.wd.line(
            (x, y, x + length, y), fill=colour, width=max(1, round(scene.u * (1 + 2 * t)))
        )
    if not scene.overcast and scene.setting != "lake":
        sx = scene.sun_x * w
        glint = (70, 60, 40) if scene.time != "night" else (40, 40, 46)
        for k in range(18):
            y = top + (bottom - top) * k / 18
            half = (0.01 + 0.05 * k / 18) * w
            scene.gd.line(
                (sx - half, y, sx + half, y), fill=glint, width=max(1, round(scene.u * 2))
            )


def _draw_land(scene: Scene, skip_scenery: set[str]) -> None:
    w, h = scene.size
    rng = scene.rng
    s = scene.setting
    wd = scene.wd
    if s in ("meadow", "mountains"):
        if s == "mountains" and "mountain" not in skip_scenery:
            _backdrop(scene, MOTIFS["mountain"], None, 0.55)
        _hills(scene, scene.ground_colour())
    elif s == "forest":
        haze = _horizon_colour(scene)
        pine = (40, 96, 60) if scene.season != "autumn" else (150, 80, 36)
        for row in range(3):
            base = scene.horizon + (scene.ground - scene.horizon) * row * 0.18
            size = h * (0.14 + row * 0.06)
            colour = mix(dark(pine, 0.9 - 0.12 * row), haze, 0.55 - 0.22 * row)
            x = rng.uniform(-0.05, 0) * w
            while x < w * 1.05:
                tip = base - size * rng.uniform(0.7, 1.1)
                half = size * 0.22
                wd.polygon([(x - half, base), (x, tip), (x + half, base)], fill=colour)
                if scene.season == "snow":
                    wd.polygon(
                        [
                            (x - half * 0.4, tip + (base - tip) * 0.35),
                            (x, tip),
                            (x + half * 0.4, tip + (base - tip) * 0.35),
                        ],
                        fill=mix(SNOW, haze, 0.3 - 0.1 * row),
                    )
                x += half * rng.uniform(1.1, 1.8)
            wd.rectangle((0, base, w, h), fill=colour)
        floor = scene.ground_colour((70, 120, 56))
        y = scene.horizon + (scene.ground - scene.horizon) * 0.5
        scene.wd.polygon(
            [*_wave(w, y, h * 0.015, 1.5, rng.uniform(0, 6.3)), (w, h), (0, h)], fill=floor
        )
    elif s == "desert":
        far = mix((200, 140, 100), _horizon_colour(scene), 0.4)
        x = rng.uniform(0.1, 0.7) * w
        mesa_w, mesa_h = rng.uniform(0.15, 0.3) * w, rng.uniform(0.05, 0.1) * h
        wd.polygon(
            [
                (x, scene.horizon),
                (x + mesa_w * 0.1, scene.horizon - mesa_h),
                (x + mesa_w * 0.9, scene.horizon - mesa_h),
                (x + mesa_w, scene.horizon),
            ],
            fill=far,
        )
        sand = scene.ground_colour(SAND)
        for layer in range(3):
            y = scene.horizon + (scene.ground - scene.horizon) * layer * 0.3
            pts = _wave(w, y, h * 0.03, rng.uniform(1, 2.5), rng.uniform(0, 6.3))
            wd.polygon([*pts, (w, h), (0, h)], fill=dark(sand, 0.8 + 0.1 * layer))
            crest = [(x, y2 + h * 0.012) for x, y2 in pts]
            wd.line(crest, fill=light(sand, 0.25), width=max(1, round(scene.u * 2)))
    elif s in ("sea", "coast", "beach", "lake"):
        if s == "lake" and "mountain" not in skip_scenery:
            _backdrop(scene, MOTIFS["mountain"], (120, 130, 150), 0.4)
            _water(scene, scene.horizon, h * 0.8)
            near = scene.ground_colour()
            pts = _wave(w, h * 0.8, h * 0.02, 1.5, rng.uniform(0, 6.3))
            wd.polygon([*pts, (w, h), (0, h)], fill=near)
        else:
            _water(scene, scene.horizon, h)
        if s == "beach":
            sand = scene.ground_colour(SAND)
            pts = _wave(w, h * 0.8, h * 0.03, 1.2, rng.uniform(0, 6.3))
            wd.line(pts, fill=(246, 248, 250), width=max(2, round(scene.u * 5)))
            wd.polygon([*[(x, y + 3 * scene.u) for x, y in pts], (w, h), (0, h)], fill=sand)
        if s == "coast":
            rock = (96, 90, 86)
            side = rng.choice((0, 1))
            x0 = 0 if side == 0 else w
            sign = 1 if side == 0 else -1
            wd.polygon(
                [
                    (x0, scene.horizon - h * 0.12),
                    (x0 + sign * w * 0.12, scene.horizon - h * 0.1),
                    (x0 + sign * w * 0.2, scene.horizon + h * 0.05),
                    (x0 + sign * w * 0.3, h),
                    (x0, h),
                ],
                fill=rock,
            )
            wd.polygon(
                [
                    (x0, scene.horizon - h * 0.125),
                    (x0 + sign * w * 0.12, scene.horizon - h * 0.1),
                    (x0 + sign * w * 0.1, scene.horizon - h * 0.07),
                    (x0, scene.horizon - h * 0.07),
                ],
                fill=scene.ground_colour(),
            )
    elif s == "city":
        if "city" not in skip_scenery:
            _backdrop(scene, MOTIFS["city"], None, 0.42)
        wd.rectangle((0, scene.horizon, w, h), fill=(84, 86, 94))
        wd.rectangle((0, scene.horizon, w, scene.horizon + h * 0.04), fill=(150, 150, 156))
        if scene.season == "snow":
            wd.rectangle((0, scene.horizon, w, h), fill=(226, 230, 238))
        for k in range(6):
            x = (k + 0.3) * w / 6
            y = scene.horizon + (h - scene.horizon) * 0.55
            wd.rectangle((x, y, x + w * 0.06, y + h * 0.012), fill=(230, 220, 160))
        if "rain" in scene.weather:
            for _ in range(8):
                x, y = rng.uniform(0, w), rng.uniform(scene.horizon + h * 0.06, h)
                wd.ellipse(
                    (x - w * 0.08, y - h * 0.008, x + w * 0.08, y + h * 0.008), fill=(110, 114, 126)
                )
    elif s == "underwater":
        sand = (194, 172, 124)
        pts = _wave(w, scene.ground - h * 0.04, h * 0.025, 2.0, rng.uniform(0, 6.3))
        wd.polygon([*pts, (w, h), (0, h)], fill=sand)
        for _ in range(7):
            x = rng.uniform(0, w)
            tall = rng.uniform(0.12, 0.3) * h
            pts = [
                (x + 0.02 * w * math.sin(k * 0.9), scene.ground - tall * k / 8) for k in range(9)
            ]
            wd.line(pts, fill=(40, 130, 70), width=max(2, round(scene.u * 6)), joint="curve")
        for _ in range(4):
            x, r = rng.uniform(0, w), rng.uniform(0.03, 0.06) * w
            c = rng.choice(((236, 110, 120), (246, 160, 80), (190, 90, 170)))
            wd.ellipse((x - r, scene.ground - r * 1.3, x + r, scene.ground + r * 0.4), fill=c)
            wd.ellipse(
                (x - r * 0.5, scene.ground - r * 1.1, x + r * 0.2, scene.ground - r * 0.5),
                fill=light(c, 0.3),
            )
    elif s == "space":
        if any(
            MOTIFS[n].place in ("ground", "table", "perch", "frame", "coast")
            for n, _ in scene.reading.subjects
        ):
            rock = (150, 150, 158)
            pts = _wave(w, scene.ground - h * 0.06, h * 0.02, 2.5, rng.uniform(0, 6.3))
            wd.polygon([*pts, (w, h), (0, h)], fill=rock)
            for _ in range(6):
                x, y = rng.uniform(0, w), rng.uniform(scene.ground - h * 0.02, h)
                r = rng.uniform(0.02, 0.05) * w
                wd.ellipse((x - r, y - r * 0.3, x + r, y + r * 0.3), fill=dark(rock, 0.75))
                wd.ellipse(
                    (x - r * 0.8, y - r * 0.2, x + r * 0.9, y + r * 0.3), fill=dark(rock, 0.88)
                )
    elif s in ("indoor", "window"):
        _room(scene)
    elif s == "studio":
        floor = mix(_pixel(scene.sky, (0, h - 1)), (255, 255, 255), 0.2)
        wd.rectangle((0, scene.ground, w, h), fill=floor)
        wd.ellipse(
            (w * 0.15, scene.ground - h * 0.03, w * 0.85, scene.ground + h * 0.05),
            fill=light(floor, 0.2),
        )


def _room(scene: Scene) -> None:
    """A wall with a window onto the sky (and the weather), and a table or a sill in front."""
    w, h = scene.size
    rng = scene.rng
    wall = rng.choice(((226, 212, 186), (196, 214, 206), (222, 200, 196), (206, 206, 220)))
    wd = scene.wd
    if scene.setting == "window":
        box = (w * 0.12, h * 0.06, w * 0.88, scene.ground - h * 0.04)
    else:
        box = (w * 0.56, h * 0.1, w * 0.9, h * 0.5)
        if rng.random() < 0.5:
            box = (w - box[2], box[1], w - box[0], box[3])
    # The window shows the scene's sky (and land) through a hole in the wall.
    x0, y0, x1, y1 = box
    land = _gradient(
        (int(x1 - x0), max(1, int(y1 - scene.horizon))),
        [(0.0, mix(scene.ground_colour(), (150, 170, 190), 0.4)), (1.0, scene.ground_colour())],
    )
    if scene.horizon < y1:
        scene.sky.paste(land, (int(x0), int(scene.horizon)))
    wd.rectangle((0, 0, w, y0), fill=wall)
    wd.rectangle((0, y1, w, h), fill=wall)
    wd.rectangle((0, y0, x0, y1), fill=wall)
    wd.rectangle((x1, y0, w, y1), fill=wall)
    frame = (246, 244, 238)
    t = max(2, round(w * 0.014))
    wd.rectangle((x0 - t, y0 - t, x1 + t, y0), fill=frame)
    wd.rectangle((x0 - t, y0, x0, y1), fill=frame)
    wd.rectangle((x1, y0, x1 + t, y1), fill=frame)
    wd.rectangle(((x0 + x1) / 2 - t / 2, y0, (x0 + x1) / 2 + t / 2, y1), fill=frame)
    wd.rectangle((x0, (y0 + y1) / 2 - t / 2, x1, (y0 + y1) / 2 + t / 2), fill=frame)
    curtain = rng.choice(((170, 60, 60), (60, 90, 150), (200, 160, 80)))
    for cx in (x0 - t, x1 + t):
        wd.polygon(
            [
                (cx - w * 0.06, y0 - t),
                (cx + w * 0.06, y0 - t),
                (cx + w * 0.03, y1),
                (cx - w * 0.05, y1),
            ],
            fill=curtain,
        )
        wd.line([(cx, y0), (cx - w * 0.01, y1)], fill=dark(curtain, 0.75), width=max(1, t // 2))
    if scene.setting == "window":
        wd.rectangle((0, scene.ground, w, scene.ground + h * 0.05), fill=frame)
        wd.rectangle(
            (0, scene.ground + h * 0.05, w, scene.ground + h * 0.07), fill=dark(frame, 0.8)
        )
    else:
        wood = (150, 100, 60)
        wd.rectangle((0, scene.ground - h * 0.04, w, h), fill=wood)
        wd.rectangle(
            (0, scene.ground - h * 0.04, w, scene.ground + h * 0.02), fill=light(wood, 0.15)
        )
        for k in range(6):
            y = scene.ground + h * 0.04 + k * h * 0.025
            wd.line((0, y, w, y + h * 0.01), fill=dark(wood, 0.85), width=1)
    if scene.time in ("night", "dusk"):
        lamp = (w * 0.12 if x0 > w / 2 else w * 0.88, h * 0.22)
        r = 0.035 * w
        lx, ly = lamp
        shade = [(lx - r, ly), (lx + r, ly), (lx + r * 0.6, ly - r), (lx - r * 0.6, ly - r)]
        wd.polygon(shade, fill=(240, 200, 120))
        scene.gd.ellipse((lx - r * 6, ly - r * 4, lx + r * 6, ly + r * 8), fill=(70, 50, 24))
        scene.gd.polygon(shade, fill=(240, 200, 120))


# --- subjects ---------------------------------------------------------------------------------


def _colour(motif: Motif, asked: RGB | None, rng: random.Random) -> RGB:
    if asked is not None:
        return mix(motif.colour, asked, 0.75)
    if motif.name == "cat":
        return rng.choice(((228, 146, 70), (130, 130, 140), (60, 58, 64), (236, 232, 224)))
    jitter = rng.uniform(-0.08, 0.08)
    return mix(motif.colour, (255, 255, 255) if jitter > 0 else (0, 0, 0), abs(jitter))


def _layer_draw(
    scene: Scene, motif: Motif, colour: RGB, box: tuple[float, float, float], flip: bool
) -> Image.Image:
    layer = Image.new("RGBA", scene.size, (0, 0, 0, 0))
    pen = Pen(
        ImageDraw.Draw(layer),
        scene.gd,
        box,
        motif.aspect,
        flip,
        lit=scene.lit or (scene.setting == "underwater" and scene.time == "night"),
        season=scene.season,
    )
    motif.draw(pen, colour, scene.rng)
    return layer


def _shade(
    scene: Scene, layer: Image.Image, box: tuple[float, float, float], aspect: float
) -> None:
    """Form shading: the side away from the light darker, the lit side as drawn."""
    x0, y0, s = box
    w, h = scene.size
    bx0, by0 = max(0, int(x0)), max(0, int(y0))
    bx1, by1 = min(w, int(x0 + s * aspect) + 1), min(h, int(y0 + s) + 1)
    if bx1 - bx0 < 2 or by1 - by0 < 2:
        return
    from_left = scene.sun_x < 0.5
    ramp = Image.linear_gradient("L").rotate(90 if from_left else -90)
    ramp = ramp.point(lambda v: 255 - v * 70 // 255)
    ramp = ramp.resize((bx1 - bx0, by1 - by0), Image.Resampling.BILINEAR)
    region = layer.crop((bx0, by0, bx1, by1))
    rgb = ImageChops.multiply(region.convert("RGB"), Image.merge("RGB", (ramp, ramp, ramp)))
    rgb.putalpha(region.getchannel("A"))
    layer.paste(rgb, (bx0, by0))


def _backdrop(scene: Scene, motif: Motif, colour: RGB | None, height: float) -> None:
    """A motif spanning the width behind the land (mountains, a skyline, pyramids)."""
    w, h = scene.size
    s = max(height * h, w * 1.08 / motif.aspect * 0.6)
    s = min(s, w * 1.1 / motif.aspect)
    x0 = (w - s * motif.aspect) / 2
    y0 = scene.horizon + h * 0.02 - s
    c = colour or _colour(motif, None, scene.rng)
    haze = _horizon_colour(scene)
    layer = _layer_draw(scene, motif, mix(c, haze, 0.2), (x0, y0, s), False)
    _shade(scene, layer, (x0, y0, s), motif.aspect)
    scene.world.alpha_composite(layer)


def _place(
    scene: Scene, motif: Motif, main: bool, centre: float, size: float
) -> tuple[float, float, float]:
    """The box (left, top, height in pixels) of a subject."""
    w, h = scene.size
    s = motif.scale * h * (size if main else 0.5)
    if motif.place == "span":
        s = w * 1.05 / motif.aspect
    s = min(s, w * (0.94 if main else 0.4) / motif.aspect)
    bw = s * motif.aspect
    x0 = centre * w - bw / 2
    if motif.place != "span":
        x0 = min(max(x0, w * 0.02), w * 0.98 - bw) if bw < w * 0.96 else (w - bw) / 2
    place = motif.place
    if place == "table" and scene.setting not in ("indoor", "window", "studio"):
        place = "ground"
    if place in ("ground", "table", "perch") or (place == "coast" and scene.setting != "coast"):
        bottom = scene.ground if main else scene.ground - (scene.ground - scene.horizon) * 0.25
        if scene.setting in ("indoor", "window", "studio"):
            bottom = scene.ground
        if place == "perch" and scene.setting not in ("indoor", "window"):
            bottom = scene.ground - h * 0.06
        return x0, bottom - s, s
    if place == "coast":
        return x0, h * 0.99 - s, s
    if place == "sea":
        water = scene.horizon if scene.horizon < h else h * 0.6
        bottom = water + (h - water) * (0.55 if main else 0.15)
        return x0, bottom - s * 0.95, s
    if place == "frame":
        if not main:
            return x0, scene.ground - s, s
        return x0, h - s * 0.98, s
    if place == "span":
        return x0, scene.ground - s, s
    if place == "swim":
        return x0, h * (0.5 if main else 0.35) - s / 2, s
    # sky
    return x0, h * (0.34 if main else 0.2) - s / 2, s


def _ground_shadow(scene: Scene, box: tuple[float, float, float], aspect: float) -> None:
    x0, y0, s = box
    cx, bottom = x0 + s * aspect / 2, y0 + s
    half = s * aspect * 0.45
    shift = (0.15 if scene.sun_x < 0.5 else -0.15) * s
    strength = 40 if scene.time != "night" and not scene.overcast else 24
    shadow = ImageDraw.Draw(scene.world, "RGBA")
    for k in (1.0, 0.75, 0.5):
        shadow.ellipse(
            (
                cx + shift - half * k,
                bottom - s * 0.035 * k,
                cx + shift + half * k,
                bottom + s * 0.035 * k,
            ),
            fill=(0, 0, 0, strength),
        )


def _backdrops(scene: Scene) -> None:
    """Subjects that stand behind the land (mountains, a skyline, pyramids), drawn before it.

    A main subject of this kind fills the width above the horizon; a second one is smaller.
    """
    w, h = scene.size
    for i, (name, colour) in enumerate(scene.reading.subjects[:2]):
        motif = MOTIFS[name]
        if motif.place != "backdrop":
            continue
        if i == 0:
            s = max(w * 1.02 / motif.aspect, motif.scale * h * 0.85)
            box = ((w - s * motif.aspect) / 2, scene.horizon + h * 0.03 - s, s)
            layer = _layer_draw(scene, motif, _colour(motif, colour, scene.rng), box, False)
            _shade(scene, layer, box, motif.aspect)
            scene.world.alpha_composite(layer)
        elif name not in SCENERY.get(scene.setting, ()):
            _backdrop(scene, motif, colour, 0.4)


def _draw_subjects(scene: Scene) -> None:
    """The main subject (unless it is a backdrop) and a second, smaller one beside it."""
    reading, rng = scene.reading, scene.rng
    chosen = [(MOTIFS[n], c) for n, c in reading.subjects]
    if not chosen:
        return
    main, main_colour = chosen[0]
    side = rng.random() < 0.5
    others = [(m, c) for m, c in chosen[1:] if m.place != "backdrop" and m.name != main.name]
    standing = main.place != "backdrop"
    if standing:
        centre = 0.36 if side else 0.64
        if not others:
            centre = 0.5 + rng.uniform(-0.05, 0.05)
        _subject(scene, main, main_colour, True, centre, reading.size)
    for motif, colour in others[:1]:
        centre = (0.82 if side else 0.18) if standing else 0.5
        if motif.place == "sky" and standing:
            centre = 0.78 if side else 0.22
        _subject(scene, motif, colour, not standing, centre, 1.0)


def _subject(
    scene: Scene, motif: Motif, colour: RGB | None, main: bool, centre: float, size: float
) -> None:
    box = _place(scene, motif, main, centre, size)
    flip = motif.facing and (centre > 0.5 if main else centre < 0.5)
    if motif.place in ("ground", "table") or (motif.place == "coast" and scene.setting != "coast"):
        _ground_shadow(scene, box, motif.aspect)
    layer = _layer_draw(scene, motif, _colour(motif, colour, scene.rng), box, flip)
    _shade(scene, layer, box, motif.aspect)
    if motif.place == "sea":
        _waterline(scene, layer, box)
    scene.things.alpha_composite(layer)


def _waterline(scene: Scene, layer: Image.Image, box: tuple[float, float, float]) -> None:
    """Hide the bottom of a floating hull under a few waves."""
    y0, s = box[1], box[2]
    d = ImageDraw.Draw(layer)
    y = y0 + s * 0.9
    w = scene.size[0]
    pts = _wave(w, y, s * 0.015, 14, scene.rng.uniform(0, 6.3), step=3)
    d.polygon([*pts, (w, y0 + s * 1.2), (0, y0 + s * 1.2)], fill=(0, 0, 0, 0))
    d.line(pts, fill=light(WATER, 0.5), width=max(1, round(s * 0.012)))


# --- weather over everything -----------------------------------------------------------------


def _fog(scene: Scene, img: Image.Image) -> Image.Image:
    w, h = scene.size
    colour = (206, 210, 216) if scene.time != "night" else (58, 64, 82)
    hz = HORIZON[scene.setting] if HORIZON[scene.setting] < 1 else 0.6
    mask = (
        _gradient((1, h), [(0.0, (90, 90, 90)), (hz, (190, 190, 190)), (1.0, (120, 120, 120))])
        .convert("L")
        .resize((w, h))
    )
    bands = ImageDraw.Draw(mask)
    for _ in range(6):
        y = scene.rng.uniform(0.3, 0.95) * h
        x = scene.rng.uniform(-0.2, 0.8) * w
        bands.ellipse((x, y - h * 0.03, x + w * 0.7, y + h * 0.03), fill=205)
    return Image.composite(Image.new("RGB", (w, h), colour), img, mask)


def _rain(scene: Scene, img: Image.Image) -> None:
    w, h = scene.size
    rng = scene.rng
    storm = "storm" in scene.weather
    d = ImageDraw.Draw(img, "RGBA")
    colour = (236, 242, 252, 128) if scene.time != "night" else (190, 204, 234, 124)
    slant = 0.28 if storm else 0.12
    width = max(1, round(scene.u * scene.stroke))
    if scene.stroke > 1:  # fewer, thicker, brighter streaks: the same rain once blocks average
        colour = (*colour[:3], 210)
    count = (340 if storm else 260) * w * h / 512 / 512 / scene.stroke
    for _ in range(int(count)):
        x, y = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.1, 1.0) * h
        length = rng.uniform(0.04, 0.09 if storm else 0.06) * h * min(1.5, scene.stroke)
        d.line((x, y, x + length * slant, y + length), fill=colour, width=width)


def _lightning(scene: Scene, img: Image.Image) -> None:
    w, h = scene.size
    rng = scene.rng
    x = rng.uniform(0.15, 0.85) * w
    y = 0.0
    bottom = scene.horizon if scene.horizon < h else h * 0.7
    pts = [(x, y)]
    while y < bottom:
        y += rng.uniform(0.04, 0.08) * h
        x += rng.uniform(-0.05, 0.05) * w
        pts.append((x, min(y, bottom)))
    d = ImageDraw.Draw(img)
    d.line(pts, fill=(246, 246, 255), width=max(2, round(scene.u * 3)), joint="curve")
    scene.gd.line(pts, fill=(160, 160, 220), width=max(4, round(scene.u * 14)))
    fork = pts[len(pts) // 2 :]
    branch = [fork[0]] + [(px + (k + 1) * 0.03 * w, py) for k, (px, py) in enumerate(fork[1:3])]
    d.line(branch, fill=(230, 230, 255), width=max(1, round(scene.u * 2)))


def _snow(scene: Scene, img: Image.Image) -> None:
    w, h = scene.size
    rng = scene.rng
    d = ImageDraw.Draw(img, "RGBA")
    for _ in range(int(640 * w * h / 512 / 512)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.choice((1.2, 1.5, 1.9, 2.4, 3.0)) * scene.u
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 235))


def _leaves(scene: Scene, img: Image.Image) -> None:
    w, h = scene.size
    rng = scene.rng
    d = ImageDraw.Draw(img)
    for _ in range(int(40 * w * h / 512 / 512)):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(2.5, 5) * scene.u
        a = rng.uniform(0, math.pi)
        c = rng.choice(((220, 110, 30), (200, 60, 30), (236, 176, 40)))
        d.polygon(
            [
                (x + r * math.cos(a), y + r * math.sin(a)),
                (x + r * 0.4 * math.cos(a + 1.6), y + r * 0.4 * math.sin(a + 1.6)),
                (x - r * math.cos(a), y - r * math.sin(a)),
                (x - r * 0.4 * math.cos(a + 1.6), y - r * 0.4 * math.sin(a + 1.6)),
            ],
            fill=c,
        )


def _bubbles(scene: Scene, img: Image.Image) -> None:
    w, h = scene.size
    rng = scene.rng
    d = ImageDraw.Draw(img, "RGBA")
    for _ in range(int(40 * w * h / 512 / 512)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.85), rng.uniform(1.5, 5) * scene.u
        d.ellipse(
            (x - r, y - r, x + r, y + r), outline=(220, 250, 255, 170), width=max(1, round(scene.u))
        )


def _shine(img: Image.Image, glow: Image.Image, k: float) -> Image.Image:
    """``img`` with the lights of ``glow`` (scaled by ``k``) on top, sharp and with a bloom."""
    found = glow.getbbox()
    if found is None:
        return img
    w, h = img.size
    m = max(8, w // 12)
    box = (
        max(0, (found[0] - m) // 8 * 8),
        max(0, (found[1] - m) // 8 * 8),
        min(w, found[2] + m),
        min(h, found[3] + m),
    )
    light = glow.crop(box)
    if k != 1.0:
        light = light.point(lambda v: int(v * k))
    gw, gh = light.size
    small = light.resize((max(1, gw // 8), max(1, gh // 8)), Image.Resampling.BOX)
    bloom = small.filter(ImageFilter.GaussianBlur(2)).resize((gw, gh), Image.Resampling.BILINEAR)
    bloom = bloom.point(lambda v: min(255, v * 2))
    img.paste(ImageChops.screen(ImageChops.screen(img.crop(box), light), bloom), box[:2])
    return img


def _glow(scene: Scene, img: Image.Image) -> Image.Image:
    """Lamps, windows, fire and lightning: full strength at night, faint by day."""
    k = 1.0 if scene.time == "night" or scene.setting in ("space",) else 0.8 if scene.lit else 0.45
    if scene.setting == "underwater":
        k = 1.0
    return _shine(img, scene.glow, k)


def _weather(scene: Scene, img: Image.Image) -> Image.Image:
    """Fog, falling leaves, lightning, rain and snow (bubbles underwater) over ``img``."""
    weather = scene.weather
    if scene.setting == "underwater":
        _bubbles(scene, img)
        return img
    if scene.setting in ("space", "studio"):
        return img
    if "fog" in weather:
        img = _fog(scene, img)
    if "autumn" in weather:
        _leaves(scene, img)
    if "storm" in weather:
        _lightning(scene, img)
    if "rain" in weather:
        _rain(scene, img)
    if "snow" in weather:
        _snow(scene, img)
    return img


def compose(
    prompt: str, size: tuple[int, int], seed: str = "", *, stroke: float = 1.0
) -> Image.Image:
    """The picture ``prompt`` asks for at ``size`` (deterministic per prompt, size and seed);
    ``stroke`` thickens the thinnest strokes for a style that would wipe them out."""
    from .styles import seeded

    reading = read_prompt(prompt)
    rng = seeded("scene", " ".join(prompt.lower().split()), seed)
    setting = reading.setting
    if reading.subjects:
        main = MOTIFS[reading.subjects[0][0]]
        if not setting:
            setting = main.home or "meadow"
            if setting == "snow":
                setting = "meadow"
            if setting == "studio" and (reading.time != "day" or reading.weather):
                setting = OUTDOOR_FOR.get(main.place, "meadow")
    elif not setting:
        setting = rng.choice(DEFAULT_SETTINGS)
    scene = Scene(reading, rng, size, setting, stroke)
    _draw_sky(scene)
    _backdrops(scene)
    main_name = reading.subjects[0][0] if reading.subjects else ""
    _draw_land(scene, {main_name})
    _draw_subjects(scene)
    indoor = scene.setting in ("indoor", "window")
    if indoor:  # the weather shows through the window, behind the wall
        scene.sky = _weather(scene, scene.sky)
    img = scene.sky.copy()
    ambient = scene.ambient()
    # The land takes the ambient light; subjects also get a key light so they stay readable.
    key = mix(ambient, (255, 255, 255), 0.4)
    for layer, light_colour in ((scene.world, ambient), (scene.things, key)):
        box = layer.getbbox()
        if box is None:
            continue
        region = layer.crop(box)
        rgb = region.convert("RGB")
        if light_colour != (255, 255, 255):
            rgb = ImageChops.multiply(rgb, Image.new("RGB", rgb.size, light_colour))
        img.paste(rgb, box[:2], region.getchannel("A"))
    if not indoor:
        img = _weather(scene, img)
    return _glow(scene, img)
