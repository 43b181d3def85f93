"""Grids as escaped HTML and terminal text: headers, a legend, small multiples, one thumbnail per
cell, and a grid's price before it runs.

Pure: a :class:`~lamina_notebook.grids.GridSpec` and the cells' states in, strings out. Every
label and message from a user or the service goes through ``esc``/``plain``; a cell's picture is
embedded (``data:`` URI from the journal's thumbnail), so a saved notebook shows the whole grid
without a kernel, and only :func:`safe_url` links lead to the full size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from ..grids import AXIS_ROLES, REJECTED, UNCONFIRMED, CellState, GridSpec, cell_key
from ..models import Media
from .html import MAX_EMBED_BYTES, data_uri, esc, link, plain, safe_url, shorten
from .outputs import SEP, message_html
from .styles import STYLE_TAG, status_class

__all__ = [
    "CELL_PX",
    "CostView",
    "cost_html",
    "cost_text",
    "grid_counts",
    "grid_html",
    "grid_text",
    "panels_html",
]

#: Width of one grid cell in HTML; thumbnails scale down to it (inline: survives sanitizers).
CELL_PX = 168
#: Header labels longer than this are cut in the header (the full text is in the title).
LABEL_CHARS = 60

#: A function that turns an output URL into the one to link (e.g. through a Jupyter proxy).
UrlMap = Callable[[str], str]

_PENDING = '<div class="lamina-pending" style="min-height:{h}px">{body}</div>'


def grid_counts(cells: Sequence[CellState]) -> dict[str, int]:
    """How many cells are completed, reused, failed, unconfirmed, running or waiting."""
    counts = {"cells": len(cells), "completed": 0, "reused": 0, "failed": 0}
    counts.update(unconfirmed=0, running=0, waiting=0)
    for c in cells:
        if c.status == "completed":
            counts["completed"] += 1
            counts["reused"] += int(c.reused)
        elif c.is_failed:
            counts["failed"] += 1
        elif c.status == UNCONFIRMED:
            counts["unconfirmed"] += 1
        elif c.status in ("queued", "running", "starting"):
            counts["running"] += 1
        else:
            counts["waiting"] += 1
    return counts


def _summary(cells: Sequence[CellState]) -> str:
    n = grid_counts(cells)
    # "running" counts the cells whose start went out too; the header says which is which.
    n["starting"] = sum(c.status == "starting" for c in cells)
    n["running"] -= n["starting"]
    parts = [f"{n['cells']} cells", f"{n['completed']} completed"]
    if n["reused"]:
        parts[-1] += f" ({n['reused']} reused)"
    for key in ("starting", "running", "waiting", "failed", "unconfirmed"):
        if n[key]:
            parts.append(f"{n[key]} {key}")
    return ", ".join(parts)


def _shape(spec: GridSpec) -> str:
    x, y, z = spec.shape
    return f"{x}x{y}" + (f"x{z}" if spec.z else "")


# --------------------------------------------------------------------------- HTML


def grid_html(
    spec: GridSpec,
    cells: Sequence[CellState],
    *,
    grid_id: str | None = None,
    notes: Sequence[str] = (),
    url_map: UrlMap | None = None,
) -> str:
    """The grid as one self-contained card: title and progress, a legend of the axes and the
    fixed inputs, then one table per panel (``z`` value) with column and row headers.

    ``notes`` are extra lines under the title (e.g. "4 runs reused, 20 credits saved");
    ``url_map`` rewrites full-size links (a proxy) before they are allow-listed.
    """
    head = (
        f'<div class="lamina-head"><strong class="lamina-title">{esc(spec.app_name)}</strong>'
        f"{SEP}<span>grid {esc(_shape(spec))}</span>"
        + (f'{SEP}<span class="lamina-id" title="grid id">{esc(grid_id)}</span>' if grid_id else "")
        + f'{SEP}<span class="lamina-muted">{esc(_summary(cells))}</span></div>'
    )
    extra = "".join(f'<div class="lamina-muted">{esc(n)}</div>' for n in notes)
    body = legend_html(spec) + panels_html(spec, cells, url_map=url_map)
    tail = _problems_html(cells)
    return f'{STYLE_TAG}<div class="lamina-card lamina-grid">{head}{extra}{body}{tail}</div>'


def legend_html(spec: GridSpec) -> str:
    """The axes (what varies along columns, rows and panels) and the fixed inputs."""
    rows = []
    for role, axis in spec.axes.items():
        what = f"{AXIS_ROLES[role]}s ({role})".capitalize()
        rows.append((what, axis.describe()))
    for name, value in spec.fixed.items():
        rows.append((f"Fixed: {name}", _value_text(value)))
    cells = "".join(
        f'<tr><th style="text-align:left;vertical-align:top">{esc(k)}</th>'
        f'<td style="text-align:left;vertical-align:top">{esc(shorten(v, 500))}</td></tr>'
        for k, v in rows
    )
    return f'<table class="lamina-table lamina-legend">{cells}</table>'


def panels_html(
    spec: GridSpec,
    cells: Sequence[CellState],
    *,
    url_map: UrlMap | None = None,
    images: Mapping[str, Media] | None = None,
    max_image_bytes: int = MAX_EMBED_BYTES,
    cell_px: int = CELL_PX,
) -> str:
    """One table per panel (``z`` value; a single table without ``z``).

    A cell shows ``images[key]`` when given (the export's full-size pictures), else its own
    thumbnail, linked to the full-size output; its status while it runs; its failure.
    """
    by_key = {c.key: c for c in cells}
    zs: Sequence[str | None] = spec.z.items if spec.z else (None,)
    ys: Sequence[str | None] = spec.y.items if spec.y else (None,)
    out = []
    for z in zs:
        title = ""
        if spec.z is not None and z is not None:
            title = (
                f'<div class="lamina-grid-label lamina-panel-title" style="margin:10px 0 4px">'
                f"<strong>{esc(spec.z.name)} = {esc(shorten(z, LABEL_CHARS))}</strong></div>"
            )
        corner = " \\ ".join(a.name for a in (spec.y, spec.x) if a is not None)
        head = _th(corner, muted=True) + "".join(_th(x) for x in spec.x.items)
        rows = []
        for y in ys:
            row_head = _th(y, scope="row") if y is not None else _th("")
            tds = []
            for x in spec.x.items:
                cell = by_key.get(cell_key(x, y, z))
                inner = _cell_html(cell, url_map, images, max_image_bytes, cell_px)
                tds.append(
                    f'<td style="text-align:left;vertical-align:top">'
                    f'<div style="width:{cell_px}px">{inner}</div></td>'
                )
            rows.append(f"<tr>{row_head}{''.join(tds)}</tr>")
        table = (
            f'<table class="lamina-table lamina-compare"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        out.append(
            f'<div class="lamina-panel">{title}'
            f'<div class="lamina-scroll" style="overflow-x:auto;max-width:100%">{table}</div></div>'
        )
    return "".join(out)


def _th(text: str, *, scope: str = "col", muted: bool = False) -> str:
    shown = shorten(text, LABEL_CHARS)
    style = "text-align:left;vertical-align:top;" + (
        "white-space:nowrap" if len(shown) <= 24 else "min-width:120px"
    )
    title = f' title="{esc(text)}"' if shown != text else ""
    inner = esc(shown) if muted else f"<strong>{esc(shown)}</strong>"
    return f'<th scope="{scope}" class="lamina-grid-label" style="{style}"{title}>{inner}</th>'


def _cell_html(
    cell: CellState | None,
    url_map: UrlMap | None,
    images: Mapping[str, Media] | None,
    max_image_bytes: int,
    cell_px: int,
) -> str:
    h = cell_px * 2 // 3
    if cell is None:
        return _PENDING.format(h=h, body="not planned")
    if cell.status == "completed":
        return _done_html(cell, url_map, images, max_image_bytes) + _caption(cell)
    if cell.is_failed:
        head = "Start refused" if cell.status == REJECTED else f"Run {cell.status}"
        return message_html(head, [cell.error or "no reason given"], None) + _caption(cell)
    if cell.status == UNCONFIRMED:
        note = (
            cell.error
            or "the start got no usable answer: the run MAY exist (and be billed); "
            "check the app's runs before starting it again"
        )
        return message_html("Start unconfirmed", [note], None) + _caption(cell)
    badge = f'<span class="lamina-badge {status_class(cell.status)}">{esc(cell.status)}</span>'
    return _PENDING.format(h=h, body=badge) + _caption(cell)


def _done_html(
    cell: CellState,
    url_map: UrlMap | None,
    images: Mapping[str, Media] | None,
    max_image_bytes: int,
) -> str:
    target = _mapped(cell.url, url_map)
    full = (images or {}).get(cell.key)
    src = _embed(full, max_image_bytes) if full else None
    if src is None and cell.thumb:  # no full-size picture, or one that cannot be embedded
        src = _embed(cell.thumb, MAX_EMBED_BYTES)
    alt = esc(f"{cell.label}")
    if src:
        img = (
            f'<img src="{esc(src)}" alt="{alt}" title="{alt}" '
            'style="width:100%;height:auto;display:block">'
        )
        return link(target, img) if _linkable(target) else img
    if _linkable(target):
        return link(target, "open full size ↗")
    value = cell.url
    if value:  # a text output: show it
        shown = esc(shorten(value, 400))
        return f'<div class="lamina-text" style="white-space:pre-wrap">{shown}</div>'
    return '<div class="lamina-muted">completed, no picture</div>'


def _caption(cell: CellState) -> str:
    bits = []
    if cell.reused:
        bits.append(
            '<span class="lamina-badge lamina-s-other" title="answered by an earlier run with '
            'the same inputs; no new run">reused</span>'
        )
    if cell.execution_id:
        short = cell.execution_id[:8]
        bits.append(f'<span class="lamina-id" title="{esc(cell.execution_id)}">{esc(short)}</span>')
    if not bits:
        return ""
    return f'<div class="lamina-muted" style="margin-top:2px">{" ".join(bits)}</div>'


def _problems_html(cells: Sequence[CellState]) -> str:
    unconfirmed = [c for c in cells if c.status == UNCONFIRMED]
    if not unconfirmed:
        return ""
    names = "; ".join(c.label for c in unconfirmed[:5])
    more = f" and {len(unconfirmed) - 5} more" if len(unconfirmed) > 5 else ""
    return message_html(
        f"{len(unconfirmed)} cell(s) with an unconfirmed start",
        [f"{names}{more}"],
        "Their runs MAY exist and be billed; they are not started again unless you ask "
        "(GridRun.retry_unconfirmed()).",
    )


def _mapped(url: str | None, url_map: UrlMap | None) -> str | None:
    if url is None or url_map is None or not safe_url(url):
        return url
    try:
        return url_map(url)
    except Exception:  # a broken proxy mapping must not hide the grid
        return url


def _linkable(url: str | None) -> bool:
    good = safe_url(url)
    return bool(good) and not str(good).lower().startswith("data:")


def _embed(media: Media, max_bytes: int) -> str | None:
    raw, mime = media
    if max_bytes <= MAX_EMBED_BYTES:
        return data_uri(raw, mime)
    if not raw or len(raw) > max_bytes:
        return None
    import base64

    kind = (mime or "").split(";", 1)[0].strip().lower()
    if kind not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        return None
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- text


def grid_text(spec: GridSpec, cells: Sequence[CellState], *, grid_id: str | None = None) -> str:
    """The grid for terminals: summary, legend, a status matrix per panel, failures, URLs."""
    title = f"{spec.app_name} · grid {_shape(spec)}" + (f" · {grid_id}" if grid_id else "")
    lines = [plain(f"{title} · {_summary(cells)}")]
    for role, axis in spec.axes.items():
        lines.append(plain(f"  {AXIS_ROLES[role]}s: {shorten(axis.describe(), 200)}"))
    for name, value in spec.fixed.items():
        lines.append(plain(f"  fixed: {name}={shorten(_value_text(value), 80)}"))
    by_key = {c.key: c for c in cells}
    zs: Sequence[str | None] = spec.z.items if spec.z else (None,)
    ys: Sequence[str | None] = spec.y.items if spec.y else (None,)
    for z in zs:
        lines.append("")
        if spec.z is not None and z is not None:
            lines.append(plain(f"[{spec.z.name} = {shorten(z, 60)}]"))
        head = [shorten(spec.y.name if spec.y else "", 24)] + [shorten(x, 14) for x in spec.x.items]
        rows = [
            [shorten(y or "", 24)] + [_mark(by_key.get(cell_key(x, y, z))) for x in spec.x.items]
            for y in ys
        ]
        lines.append(_matrix(head, rows))
    failed = [c for c in cells if c.is_failed or c.status == UNCONFIRMED]
    if failed:
        lines.append("")
        lines.append("Problems:")
        lines.extend(
            plain(f"  {c.label}: {c.status}: {shorten(c.error or 'no reason given', 200)}")
            for c in failed
        )
    done = [c for c in cells if c.status == "completed" and c.url]
    if done:
        lines.append("")
        lines.append("Full size:")
        lines.extend(plain(f"  {c.label}: {shorten(c.url, 200)}") for c in done)
    return "\n".join(lines)


def _mark(cell: CellState | None) -> str:
    if cell is None:
        return "-"
    if cell.status == "completed":
        return "reused" if cell.reused else "done"
    return cell.status


def _matrix(head: list[str], rows: list[list[str]]) -> str:
    cells = [[plain(c).replace("\n", " ") for c in row] for row in [head, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


# --------------------------------------------------------------------------- cost


class CostView(Protocol):
    """What :func:`cost_html`/:func:`cost_text` read of a grid's price (``session.grids.Cost``)."""

    @property
    def cells(self) -> int: ...
    @property
    def runs(self) -> int: ...
    @property
    def reused(self) -> int: ...
    @property
    def duplicates(self) -> int: ...
    @property
    def kept(self) -> int: ...
    @property
    def expected(self) -> float | None: ...
    @property
    def minimum(self) -> float | None: ...
    @property
    def maximum(self) -> float | None: ...
    @property
    def balance(self) -> float | None: ...
    @property
    def affordable(self) -> bool | None: ...
    @property
    def saved(self) -> float | None: ...
    @property
    def basis(self) -> str: ...


def _credits(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def cost_lines(cost: CostView) -> list[str]:
    """The price as sentences: runs, reuse, credits, balance, and how it was estimated."""
    parts = [f"{cost.cells} cells: {cost.runs} new run(s)"]
    if cost.reused:
        parts.append(f"{cost.reused} reused from the journal")
    if cost.duplicates:
        parts.append(f"{cost.duplicates} repeat(s) of another cell")
    if cost.kept:
        parts.append(f"{cost.kept} already in the grid")
    lines = [", ".join(parts) + "."]
    if cost.expected is not None:
        spread = ""
        low, high = cost.minimum, cost.maximum
        if low is not None and high is not None and (low, high) != (cost.expected,) * 2:
            spread = f" ({_credits(low)} to {_credits(high)})"
        text = f"Estimated {_credits(cost.expected)} credits{spread}"
        if cost.balance is not None:
            text += f" of a balance of {_credits(cost.balance)}"
        if cost.affordable is False:
            text += ": NOT affordable"
        elif cost.affordable:
            text += ": affordable"
        lines.append(text + ".")
        if cost.saved:
            lines.append(f"Reuse saves about {_credits(cost.saved)} credits.")
    lines.append(cost.basis)
    return lines


def cost_text(cost: CostView) -> str:
    return plain("\n".join(cost_lines(cost)))


def cost_html(cost: CostView) -> str:
    lines = cost_lines(cost)
    warn = cost.affordable is False
    head = f'<div class="lamina-head"><strong class="lamina-title">{esc(lines[0])}</strong></div>'
    rest = "".join(
        f'<div class="{"lamina-error" if warn and "NOT" in line else "lamina-muted"}">'
        f"{esc(line)}</div>"
        for line in lines[1:]
    )
    return f'{STYLE_TAG}<div class="lamina-card lamina-cost">{head}{rest}</div>'
