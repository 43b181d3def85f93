"""Self-contained HTML pages: a grid (``GridRun.export``) or a slice of the history.

One file that opens from disk, in VS Code's preview and on GitHub Pages: images embedded as
``data:`` URIs, a small inline stylesheet, no JavaScript and nothing loaded from elsewhere
(links to full-size outputs are plain ``<a href>`` that only load when clicked). A grid page
carries its manifest (app, spec, every cell's execution id, inputs and output URLs) both as a
table and as JSON, so the page alone says how each picture was made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..grids import CellState, GridSpec
from ..models import Media
from .grids import grid_counts, legend_html, panels_html
from .html import data_uri, esc, fmt_epoch, link, safe_url, shorten
from .styles import CSS, status_class

__all__ = ["MAX_PAGE_IMAGE_BYTES", "export_history_html", "export_html", "grid_manifest"]

#: Largest full-size image embedded in an exported page (bigger ones: the thumbnail + link).
MAX_PAGE_IMAGE_BYTES = 8 * 1024 * 1024

#: The page around the lamina- classes: readable from disk with no Jupyter variables.
PAGE_CSS = """
body{margin:24px;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;
 background:#fff}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px}
.lamina-page .lamina-card{border:none;padding:0}
.lamina-manifest td,.lamina-manifest th{font-size:12px}
pre.lamina-json{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:8px;
 border-radius:4px;font-size:12px}
footer{margin-top:24px;color:#59636e;font-size:12px}
"""


def _page(title: str, body: str) -> str:
    style = " ".join((CSS + PAGE_CSS).split())
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{style}</style></head>"
        f'<body class="lamina-page">{body}</body></html>\n'
    )


def grid_manifest(
    spec: GridSpec, cells: Sequence[CellState], *, grid_id: str | None = None
) -> dict[str, Any]:
    """What made each picture: app, spec and one entry per cell (execution id, reused or
    not, status, inputs, output URLs). JSON-ready; no secrets (inputs and URLs only)."""
    return {
        "grid_id": grid_id,
        "app": {"id": spec.app_id, "name": spec.app_name},
        "spec": spec.to_json(),
        "cells": [
            {
                "x": c.x,
                "y": c.y,
                "z": c.z,
                "status": c.status,
                "execution_id": c.execution_id,
                "reused": c.reused,
                "inputs": {str(k): v for k, v in c.inputs.items()},
                "outputs": _output_urls(c),
                "error": c.error,
            }
            for c in cells
        ],
    }


def _output_urls(cell: CellState) -> list[dict[str, Any]]:
    ex = cell.execution
    if ex is None:
        return []
    return [
        {"label": o.label, "type": o.type, "status": o.status, "value": o.value} for o in ex.outputs
    ]


def export_html(
    spec: GridSpec,
    cells: Sequence[CellState],
    *,
    grid_id: str | None = None,
    title: str | None = None,
    images: Mapping[str, Media] | None = None,
    generated: str | None = None,
) -> str:
    """A whole HTML page for a grid: title, summary, legend, the panels with every picture
    embedded (``images[cell key]`` at full size where given, else the cell's thumbnail), and
    the manifest. ``generated`` is a line for the footer (e.g. a date)."""
    name = title or f"{spec.app_name} grid" + (f" {grid_id}" if grid_id else "")
    n = grid_counts(cells)
    summary = (
        f"{n['cells']} cells: {n['completed']} completed ({n['reused']} reused), "
        f"{n['failed']} failed"
        + (f", {n['unconfirmed']} unconfirmed" if n["unconfirmed"] else "")
        + (f", {n['running'] + n['waiting']} not finished" if n["running"] + n["waiting"] else "")
    )
    manifest = json.dumps(
        grid_manifest(spec, cells, grid_id=grid_id), indent=2, ensure_ascii=False, default=str
    )
    body = [
        f"<h1>{esc(name)}</h1>",
        f'<p class="lamina-muted">{esc(summary)}</p>',
        '<div class="lamina-card">',
        legend_html(spec),
        panels_html(spec, cells, images=images, max_image_bytes=MAX_PAGE_IMAGE_BYTES),
        "</div>",
        "<h2>Manifest</h2>",
        _manifest_table(cells),
        "<details><summary>Manifest as JSON</summary>",
        f'<pre class="lamina-json">{esc(manifest)}</pre>',
        "</details>",
        f"<footer>Made with lamina-notebook{esc(' · ' + generated) if generated else ''}."
        " Pictures are embedded; links lead to the full-size outputs (service URLs may expire)."
        "</footer>",
    ]
    return _page(name, "".join(body))


def _manifest_table(cells: Sequence[CellState]) -> str:
    rows = []
    for c in cells:
        outputs = " ".join(
            link(o["value"], esc(o["label"] or "output"))
            if safe_url(o["value"]) and not str(o["value"]).startswith("data:")
            else esc(shorten(o["value"] or o["status"], 120))
            for o in _output_urls(c)
        )
        inputs = "; ".join(f"{k}={shorten(v, 200)}" for k, v in c.inputs.items())
        rows.append(
            "<tr>"
            f"<td>{esc(c.label)}</td>"
            f'<td><span class="lamina-badge {status_class(c.status)}">{esc(c.status)}</span>'
            f"{' reused' if c.reused else ''}</td>"
            f'<td class="lamina-code">{esc(c.execution_id or "")}</td>'
            f"<td>{esc(inputs)}</td><td>{outputs or esc(c.error or '')}</td>"
            "</tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("Cell", "Status", "Execution id", "Inputs", "Outputs"))
    return (
        f'<table class="lamina-table lamina-manifest"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def export_history_html(
    entries: Sequence[Any],
    media: Mapping[str, Media | Mapping[str, Any]] | None = None,
    *,
    title: str = "Lamina history",
    query: str | None = None,
    generated: str | None = None,
) -> str:
    """A page of journal entries (``%lamina export QUERY out.html``): one row per run with
    its embedded thumbnail, app, status, full inputs and links.

    ``media[execution_id]`` is a ``Media`` pair, or what ``Journal.media`` returns for the run
    (``{output_id: StoredMedia}``: the first stored thumbnail is shown).
    """
    media = media or {}
    rows = []
    for e in entries:
        thumb = _first_thumb(media.get(e.execution_id))
        uri = data_uri(*thumb) if thumb else None
        img = (
            f'<img src="{esc(uri)}" alt="{esc(e.app_name or "run")}" '
            'style="max-width:160px;height:auto">'
            if uri
            else ""
        )
        inputs = "<br>".join(
            f"<strong>{esc(k)}</strong>: {esc(shorten(v, 500))}" for k, v in e.inputs.items()
        )
        outs = []
        for o in e.outputs:
            value = o.get("value") if isinstance(o, Mapping) else None
            label = str(o.get("label") or "output") if isinstance(o, Mapping) else "output"
            if isinstance(value, str) and safe_url(value) and not value.startswith("data:"):
                outs.append(link(value, esc(label)))
            elif isinstance(value, str) and value:
                outs.append(f"{esc(label)}: {esc(shorten(value, 300))}")
        rows.append(
            "<tr>"
            f"<td>{img}</td><td>{esc(fmt_epoch(e.created_at))}</td>"
            f"<td>{esc(e.app_name or e.app_id or '')}</td>"
            f'<td><span class="lamina-badge {status_class(e.status)}">{esc(e.status)}</span></td>'
            f'<td class="lamina-code">{esc(e.execution_id)}</td>'
            f"<td>{inputs}</td><td>{'<br>'.join(outs) or esc(e.error or '')}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("", "Started", "App", "Status", "Execution id", "Inputs", "Outputs")
    )
    lead = f"{len(entries)} run(s)" + (
        f" matching {json.dumps(query, ensure_ascii=False)}" if query else ""
    )
    body = (
        f'<h1>{esc(title)}</h1><p class="lamina-muted">{esc(lead)}</p>'
        f'<table class="lamina-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table>"
        f"<footer>Made with lamina-notebook{esc(' · ' + generated) if generated else ''}.</footer>"
    )
    return _page(title, body)


def _first_thumb(found: Media | Mapping[str, Any] | None) -> Media | None:
    """A ``Media`` pair as given, or the first ``.thumbnail`` of a run's stored media."""
    if found is None or isinstance(found, tuple):
        return found
    for item in found.values():
        thumb = getattr(item, "thumbnail", None)
        if thumb is not None:
            return thumb  # type: ignore[no-any-return]
    return None
