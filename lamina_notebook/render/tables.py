"""Tables as escaped HTML and terminal text: apps, an app's parameters, the run history, sweeps.

Re-exported by ``render``; every service string goes through ``esc``/``plain``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import App, Execution, Media, Parameter
from .html import (
    data_uri,
    esc,
    fmt_duration,
    fmt_epoch,
    inputs_text,
    plain,
    quote_arg,
    shorten,
)
from .outputs import SEP, message_html, output_html
from .styles import STYLE_TAG, status_class

__all__ = [
    "GridCell",
    "app_info_html",
    "app_info_text",
    "apps_table_html",
    "apps_table_text",
    "comparison_grid_html",
    "comparison_grid_text",
    "example_run_line",
    "history_html",
    "history_text",
]


_CELL = "text-align:left;vertical-align:top"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; ``rows`` cells are already HTML (escaped by the caller).

    Alignment is inline: JupyterLab right-aligns rendered table cells with a rule our class
    selector does not outrank, and inline ``text-align`` also survives the untrusted sanitizer.
    """
    head = "".join(f'<th style="{_CELL}">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{c}</td>' for c in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="lamina-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width columns for terminals; cells are plain text (control chars removed)."""
    cells = [[plain(c).replace("\n", " ") for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines.extend(fmt.format(*row).rstrip() for row in cells)
    return "\n".join(lines)


def _badge(status: str) -> str:
    return f'<span class="lamina-badge {status_class(status)}">{esc(status)}</span>'


def _card(inner: str, extra: str = "") -> str:
    return f'{STYLE_TAG}<div class="lamina-card {extra}">{inner}</div>'


# --------------------------------------------------------------------------- apps


def apps_table_html(apps: Sequence[App]) -> str:
    """Apps as a table: name, description, id; ``run`` lines are copy-pasteable."""
    if not apps:
        return _card('<div class="lamina-muted">No apps match.</div>')
    rows = [
        (
            f"<strong>{esc(a.name)}</strong>",
            esc(shorten(a.description, 200)),
            f'<span class="lamina-code">{esc(a.app_id)}</span>',
        )
        for a in apps
    ]
    note = (
        f'<div class="lamina-muted">{len(apps)} app(s). Parameters: '
        "<code>%lamina info APP</code>; run: <code>%lamina run APP Name=value</code></div>"
    )
    return _card(_table(["Name", "Description", "App id"], rows) + note)


def apps_table_text(apps: Sequence[App]) -> str:
    """The apps table for terminals."""
    if not apps:
        return "No apps match."
    rows = [(shorten(a.name, 40), shorten(a.description, 60), a.app_id) for a in apps]
    return _text_table(["Name", "Description", "App id"], rows)


# --------------------------------------------------------------------------- app info


def example_run_line(app: App) -> str:
    """A ``%lamina run`` line with every parameter that needs a value (quoted as needed)."""
    parts = ["%lamina run", quote_arg(app.name)]
    for p in app.parameters or ():
        if p.needs_value:
            value = p.options[0] if p.options else f"<{p.type}>"
            parts.append(quote_arg(f"{p.name}={value}"))
    return " ".join(parts)


def _default_shown(p: Parameter) -> str:
    """The saved default as a reader should see it: an empty default shows as ``""``."""
    if p.default is None:
        return ""
    return p.default if p.default.strip() else f'"{p.default}"'


def _param_cells(p: Parameter) -> tuple[str, str, str, str, str]:
    name = f"<strong>{esc(p.name)}</strong>"
    if p.needs_value:
        name += ' <span class="lamina-badge lamina-s-queued">required</span>'
    kind = esc(p.type) + (f" ({esc(', '.join(p.accept))})" if p.accept else "")
    options = ", ".join(f'<code class="lamina-code">{esc(o)}</code>' for o in p.options)
    default = f'<code class="lamina-code">{esc(_default_shown(p))}</code>' if p.has_default else ""
    return name, kind, options, default, esc(p.description or "")


def app_info_html(app: App) -> str:
    """The app's parameters: name (+ required), type, options, default, description."""
    head = (
        f'<div class="lamina-head"><strong class="lamina-title">{esc(app.name)}</strong>{SEP}'
        f'<span class="lamina-id">{esc(app.app_id)}</span></div>'
    )
    desc = f"<div>{esc(app.description)}</div>" if app.description else ""
    if app.parameters is None:
        body = '<div class="lamina-muted">Parameters not loaded (use the app detail call).</div>'
    elif not app.parameters:
        body = '<div class="lamina-muted">This app takes no parameters.</div>'
    else:
        rows = [_param_cells(p) for p in app.parameters]
        body = _table(["Parameter", "Type", "Options", "Default", "Description"], rows)
    example = f'<div class="lamina-muted">Example: <code>{esc(example_run_line(app))}</code></div>'
    return _card(head + desc + body + example)


def app_info_text(app: App) -> str:
    """The parameters table for terminals, with an example run line."""
    lines = [f"{plain(app.name)}  ({plain(app.app_id)})"]
    if app.description:
        lines.append(plain(app.description))
    if app.parameters is None:
        lines.append("Parameters not loaded.")
    elif not app.parameters:
        lines.append("This app takes no parameters.")
    else:
        rows = [
            (
                p.name + (" *" if p.needs_value else ""),
                p.type,
                shorten(", ".join(p.options), 50),
                _default_shown(p),
                shorten(p.description or "", 50),
            )
            for p in app.parameters
        ]
        lines.append(_text_table(["Parameter", "Type", "Options", "Default", "Description"], rows))
        lines.append("(* required: no default)")
    lines.append(f"Example: {plain(example_run_line(app))}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- history


def _entry_outputs(entry: Any) -> str:
    outs = list(getattr(entry, "outputs", ()) or ())
    done = sum(1 for o in outs if isinstance(o, Mapping) and o.get("status") == "completed")
    return f"{done}/{len(outs)}"


def _duration(entry: Any) -> float | None:
    done, start = getattr(entry, "completed_at", None), getattr(entry, "created_at", None)
    if isinstance(done, (int, float)) and isinstance(start, (int, float)):
        return max(0.0, done - start)
    return None


#: Status of a journaled start whose answer was lost (journal.UNCONFIRMED; render stays pure).
UNCONFIRMED = "unconfirmed"
UNCONFIRMED_NOTE = (
    "unconfirmed: the start got no usable answer, so the run MAY exist (and be billed) but its "
    "id is unknown; the id shown is local and cannot be resumed. Check the app's executions in "
    "the Lamina app before starting it again."
)


def _has_unconfirmed(entries: Sequence[Any]) -> bool:
    return any(getattr(e, "status", None) == UNCONFIRMED for e in entries)


def history_html(entries: Sequence[Any], thumbs: Mapping[str, Media] | None = None) -> str:
    """Journal entries (newest first) as a table; ``thumbs[execution_id]`` adds a thumbnail."""
    if not entries:
        return _card('<div class="lamina-muted">No executions in the journal yet.</div>')
    thumbs = thumbs or {}
    rows = []
    for e in entries:
        thumb = thumbs.get(e.execution_id)
        uri = data_uri(*thumb) if thumb else None
        rows.append(
            (
                f'<img src="{esc(uri)}" alt="{esc(_thumb_alt(e))}" '
                'style="max-width:64px;max-height:64px">'
                if uri
                else "",
                esc(fmt_epoch(e.created_at)),
                esc(e.app_name or e.app_id or ""),
                _badge(e.status),
                esc(fmt_duration(_duration(e))),
                f'<span class="lamina-code">{esc(e.execution_id)}</span>',
                esc(inputs_text(e.inputs)),
                esc(_entry_outputs(e)),
            )
        )
    headers = ["", "Started", "App", "Status", "Took", "Execution id", "Inputs", "Outputs"]
    note = (
        '<div class="lamina-muted">Reattach: <code>%lamina resume ID</code>; '
        "download: <code>%lamina save ID</code></div>"
    )
    if _has_unconfirmed(entries):
        note += f'<div class="lamina-hint">{esc(UNCONFIRMED_NOTE)}</div>'
    return _card(_table(headers, rows) + note)


def _thumb_alt(entry: Any) -> str:
    return f"first output of {entry.app_name or entry.app_id or 'the run'}"


def history_text(entries: Sequence[Any]) -> str:
    """The history table for terminals."""
    if not entries:
        return "No executions in the journal yet."
    rows = [
        (
            fmt_epoch(e.created_at),
            shorten(e.app_name or e.app_id or "", 30),
            e.status,
            fmt_duration(_duration(e)),
            e.execution_id,
            inputs_text(e.inputs, 50),
            _entry_outputs(e),
        )
        for e in entries
    ]
    table = _text_table(
        ["Started", "App", "Status", "Took", "Execution id", "Inputs", "Outputs"], rows
    )
    return f"{table}\n{UNCONFIRMED_NOTE}" if _has_unconfirmed(entries) else table


# --------------------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class GridCell:
    """One run of a sweep: its row/column labels (the swept values) and what to show."""

    row: str
    col: str = ""
    execution: Execution | None = None
    media: Mapping[str, Media] = field(default_factory=dict)


def _labels(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))  # first-seen order, no duplicates


def _grid_cell_html(cell: GridCell | None, alt: str) -> str:
    ex = cell.execution if cell else None
    if ex is None:
        return '<div class="lamina-pending">not started</div>'
    if ex.is_failed:
        reason = ex.error_message or ex.status
        return message_html(f"Run {ex.status}", [reason], None)
    shown = next((o for o in ex.outputs if o.is_completed), None)
    if shown is None:
        return f'<div class="lamina-pending">{_badge(ex.status)}</div>'
    media = cell.media.get(shown.id) if cell else None
    return output_html(shown, media, alt=f"{alt}: {shown.label}")


#: Width of one static grid cell; images scale down to it (inline, so it survives sanitizers).
_CELL_PX = 220
#: Labels up to this long stay on one line; longer ones wrap inside a minimum width.
_NOWRAP_CHARS = 24


def _label_html(text: str, tag: str = "div", attrs: str = "") -> str:
    """A grid label that never collapses to one letter per line, but long ones may wrap."""
    style = "white-space:nowrap" if len(text) <= _NOWRAP_CHARS else "min-width:140px"
    return (
        f'<{tag}{attrs} class="lamina-grid-label" style="{style}">'
        f"<strong>{esc(text)}</strong></{tag}>"
    )


def comparison_grid_html(
    cells: Sequence[GridCell], *, row_name: str | None = None, col_name: str | None = None
) -> str:
    """A sweep as a grid: one row per ``row`` value, one column per ``col`` value.

    Each cell shows the run's first finished output (image embedded from ``media``), its
    status while it runs, or its failure. ``row_name``/``col_name`` label the swept parameters.
    A one-parameter sweep (all rows or all columns ``""``) is a list of cells that wraps to
    the available width; a two-parameter one is a table that scrolls sideways when wide.
    Both read in row order without the stylesheet (sanitized, untrusted notebooks).
    """
    rows, cols = _labels(c.row for c in cells), _labels(c.col for c in cells)
    if rows == [""]:
        return _card(_sweep_list_html(cells, [c.col for c in cells], col_name))
    if cols == [""]:
        return _card(_sweep_list_html(cells, [c.row for c in cells], row_name))
    return _card(_grid_table_html(cells, rows, cols, row_name, col_name))


def _sweep_list_html(cells: Sequence[GridCell], values: list[str], name: str | None) -> str:
    """One cell per value, side by side while they fit (inline blocks; a CSS grid if styled)."""
    title = f"Sweep over {name}" if name else "Sweep"
    head = (
        f'<div class="lamina-head"><strong class="lamina-title">{esc(title)}</strong>{SEP}'
        f'<span class="lamina-muted">{len(cells)} run(s)</span></div>'
    )
    box = (
        f"display:inline-block;vertical-align:top;width:{_CELL_PX}px;max-width:100%;"
        "margin:0 10px 12px 0"
    )
    items = []
    for cell, value in zip(cells, values, strict=True):
        alt = f"{name}={value}" if name else value
        items.append(
            f'<div class="lamina-sweep-cell" style="{box}">{_label_html(value)}'
            f"{_grid_cell_html(cell, alt)}</div>"
        )
    return f'{head}<div class="lamina-sweep">{"".join(items)}</div>'


def _grid_table_html(
    cells: Sequence[GridCell],
    rows: list[str],
    cols: list[str],
    row_name: str | None,
    col_name: str | None,
) -> str:
    """Rows x columns as a table in a sideways-scrolling box (tables survive sanitizers)."""
    by_pos = {(c.row, c.col): c for c in cells}
    corner = " \\ ".join(n for n in (row_name, col_name) if n)
    head = _label_html(corner, "th") + "".join(_label_html(c, "th") for c in cols)
    body = []
    for r in rows:
        tds = "".join(
            f'<td><div style="width:{_CELL_PX}px">'
            f"{_grid_cell_html(by_pos.get((r, c)), _cell_alt(row_name, r, col_name, c))}"
            "</div></td>"
            for c in cols
        )
        row_head = _label_html(r, "th", ' scope="row"')
        body.append(f"<tr>{row_head}{tds}</tr>")
    table = (
        f'<table class="lamina-table lamina-compare"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return f'<div class="lamina-scroll" style="overflow-x:auto;max-width:100%">{table}</div>'


def _cell_alt(row_name: str | None, row: str, col_name: str | None, col: str) -> str:
    parts = [f"{n}={v}" if n else v for n, v in ((row_name, row), (col_name, col)) if v]
    return ", ".join(parts)


def comparison_grid_text(cells: Sequence[GridCell]) -> str:
    """The sweep for terminals: row, column, status and the first output's URL or text."""
    rows = []
    for c in cells:
        ex = c.execution
        first = next((o for o in ex.outputs if o.is_completed), None) if ex else None
        rows.append(
            (
                c.row,
                c.col,
                ex.status if ex else "not started",
                shorten(first.value, 80)
                if first and first.value
                else (ex.error_message or "")
                if ex
                else "",
            )
        )
    return _text_table(["Row", "Column", "Status", "Output"], rows)
