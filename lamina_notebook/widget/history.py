"""The History tab of ``LaminaApp``: this app's journaled runs, as ``%lamina history`` shows them.

A page of runs, newest first (earlier sessions too), with a search over the prompts and inputs,
filters (status, since, starred), and per row: the thumbnail the journal stored at completion
(drawn offline, at once, whether or not the output URL still works), the short id (the full id on
hover), status and duration, the inputs, what changed since the previous run of the app, the star
and the note. Each row can star/unstar the run, keep a note, "use these inputs" (they fill the
form) and "show" it (its outputs below; a run still in flight is watched again). The app's grids
are listed too, and open (resumed: only the missing cells run) in the Grid tab.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..errors import LaminaError
from ..render import input_diff
from ..render.html import esc, fmt_duration, fmt_epoch, inputs_text, short_id, shorten
from ..render.styles import MUTED_STYLE, status_class
from ..render.tables import UNCONFIRMED_NOTE
from ..session.media import HISTORY_THUMB_PX
from .controls import preview_layout
from .gallery import CardParts, RunCard, inputs_line

if TYPE_CHECKING:  # pragma: no cover
    from ..journal import Journal, JournalEntry
    from ..models import App, Execution, Media
    from ..session.session import Session
    from .media import GalleryMedia
    from .ui import UI

__all__ = ["HISTORY_ROWS", "HistoryPanel", "HistoryParts", "HistoryRowParts"]

#: Runs on one page of the tab (the journal keeps everything; "N more" pages on).
HISTORY_ROWS = 10
STATUS_CHOICES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("any status", ()),
    ("completed", ("completed",)),
    ("failed", ("failed",)),
    ("cancelled", ("cancelled",)),
    ("in flight", ("queued", "running")),
    ("unconfirmed", ("unconfirmed",)),
)
SINCE_CHOICES: tuple[tuple[str, float], ...] = (
    ("any time", 0.0),
    ("last hour", 3600.0),
    ("last 24 hours", 86400.0),
    ("last 7 days", 7 * 86400.0),
)


@dataclass(frozen=True)
class HistoryRowParts:
    """One run on the History tab's page."""

    box: W.VBox
    #: The journal's thumbnail; in the row only when the journal has one (else an empty box
    #: of the same width, never an ``<img>`` without a picture).
    thumb: W.Image
    #: Short id (full id in its ``title``), when, status, duration, inputs, diff, note.
    info: W.HTML
    #: ☆ / ★: star or unstar the run (stored in the journal).
    star_button: W.Button
    #: Put the run's inputs into the form.
    use_button: W.Button
    #: Show the run's outputs below the list (and watch it if it is still in flight).
    show_button: W.Button
    #: Open the note editor (below the list) on this run.
    note_button: W.Button
    #: The journal entry shown (None: the row is unused).
    execution_id: str | None


class HistoryRow:
    """A reusable row (the page keeps its rows and refills them)."""

    def __init__(self) -> None:
        self.entry: JournalEntry | None = None
        self.thumb = W.Image(format="jpeg", layout=preview_layout(HISTORY_THUMB_PX))
        self.thumb.add_class("lamina-history-thumb")
        self.info = W.HTML("", layout=W.Layout(flex="1 1 auto", min_width="0"))
        self.info.add_class("lamina-history-info")
        self.star_button = _small("☆", "Star this run (kept in the journal)", "lamina-star-button")
        self.use_button = _small(
            "Use inputs", "Put this run's inputs into the form", "lamina-use-inputs"
        )
        self.show_button = _small("Show", "Show this run's outputs below", "lamina-show-run")
        self.note_button = _small("Note", "Write a note on this run", "lamina-note-button")
        actions = W.HBox(
            [self.star_button, self.use_button, self.show_button, self.note_button],
            layout=W.Layout(flex="0 0 auto", align_items="flex-start"),
        )
        # A run without a stored thumbnail gets an empty box of the same width, not an <img>
        # without a picture (a broken image in the page).
        self.no_thumb = W.HTML(
            "", layout=W.Layout(width=f"{HISTORY_THUMB_PX}px", min_width=f"{HISTORY_THUMB_PX}px")
        )
        self.line = W.HBox(
            [self.no_thumb, self.info, actions], layout=W.Layout(align_items="flex-start")
        )
        self.box = W.VBox([self.line], layout=W.Layout(margin="0 0 6px 0"))
        self.box.add_class("lamina-history-row")

    @property
    def parts(self) -> HistoryRowParts:
        return HistoryRowParts(
            self.box,
            self.thumb,
            self.info,
            self.star_button,
            self.use_button,
            self.show_button,
            self.note_button,
            self.entry.execution_id if self.entry is not None else None,
        )

    def fill(self, entry: JournalEntry, thumb: Media | None, previous: JournalEntry | None) -> None:
        self.entry = entry
        first, *rest = self.line.children
        if thumb is not None:
            data, mime = thumb
            self.thumb.format = mime.split("/", 1)[-1] if "/" in mime else "jpeg"
            self.thumb.value = data
            if first is not self.thumb:
                self.line.children = [self.thumb, *rest]
        elif first is not self.no_thumb:
            self.line.children = [self.no_thumb, *rest]
        self.info.value = _info_html(entry, previous)
        self.star_button.description = "★" if entry.starred else "☆"
        self.star_button.tooltip = "Unstar this run" if entry.starred else "Star this run"
        self.show_button.description = "Watch" if _in_flight(entry) else "Show"


def _small(text: str, tooltip: str, cls: str) -> W.Button:
    button = W.Button(description=text, tooltip=tooltip, layout=W.Layout(width="auto"))
    button.add_class(cls)
    return button


def _in_flight(entry: JournalEntry) -> bool:
    return entry.confirmed and not entry.is_terminal


def _info_html(entry: JournalEntry, previous: JournalEntry | None) -> str:
    full = entry.execution_id
    took = fmt_duration(entry.duration) if entry.duration is not None else ""
    star = ' <span class="lamina-star" title="starred">★</span>' if entry.starred else ""
    head = (
        f'<span class="lamina-code lamina-short-id" title="{esc(full)}" '
        f'style="white-space:nowrap">{esc(short_id(full))}</span>'
        f' · <span style="white-space:nowrap">{esc(fmt_epoch(entry.created_at))}</span>'
        f' · <span class="lamina-badge {status_class(entry.status)}">{esc(entry.status)}</span>'
        + (f" · {esc(took)}" if took else "")
        + star
    )
    inputs = inputs_text(entry.inputs, 300) or "defaults"
    parts = [f"<div>{head}</div>", f'<div style="overflow-wrap:break-word">{esc(inputs)}</div>']
    diff = input_diff(entry.inputs or {}, previous.inputs if previous is not None else None)
    if diff:
        parts.append(f'<div class="lamina-diff">changed: {esc("; ".join(diff))}</div>')
    if entry.note:
        parts.append(f'<div class="lamina-note">note: {esc(shorten(entry.note, 300))}</div>')
    if entry.is_unconfirmed:
        parts.append(f'<div class="lamina-hint">{esc(UNCONFIRMED_NOTE)}</div>')
    return f'<div style="line-height:1.45">{"".join(parts)}</div>'


@dataclass(frozen=True)
class HistoryParts:
    """The widgets of the History tab (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    #: Words that must all occur in a run's inputs (Enter to search).
    search: W.Text
    status: W.Dropdown
    since: W.Dropdown
    starred: W.Checkbox
    refresh_button: W.Button
    #: ``Runs 1-10 of 45``.
    summary: W.HTML
    #: The runs on this page, newest first.
    rows: tuple[HistoryRowParts, ...]
    newer_button: W.Button
    #: ``N more``: the next page.
    more_button: W.Button
    #: The note editor: which run, the text, Save (hidden until a row's Note is pressed).
    note_editor: W.HBox
    note_text: W.Text
    save_note_button: W.Button
    #: What the last action did (and what it skipped).
    note: W.HTML
    #: The shown run's outputs.
    card: CardParts
    #: The app's journaled grids, newest first; Open resumes one in the Grid tab.
    grids: W.Dropdown
    open_grid_button: W.Button


class HistoryPanel:
    """The History tab (see the module docstring).

    ``restore_inputs(inputs)`` sets what the controls can show and returns the rest;
    ``adopt(execution, inputs)`` watches a run still in flight; ``open_grid(grid_id)`` resumes a
    grid in the Grid tab.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        media: GalleryMedia,
        *,
        restore_inputs: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        adopt: Callable[[Execution, dict[str, Any]], Any],
        open_grid: Callable[[str], Any],
    ) -> None:
        self.session = session
        self.app = app
        self.ui = ui
        self.media = media
        self.restore_inputs = restore_inputs
        self.adopt = adopt
        self.open_grid = open_grid
        self.offset = 0
        self.total = 0
        self.search = W.Text(
            placeholder="search prompts and inputs (Enter)",
            continuous_update=False,
            layout=W.Layout(width="280px"),
        )
        self.search.add_class("lamina-history-search")
        self.status = W.Dropdown(
            options=[(label, i) for i, (label, _s) in enumerate(STATUS_CHOICES)],
            value=0,
            layout=W.Layout(width="130px"),
        )
        self.since = W.Dropdown(
            options=[(label, i) for i, (label, _s) in enumerate(SINCE_CHOICES)],
            value=0,
            layout=W.Layout(width="140px"),
        )
        self.starred = W.Checkbox(value=False, description="★ only", indent=False)
        self.refresh_button = W.Button(
            description="Refresh", icon="refresh", layout=W.Layout(width="auto")
        )
        self.summary = W.HTML("")
        self.summary.add_class("lamina-history-summary")
        #: Rows made as the pages need them (at most HISTORY_ROWS), refilled on each refresh.
        self.rows: list[HistoryRow] = []
        self.note_for: str | None = None
        self.note_label = W.HTML("")
        self.note_text = W.Text(placeholder="a note on this run", layout=W.Layout(width="360px"))
        self.save_note_button = _small(
            "Save note", "Keep the note in the journal", "lamina-save-note"
        )
        self.note_editor = W.HBox(
            [self.note_label, self.note_text, self.save_note_button],
            layout=W.Layout(display="none", align_items="center"),
        )
        self.note_editor.add_class("lamina-note-editor")
        self.rows_box = W.VBox([])
        self.newer_button = _small("newer", "The newer runs", "lamina-history-newer")
        self.more_button = _small("more", "The next page of older runs", "lamina-history-more")
        self.note = W.HTML("")
        self.card = RunCard("")
        self.grids = W.Dropdown(options=[], layout=W.Layout(width="auto", max_width="520px"))
        self.open_grid_button = _small(
            "Open grid", "Show this grid in the Grid tab; its missing cells run", "lamina-open-grid"
        )
        self.grids_box = W.HBox(
            [
                W.HTML(f'<span style="{MUTED_STYLE}">Grids:</span>'),
                self.grids,
                self.open_grid_button,
            ],
            layout=W.Layout(align_items="center", display="none"),
        )
        self.grids_box.add_class("lamina-history-grids")
        filters = W.HBox(
            [self.search, self.status, self.since, self.starred, self.refresh_button],
            layout=W.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.box = W.VBox(
            [
                filters,
                self.grids_box,
                self.summary,
                self.rows_box,
                W.HBox([self.newer_button, self.more_button]),
                self.note_editor,
                self.note,
                self.card.box,
            ]
        )
        self.box.add_class("lamina-history-tab")
        for widget in (self.search, self.status, self.since, self.starred):
            widget.observe(ui.observer(self._filters_changed), names="value")
        self.refresh_button.on_click(ui.guard(self.refresh_button, self.refresh))
        self.newer_button.on_click(ui.guard(self.newer_button, lambda: self._page(-1)))
        self.more_button.on_click(ui.guard(self.more_button, lambda: self._page(1)))
        self.open_grid_button.on_click(ui.guard(self.open_grid_button, self._open_grid))
        self.save_note_button.on_click(ui.guard(self.save_note_button, self._save_note))

    @property
    def parts(self) -> HistoryParts:
        shown = tuple(
            r.parts for r in self.rows if r.entry is not None and r.box in self.rows_box.children
        )
        return HistoryParts(
            self.box,
            self.search,
            self.status,
            self.since,
            self.starred,
            self.refresh_button,
            self.summary,
            shown,
            self.newer_button,
            self.more_button,
            self.note_editor,
            self.note_text,
            self.save_note_button,
            self.note,
            self.card.parts,
            self.grids,
            self.open_grid_button,
        )

    def _wire(self, row: HistoryRow) -> None:
        guard = self.ui.guard
        row.star_button.on_click(guard(row.star_button, lambda: self._star(row)))
        row.use_button.on_click(guard(row.use_button, lambda: self._use(row)))
        row.show_button.on_click(guard(row.show_button, lambda: self._show(row)))
        row.note_button.on_click(guard(row.note_button, lambda: self._edit_note(row)))

    # -- the page -------------------------------------------------------------------------
    def _journal(self, client: Any = None) -> Journal | None:
        client = client if client is not None else self.session.client
        return getattr(client, "journal", None)

    def _filters_changed(self, _change: Any) -> None:
        self.offset = 0
        self.refresh()

    def _page(self, step: int) -> None:
        self.offset = max(0, self.offset + step * HISTORY_ROWS)
        self.refresh()

    def refresh(self, client: Any = None) -> None:
        """Reload the page from the journal (offline: thumbnails are the stored ones).

        ``client`` (default: the session's) is whose journal is read; the loop thread passes
        the client of the run that just ended, since it must not ask the session.
        """
        journal = self._journal(client)
        if journal is None:
            self.summary.value = _muted("This session keeps no run journal, so no history.")
            self.rows_box.children = []
            return
        statuses = STATUS_CHOICES[self.status.value][1]
        seconds = SINCE_CHOICES[self.since.value][1]

        def page() -> tuple[list[Any], int]:
            return journal.query(
                app=self.app.app_id,
                status=statuses or None,
                since=datetime.timedelta(seconds=seconds) if seconds else None,
                search=self.search.value.strip() or None,
                starred=True if self.starred.value else None,
                limit=HISTORY_ROWS,
                offset=self.offset,
            )

        entries, total = page()
        if not entries and self.offset and total:  # the page emptied (a filter): its last one
            self.offset = max(0, (total - 1) // HISTORY_ROWS * HISTORY_ROWS)
            entries, total = page()
        self.total = total
        while len(self.rows) < len(entries):
            row = HistoryRow()
            self._wire(row)
            self.rows.append(row)
        stored = journal.media([e.execution_id for e in entries])
        before = journal.previous_runs(entries)
        for row, entry in zip(self.rows, entries, strict=False):
            row.fill(
                entry,
                _first_thumb(stored.get(entry.execution_id), entry),
                before.get(entry.execution_id),
            )
        for row in self.rows[len(entries) :]:
            row.entry = None
        boxes = [row.box for row in self.rows[: len(entries)]]
        if list(self.rows_box.children) != boxes:
            self.rows_box.children = boxes
        self._summarize(len(entries), total)
        self._list_grids(journal)

    def _summarize(self, shown: int, total: int) -> None:
        filtered = bool(
            self.search.value.strip() or self.status.value or self.since.value or self.starred.value
        )
        if not shown:
            text = "No runs match." if filtered and total == 0 else "No runs of this app yet."
            if total:
                text = f"No runs on this page of {total}."
        else:
            text = f"Runs {self.offset + 1}-{self.offset + shown} of {total}"
            text += " matching" if filtered else ""
            text += ", newest first. Hover a short id for the full one."
        self.summary.value = _muted(text)
        more = total - self.offset - shown
        self.more_button.description = f"{more} more" if more > 0 else "more"
        self.more_button.layout.display = "" if more > 0 else "none"
        self.newer_button.layout.display = "" if self.offset > 0 else "none"

    def _list_grids(self, journal: Journal) -> None:
        try:
            grids = [g for g in journal.grids(limit=50) if g.app_id == self.app.app_id]
        except LaminaError:
            grids = []
        options = []
        for record in grids[:20]:
            spec = record.spec
            axes = " x ".join(
                str((spec.get(k) or {}).get("param", "")) for k in ("x", "y", "z") if spec.get(k)
            )
            done = len(journal.grid_cells(record.grid_id))
            options.append(
                (
                    f"{record.grid_id} · {axes} · {done} cell(s) · {fmt_epoch(record.updated_at)}",
                    record.grid_id,
                )
            )
        current = self.grids.value
        if [o[1] for o in self.grids.options] != [o[1] for o in options]:
            self.grids.options = options
        ids = [o[1] for o in options]
        wanted = current if current in ids else (ids[0] if ids else None)
        if self.grids.value != wanted:
            self.grids.value = wanted
        self.grids_box.layout.display = "" if options else "none"

    def row_of(self, execution_id: str) -> HistoryRow | None:
        return next(
            (r for r in self.rows if r.entry and r.entry.execution_id == execution_id), None
        )

    # -- actions --------------------------------------------------------------------------
    def _entry(self, row: HistoryRow) -> JournalEntry:
        if row.entry is None:
            raise ValueError("this row shows no run; press Refresh")
        return row.entry

    def _star(self, row: HistoryRow) -> None:
        entry = self._entry(row)
        journal = self._journal()
        if journal is None:
            raise LaminaError("This session keeps no run journal to star runs in.")
        journal.set_star(entry.execution_id, not entry.starred)
        self.refresh()

    def _edit_note(self, row: HistoryRow) -> None:
        entry = self._entry(row)
        if self.note_for == entry.execution_id and self.note_editor.layout.display != "none":
            self.note_editor.layout.display = "none"  # a second press closes it
            return
        self.note_for = entry.execution_id
        self.note_label.value = _muted(f"Note on run {short_id(entry.execution_id)}:")
        self.note_text.value = entry.note or ""
        self.note_editor.layout.display = ""

    def _save_note(self) -> None:
        if self.note_for is None:
            raise ValueError("press a run's Note button first")
        journal = self._journal()
        if journal is None:
            raise LaminaError("This session keeps no run journal to keep notes in.")
        journal.set_note(self.note_for, self.note_text.value)
        self.note_editor.layout.display = "none"
        self.note_for = None
        self.refresh()

    def _use(self, row: HistoryRow) -> None:
        self.note.value = _muted(self.use(self._entry(row)))

    def use(self, entry: JournalEntry) -> str:
        """Put the run's inputs into the form; returns what was done (and what skipped)."""
        rest = self.restore_inputs(dict(entry.inputs or {}))
        skipped = [f"{name}={shorten(value, 40)}" for name, value in rest.items()]
        note = f"The inputs of run {short_id(entry.execution_id)} are in the form above."
        if skipped:
            note += " Skipped (the app no longer takes them as given): " + ", ".join(skipped)
        return note

    def _show(self, row: HistoryRow) -> None:
        self.note.value = _muted(self.show(self._entry(row)))

    def show(self, entry: JournalEntry) -> str:
        """Show the run's outputs (the journal's thumbnails) below the list, and watch it if
        it is still in flight; returns what was done."""
        execution = entry.to_execution()
        note = f"Run {short_id(entry.execution_id)} ({fmt_epoch(entry.created_at)}) is shown below."
        if entry.is_unconfirmed:  # a local id: the service cannot be asked about it
            note += " " + UNCONFIRMED_NOTE[0].upper() + UNCONFIRMED_NOTE[1:]
        elif not execution.is_terminal:
            note += " It was still running when last seen: watching it again."
            self.adopt(execution, dict(entry.inputs or {}))
        self.card.loading(entry.app_name or "")
        client = self.session.client  # taken here: the loop thread must not build it
        line = inputs_line(entry.inputs or {}, list(entry.inputs or {}))
        self.session.runtime.submit(self._load(client, execution, line))
        return note

    def restore(self, execution_id: str) -> None:
        """Use a run's inputs and show it (from code: ``w.parts.history`` or a short id)."""
        journal = self._journal()
        if journal is None:
            raise LaminaError("This session keeps no run journal.")
        entry = journal.find(execution_id)
        self.note.value = _muted(self.use(entry) + " " + self.show(entry))

    async def _load(self, client: Any, execution: Execution, line: str) -> None:
        try:
            thumbs, videos = await self.media.for_execution(client, execution)
            from ..session.proxy import display_execution

            shown = await asyncio.to_thread(display_execution, execution, self.session)
        except asyncio.CancelledError:
            raise
        except Exception:  # expired URLs etc.: tiles fall back to links
            thumbs, videos, shown = {}, {}, execution
        self.ui.apply(self.card.fill, shown, thumbs, videos, line, "from history")

    def _open_grid(self) -> None:
        grid_id = self.grids.value
        if not grid_id:
            raise ValueError("this app has no journaled grids yet")
        self.open_grid(grid_id)


def _first_thumb(stored: Mapping[str, Any] | None, entry: JournalEntry) -> Media | None:
    """The first output's stored thumbnail (in the run's output order)."""
    if not stored:
        return None
    order = [str(o.get("id")) for o in entry.outputs if isinstance(o, Mapping)]
    ranked: Sequence[Any] = [stored[k] for k in order if k in stored] + [
        v for k, v in stored.items() if k not in order
    ]
    for item in ranked:
        thumb = getattr(item, "thumbnail", None)
        if thumb is not None:
            return thumb
    return None


def _muted(text: str) -> str:
    return f'<span style="{MUTED_STYLE}">{esc(text)}</span>'
