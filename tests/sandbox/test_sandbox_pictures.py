"""The sandbox's pictures follow the prompt: subjects, time and weather, and styles at a glance.

Each property is checked with a robust image statistic rather than pixel values, so drawings
can be refined without rewriting tests: night is darker by mean luminance, storms add thin
near-vertical bright streaks and grey clouds, snow adds white, each style has the statistic
that makes it recognisable (blocks and 16 colours for pixel art, ink for anime, ...). Timing is
measured outside the tests (``build/pictures/timing.py``), never asserted here.
"""

from __future__ import annotations

import io
import itertools
import random
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat
from sandbox_v1_support import run_app

from lamina_notebook.sandbox import catalog, media, motifs, scenes, styles
from lamina_notebook.sandbox.state import Source

WORK = (512, 512)
TEXT_TO_IMAGE = next(a for a in catalog.builtin_apps() if a.name == "Text to Image")
PHOTO_STYLIZER = next(a for a in catalog.builtin_apps() if a.name == "Photo Stylizer")
SIX = next(p for p in TEXT_TO_IMAGE.params if p.name == "Style").options or ()
OUTDOORS = ["a lighthouse", "a house", "a robot", "a boat", "a castle"]
RAIN_STREAK = ImageFilter.Kernel((5, 5), [0, -1, 2, -1, 0] * 5, scale=5, offset=0)


# --- statistics --------------------------------------------------------------------------------


def luminance(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).mean[0]


def share(mask: Image.Image) -> float:
    """Fraction of a 0/255 mask that is 255."""
    hist = mask.histogram()
    return hist[255] / sum(hist)


def white_share(img: Image.Image) -> float:
    """Fraction of pixels whose darkest channel is above 215 (snow, paper, white clouds)."""
    r, g, b = img.convert("RGB").split()
    darkest = ImageChops.darker(r, ImageChops.darker(g, b))
    return share(darkest.point(lambda v: 255 if v > 215 else 0))


def streak_share(img: Image.Image) -> float:
    """Fraction of pixels on thin, bright, near-vertical lines (rain)."""
    response = img.convert("L").filter(RAIN_STREAK)
    return share(response.point(lambda v: 255 if v >= 8 else 0))


def saturation(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("HSV").getchannel("S")).mean[0]


def strong_edges(img: Image.Image) -> float:
    edges = img.convert("L").filter(ImageFilter.FIND_EDGES)
    return share(edges.point(lambda v: 255 if v > 96 else 0))


def colours(img: Image.Image) -> int:
    found = img.getcolors(1 << 20)
    assert found is not None
    return len(found)


def blocky(img: Image.Image, block: int) -> bool:
    """Whether ``img`` is made of flat ``block`` x ``block`` squares."""
    w, h = img.size
    small = img.resize((w // block, h // block), Image.Resampling.NEAREST)
    return small.resize((w, h), Image.Resampling.NEAREST).tobytes() == img.tobytes()


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference (0-255) over the bands."""
    means = ImageStat.Stat(ImageChops.difference(a, b)).mean
    return sum(means) / len(means)


def png(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


# --- reading the prompt -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "subjects", "time", "weather", "setting"),
    [
        ("a lighthouse in a storm at night", ["lighthouse"], "night", {"storm", "rain"}, ""),
        ("a red fox in the snow at dawn", ["fox"], "dawn", {"snow"}, ""),
        ("a tiny robot watering a bonsai", ["robot", "bonsai"], "day", set(), ""),
        ("a cat on a windowsill", ["cat"], "day", set(), "window"),
        ("Two FOXES and three butterflies at sunset", ["fox", "butterfly"], "dusk", set(), ""),
        ("wolves in the misty woods", ["dog"], "day", {"fog"}, "forest"),
        ("a palm tree on a tropical island", ["palm"], "day", set(), "beach"),
        ("a fox in a forest", ["fox"], "day", set(), "forest"),
        ("a forest", ["tree"], "day", set(), "forest"),
        ("a whale under the sea", ["whale"], "day", set(), "underwater"),
        ("a snowman", ["snowman"], "day", {"snow"}, ""),
        ("the quiet hum of morning", [], "dawn", set(), ""),
    ],
)
def test_prompt_words_name_subjects_time_weather_and_setting(
    prompt: str, subjects: list[str], time: str, weather: set[str], setting: str
) -> None:
    reading = scenes.read_prompt(prompt)
    assert [name for name, _ in reading.subjects] == subjects
    assert (reading.time, set(reading.weather), reading.setting) == (time, weather, setting)


def test_colour_and_size_words_apply_to_the_subject_they_precede() -> None:
    reading = scenes.read_prompt("a tiny red fox beside a blue car")
    assert reading.subjects == (
        ("fox", scenes.COLOUR_WORDS["red"]),
        ("car", scenes.COLOUR_WORDS["blue"]),
    )
    assert reading.size < 1.0
    assert scenes.read_prompt("a giant robot").size > 1.0


def test_at_least_30_motifs_each_found_by_name_and_plural() -> None:
    assert len(motifs.MOTIFS) >= 30
    for name in motifs.MOTIFS:
        if name.endswith("y") and name[-2] not in "aeiou":
            plural = name[:-1] + "ies"
        else:
            plural = name + ("es" if name.endswith(("s", "sh", "ch", "x")) else "s")
        for prompt in (f"a {name}", f"many {plural}"):
            assert [n for n, _ in scenes.read_prompt(prompt).subjects][:1] == [name], prompt


def test_every_motif_draws_something_of_its_own_shape() -> None:
    silhouettes = {}
    for name in motifs.MOTIFS:
        sketch = motifs.sketch(name, 96)
        alpha = sketch.getchannel("A")
        box = alpha.getbbox()
        assert box is not None, f"{name} draws nothing"
        drawn = 1 - alpha.histogram()[0] / (alpha.size[0] * alpha.size[1])
        assert drawn > 0.05, f"{name} covers only {drawn:.1%}"
        assert colours(sketch.crop(box).convert("RGB")) >= 4, f"{name} is flat (no shading)"
        silhouettes[name] = alpha.crop(box).resize((24, 24), Image.Resampling.BOX)
    closest = min(
        (difference(silhouettes[a], silhouettes[b]), a, b)
        for a, b in itertools.combinations(silhouettes, 2)
    )
    assert closest[0] > 15, f"{closest[1]} and {closest[2]} have nearly the same silhouette"


def test_motifs_face_both_ways_and_keep_their_shape() -> None:
    fox = motifs.MOTIFS["fox"]
    size = (400, 200)
    drawn = []
    for flip in (False, True):
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        glow = Image.new("RGB", size)
        pen = motifs.Pen(ImageDraw.Draw(layer), ImageDraw.Draw(glow), (50, 20, 160), 1.5, flip)
        fox.draw(pen, fox.colour, random.Random(1))
        drawn.append(layer.getchannel("A"))
    mirrored = drawn[1].transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    offset = ImageChops.offset(mirrored, -(size[0] - 2 * 50 - round(160 * 1.5)), 0)
    assert difference(drawn[0], offset) < 3
    assert difference(drawn[0], drawn[1]) > 10


# --- the words change the picture --------------------------------------------------------------


def test_same_inputs_same_pixels_and_bytes_and_a_seed_changes_them() -> None:
    prompt = "a lighthouse in a storm at night"
    first, again = scenes.compose(prompt, WORK), scenes.compose(prompt, WORK)
    assert first.tobytes() == again.tobytes()
    assert difference(first, scenes.compose(prompt, WORK, seed="2")) > 1
    inputs = {"Prompt": prompt, "Style": "Oil Painting"}
    assert media.render_image(TEXT_TO_IMAGE, inputs, 0, {}, {}) == media.render_image(
        TEXT_TO_IMAGE, dict(inputs), 0, {}, {}
    )


def test_the_subject_changes_the_structure_of_the_picture() -> None:
    lighthouse = scenes.compose("a lighthouse on the coast", WORK).convert("L")
    fox = scenes.compose("a fox on the coast", WORK).convert("L")
    edges = [img.filter(ImageFilter.FIND_EDGES).resize((64, 64), Image.Resampling.BOX)
             for img in (lighthouse, fox)]  # fmt: skip
    assert difference(*edges) > 3
    # A lighthouse stands tall, a fox lies long: compare the shapes of the motifs themselves.
    tall = motifs.sketch("lighthouse").getbbox()
    long = motifs.sketch("fox").getbbox()
    assert tall is not None and long is not None
    assert (tall[3] - tall[1]) > 1.4 * (tall[2] - tall[0])
    assert (long[2] - long[0]) > 1.3 * (long[3] - long[1])


@pytest.mark.parametrize("subject", [*OUTDOORS, "a cat on a windowsill", "a fox"])
def test_night_is_darker_than_day(subject: str) -> None:
    day = luminance(scenes.compose(subject, WORK))
    night = luminance(scenes.compose(f"{subject} at night", WORK))
    assert night < 0.6 * day and night < 100, (day, night)


@pytest.mark.parametrize("subject", OUTDOORS)
@pytest.mark.parametrize("time", ["", " at night"])
def test_storm_adds_rain_streaks_and_dark_clouds(subject: str, time: str) -> None:
    clear = scenes.compose(subject + time, WORK)
    storm = scenes.compose(f"{subject} in a storm{time}", WORK)
    rain = scenes.compose(f"{subject} in the rain{time}", WORK)
    assert streak_share(storm) > 2.0 * streak_share(clear)
    assert streak_share(rain) > 1.4 * streak_share(clear)
    if not time:
        sky = (0, 0, WORK[0], WORK[1] // 5)
        assert luminance(storm.crop(sky)) < 0.7 * luminance(clear.crop(sky))
        assert saturation(storm.crop(sky)) < 0.7 * saturation(clear.crop(sky))


@pytest.mark.parametrize("subject", OUTDOORS)
def test_snow_adds_white(subject: str) -> None:
    clear = white_share(scenes.compose(subject, WORK))
    snowy = white_share(scenes.compose(f"{subject} in the snow", WORK))
    assert snowy > clear + 0.025, (clear, snowy)


def test_snow_whitens_the_ground_on_land() -> None:
    ground = (0, WORK[1] * 3 // 4, WORK[0], WORK[1])
    clear = white_share(scenes.compose("a house", WORK).crop(ground))
    snowy = white_share(scenes.compose("a house in the snow", WORK).crop(ground))
    assert snowy > clear + 0.3, (clear, snowy)


def test_fog_lowers_contrast_and_settings_change_the_palette() -> None:
    clear = ImageStat.Stat(scenes.compose("a castle", WORK).convert("L")).stddev[0]
    foggy = ImageStat.Stat(scenes.compose("a castle in the fog", WORK).convert("L")).stddev[0]
    assert foggy < 0.6 * clear
    red, green, blue = ImageStat.Stat(scenes.compose("a fish", WORK)).mean
    assert blue > red + 40 and green > red  # underwater
    space = scenes.compose("a rocket in space", WORK)
    assert luminance(space) < 0.5 * luminance(scenes.compose("a rocket in a meadow", WORK))
    stars = share(space.convert("L").point(lambda v: 255 if v > 200 else 0))
    assert stars > 0.002


def test_unknown_prompts_get_landscapes_that_differ_by_prompt() -> None:
    one, other = "an abstract dream of colours", "the quiet hum of a summer"
    assert scenes.read_prompt(one).subjects == scenes.read_prompt(other).subjects == ()
    a, b = scenes.compose(one, WORK), scenes.compose(other, WORK)
    assert colours(a) > 200 and colours(b) > 200
    assert difference(a, b) > 10


# --- styles -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def styled() -> list[dict[str, Image.Image]]:
    """The six Text to Image styles over three daytime scenes."""
    out = []
    for prompt in ("a tiny robot watering a bonsai", "a house on a hill", "a red fox in a meadow"):
        src = scenes.compose(prompt, WORK)
        out.append({s: styles.apply_style(src, s, prompt) for s in SIX})
    return out


def test_text_to_image_offers_the_six_styles_this_file_checks() -> None:
    assert set(SIX) == {
        "Photorealistic",
        "Watercolor",
        "Anime",
        "Pixel Art",
        "Oil Painting",
        "Neon Noir",
    }


def test_pixel_art_is_big_blocks_of_16_colours(styled: list[dict[str, Image.Image]]) -> None:
    for scene in styled:
        assert colours(scene["Pixel Art"]) <= 16
        assert blocky(scene["Pixel Art"], 8)
        assert all(not blocky(scene[s], 8) for s in SIX if s != "Pixel Art")


def test_anime_is_flat_colour_with_black_ink(styled: list[dict[str, Image.Image]]) -> None:
    for scene in styled:
        img = scene["Anime"]
        assert colours(img) <= 32 and not blocky(img, 8)
        ink = share(img.convert("L").point(lambda v: 255 if v == 0 else 0))
        assert ink > 0.02
        assert all(colours(scene[s]) > 1000 for s in SIX if s not in ("Anime", "Pixel Art"))


def test_oil_painting_has_the_most_brush_texture(styled: list[dict[str, Image.Image]]) -> None:
    for scene in styled:
        ranked = sorted(SIX, key=lambda s: strong_edges(scene[s]))
        assert ranked[-1] == "Oil Painting"
        assert strong_edges(scene["Oil Painting"]) > 1.5 * strong_edges(scene[ranked[-2]])


def test_neon_noir_is_dark_with_saturated_lights(styled: list[dict[str, Image.Image]]) -> None:
    for scene in styled:
        img = scene["Neon Noir"]
        assert luminance(img) < 0.45 * min(luminance(scene[s]) for s in SIX if s != "Neon Noir")
        hsv = img.convert("HSV")
        lights = hsv.getchannel("V").point(lambda v: 255 if v > 160 else 0)
        assert share(lights) > 0.01
        assert ImageStat.Stat(hsv.getchannel("S"), lights).mean[0] > 120


def test_watercolour_leaves_an_unpainted_paper_border(styled: list[dict[str, Image.Image]]) -> None:
    w, h = WORK
    strips = [
        (0, 0, w, h // 50),
        (0, h - h // 50, w, h),
        (0, 0, w // 50, h),
        (w - w // 50, 0, w, h),
    ]
    for scene in styled:
        for s in SIX:
            border = [scene[s].crop(box) for box in strips]
            paper = all(luminance(b) > 228 and saturation(b) < 20 for b in border)
            assert paper == (s == "Watercolor"), s


def test_photorealistic_is_smooth_with_a_rich_palette(styled: list[dict[str, Image.Image]]) -> None:
    for scene in styled:
        ranked = sorted(SIX, key=lambda s: strong_edges(scene[s]))
        assert ranked[0] == "Photorealistic"
        assert colours(scene["Photorealistic"]) > 5000


def test_every_style_label_in_the_catalog_has_a_filter_and_looks_different() -> None:
    labels = {
        option
        for app in catalog.builtin_apps()
        for p in app.params
        if p.name == "Style"
        for option in p.options or ()
    }
    assert labels <= set(styles.STYLES)
    src = png(media.sample_png("portrait")).resize(WORK)
    out = {s: styles.apply_style(src, s, "seed") for s in styles.STYLES}
    for a, b in itertools.combinations(out, 2):
        assert difference(out[a], out[b]) > 8, (a, b)


def test_photo_stylizer_restyles_an_arbitrary_upload() -> None:
    photo = Image.new("RGB", (300, 170), (30, 40, 200))
    ImageDraw.Draw(photo).rectangle((150, 0, 300, 170), fill=(240, 200, 40))
    data = io.BytesIO()
    photo.save(data, "JPEG")
    digest = media.digest(data.getvalue())
    sources = {"Upload": Source("http://127.0.0.1/photo.jpg", digest, photo.size)}
    blobs = {digest: data.getvalue()}
    results = {}
    for style in ("Watercolor", "Comic", "Cyberpunk"):
        inputs = {"Upload": "http://127.0.0.1/photo.jpg", "Style": style, "Aspect Ratio": "16:9"}
        results[style] = png(media.render_image(PHOTO_STYLIZER, inputs, 0, sources, blobs))
    for style, img in results.items():
        assert img.size == (1024, 576), style
        left, right = img.crop((80, 100, 400, 476)), img.crop((624, 100, 944, 476))
        assert luminance(right) > luminance(left) + 20, style  # the upload's layout survives
    for a, b in itertools.combinations(results.values(), 2):
        assert difference(a, b) > 10


def test_png_encoding_is_lossless_at_any_size() -> None:
    for size in ((1, 1), (7, 1), (1, 9), (33, 17), (256, 128)):
        img = Image.effect_mandelbrot(size, (-2.0, -1.5, 1.0, 1.5), 60).convert("RGB")
        img = Image.merge("RGB", (img.getchannel(0), img.getchannel(1).point(lambda v: 255 - v),
                                  img.getchannel(2).point(lambda v: v // 2)))  # fmt: skip
        assert png(media._png(img)).tobytes() == img.tobytes(), size
        assert media._png(img) == media._png(img.copy())


# --- end to end through the real sandbox -----------------------------------------------------


def _run_image(sb: Any, inputs: dict[str, str]) -> Image.Image:
    d = run_app(sb, "Text to Image", inputs)
    assert d["status"] == "completed", d
    out = d["outputs"][0]
    assert out["mimeType"] == "image/png"
    r = httpx.get(out["value"], timeout=60, trust_env=False)
    assert r.status_code == 200
    return png(r.content)


def test_six_styles_of_a_stormy_night_over_http(sandbox: Any) -> None:
    prompt = "a lighthouse in a storm at night"
    night = {s: _run_image(sandbox, {"Prompt": prompt, "Style": s}) for s in SIX}
    day = {s: _run_image(sandbox, {"Prompt": "a lighthouse", "Style": s}) for s in SIX}
    centre = (100, 100, 924, 924)
    for s in SIX:
        assert night[s].size == (1024, 1024)
        dark = luminance(night[s].crop(centre))
        if s == "Neon Noir":  # dark by day too: its night is absolute
            assert dark < 60
        else:
            assert dark < 0.7 * luminance(day[s].crop(centre)), s
    for a, b in itertools.combinations(SIX, 2):
        assert difference(night[a], night[b]) > 8, (a, b)


def lit_blocks(img: Image.Image) -> float:
    """Fraction of pixel-art blocks brighter than their neighbourhood (rain streaks, stars)."""
    blocks = img.convert("L").resize((64, 64), Image.Resampling.BOX)
    diff = ImageChops.subtract(blocks, blocks.filter(ImageFilter.MedianFilter(5)))
    return share(diff.point(lambda v: 255 if v > 18 else 0))


@pytest.mark.parametrize("subject", ["a lighthouse", "a boat", "a house"])
def test_pixel_art_keeps_the_rain(subject: str) -> None:
    """Pixel art averages blocks of 8 working pixels, which wiped out 1 px rain streaks (a
    stormy night looked clear): rain is drawn thicker for it, and survives as light blocks."""

    def picture(prompt: str) -> Image.Image:
        inputs = {"Prompt": prompt, "Style": "Pixel Art"}
        return png(media.render_image(TEXT_TO_IMAGE, inputs, 0, {}, {}))

    rain = lit_blocks(picture(f"{subject} in the rain at night"))
    clear = lit_blocks(picture(f"{subject} at night"))
    assert rain > 1.4 * clear, (rain, clear)
