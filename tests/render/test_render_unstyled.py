"""Rendered HTML as an untrusted notebook shows it: sanitized, without the stylesheet.

JupyterLab renders untrusted HTML outputs through its sanitizer (packages/apputils/src/
sanitizer.ts, JupyterLab 4): ``<style>`` is dropped, and an inline declaration survives only if
its property is allowed and its value matches a plain pattern (so ``var(--jp-...)`` and every
grid property are dropped). ``Unstyled`` below models that for the properties this package uses,
then reduces the result to the lines a reader sees: block elements break lines, table cells are
separated, images show as their alt text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import ipywidgets as W
from render_support import half_done

from lamina_notebook import render
from lamina_notebook.journal import JournalEntry
from lamina_notebook.models import App, Execution, Output
from lamina_notebook.render.styles import CSS
from lamina_notebook.widget.gallery import output_tile, walk
from lamina_notebook.widget.sweep import MIN_COLUMN_PX, Sweep

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

_LENGTH = r"(0|[0-9.]+(px|em|rem|%))"
# The subset of JupyterLab's allowedStyles this package emits, with its value patterns.
ALLOWED_STYLES = {
    "display": r"inline|block|inline-block|flex|grid|none|table",
    "vertical-align": r"baseline|top|middle|bottom",
    "width": f"{_LENGTH}|auto",
    "height": f"{_LENGTH}|auto",
    "max-width": f"{_LENGTH}|none|auto",
    "max-height": f"{_LENGTH}|none|auto",
    "min-width": f"{_LENGTH}|auto",
    "margin": rf"(({_LENGTH}|auto)\s*){{1,4}}",
    "overflow-x": r"visible|hidden|scroll|auto",
    "overflow-wrap": r"normal|break-word",
    "word-break": r"normal|keep-all|break-all",
    "white-space": r"normal|pre|nowrap|pre-wrap|pre-line",
    "color": r"#[0-9a-f]+|[a-z]+",
}
BLOCKS = {
    "div",
    "p",
    "figure",
    "figcaption",
    "table",
    "tr",
    "ul",
    "li",
    "details",
    "summary",
    "pre",
    "thead",
    "tbody",
}


class Unstyled(HTMLParser):
    """Sanitize like JupyterLab (model above) and collect the visible lines and kept styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.kept: list[tuple[str, dict[str, str]]] = []  # (tag, surviving declarations)
        self.alts: list[str | None] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "style":
            self._in_style = True
            return
        found = dict(attrs)
        self.kept.append((tag, _surviving(found.get("style") or "")))
        if tag in BLOCKS:
            self._break()
        elif tag in ("td", "th") and self.lines[-1]:
            self.lines[-1] += " | "
        elif tag == "img":
            self.alts.append(found.get("alt"))
            self.lines[-1] += f"[{found.get('alt') or 'image'}]"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag in BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.lines[-1] += re.sub(r"\s+", " ", data)

    def _break(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")

    def visible(self) -> list[str]:
        return [line.strip() for line in self.lines if line.strip()]


def _surviving(style: str) -> dict[str, str]:
    kept = {}
    for decl in filter(None, (d.strip() for d in style.split(";"))):
        prop, _, value = (p.strip().lower() for p in decl.partition(":"))
        pattern = ALLOWED_STYLES.get(prop)
        if pattern and re.fullmatch(pattern, value):
            kept[prop] = value
    return kept


def unstyled(html: str) -> Unstyled:
    parser = Unstyled()
    parser.feed(html)
    parser.close()
    return parser


def image_execution(status: str = "completed", exec_id: str = "89e5c0de") -> Execution:
    out = {
        "id": "o1",
        "label": "Image",
        "type": "image",
        "value": "https://cdn.example/1.png",
        "status": status,
    }
    return Execution.from_json(
        {"executionId": exec_id, "status": status, "outputs": [out]}
    ).with_app("app-t2i", "Text to Image")


def test_card_heading_keeps_its_words_apart() -> None:
    page = unstyled(
        render.execution_html(
            image_execution(),
            {"o1": (PNG, "image/png")},
            inputs={"Prompt": "a fox", "Style": "Anime"},
        )
    )
    lines = page.visible()
    assert lines[0] == "Text to Image · completed · 89e5c0de", lines
    assert "[Image]" in lines[1] and lines[2] == "Image · full size ↗", lines
    assert "Prompt | a fox" in lines and "Style | Anime" in lines
    # The figure is not indented by the browser's default 40 px once the CSS is gone.
    assert ("figure", {"margin": "0"}) in page.kept


def test_progress_and_app_info_headings_read_without_css() -> None:
    running = unstyled(render.progress_html(image_execution("running"), 3.0, 5.0)).visible()
    assert running[0] == "Text to Image · running · 89e5c0de", running
    app = App.from_json(
        {
            "appId": "app-7",
            "name": "Photo Stylizer",
            "parameters": [
                {"id": "s", "name": "Style", "type": "options", "options": ["Anime", "Noir"]}
            ],
        }
    )
    info = unstyled(render.app_info_html(app)).visible()
    assert info[0] == "Photo Stylizer · app-7", info
    assert any(line.startswith("Style") and "Anime, Noir" in line for line in info), info


def test_progress_reads_without_css_as_one_bar_and_its_facts() -> None:
    running = half_done("89e5c0de", "Text to Image", app_id="app-t2i")
    lines = unstyled(render.progress_html(running, 3.0, 5.0)).visible()
    # The styled bar has no text; the facts say the same (no "[####----]" in HTML).
    assert lines == [
        "Text to Image · running · 89e5c0de",
        "50 % · 1/2 outputs · 3.0 s · ~5.0 s left",
    ]


def test_a_failure_reads_once_without_css() -> None:
    failed = Execution.from_json(
        {
            "executionId": "89e5c0de",
            "status": "failed",
            "errorMessage": "GPU out of memory",
            "outputs": [
                {
                    "id": "o1",
                    "label": "Image",
                    "type": "pending",
                    "value": None,
                    "status": "error",
                    "error": "GPU out of memory",
                },
            ],
        }
    ).with_app("app-t2i", "Text to Image")
    lines = unstyled(render.execution_html(failed, inputs={"Prompt": "a fox"})).visible()
    assert lines[:3] == ["Text to Image · failed · 89e5c0de", "Run failed", "GPU out of memory"]
    assert sum("GPU out of memory" in line for line in lines) == 1


def test_app_info_option_chips_keep_their_styles_without_the_stylesheet() -> None:
    app = App.from_json(
        {
            "appId": "app-7",
            "name": "Photo Stylizer",
            "parameters": [
                {
                    "id": "s",
                    "name": "Style",
                    "type": "options",
                    "options": ["Disney / Pixar", "Neon Noir"],
                }
            ],
        }
    )
    page = unstyled(render.app_info_html(app))
    chips = [kept for tag, kept in page.kept if tag == "code" and kept]
    assert chips == [{"display": "inline-block", "white-space": "nowrap"}] * 2
    assert any("Disney / Pixar, Neon Noir" in line for line in page.visible())


def test_history_reads_well_without_css() -> None:
    def entry(eid: str, style: str, created: float) -> JournalEntry:
        return JournalEntry(
            execution_id=eid,
            app_id="app-t2i",
            app_name="Text to Image",
            inputs={"Prompt": "a lighthouse in a storm at night", "Style": style},
            status="completed",
            outputs=({"id": "o1", "status": "completed"},),
            error=None,
            webhook_url=None,
            base_url="http://127.0.0.1:1",
            created_at=created,
            updated_at=created,
            completed_at=created + 4,
        )

    newest = entry("3f2a9c4e-1b7d-4e8a-9c0f-5d6e7f8a9b0c", "Watercolor", 1_700_000_100.0)
    older = entry("0b1c2d3e-0000-4000-8000-000000000000", "Anime", 1_700_000_000.0)
    page = unstyled(
        render.history_html([newest, older], {newest.execution_id: (PNG, "image/png")}, total=7)
    )
    lines = page.visible()
    assert lines[0] == "History · Runs 1-2 of 7", lines
    at = next(i for i, line in enumerate(lines) if "3f2a9c4e" in line)
    assert lines[at].endswith("| 4.0 s | 3f2a9c4e |"), lines[at]  # the short id, whole
    assert lines[at + 1] == "Prompt=a lighthouse in a storm at night, Style=Watercolor"
    assert "changed: Style: Anime → Watercolor" in lines
    assert "use these inputs" in lines
    assert "5 more — %lamina history --offset 2" in lines
    # Kept inline styles: ids and times never wrap; inputs break between words only.
    assert ("span", {"white-space": "nowrap"}) in page.kept
    assert (
        "div",
        {"overflow-wrap": "break-word", "word-break": "normal", "min-width": "160px"},
    ) in page.kept


def test_every_image_has_alt_text() -> None:
    entry = JournalEntry(
        execution_id="e1",
        app_id="app-t2i",
        app_name="Text to Image",
        inputs={},
        status="done",
        outputs=(),
        error=None,
        webhook_url=None,
        base_url="http://127.0.0.1:1",
        created_at=1.0,
        updated_at=2.0,
        completed_at=3.0,
    )
    cells = [render.GridCell("", "Anime", image_execution(), {"o1": (PNG, "image/png")})]
    pieces = [
        render.execution_html(image_execution(), {"o1": (PNG, "image/png")}),
        render.history_html([entry], {"e1": (PNG, "image/png")}),
        render.comparison_grid_html(cells, col_name="Style"),
    ]
    for html in pieces:
        alts = unstyled(html).alts
        assert alts and all(alts), (alts, html[-400:])
    assert unstyled(pieces[2]).alts == ["Style=Anime: Image"]


def _sweep_cells() -> list[render.GridCell]:
    styles = ["Photorealistic", "Watercolor", "Anime", "Pixel Art", "Oil Painting", "Neon Noir"]
    return [
        render.GridCell("", s, image_execution(exec_id=f"id-{i}"), {"o1": (PNG, "image/png")})
        for i, s in enumerate(styles)
    ]


def test_one_parameter_sweep_wraps_as_inline_blocks_without_css() -> None:
    html = render.comparison_grid_html(_sweep_cells(), col_name="Style")
    page = unstyled(html)
    lines = page.visible()
    assert lines[0] == "Sweep over Style · 6 run(s)", lines
    # Each value is a whole line of its own, followed by its picture (never one letter a line).
    for style in ("Photorealistic", "Pixel Art", "Neon Noir"):
        at = lines.index(style)
        assert lines[at + 1] == f"[Style={style}: Image]", lines
    cells = [kept for tag, kept in page.kept if kept.get("display") == "inline-block"]
    assert len(cells) == 6 and all(
        k["width"] == "220px" and k["max-width"] == "100%" for k in cells
    )
    # Styled, the same cells are a responsive CSS grid that the inline width does not fight.
    assert "repeat(auto-fill,minmax(180px,1fr))" in " ".join(CSS.split())
    assert ".lamina-sweep>.lamina-sweep-cell{width:auto!important" in CSS


def test_two_parameter_grid_is_a_table_that_scrolls_sideways() -> None:
    cells = [
        render.GridCell(r, c, image_execution(exec_id=f"{r}{c}"), {"o1": (PNG, "image/png")})
        for r in ("Anime", "Oil Painting")
        for c in ("1:1", "16:9", "9:16", "4:3", "3:2")
    ]
    page = unstyled(render.comparison_grid_html(cells, row_name="Style", col_name="Aspect Ratio"))
    lines = page.visible()
    assert lines[0] == "Style \\ Aspect Ratio | 1:1 | 16:9 | 9:16 | 4:3 | 3:2", lines
    assert lines[1].startswith("Anime") and lines[2] == "[Style=Anime, Aspect Ratio=1:1: Image]"
    assert ("div", {"overflow-x": "auto", "max-width": "100%"}) in page.kept
    # Short header labels never wrap; a long one wraps but keeps a readable width.
    headers = [kept for tag, kept in page.kept if tag == "th"]
    assert headers and all(k == {"white-space": "nowrap"} for k in headers)
    long_name = "a very long parameter name that should wrap"
    wide = unstyled(render.comparison_grid_html(cells, row_name=long_name, col_name="Ratio"))
    assert ("th", {"min-width": "140px"}) in wide.kept


def _fixed_px(widget: W.Widget) -> list[int]:
    sizes = []
    for name in ("width", "min_width"):
        value = getattr(widget.layout, name, None) or ""
        if value.endswith("px"):
            sizes.append(int(float(value[:-2])))
    return sizes


def test_widget_sweep_cells_fit_the_narrowest_column() -> None:
    sweep = Sweep("Style", ["Photorealistic", "Watercolor", "Anime", "Pixel Art"])
    assert "auto-fill" in sweep.grid.layout.grid_template_columns
    output = Output.from_json(
        {
            "id": "o1",
            "label": "Image",
            "type": "image",
            "value": "https://cdn.example/1.png",
            "status": "completed",
        }
    )
    tile = output_tile(output, (PNG, "image/png"), None, {}, fluid=True)
    sweep.grid.children[0].children[2].children = [tile]  # the first cell's media box
    too_wide = [
        (type(w).__name__, _fixed_px(w))
        for w in walk(sweep.grid)
        if any(px > MIN_COLUMN_PX for px in _fixed_px(w))
    ]
    assert not too_wide, too_wide
    image = next(w for w in walk(tile) if isinstance(w, W.Image))
    # Shrinks to the column, never enlarged beyond its own size (the journal's ~192 px).
    assert image.layout.object_fit == "contain" and image.layout.max_width == "100%"
    assert image.layout.width == "auto"
