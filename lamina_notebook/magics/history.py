"""The journal's side of ``%lamina``: history pages, stars, notes, exports, and short ids.

Everything here reads the local run journal (no request), so it is instant and works
offline: thumbnails are the ones stored when each run ended, never fetched from output URLs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render
from ..errors import ConfigurationError, LaminaError
from ..render.html import shorten
from .display import show_bundle, store_output
from .parse import CommandError
from .progress import terminal_width

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ..journal import Journal, JournalEntry
    from ..session.session import Session
    from .parse import Command

__all__ = [
    "find_grid_id",
    "find_run_id",
    "note_run",
    "parse_since",
    "show_history",
    "star_run",
    "write_export",
]

#: Ids at least this long are taken as typed when the journal does not know them (a run
#: started elsewhere); shorter ones must be a unique beginning of a journaled id.
FULL_ID_CHARS = 16
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_STATUSES = ("queued", "running", "completed", "failed", "cancelled", "unconfirmed")


def _journal(session: Session) -> Journal:
    journal = session.client.journal
    if journal is None:
        raise ConfigurationError(
            "This session keeps no run journal, so it has no history, stars or notes.",
            hint="Unset LaminaMagics.journal_path / LAMINA_JOURNAL=off to use the default one.",
        )
    return journal


def find_run_id(session: Session, typed: str) -> str:
    """The full id of the journaled run whose id is ``typed`` or starts with it; an id the
    journal does not know is taken as typed when it looks whole (a run started elsewhere)."""
    text = typed.strip()
    journal = session.client.journal
    if journal is None or not text:
        return text
    try:
        return journal.find(text).execution_id
    except LaminaError:
        if len(text) >= FULL_ID_CHARS:
            return text  # a whole id the journal lacks: the service may know it
        raise


def find_grid_id(session: Session, typed: str) -> str:
    """The journaled grid whose id is ``typed`` or starts with it (case-insensitive)."""
    journal = _journal(session)
    text = typed.strip()
    if journal.grid(text) is not None:
        return text
    grids = journal.grids(limit=None)
    found = [g.grid_id for g in grids if g.grid_id.lower().startswith(text.lower())]
    if len(found) == 1:
        return found[0]
    recent = ", ".join(g.grid_id for g in grids[:5]) or "none yet"
    if not found:
        raise LaminaError(
            f"No grid in the journal {journal.path} has an id starting with {text!r}.",
            hint=f"Recent grids: {recent}.",
        )
    raise LaminaError(
        f"{text!r} is the start of several grid ids: {', '.join(found[:10])}.",
        hint="Give more characters of the id.",
    )


def parse_since(text: str | None, sub: str = "history") -> float | None:
    """``--since``: ``30m``/``2h``/``3d``/``1w`` ago, or a date/time (ISO 8601, local time
    unless it says otherwise) -> epoch seconds; None when not given."""
    if not text:
        return None
    relative = _RELATIVE.match(text)
    if relative:
        return time.time() - float(relative.group(1)) * _UNITS[relative.group(2).lower()]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--since needs a time back from now (30m, 2h, 3d, 1w) or a date "
            f"(2025-06-01, 2025-06-01T14:00), got {text!r}.",
            sub,
        ) from None
    return when.timestamp()


def _statuses(text: str | None, sub: str) -> list[str] | None:
    if not text:
        return None
    found = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [s for s in found if s not in _STATUSES]
    if bad:
        raise CommandError(
            f"--status takes {', '.join(_STATUSES)} (several with commas), got {bad[0]!r}.", sub
        )
    return found


def _query(
    session: Session, cmd: Command, sub: str, *, limit: int | None, offset: int = 0
) -> tuple[list[JournalEntry], int]:
    """The journal's entries for the command's words and filters (one page)."""
    return _journal(session).query(
        app=cmd.app,
        status=_statuses(cmd.status, sub),
        since=parse_since(cmd.since, sub),
        search=cmd.search,
        starred=True if cmd.starred else None,
        limit=limit,
        offset=offset,
    )


def _command_line(cmd: Command) -> str:
    """The ``%lamina history ...`` line that repeats the page's words and filters (the "N
    more" line appends ``--offset K``)."""
    parts = ["%lamina history"]
    if cmd.search:
        parts += [render.quote_arg(w) for w in cmd.search.split()]
    for flag, value in (("--app", cmd.app), ("--status", cmd.status), ("--since", cmd.since)):
        if value:
            parts += [flag, render.quote_arg(value)]
    if cmd.starred:
        parts.append("--starred")
    if cmd.limit:
        parts += ["--limit", str(cmd.limit)]
    return " ".join(parts)


def show_history(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina history [WORDS] [filters]``: one page of the journal, newest first, with the
    stored thumbnails, diffs against each app's previous run, stars, notes and paging."""
    journal = _journal(session)
    offset = cmd.offset or 0
    entries, total = _query(
        session, cmd, "history", limit=cmd.limit or render.HISTORY_PAGE, offset=offset
    )
    ids = [e.execution_id for e in entries]
    media = journal.media(ids) if ids else {}
    previous = journal.previous_runs(entries) if entries else {}
    line = _command_line(cmd)
    show_bundle(
        {
            "text/plain": render.history_text(
                entries,
                total=total,
                offset=offset,
                previous=previous,
                command=line,
                width=terminal_width(),
            ),
            "text/html": render.history_html(
                entries, media, total=total, offset=offset, previous=previous, command=line
            ),
        }
    )
    if cmd.output_var:
        store_output(shell, cmd.output_var, _history_as_frame(entries))


def star_run(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina star ID [--off]``: star a run in the journal (or take the star away)."""
    journal = _journal(session)
    entry = journal.find((cmd.execution_id or "").strip())
    journal.set_star(entry.execution_id, not cmd.off)
    what = "Took the star from" if cmd.off else "Starred"
    print(f"{what} {_described(entry)}.")


def note_run(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina note ID "TEXT"``: attach a note to a run ("" removes it)."""
    journal = _journal(session)
    entry = journal.find((cmd.execution_id or "").strip())
    text = (cmd.text or "").strip()
    journal.set_note(entry.execution_id, text or None)
    if text:
        print(f"Noted on {_described(entry)}: {render.plain(shorten(text, 80))}")
    else:
        print(f"Removed the note of {_described(entry)}.")


def _described(entry: JournalEntry) -> str:
    when = datetime.fromtimestamp(entry.created_at).strftime("%Y-%m-%d %H:%M")
    app = entry.app_name or entry.app_id or "an app"
    return f"run {render.short_id(entry.execution_id)} ({render.plain(app)}, {when})"


def write_export(cmd: Command, session: Session, shell: InteractiveShell) -> Path:
    """``%lamina export GRID_ID|WORDS FILE.html``: a journaled grid, or the runs matching the
    words and filters, as one self-contained HTML page."""
    target = Path(cmd.path or "").expanduser()
    if target.suffix.lower() not in (".html", ".htm"):
        raise CommandError(
            f"export writes an HTML page; name the file FILE.html, got {cmd.path!r}.", "export"
        )
    grid_id = _grid_named(session, cmd)
    if grid_id is not None:
        from ..session.grids import resume_grid

        run = resume_grid(session, grid_id, run_missing=False)
        try:
            path = run.export(target)
        finally:
            run.stop()  # an export watches nothing
        what = f"the grid {grid_id} ({len(run.cells)} cells)"
    else:
        from ..render.export import export_history_html

        entries, _ = _query(session, cmd, "export", limit=cmd.limit)
        ids = [e.execution_id for e in entries]
        media = _journal(session).media(ids) if ids else {}
        html = export_history_html(
            entries,
            media,
            query=cmd.search,
            generated=time.strftime("%Y-%m-%d %H:%M"),
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        path = target
        what = f"{len(entries)} run(s)" + (f" matching {cmd.search!r}" if cmd.search else "")
    size = path.stat().st_size
    print(f"Wrote {what} to {path} ({size / 1024:,.0f} KB; open it from disk, no kernel needed).")
    return path


def _grid_named(session: Session, cmd: Command) -> str | None:
    """The grid the export's first word names (an id or a unique beginning of one), if any."""
    words = (cmd.search or "").split()
    if len(words) != 1 or not words[0].lower().startswith("g-"):
        return None
    if any((cmd.app, cmd.status, cmd.since, cmd.starred, cmd.limit)):
        raise CommandError(
            "A grid is exported whole; --app, --status, --since, --starred and --limit are "
            "for runs matching words.",
            "export",
        )
    return find_grid_id(session, words[0])


def _history_as_frame(entries: Sequence[JournalEntry]) -> Any:
    """A pandas DataFrame of journal rows when pandas is installed, else the entries list."""
    try:
        import pandas as pd
    except ImportError:
        return list(entries)
    rows = [
        {
            "execution_id": e.execution_id,
            "app": e.app_name or e.app_id,
            "status": e.status,
            "created_at": pd.to_datetime(e.created_at, unit="s", utc=True)
            if e.created_at
            else None,
            "completed_at": (
                pd.to_datetime(e.completed_at, unit="s", utc=True) if e.completed_at else None
            ),
            "inputs": dict(e.inputs or {}),
            "urls": [
                o.get("value")
                for o in e.outputs or []
                if isinstance(o, Mapping) and o.get("status") == "completed"
            ],
            "error": e.error,
            "starred": e.starred,
            "note": e.note,
        }
        for e in entries
    ]
    return pd.DataFrame(rows)
