"""Tables as escaped HTML and terminal text: apps, an app's parameters, the run history, sweeps.

Re-exported by ``render``; every service string goes through ``esc``/``plain``.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..models import App, Execution, Media, Parameter
from .html import (
    data_uri,
    esc,
    fmt_duration,
    fmt_epoch,
    inputs_text,
    plain,
    quote_arg,
    short_id,
    shorten,
)
from .outputs import SEP, message_html, output_html
from .styles import STYLE_TAG, status_class

__all__ = [
    "HISTORY_PAGE",
    "GridCell",
    "StoredMediaLike",
    "app_info_html",
    "app_info_text",
    "apps_table_html",
    "apps_table_text",
    "comparison_grid_html",
    "comparison_grid_text",
    "example_run_line",
    "history_html",
    "history_text",
    "input_diff",
    "rerun_line",
    "widget_value_line",
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
            placeholder = "<https://... or @local-file>" if p.type == "url" else f"<{p.type}>"
            value = p.options[0] if p.options else placeholder
            parts.append(quote_arg(f"{p.name}={value}"))
    return " ".join(parts)


def _default_shown(p: Parameter) -> str:
    """The saved default as a reader should see it: an empty default shows as ``""``."""
    if p.default is None:
        return ""
    return p.default if p.default.strip() else f'"{p.default}"'


#: Inline styles of one option chip: it wraps as a whole, never inside its name (inline, so
#: it holds where a sanitizer dropped the stylesheet; JupyterLab keeps both declarations).
_CHIP_STYLE = "display:inline-block;white-space:nowrap"


def _options_html(options: Sequence[str]) -> str:
    """Options as chips separated by ``, ``: a line breaks between options, not inside one."""
    return ", ".join(
        f'<code class="lamina-code lamina-chip" style="{_CHIP_STYLE}">{esc(o)}</code>'
        for o in options
    )


def _param_cells(p: Parameter) -> tuple[str, str, str, str, str]:
    name = f"<strong>{esc(p.name)}</strong>"
    if p.needs_value:
        name += ' <span class="lamina-badge lamina-s-queued">required</span>'
    kind = esc(p.type) + (f" ({esc(', '.join(p.accept))})" if p.accept else "")
    default = f'<code class="lamina-code">{esc(_default_shown(p))}</code>' if p.has_default else ""
    return name, kind, _options_html(p.options), default, esc(p.description or "")


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


#: Terminal width assumed when none is given and the real one is unknown (not a terminal).
_FALLBACK_COLUMNS = 100
#: Never lay a table out narrower than this, however small the terminal says it is.
_MIN_COLUMNS = 40
#: The history table's Inputs column never gets narrower than this (it is what tells rows apart).
_MIN_INPUTS_TEXT = 16
_GAP = "  "


def _wrap_options(options: Sequence[str], width: int) -> list[str]:
    """Options joined by ``, `` and wrapped between options; one longer than ``width`` keeps
    a line of its own (wider than the column, but whole: every option stays readable)."""
    lines: list[str] = []
    line = ""
    for i, option in enumerate(options):
        piece = plain(option).replace("\n", " ") + ("," if i < len(options) - 1 else "")
        if line and len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    return [*lines, line] if line else [""]


def _wrap_words(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces (a word longer than ``width`` is cut, as a last resort)."""
    clean = plain(text).replace("\n", " ")
    return textwrap.wrap(clean, max(1, width), break_on_hyphens=False) or [""]


def _column_widths(
    natural: list[int], minimum: list[int], flexible: set[int], total: int
) -> list[int]:
    """Widths that fit ``total`` by shrinking the ``flexible`` columns, never below ``minimum``."""
    widths = list(natural)
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - total
    # Shrink the widest flexible column first, one character at a time: the columns end up
    # balanced instead of one of them collapsing to its minimum.
    while excess > 0:
        candidates = [i for i in flexible if widths[i] > minimum[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i] - minimum[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _wrapped_table(
    headers: Sequence[str], rows: Sequence[Sequence[list[str]]], widths: list[int]
) -> str:
    """A fixed-width table whose cells are lists of lines (already wrapped to ``widths``)."""
    cols = [max(w, len(h)) for w, h in zip(widths, headers, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return _GAP.join(c.ljust(w) for c, w in zip(cells, cols, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in cols])]
    for row in rows:
        height = max(len(cell) for cell in row)
        for k in range(height):
            out.append(line([cell[k] if k < len(cell) else "" for cell in row]))
    return "\n".join(out)


def app_info_text(app: App, *, width: int | None = None) -> str:
    """The parameters table for terminals, with an example run line.

    The table fits ``width`` columns (default: the terminal's, from ``shutil``): the Options
    and Description columns wrap, options between one another and never inside a name, so
    every option is visible; nothing is cut off.
    """
    columns = (
        width if width is not None else shutil.get_terminal_size((_FALLBACK_COLUMNS, 24)).columns
    )
    columns = max(_MIN_COLUMNS, columns)
    lines = [f"{plain(app.name)}  ({plain(app.app_id)})"]
    if app.description:
        lines.append(plain(app.description))
    if app.parameters is None:
        lines.append("Parameters not loaded.")
    elif not app.parameters:
        lines.append("This app takes no parameters.")
    else:
        lines.append(_params_text_table(app.parameters, columns))
        lines.append("(* required: no default)")
    lines.append(f"Example: {plain(example_run_line(app))}")
    return "\n".join(lines)


_PARAM_HEADERS = ("Parameter", "Type", "Options", "Default", "Description")


def _params_text_table(params: Sequence[Parameter], columns: int) -> str:
    fixed = [
        [
            plain(p.name + (" *" if p.needs_value else "")).replace("\n", " "),
            plain(p.type),
            plain(shorten(_default_shown(p), 30)).replace("\n", " "),
        ]
        for p in params
    ]
    descriptions = [shorten(p.description or "", 300) for p in params]
    natural = [
        max(len(_PARAM_HEADERS[0]), *(len(f[0]) for f in fixed)),
        max(len(_PARAM_HEADERS[1]), *(len(f[1]) for f in fixed)),
        max(len(_PARAM_HEADERS[2]), *(len(", ".join(p.options)) for p in params)),
        max(len(_PARAM_HEADERS[3]), *(len(f[2]) for f in fixed)),
        max(len(_PARAM_HEADERS[4]), *(len(d) for d in descriptions)),
    ]
    longest_option = max((len(o) + 1 for p in params for o in p.options), default=0)
    minimum = list(natural)
    minimum[2] = max(len(_PARAM_HEADERS[2]), min(natural[2], longest_option))
    minimum[3] = len(_PARAM_HEADERS[3])
    minimum[4] = min(natural[4], len(_PARAM_HEADERS[4]))
    widths = _column_widths(natural, minimum, {2, 3, 4}, columns)
    rows = [
        [
            [f[0]],
            [f[1]],
            _wrap_options(p.options, widths[2]),
            _wrap_words(f[2], widths[3]) if f[2] else [""],
            _wrap_words(d, widths[4]),
        ]
        for p, f, d in zip(params, fixed, descriptions, strict=True)
    ]
    return _wrapped_table(_PARAM_HEADERS, rows, widths)


# --------------------------------------------------------------------------- history

#: Rows of one history page; ``%lamina history`` shows this many unless told otherwise.
HISTORY_PAGE = 20
#: Characters of a value in the inputs column and in a diff (the run line keeps all of it).
_VALUE_CHARS = 60
_DIFF_VALUE_CHARS = 30


class StoredMediaLike(Protocol):
    """What history needs of the journal's ``StoredMedia``: a small thumbnail and its kind.

    ``thumb`` is image bytes (JPEG or PNG, a video's poster frame for a video) or None;
    ``mime`` is the output's type; ``kind`` is ``image``/``video``/``audio``/``text``.
    """

    @property
    def thumb(self) -> bytes | None: ...

    @property
    def mime(self) -> str | None: ...

    @property
    def kind(self) -> str: ...


#: Per execution id: the journal's stored media by output id (``journal.media(ids)``), or a
#: ready ``(bytes, mime)`` thumbnail (what a front end fetched itself).
HistoryMedia = Mapping[str, "Mapping[str, StoredMediaLike] | Media"]


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


def _sniff_image(data: bytes) -> str | None:
    """The image type of thumbnail bytes by their signature (the stored ``mime`` is the
    output's, e.g. ``video/mp4`` for a poster frame)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _entry_thumb(entry: Any, media: HistoryMedia) -> tuple[str | None, str | None]:
    """(data URI of the row's thumbnail, kind of the output it shows) from stored media.

    The first output (in the run's order) with a stored thumbnail; a ``(bytes, mime)`` pair
    is used as it is. Without a thumbnail, the kind of the first stored output, if any.
    """
    item = media.get(entry.execution_id)
    if not item:
        return None, None
    if isinstance(item, tuple):
        raw, mime = item
        return data_uri(raw, mime), "image"
    outputs = getattr(entry, "outputs", ()) or ()
    order = [str(o.get("id")) for o in outputs if isinstance(o, Mapping)]
    ranked = [item[k] for k in order if k in item] + [v for k, v in item.items() if k not in order]
    for stored in ranked:
        thumb = getattr(stored, "thumb", None)
        sniffed = _sniff_image(thumb) if isinstance(thumb, bytes) else None
        uri = data_uri(thumb, sniffed) if isinstance(thumb, bytes) and sniffed else None
        if uri:
            return uri, str(getattr(stored, "kind", "") or "image")
    kind = str(getattr(ranked[0], "kind", "") or "") if ranked else ""
    return None, kind or None


def _shown_value(value: Any, limit: int) -> str:
    return shorten("" if value is None else value, limit)


def input_diff(inputs: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[str]:
    """What changed since the previous run of the same app: ``["Style: Anime → Watercolor"]``.

    Only changed, added (``(unset) → x``) and dropped (``x → (unset)``) inputs, in the order
    of this run's inputs; an empty list when nothing changed (or there is no previous run).
    """
    if previous is None:
        return []
    changes = []
    for key, value in inputs.items():
        if key not in previous:
            changes.append(f"{key}: (unset) → {_shown_value(value, _DIFF_VALUE_CHARS)}")
        elif previous[key] != value:
            old = _shown_value(previous[key], _DIFF_VALUE_CHARS)
            changes.append(f"{key}: {old} → {_shown_value(value, _DIFF_VALUE_CHARS)}")
    for key, value in previous.items():
        if key not in inputs:
            changes.append(f"{key}: {_shown_value(value, _DIFF_VALUE_CHARS)} → (unset)")
    return changes


def rerun_line(entry: Any) -> str:
    """The ``%lamina run`` line that runs the entry's app again with the same inputs."""
    app = entry.app_name or entry.app_id or "APP"
    parts = ["%lamina run", quote_arg(str(app))]
    parts.extend(quote_arg(f"{k}={_as_text(v)}") for k, v in (entry.inputs or {}).items())
    return " ".join(parts)


def widget_value_line(inputs: Mapping[str, Any], var: str = "w") -> str:
    """``w.value = {...}``: the same inputs for a ``LaminaApp`` widget, as Python."""
    body = ", ".join(f"{str(k)!r}: {_py_literal(v)}" for k, v in inputs.items())
    return f"{var}.value = {{{body}}}"


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _py_literal(value: Any) -> str:
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return repr(str(value))


def _previous_map(
    entries: Sequence[Any], previous: Mapping[str, Any] | None
) -> dict[str, Any | None]:
    """Each entry's previous run of the same app: from ``previous`` when given (the journal's
    ``previous(entry)``), else the next older row of the same app on this page."""
    if previous is not None:
        return {e.execution_id: previous.get(e.execution_id) for e in entries}
    found: dict[str, Any | None] = {}
    for i, entry in enumerate(entries):
        key = entry.app_id or entry.app_name
        found[entry.execution_id] = next(
            (older for older in entries[i + 1 :] if (older.app_id or older.app_name) == key),
            None,
        )
    return found


def _paging(shown: int, total: int | None, offset: int, command: str) -> tuple[str, str | None]:
    """(``Runs 1-20 of 45``, ``25 more — %lamina history --offset 20``) for the page."""
    if total is None or (shown and total < offset + shown):
        total = offset + shown
    span = f"Runs {offset + 1}-{offset + shown} of {total}" if shown else f"No runs of {total}"
    more = total - offset - shown
    if more <= 0:
        return span, None
    return span, f"{more} more — {command} --offset {offset + shown}"


# A row's inputs wrap between words (never inside one unless it cannot fit a line alone), and
# the column keeps a readable width; both inline, so they survive sanitizers.
_INPUTS_STYLE = "overflow-wrap:break-word;word-break:normal;min-width:160px"
_NOWRAP = "white-space:nowrap"


def _history_row_html(
    entry: Any, media: HistoryMedia, prev: Any | None
) -> tuple[str, str, str, str, str, str, str, str]:
    uri, kind = _entry_thumb(entry, media)
    name = esc(entry.app_name or entry.app_id or "")
    if uri:
        marker = " ▶" if kind == "video" else ""
        thumb = (
            f'<img src="{esc(uri)}" alt="{esc(_thumb_alt(entry, kind))}" '
            'style="max-width:64px;max-height:64px">'
            + (f'<span class="lamina-muted">{marker}</span>' if marker else "")
        )
    else:
        thumb = f'<span class="lamina-muted">{esc(kind)}</span>' if kind else ""
    star = (
        '<span class="lamina-star" title="starred">★</span> '
        if getattr(entry, "starred", False)
        else ""
    )
    full_id = str(entry.execution_id)
    ident = (
        f'<span class="lamina-code lamina-short-id" title="{esc(full_id)}" '
        f'style="{_NOWRAP}">{esc(short_id(full_id))}</span>'
    )
    inputs = entry.inputs or {}
    pairs = ", ".join(
        f'<span style="{_NOWRAP}">{esc(k)}=</span>{esc(_shown_value(v, _VALUE_CHARS))}'
        for k, v in inputs.items()
    )
    extra = []
    diff = input_diff(inputs, prev.inputs if prev is not None else None)
    if diff:
        extra.append(f'<div class="lamina-diff">changed: {esc("; ".join(diff))}</div>')
    elif prev is not None:
        extra.append('<div class="lamina-muted">same inputs as the run before</div>')
    note = getattr(entry, "note", None)
    if note:
        extra.append(f'<div class="lamina-note">note: {esc(shorten(note, 300))}</div>')
    if inputs or entry.app_name or entry.app_id:
        extra.append(
            '<details class="lamina-reuse"><summary>use these inputs</summary>'
            f'<div><code class="lamina-code">{esc(rerun_line(entry))}</code></div>'
            f'<div><code class="lamina-code">{esc(widget_value_line(inputs))}</code></div>'
            "</details>"
        )
    return (
        thumb,
        f'<span style="{_NOWRAP}">{esc(fmt_epoch(entry.created_at))}</span>',
        star + name,
        _badge(entry.status),
        f'<span style="{_NOWRAP}">{esc(fmt_duration(_duration(entry)))}</span>',
        ident,
        f'<div style="{_INPUTS_STYLE}">{pairs}</div>' + "".join(extra),
        esc(_entry_outputs(entry)),
    )


def history_html(
    entries: Sequence[Any],
    media: HistoryMedia | None = None,
    *,
    total: int | None = None,
    offset: int = 0,
    previous: Mapping[str, Any] | None = None,
    command: str = "%lamina history",
) -> str:
    """One page of journal entries (newest first) as a table that draws offline.

    ``media`` maps an execution id to the journal's stored media of its outputs (a
    thumbnail per row, no network) or to a ready ``(bytes, mime)`` thumbnail. ``total`` is
    the number of matching runs and ``offset`` where this page starts: when more remain, a
    ``N more — COMMAND --offset K`` line says how to see them (``command`` carries the
    caller's filters). ``previous`` maps an execution id to the previous run of the same
    app (the journal's ``previous(entry)``), for the "changed:" diff; without it the next
    older row of the same app on this page is used. Ids are short (8 characters; the full
    id is the ``title``, shown on hover); stars, notes and a "use these inputs" block
    (the ``%lamina run`` line and ``w.value = {...}`` for the widget) are per row.
    """
    span, more = _paging(len(entries), total, offset, command)
    if not entries:
        empty = "No executions in the journal yet." if not total else f"{span}."
        return _card(f'<div class="lamina-muted">{esc(empty)}</div>')
    media = media or {}
    before = _previous_map(entries, previous)
    rows = [_history_row_html(e, media, before.get(e.execution_id)) for e in entries]
    headers = ["", "Started", "App", "Status", "Took", "Id", "Inputs", "Outputs"]
    head = (
        f'<div class="lamina-head"><strong class="lamina-title">History</strong>{SEP}'
        f'<span class="lamina-muted">{esc(span)}</span></div>'
    )
    note = ""
    if more:
        note += f'<div class="lamina-more"><code class="lamina-code">{esc(more)}</code></div>'
    note += (
        '<div class="lamina-muted">Hover a short id for the full one. Reattach: '
        "<code>%lamina resume ID</code>; download: <code>%lamina save ID</code>; "
        '<code>%lamina star ID</code>; <code>%lamina note ID "..."</code></div>'
    )
    if _has_unconfirmed(entries):
        note += f'<div class="lamina-hint">{esc(UNCONFIRMED_NOTE)}</div>'
    return _card(head + _table(headers, rows) + note, "lamina-history")


def _thumb_alt(entry: Any, kind: str | None = None) -> str:
    what = "poster of the video" if kind == "video" else "first output"
    return f"{what} of {entry.app_name or entry.app_id or 'the run'}"


def history_text(
    entries: Sequence[Any],
    *,
    total: int | None = None,
    offset: int = 0,
    previous: Mapping[str, Any] | None = None,
    command: str = "%lamina history",
    width: int | None = None,
) -> str:
    """The history page for terminals: the table (short ids, ``*`` for starred), each row's
    changes and note below it, the run lines to reuse inputs, and the paging line.

    The table fits ``width`` columns (default: the terminal's), so a row never wraps: the
    Inputs column gives way, and below a readable minimum each row's inputs go on a line of
    their own under it."""
    span, more = _paging(len(entries), total, offset, command)
    if not entries:
        return "No executions in the journal yet." if not total else f"{span}."
    before = _previous_map(entries, previous)
    rows = [
        [
            fmt_epoch(e.created_at),
            ("* " if getattr(e, "starred", False) else "")
            + shorten(e.app_name or e.app_id or "", 30),
            e.status,
            fmt_duration(_duration(e)),
            short_id(e.execution_id),
            "",
            _entry_outputs(e),
        ]
        for e in entries
    ]
    headers = ["Started", "App", "Status", "Took", "Id", "Inputs", "Outputs"]
    columns = max(
        _MIN_COLUMNS,
        width if width is not None else shutil.get_terminal_size((_FALLBACK_COLUMNS, 24)).columns,
    )
    others = sum(
        max(len(h), *(len(plain(r[i])) for r in rows))
        for i, h in enumerate(headers)
        if h != "Inputs"
    )
    room = columns - 1 - others - 2 * (len(headers) - 1)  # 1: a full last column wraps
    below = room < _MIN_INPUTS_TEXT  # too narrow: each row's inputs go on a line of their own
    if below:
        headers.pop(5)
        for row in rows:
            row.pop(5)
    else:
        for row, e in zip(rows, entries, strict=True):
            row[5] = inputs_text(e.inputs, min(80, room))
    table = _text_table(headers, rows).split("\n")
    lines = [span, *table[:2]]
    for entry, line in zip(entries, table[2:], strict=True):
        lines.append(line)
        if below and entry.inputs:
            lines.append(f"    {plain(inputs_text(entry.inputs, max(20, columns - 5)))}")
        prev = before.get(entry.execution_id)
        diff = input_diff(entry.inputs or {}, prev.inputs if prev is not None else None)
        if diff:
            lines.append(f"    changed: {plain('; '.join(diff))}")
        note = getattr(entry, "note", None)
        if note:
            lines.append(f"    note: {plain(shorten(note, 300)).replace(chr(10), ' ')}")
    if any(getattr(e, "starred", False) for e in entries):
        lines.append("(* starred)")
    lines.append("Use these inputs:")
    lines.extend(f"  {plain(short_id(e.execution_id))}  {plain(rerun_line(e))}" for e in entries)
    lines.append(f"  in a widget: {plain(widget_value_line(entries[0].inputs or {}))}")
    if more:
        lines.append(plain(more))
    if _has_unconfirmed(entries):
        lines.append(UNCONFIRMED_NOTE)
    return "\n".join(lines)


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
