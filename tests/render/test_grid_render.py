"""Grid rendering: headers, legend, panels, one embedded thumbnail per cell, marks, failures,
and the price; every label escaped, every link allow-listed, terminals get no control codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from test_render import HOSTILE

from lamina_notebook.grids import Axis, CellState, GridSpec, cell_key
from lamina_notebook.models import Execution
from lamina_notebook.render.grids import cost_html, cost_text, grid_counts, grid_html, grid_text

JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64
GOOD_URL = "https://cdn.example.com/out/1.png"


class Page(HTMLParser):
    """Tags with attributes and the text, as a browser tokenizes them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attrs(self, tag: str, name: str) -> list[str]:
        return [a[name] or "" for t, a in self.tags if t == tag and name in a]


def check_safe(html: str) -> Page:
    """No script, no event handlers, images only from data:image, links only http(s)."""
    assert "<script" not in html.lower()
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ("script", "iframe", "object", "embed", "form", "base", "link"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name == "src":
                assert re.fullmatch(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+", value or "")
            if name == "href":
                assert (value or "").startswith(("https://", "http://")), value
            if name == "style":
                assert "url(" not in (value or "") and "expression" not in (value or "")
    return page


def execution(ex_id: str, value: str | None, status: str = "completed", **kw: Any) -> Execution:
    outputs = []
    if value is not None:
        outputs.append(
            {"id": "o1", "label": "Image", "type": "image", "status": "completed", "value": value}
        )
    return Execution.from_json({"executionId": ex_id, "status": status, "outputs": outputs, **kw})


def hostile_grid() -> tuple[GridSpec, list[CellState]]:
    """Every label, value, message and URL a hostile string."""
    spec = GridSpec(
        "app",
        HOSTILE[0],
        Axis("Style", HOSTILE[:4], label=HOSTILE[1]),
        Axis("Prompt", HOSTILE[4:]),
        fixed={HOSTILE[2]: HOSTILE[0], "Seed": HOSTILE[6]},
    )
    cells = []
    for n, (*_, x, y, z) in enumerate(spec.positions(), 1):
        h = HOSTILE[n % len(HOSTILE)]
        key = cell_key(x, y, z)
        base = CellState(key, x, y, z, spec.cell_label(x, y, z), {"Prompt": h})
        kind = n % 4
        if kind == 0:  # completed, a hostile URL, a thumbnail
            cells.append(
                CellState(
                    **{
                        **base.__dict__,
                        "status": "completed",
                        "execution_id": h,
                        "execution": execution(h, h),
                        "thumb": (JPEG, "image/jpeg"),
                    }
                )
            )
        elif kind == 1:  # failed with a hostile message
            cells.append(
                CellState(**{**base.__dict__, "status": "failed", "execution_id": "e1", "error": h})
            )
        elif kind == 2:  # reused, a good URL, an SVG "thumbnail" (never embedded)
            cells.append(
                CellState(
                    **{
                        **base.__dict__,
                        "status": "completed",
                        "reused": True,
                        "execution_id": "e2",
                        "execution": execution("e2", GOOD_URL),
                        "thumb": (b"<svg onload=alert(1)>", "image/svg+xml"),
                    }
                )
            )
        else:
            cells.append(CellState(**{**base.__dict__, "status": "unconfirmed", "error": h}))
    return spec, cells


def test_hostile_labels_values_and_urls_are_escaped_or_dropped() -> None:
    spec, cells = hostile_grid()
    html = grid_html(spec, cells, grid_id=HOSTILE[1], notes=[HOSTILE[0]])
    page = check_safe(html)
    text = "".join(page.text)
    for h in HOSTILE:  # each shows as text: escaped, not interpreted
        if h.strip() == h and "\t" not in h:
            assert h in text, h
    assert all(src.startswith("data:image/jpeg") for src in page.attrs("img", "src"))
    assert len(page.attrs("img", "src")) == sum(1 for c in cells if c.thumb == (JPEG, "image/jpeg"))
    assert page.attrs("a", "href") == [GOOD_URL] * sum(1 for c in cells if c.reused)
    assert "svg" not in "".join(page.attrs("img", "src"))


def test_text_form_has_no_terminal_control_codes() -> None:
    spec, cells = hostile_grid()
    evil = "\x1b]0;owned\x07\x1b[31mred"
    cells[0] = CellState(**{**cells[0].__dict__, "status": "failed", "error": evil})
    text = grid_text(spec, cells, grid_id="g-1")
    assert "\x1b" not in text and "\x07" not in text
    assert "Problems:" in text and "owned" in text


def complete_grid() -> tuple[GridSpec, list[CellState]]:
    spec = GridSpec(
        "app",
        "Text to Image",
        Axis("Style", ["Anime", "Watercolor"]),
        Axis("Prompt", ["a fox", "a lighthouse"]),
        Axis("Aspect Ratio", ["1:1", "16:9"]),
        fixed={"Seed": "7"},
    )
    cells = []
    for i, (*_, x, y, z) in enumerate(spec.positions()):
        key = cell_key(x, y, z)
        cells.append(
            CellState(
                key,
                x,
                y,
                z,
                spec.cell_label(x, y, z),
                {"Style": x, "Prompt": y},
                status="completed",
                execution_id=f"exec-{i:04d}-abcdef",
                execution=execution(f"exec-{i}", f"https://cdn.example.com/{i}.png"),
                thumb=(JPEG, "image/jpeg"),
                reused=i == 0,
            )
        )
    return spec, cells


def test_headers_legend_panels_and_one_thumbnail_per_cell() -> None:
    spec, cells = complete_grid()
    html = grid_html(spec, cells, grid_id="g-1234567890")
    page = check_safe(html)
    text = " ".join(page.text)
    assert page.attrs("img", "src") and len(page.attrs("img", "src")) == 8
    # full size is one click away: every picture is inside a link to its output
    assert sorted(page.attrs("a", "href")) == sorted(c.url for c in cells)  # type: ignore[misc]
    assert html.count('<table class="lamina-table lamina-compare"') == 2  # one per z value
    for needle in (
        "Aspect Ratio = 1:1",
        "Aspect Ratio = 16:9",
        "Prompt \\ Style",
        "Anime",
        "a lighthouse",
        "Fixed: Seed",
        "Columns (x)",
        "Rows (y)",
        "Panels (z)",
        "g-1234567890",
        "8 completed (1 reused)",
        "reused",
    ):
        assert needle in text, needle
    assert "exec-000" in text  # a short id under each cell, the full one on hover
    assert 'title="exec-0000-abcdef"' in html


def test_cells_in_flight_failed_and_unconfirmed() -> None:
    spec, cells = complete_grid()
    cells[1] = CellState(**{**cells[1].__dict__, "status": "running", "thumb": None})
    cells[2] = CellState(**{**cells[2].__dict__, "status": "failed", "error": "GPU on fire"})
    cells[3] = CellState(**{**cells[3].__dict__, "status": "rejected", "error": "402 credits"})
    cells[4] = CellState(**{**cells[4].__dict__, "status": "unconfirmed", "error": None})
    cells[5] = CellState(**{**cells[5].__dict__, "status": "waiting"})
    counts = grid_counts(cells)
    assert counts == {
        "cells": 8,
        "completed": 3,
        "reused": 1,
        "failed": 2,
        "unconfirmed": 1,
        "running": 1,
        "waiting": 1,
    }
    html = grid_html(spec, cells)
    text = " ".join(check_safe(html).text)
    assert "Run failed" in text and "GPU on fire" in text
    assert "Start refused" in text and "402 credits" in text
    assert "Start unconfirmed" in text and "MAY exist" in text and "retry_unconfirmed" in text
    assert "running" in text and "waiting" in text
    plain = grid_text(spec, cells)
    assert "GPU on fire" in plain and "unconfirmed" in plain
    assert "3 completed (1 reused), 1 running, 1 waiting, 2 failed, 1 unconfirmed" in plain


def test_a_text_output_shows_and_a_proxy_rewrites_links() -> None:
    spec, cells = complete_grid()
    cells[0] = CellState(
        **{
            **cells[0].__dict__,
            "thumb": None,
            "execution": Execution.from_json(
                {
                    "executionId": "t",
                    "status": "completed",
                    "outputs": [
                        {
                            "id": "o",
                            "label": "Copy",
                            "type": "text",
                            "status": "completed",
                            "value": "<b>bold</b> copy",
                        }
                    ],
                }
            ),
        }
    )
    html = grid_html(spec, cells, url_map=lambda u: u.replace("cdn.example.com", "proxy.test"))
    page = check_safe(html)
    assert "<b>bold</b> copy" in "".join(page.text)
    assert all(h.startswith("https://proxy.test/") for h in page.attrs("a", "href"))


@dataclass(frozen=True)
class FakeCost:
    cells: int = 24
    runs: int = 6
    reused: int = 18
    duplicates: int = 0
    kept: int = 0
    expected: float | None = 30.0
    minimum: float | None = 30.0
    maximum: float | None = 42.0
    balance: float | None = 1000.0
    affordable: bool | None = True
    saved: float | None = 90.0
    basis: str = "One run estimated at 5 credits, times 6 run(s)."


def test_cost_text_and_html() -> None:
    text = cost_text(FakeCost())
    assert "24 cells: 6 new run(s), 18 reused from the journal." in text
    assert "Estimated 30 credits (30 to 42) of a balance of 1,000: affordable." in text
    assert "Reuse saves about 90 credits." in text and "times 6 run(s)" in text
    broke = FakeCost(balance=10.0, affordable=False, basis=HOSTILE[0])
    html = cost_html(broke)
    page = check_safe(html)
    assert "NOT affordable" in "".join(page.text) and "lamina-error" in html
    assert HOSTILE[0] in "".join(page.text)
    none = cost_text(
        FakeCost(
            expected=None,
            minimum=None,
            maximum=None,
            balance=None,
            affordable=None,
            saved=None,
            basis="No estimate: 6 runs.",
        )
    )
    assert "credits" not in none.split("\n")[0] and "No estimate: 6 runs." in none


def test_the_header_tells_starting_cells_from_running_ones() -> None:
    """Cells whose start went out show "starting"; the header said "10 running" beside them."""
    spec, cells = complete_grid()
    cells[0] = CellState(**{**cells[0].__dict__, "status": "starting", "thumb": None})
    cells[1] = CellState(**{**cells[1].__dict__, "status": "starting", "thumb": None})
    cells[2] = CellState(**{**cells[2].__dict__, "status": "running", "thumb": None})
    head = " ".join(check_safe(grid_html(spec, cells)).text)
    assert "2 starting, 1 running" in head, head
    assert grid_counts(cells)["running"] == 3  # the counts API is unchanged: all in flight
