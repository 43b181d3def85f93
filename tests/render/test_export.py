"""Exported pages: one self-contained HTML file (images as data: URIs, no script, nothing loaded
from elsewhere) with the legend and the manifest; also a page of history rows."""

from __future__ import annotations

import html as htmllib
import json
import re
from typing import Any

from test_grid_render import JPEG, Page, check_safe, complete_grid, hostile_grid

from lamina_notebook.grids import CellState
from lamina_notebook.journal import JournalEntry, StoredMedia
from lamina_notebook.render.export import (
    MAX_PAGE_IMAGE_BYTES,
    export_history_html,
    export_html,
    grid_manifest,
)

PNG_FULL = b"\x89PNG\r\n\x1a\n" + b"\x02" * 500_000  # bigger than a notebook would embed


def check_page(page_html: str) -> Page:
    """A whole page that loads nothing from elsewhere and runs nothing."""
    assert page_html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page_html  # opens right from disk
    assert page_html.rstrip().endswith("</html>")
    head = Page(page_html.split("<body", 1)[0])
    assert [t for t, _ in head.tags] == ["html", "head", "meta", "meta", "title", "style"]
    assert [a for t, a in head.tags if t == "meta"][1]["name"] == "viewport"
    style = "".join(re.findall(r"<style>(.*?)</style>", page_html, flags=re.S))
    assert "url(" not in style and "@import" not in style
    body = page_html.split("<body", 1)[1]
    page = check_safe(body)
    for tag, _attrs in page.tags:
        assert tag not in ("link", "meta", "video", "audio", "source", "svg"), tag
    return page


def test_a_grid_page_is_self_contained_with_legend_and_manifest() -> None:
    spec, cells = complete_grid()
    page_html = export_html(spec, cells, grid_id="g-1", generated="2026-01-02 03:04")
    page = check_page(page_html)
    text = " ".join(page.text)
    assert "Text to Image grid g-1" in text and "Fixed: Seed" in text and "2026-01-02" in text
    assert len(page.attrs("img", "src")) == len(cells)
    # the manifest, as JSON: app, spec and every cell's run, inputs and outputs
    raw = re.search(r'<pre class="lamina-json">(.*?)</pre>', page_html, flags=re.S)
    assert raw is not None
    manifest = json.loads(htmllib.unescape(raw.group(1)))
    assert manifest == json.loads(json.dumps(grid_manifest(spec, cells, grid_id="g-1")))
    assert manifest["app"] == {"id": "app", "name": "Text to Image"}
    assert manifest["spec"]["x"]["values"] == ["Anime", "Watercolor"]
    assert [c["execution_id"] for c in manifest["cells"]] == [c.execution_id for c in cells]
    assert manifest["cells"][0]["outputs"][0]["value"] == "https://cdn.example.com/0.png"
    assert manifest["cells"][0]["reused"] is True
    # and as a table with a link per output
    assert page.attrs("a", "href").count("https://cdn.example.com/3.png") == 2  # picture + table


def test_full_size_images_replace_thumbnails_within_a_limit() -> None:
    spec, cells = complete_grid()
    big = {cells[0].key: (PNG_FULL, "image/png")}
    too_big = {cells[1].key: (b"\x89PNG" + b"\0" * (MAX_PAGE_IMAGE_BYTES + 1), "image/png")}
    svg = {cells[2].key: (b"<svg onload=alert(1)/>", "image/svg+xml")}
    page = check_page(export_html(spec, cells, images={**big, **too_big, **svg}))
    srcs = page.attrs("img", "src")
    assert len(srcs) == len(cells)  # every cell still shows a picture
    assert sum(s.startswith("data:image/png") for s in srcs) == 1  # only the one that fits
    assert sum(len(s) > 600_000 for s in srcs) == 1


def test_hostile_grids_export_safely() -> None:
    spec, cells = hostile_grid()
    page = check_page(export_html(spec, cells, grid_id="<g>", title="<script>x</script>"))
    assert "<script>x</script>" in "".join(page.text)


def test_history_page() -> None:
    entries = [
        JournalEntry(
            execution_id=f"exec-{i}",
            app_id="app",
            app_name="Text to Image" if i else "<img src=x onerror=alert(1)>",
            inputs={"Prompt": f"a fox #{i}", "Style": "Anime"},
            status="completed" if i != 2 else "failed",
            outputs=(
                {
                    "id": "o1",
                    "label": "Image",
                    "status": "completed",
                    "value": "https://cdn.example.com/x.png" if i != 1 else "javascript:alert(1)",
                },
            ),
            error="GPU on fire" if i == 2 else None,
            webhook_url=None,
            base_url="https://api.example.com",
            created_at=1_700_000_000.0 + i,
            updated_at=1_700_000_000.0 + i,
            completed_at=1_700_000_010.0 + i,
        )
        for i in range(3)
    ]
    stored = {"o0": StoredMedia("o0", "image"), "o1": StoredMedia("o1", "image", thumb=JPEG)}
    media: dict[str, Any] = {"exec-0": stored, "exec-1": (b"<svg/>", "image/svg+xml")}
    page_html = export_history_html(entries, media, query="fox", generated="today")
    page = check_page(page_html)
    text = " ".join(page.text)
    assert '3 run(s) matching "fox"' in text and "a fox #2" in text
    assert "<img src=x onerror=alert(1)>" in text  # an app name shown as text
    assert len(page.attrs("img", "src")) == 1
    assert page.attrs("a", "href") == ["https://cdn.example.com/x.png"] * 2  # not javascript:
    assert "javascript:alert(1)" in text  # shown inert


def test_a_cell_without_a_run_exports_its_state() -> None:
    spec, cells = complete_grid()
    cells[0] = CellState(
        **{
            **cells[0].__dict__,
            "status": "waiting",
            "execution": None,
            "execution_id": None,
            "thumb": None,
        }
    )
    page = check_page(export_html(spec, cells))
    assert "1 not finished" in " ".join(page.text)
