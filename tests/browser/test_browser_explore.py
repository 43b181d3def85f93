"""Exploration in JupyterLab (Chromium), issues 12 and 13: a local photo picked in the Photo
Stylizer, Cancel all that stops three runs at the service, a sweep priced before it starts (the
six styles of one prompt), a grid with its price, confirmation, live filling and free rerun, the
History tab's search and star, and an exported grid opened from disk with nothing running.

One sandbox (in this process: the tests read its counters and its /v1 API) and one JupyterLab
serve the module; each test writes its own notebook with its own journal, so reuse and history
never cross tests; counters are compared before and after.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from labdriver import SCREENSHOTS, JupyterLab, journaled_notebooks, sandbox_lab
from serviceview import estimate, full_ids, run_view

from lamina_notebook.journal import Journal
from lamina_notebook.sandbox import Sandbox

pytestmark = pytest.mark.browser

# Service seconds times time_scale = wall seconds: a Text to Image run takes ~4 s (so a grid is
# seen half filled), a Catalog Studio run 10 s with its first output at ~5 s.
TIME_SCALE = 0.2
CATALOG_SECONDS = 50.0
SANDBOX_KNOBS: dict[str, Any] = {
    "time_scale": TIME_SCALE,
    "rate_limit": 0,
    "durations": {"Text to Image": 20.0, "Catalog Studio": CATALOG_SECONDS},
}
KERNEL_CONFIG = "c.LaminaMagics.poll_interval = 1.0\n"
LIGHTHOUSE = "a lighthouse in a storm at night"
STYLES = ("Photorealistic", "Watercolor", "Anime", "Pixel Art", "Oil Painting", "Neon Noir")
IMAGES_LOADED = """([el, n]) => {
    const imgs = [...el.querySelectorAll('img')];
    return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0);
}"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(**SANDBOX_KNOBS) as sb:
        yield sb


@pytest.fixture(scope="module")
def lab(make_lab: Any, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> JupyterLab:
    return sandbox_lab(make_lab, sandbox, tmp_path_factory.mktemp("explore-lab"), KERNEL_CONFIG)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite3"


@pytest.fixture
def notebook(lab: JupyterLab, journal_path: Path) -> Iterator[Callable[[str, list[str]], str]]:
    """`notebook(name, cells)`: a notebook with this test's own journal (labdriver); its
    kernels are shut down after the test."""
    yield journaled_notebooks(lab, journal_path)
    lab.shutdown_kernels()


def _tab(app: Any, title: str) -> None:
    app.locator(".lm-TabBar-tab", has_text=re.compile(f"^{title}$")).click()


def _wait_until(ui: Any, check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll a condition of the service (not of the page) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        ui.page.wait_for_timeout(200)


def photo_bytes() -> bytes:
    """A photo-like 800x600 JPEG: a dusk sky, a sun, layered hills, a lake, film grain."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    w, h = 800, 600
    img = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(img)
    for y in range(h):  # sky: deep blue to orange
        t = y / h
        draw.line([(0, y), (w, y)], fill=(int(40 + 200 * t), int(60 + 90 * t), int(140 - 60 * t)))
    draw.ellipse((520, 230, 640, 350), fill=(255, 214, 120))
    rng = random.Random(7)
    for layer, (colour, base) in enumerate(
        [((70, 60, 90), 330), ((50, 70, 60), 380), ((30, 50, 35), 430)]
    ):
        points = [(0, h)]
        for x in range(0, w + 40, 40):
            points.append((x, base + rng.randint(-40, 30) - 20 * layer))
        points.append((w, h))
        draw.polygon(points, fill=colour)
    draw.rectangle((0, 470, w, h), fill=(60, 90, 120))
    img = img.filter(ImageFilter.GaussianBlur(1.5))
    grain = Image.effect_noise((w, h), 18).convert("RGB")
    img = Image.blend(img, grain, 0.08)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88)
    return out.getvalue()


# -- 2. a local photo picked in the Photo Stylizer --------------------------------------------


def test_a_local_photo_picked_in_the_stylizer_is_uploaded_and_stylized(
    lab: JupyterLab,
    sandbox: Sandbox,
    notebook: Any,
    new_page: Any,
    tmp_path: Path,
    journal_path: Path,
) -> None:
    photo = tmp_path / "harbour-at-dusk.jpg"
    photo.write_bytes(photo_bytes())
    name = notebook("stylizer.ipynb", ['stylizer = LaminaApp("Photo Stylizer")\nstylizer'])
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.run_all(timeout=120)
    app = ui.code_cell(1).locator(".lamina-app").first
    field = app.locator(".lamina-param").first
    uploads, created = sandbox.stats.uploads, sandbox.stats.run_creations

    # The picker's <input type=file> is never in the page: click the button, answer the dialog.
    with ui.page.expect_file_chooser() as chooser:
        field.locator(".lamina-upload").click()
    chooser.value.set_files(str(photo))
    field.locator(".lamina-url-status", has_text="uploaded harbour-at-dusk.jpg").wait_for()
    # The picker reads as a button, not "Upload file (0)" (ipywidgets writes the value's count,
    # emptied after each pick), and the status has room for one line beside the field.
    button = field.locator(".lamina-upload")
    shown = button.evaluate(
        "b => { const r = document.createRange();"
        " r.selectNodeContents([...b.childNodes].find(n => n.nodeType === Node.TEXT_NODE));"
        " return {count: r.getBoundingClientRect().width,"
        " label: getComputedStyle(b, '::after').content}; }"
    )
    assert shown == {"count": 0, "label": '"Upload file"'}, shown
    lines = field.locator(".lamina-url-status span").evaluate("s => s.getClientRects().length")
    assert lines == 1, "the upload status wraps into a narrow column"
    status_box = field.locator(".lamina-url-status").bounding_box()
    text_box = field.locator("input[type=text]").bounding_box()
    assert status_box and text_box and abs(status_box["y"] - text_box["y"]) < 20, "one line"
    preview = field.locator(".lamina-previews img").first
    preview.wait_for()
    ui.page.wait_for_function(IMAGES_LOADED, arg=[field.element_handle(), 1])
    assert sandbox.stats.uploads == uploads + 1, "one picked file, one upload"
    asset_url = field.locator("input[type=text]").input_value()
    assert asset_url.startswith(f"{sandbox.base_url}/assets/"), asset_url
    # The asset the service keeps is the picked file, byte for byte.
    assert httpx.get(asset_url, timeout=10).content == photo.read_bytes()
    # The thumbnail sits beside the URL field, at the photo's proportions (4:3).
    field_box = field.locator("input[type=text]").bounding_box()
    thumb_box = preview.bounding_box()
    assert field_box and thumb_box and abs(thumb_box["x"] - field_box["x"]) < 40
    assert abs(thumb_box["width"] / thumb_box["height"] - 4 / 3) < 0.05, thumb_box
    ui.screenshot("explore-stylizer-picked", app)

    app.locator(".lamina-run-button").click()
    card = app.locator(".lamina-run-card").first
    card.locator("img").first.wait_for(timeout=60_000)
    ui.page.wait_for_function(IMAGES_LOADED, arg=[card.element_handle(), 1], timeout=30_000)
    assert sandbox.stats.run_creations == created + 1
    assert sandbox.stats.uploads == uploads + 1, "the run did not upload the photo again"
    [run_id] = full_ids(
        sandbox, "Photo Stylizer", app.locator(".lamina-progress-id").all_inner_texts()
    )
    assert run_view(sandbox, run_id)["status"] == "completed"
    entry = Journal(journal_path).get(run_id)
    assert entry is not None and entry.inputs["Upload"] == asset_url, "the run used the asset URL"
    card.scroll_into_view_if_needed()
    ui.screenshot("explore-stylizer-result", card)
    ui.assert_no_console_errors()


# -- 3. Cancel all stops three runs at the service --------------------------------------------


def test_cancel_all_cancels_three_runs_and_no_output_follows(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any
) -> None:
    photo = f"{sandbox.base_url}/samples/product.png"
    name = notebook(
        "cancel-all.ipynb",
        [f'shop = LaminaApp("Catalog Studio")\nshop.value = {{"Upload": {photo!r}}}\nshop'],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.run_all(timeout=120)
    app = ui.code_cell(1).locator(".lamina-app").first
    app.locator(".lamina-url-status", has_text="reachable").wait_for()
    created = sandbox.stats.run_creations

    for style in ("Ghibli", "Lifestyle", "Minimal"):
        app.locator(".lamina-param select").first.select_option(style)
        app.locator(".lamina-run-button").click()
    ui.page.wait_for_function(
        "app => [...app.querySelectorAll('.lamina-progress-id')]"
        ".filter(e => e.innerText.trim()).length === 3",
        arg=app.element_handle(),
    )
    assert sandbox.stats.run_creations == created + 3
    ids = full_ids(sandbox, "Catalog Studio", app.locator(".lamina-progress-id").all_inner_texts())
    rows = app.locator(".lamina-progress-row")
    # Hover texts reach the page as title attributes (ipywidgets 8 puts a Label's tooltip on its
    # hidden description element): the full run id on the short id, the whole title, the status.
    # The spans are redrawn as each run's state arrives (a row's id can show before its status
    # has a hover text): wait until every row has all three, then read them.
    read_tips = (
        "app => [...app.querySelectorAll('.lamina-progress-row')].map(r => "
        "['id', 'title', 'status'].map(c => r.querySelector("
        "'.lamina-progress-' + c + ' .widget-html-content > span')?.title || ''))"
    )
    ui.page.wait_for_function(
        f"app => ({read_tips})(app).every(t => t.every(x => x))", arg=app.element_handle()
    )
    tips = ui.eval(read_tips, app.element_handle())
    assert [tip[0] for tip in tips] == ids, tips
    assert all("Style=" in (tip[1] or "") and tip[2] for tip in tips), tips
    for row in rows.all():
        assert row.locator(".lamina-cancel-button").is_visible()
        assert row.locator(".lamina-detach-button").is_visible()
    ui.screenshot("explore-three-runs-before-cancel-all", app.locator(".lamina-progress"))

    # Cancel all once the oldest run made its first output: it stops half done.
    _wait_until(ui, lambda: sandbox.outputs_produced(ids[-1]) >= 1, "a first output")
    assert all(run_view(sandbox, i)["status"] == "running" for i in ids)
    app.locator(".lamina-cancel-all").click()
    _wait_until(
        ui,
        lambda: all(run_view(sandbox, i)["status"] == "cancelled" for i in ids),
        "all three cancelled at the service",
    )
    produced = {i: sandbox.outputs_produced(i) for i in ids}
    assert all(n < 2 for n in produced.values()), produced
    assert produced[ids[-1]] == 1, produced

    # Past the moment each run would have ended: nothing more was produced.
    latest = max(
        datetime.fromisoformat(run_view(sandbox, i)["createdAt"].replace("Z", "+00:00")).timestamp()
        for i in ids
    )
    # queued 2 s (service seconds), then the app's duration; its last output comes at the end
    would_end = latest + (2.0 + CATALOG_SECONDS) * TIME_SCALE + 1.0
    ui.page.wait_for_timeout(max(0.0, would_end - time.time()) * 1000)
    assert {i: sandbox.outputs_produced(i) for i in ids} == produced
    for run_id in ids:
        view = run_view(sandbox, run_id)
        assert view["status"] == "cancelled"
        statuses = [o["status"] for o in view["outputs"]]
        assert statuses.count("completed") == produced[run_id], view
        assert statuses.count("cancelled") == 2 - produced[run_id], view
    ui.page.wait_for_function(
        "app => [...app.querySelectorAll('.lamina-progress-status')]"
        ".filter(e => e.innerText.includes('cancelled')).length === 3",
        arg=app.element_handle(),
    )
    ui.screenshot("explore-three-runs-cancelled", app.locator(".lamina-progress"))
    ui.assert_no_console_errors()


# -- 4 and 8. a sweep priced before it starts: the six styles of one prompt -------------------

PRICE = re.compile(
    r"Run sweep: (\d+) new runs? · about ([\d,.]+) credits of a balance of ([\d,.]+)"
)


def test_a_sweep_shows_its_price_then_the_six_styles(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any
) -> None:
    name = notebook(
        "six-styles.ipynb",
        [
            'studio = LaminaApp("Text to Image")\n'
            f'studio.value = {{"Prompt": {LIGHTHOUSE!r}}}\nstudio'
        ],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.run_all(timeout=120)
    app = ui.code_cell(1).locator(".lamina-app").first
    created, estimates = sandbox.stats.run_creations, sandbox.stats.estimates

    _tab(app, "Sweep")
    price = app.locator(".lamina-sweep-tab .lamina-price")
    price.filter(has_text="credits of a balance").wait_for()
    shown = PRICE.search(price.inner_text())
    assert shown, price.inner_text()
    runs, credits, balance = (float(g.replace(",", "")) for g in shown.groups())
    assert sandbox.stats.estimates > estimates, "the price came from the service's estimate"
    one = estimate(sandbox, "Text to Image", {"Prompt": LIGHTHOUSE})
    assert runs == 6
    assert credits == 6 * one["estimatedCredits"]["expected"]
    assert balance == one["currentBalance"] == sandbox.balance
    assert sandbox.stats.run_creations == created, "pricing started nothing"
    ui.screenshot("explore-sweep-price", app.locator(".lamina-sweep-tab"))

    app.locator(".lamina-sweep-run").click()
    grid = app.locator(".lamina-sweep-grid")
    grid.wait_for()
    ui.page.wait_for_function(IMAGES_LOADED, arg=[grid.element_handle(), 6], timeout=90_000)
    assert sandbox.stats.run_creations == created + 6
    cells = grid.locator(".lamina-sweep-cell").all_inner_texts()
    labels = [c.split("\n")[0].strip() for c in cells]
    assert labels == list(STYLES), labels
    # Each head's whole value reaches the page as its span's title (a Label's tooltip would not).
    tips = grid.locator(".lamina-sweep-head span").evaluate_all("s => s.map(x => x.title)")
    assert tips == list(STYLES), tips
    # The price line was worked out again when the sweep ended: every style is reused now.
    price.filter(has_text=re.compile(r"Run sweep: 0 new runs · 6 reused")).wait_for()
    price.filter(has_text="about 0 credits").wait_for()  # the estimate follows the count
    ui.screenshot("explore-sweep-done-price", app.locator(".lamina-sweep-tab"))
    sizes = grid.locator("img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert len(sizes) == 6 and min(sizes) >= 256, sizes
    grid.scroll_into_view_if_needed()
    ui.screenshot("explore-six-styles-lighthouse-storm-night", grid)
    ui.assert_no_console_errors()


# -- 5. the Grid tab: price, confirmation, live filling, a free rerun -------------------------

GRID_PROMPTS = (LIGHTHOUSE, "a red fox in a snowy forest")
MID_RUN = """(view) => {
    const cells = view.querySelectorAll('.lamina-grid .lamina-compare td');
    const done = [...view.querySelectorAll('.lamina-grid td img')]
        .filter(i => i.complete && i.naturalWidth > 0).length;
    const pending = view.querySelectorAll('.lamina-grid td .lamina-pending').length;
    const tables = [...view.querySelectorAll('.lamina-grid .lamina-compare')]
        .map(t => t.outerHTML.replace(/src="data:[^"]*"/g, 'src="data:..."').slice(0, 4000));
    return done >= 2 && pending >= 2 ? {done, pending, cells: cells.length, tables} : false;
}"""


def test_the_grid_tab_prices_asks_fills_in_and_reruns_for_free(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any
) -> None:
    name = notebook(
        "grid-tab.ipynb",
        [
            "%config LaminaMagics.confirm_over = 6\n"
            f'studio = LaminaApp("Text to Image")\nstudio.value = {{"Prompt": {LIGHTHOUSE!r}}}\n'
            "# two cells of the grid below ran before: the grid reuses them\n"
            'for handle in [studio.run(Style="Anime"), studio.run(Style="Watercolor")]:\n'
            "    handle.result()\n"
            "studio",
        ],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.widen()  # six columns of 168 px pictures side by side
    ui.run_all(timeout=120)
    app = ui.code_cell(1).locator(".lamina-app").first
    created = sandbox.stats.run_creations

    _tab(app, "Grid")
    tab = app.locator(".lamina-grid-tab")
    tab.locator(".lamina-axis-y select:not([multiple])").select_option("Prompt")
    lines = tab.locator(".lamina-axis-y textarea")
    lines.fill("\n".join(GRID_PROMPTS))
    price = tab.locator(".lamina-price")
    price.filter(has_text="credits of a balance").wait_for()
    text = price.inner_text()
    one = estimate(sandbox, "Text to Image", {"Prompt": LIGHTHOUSE})["estimatedCredits"]
    expected = (
        "Run grid: 10 new runs · 2 reused from earlier runs (no charge) · "
        f"about {10 * one['expected']:,.0f} credits"
    )
    assert text.startswith(expected), text
    # Roomy axes: each prompt on one line of the rows' text (none scrolled out of view), every
    # style label of the columns' list on screen.
    area = lines.evaluate(
        "t => ({width: t.clientWidth, rows: t.rows, fits: t.scrollHeight <= t.clientHeight + 1})"
    )
    assert area["width"] >= 400 and area["fits"] and area["rows"] >= len(GRID_PROMPTS), area
    inside = tab.locator(".lamina-axis-y").evaluate(
        "b => [...b.querySelectorAll('.widget-textarea, .widget-text')]"
        ".every(e => e.getBoundingClientRect().right <= b.getBoundingClientRect().right)"
    )
    assert inside, "the text fields overflow their axis box (their right border is cut off)"
    styles = tab.locator(".lamina-axis-x select[multiple]").evaluate(
        "s => ({n: s.options.length, fits: s.scrollHeight <= s.clientHeight + 1})"
    )
    assert styles == {"n": len(STYLES), "fits": True}, styles
    ui.screenshot("explore-grid-price", tab)

    tab.locator(".lamina-grid-run").click()
    confirm = tab.locator(".lamina-confirm")
    confirm.wait_for()
    assert "more than confirm_over = 6 new runs" in confirm.inner_text(), confirm.inner_text()
    ui.page.wait_for_timeout(500)
    assert sandbox.stats.run_creations == created, "nothing starts before the confirmation"
    ui.screenshot("explore-grid-confirmation", tab)
    tab.locator(".lamina-confirm-button", has_text="Start 10 runs").click()

    view = tab.locator(".lamina-grid-view")
    mid = ui.page.wait_for_function(MID_RUN, arg=view.element_handle(), timeout=60_000)
    ui.screenshot("explore-grid-mid-run", view)
    state = mid.json_value()
    assert state["cells"] == 12 and state["pending"] >= 2, state
    ui.page.wait_for_function(
        "v => v.querySelectorAll('.lamina-grid td .lamina-pending').length === 0 && "
        "[...v.querySelectorAll('.lamina-grid td img')]"
        ".filter(i => i.naturalWidth > 0).length === 12",
        arg=view.element_handle(),
        timeout=90_000,
    )
    assert sandbox.stats.run_creations == created + 10
    grid_text = view.inner_text()
    assert all(p in grid_text for p in GRID_PROMPTS) and all(s in grid_text for s in STYLES)
    assert "reused" in grid_text
    # Each picture fills its cell (168 px), not a 64 px history thumbnail's box.
    shown = view.locator(".lamina-compare img").evaluate_all(
        "imgs => imgs.map(i => i.getBoundingClientRect().width)"
    )
    assert len(shown) == 12 and min(shown) >= 150, shown
    ui.screenshot("explore-grid-done", view)

    # The same grid again: every cell answered by the journal, nothing sent, no question. The
    # price line says so before any click (re-priced when the grid ended).
    price.filter(has_text=re.compile(r"Run grid: 0 new runs · 12 reused")).wait_for()
    price.filter(has_text="about 0 credits").wait_for()  # the estimate follows the count
    ui.screenshot("explore-grid-done-price", price)
    tab.locator(".lamina-grid-run").click()
    view.filter(has_text="12 cells, 12 completed (12 reused)").wait_for(timeout=30_000)
    ui.page.wait_for_function(IMAGES_LOADED, arg=[view.element_handle(), 12])
    assert not confirm.is_visible()
    assert sandbox.stats.run_creations == created + 10, "a rerun of the same grid sent runs"
    ui.screenshot("explore-grid-rerun-all-reused", view)
    ui.assert_no_console_errors()


# -- 6. the History tab: a search and a star --------------------------------------------------


def test_history_tab_search_and_star(
    lab: JupyterLab, sandbox: Sandbox, notebook: Any, new_page: Any, journal_path: Path
) -> None:
    prompts = ("a red fox curled up in snow", LIGHTHOUSE, "a tiny robot watering a bonsai")
    starts = ", ".join(f"studio.run(Prompt={p!r})" for p in prompts)
    name = notebook(
        "history.ipynb",
        [
            'studio = LaminaApp("Text to Image")\n'
            f"for handle in [{starts}]:\n    handle.result()\nstudio"
        ],
    )
    ui = new_page(lab)
    ui.open_notebook(name)
    ui.run_all(timeout=120)
    app = ui.code_cell(1).locator(".lamina-app").first
    _tab(app, "History")
    tab = app.locator(".lamina-history-tab")
    rows = tab.locator(".lamina-history-row")
    ui.page.wait_for_function(
        "t => t.querySelectorAll('.lamina-history-row').length === 3", arg=tab.element_handle()
    )

    search = tab.locator(".lamina-history-search input")
    search.fill("lighthouse")
    search.press("Enter")
    ui.page.wait_for_function(
        "t => [...t.querySelectorAll('.lamina-history-row')]"
        ".filter(r => r.offsetParent !== null).length === 1",
        arg=tab.element_handle(),
    )
    row = rows.filter(has_text="lighthouse").first
    assert row.is_visible()
    run_id = full_ids(sandbox, "Text to Image", [row.locator(".lamina-short-id").inner_text()])[0]
    row.locator(".lamina-star-button").click()
    row.locator(".lamina-star-button", has_text="★").wait_for()
    _wait_until(ui, lambda: bool(Journal(journal_path).get(run_id).starred), "the star journaled")
    assert [e.execution_id for e in Journal(journal_path).history() if e.starred] == [run_id]
    ui.page.wait_for_function(
        "t => t.querySelectorAll('.lamina-history-thumb img, .lamina-history-row img').length >= 1"
        " && [...t.querySelectorAll('.lamina-history-row img')]"
        ".every(i => i.offsetParent === null || i.naturalWidth > 0)",
        arg=tab.element_handle(),
    )
    ui.screenshot("explore-history-search-star", tab)
    ui.assert_no_console_errors()


# -- 7. an exported grid opened from disk, nothing running ------------------------------------


def test_an_exported_grid_opens_from_disk_with_nothing_running(
    lab: JupyterLab, notebook: Any, new_page: Any, browser: Any, tmp_path: Path
) -> None:
    exported = tmp_path / "export" / "lighthouse-grid.html"
    with Sandbox(time_scale=0.02, rate_limit=0) as own:  # this test's own, stopped below
        name = notebook(
            "export.ipynb",
            [
                "from lamina_notebook.session import get_session\n"
                f"get_session().configure(base_url={own.base_url!r}, api_key={own.api_key!r})\n"
                'studio = LaminaApp("Text to Image")\n'
                "grid = studio.grid(\n"
                '    x="Style", y="Prompt",\n'
                '    values={"Style": ["Anime", "Watercolor", "Neon Noir"],\n'
                f'            "Prompt": [{LIGHTHOUSE!r}, "a red fox in a snowy forest"]}},\n'
                '    fixed={"Aspect Ratio": "16:9"},\n'
                ")\n"
                "grid.wait()\n"
                f"grid.export({str(exported)!r})\n"
                "grid.counts()",
            ],
        )
        ui = new_page(lab)
        ui.open_notebook(name)
        ui.run_all(timeout=120)
        assert own.stats.run_creations == 6
        assert "'completed': 6" in ui.outputs_text(1), ui.outputs_text(1)
        ui.shutdown_kernel()
    assert not own.running

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    asked: list[str] = []

    def refuse(route: Any) -> None:
        asked.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(https?|wss?)://"), refuse)
    try:
        page = context.new_page()
        page.goto(exported.as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "() => [...document.images]"
            ".map(i => [i.complete && i.naturalWidth, i.src.slice(0, 11)])"
        )
        assert len(images) == 6 and all(w and w > 0 for w, _ in images), images
        assert all(src.startswith("data:image/") for _, src in images), images
        shown = page.locator(".lamina-compare img").evaluate_all(
            "imgs => imgs.map(i => i.getBoundingClientRect().width)"
        )
        assert len(shown) == 6 and min(shown) >= 150, f"pictures too small to compare: {shown}"
        text = page.locator("body").inner_text()
        assert "Aspect Ratio" in text and "16:9" in text, "the legend of fixed inputs"
        assert all(s in text for s in ("Anime", "Watercolor", "Neon Noir", LIGHTHOUSE))
        assert page.locator(".lamina-legend").first.is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "explore-exported-grid-from-disk.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    assert asked == [], f"the exported page asked the network: {asked}"
