"""The History tab of ``LaminaApp``: this app's journaled runs, newest first (earlier sessions too).

Choosing a run restores its inputs into the controls and shows its outputs (thumbnails fetched
in the background); a run that was still in flight is watched again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..render.html import esc, fmt_epoch, inputs_text, shorten
from ..render.tables import UNCONFIRMED_NOTE
from .gallery import RunCard, changed_inputs

if TYPE_CHECKING:  # pragma: no cover
    from ..journal import JournalEntry
    from ..models import Execution
    from .app import LaminaApp

__all__ = ["HISTORY_LIMIT", "HistoryPanel"]

#: Entries listed in the dropdown (the journal keeps everything).
HISTORY_LIMIT = 100
_PLACEHOLDER = "— choose a past run to restore it —"


def entry_label(entry: JournalEntry) -> str:
    """Dropdown label: when, status, inputs, short id (plain text: Dropdown labels are text)."""
    return (
        f"{fmt_epoch(entry.created_at)} · {entry.status} · "
        f"{inputs_text(entry.inputs, 60) or 'defaults'} · {entry.execution_id[:8]}"
    )


class HistoryPanel:
    """A Dropdown of past runs, a Refresh button, a note line and the chosen run's outputs."""

    def __init__(self, widget: LaminaApp) -> None:
        self.widget = widget
        self.select = W.Dropdown(
            options=[(_PLACEHOLDER, "")], value="", layout=W.Layout(width="100%", max_width="720px")
        )
        self.refresh_button = W.Button(
            description="Refresh", icon="refresh", layout=W.Layout(width="100px")
        )
        self.note = W.HTML("")
        self.card = RunCard("")
        self.box = W.VBox([W.HBox([self.select, self.refresh_button]), self.note, self.card.box])
        self.entries: dict[str, JournalEntry] = {}
        self._quiet = False
        self.select.observe(self._picked, names="value")
        self.refresh_button.on_click(widget._guarded(self.refresh_button, self.refresh))

    def refresh(self) -> None:
        """Reload the list from the journal, keeping the current choice when it is still there."""
        client = self.widget.session.client
        entries = client.history(app=self.widget.app.app_id, limit=HISTORY_LIMIT)
        self.entries = {e.execution_id: e for e in entries}
        options = [(_PLACEHOLDER, ""), *((entry_label(e), e.execution_id) for e in entries)]
        current = self.select.value if self.select.value in self.entries else ""
        self._quiet = True
        try:
            self.select.options = options
            self.select.value = current
        finally:
            self._quiet = False

    def _picked(self, change: Any) -> None:
        if self._quiet or not change.new:
            return
        try:
            self.restore(change.new)
        except Exception as exc:
            self.widget._show_error(exc)

    def restore(self, execution_id: str) -> None:
        """Put the run's inputs into the controls and show its outputs."""
        entry = self.entries.get(execution_id)
        if entry is None:
            raise ValueError(
                f"execution {execution_id} is not in this app's history; press Refresh"
            )
        skipped = self._restore_inputs(entry)
        execution = entry.to_execution()
        when = fmt_epoch(entry.created_at)
        note = f"Restored the inputs of run {entry.execution_id} ({when})."
        if skipped:
            note += " Skipped (the app no longer takes them as given): " + ", ".join(skipped)
        if entry.is_unconfirmed:  # a local id: the service cannot be asked about it
            note += " " + UNCONFIRMED_NOTE[0].upper() + UNCONFIRMED_NOTE[1:]
        elif not execution.is_terminal:
            note += " It was still running when last seen: watching it again."
            self.widget.adopt(execution, dict(entry.inputs or {}))
        self.note.value = f'<span class="lamina-muted">{esc(note)}</span>'
        self.card.head.value = f"<b>{esc(shorten(entry.app_name or '', 80))}</b> loading…"
        self.card.tiles.children = []
        client = self.widget.session.client
        self.widget.session.runtime.submit(self._load(client, execution, dict(entry.inputs)))

    def _restore_inputs(self, entry: JournalEntry) -> list[str]:
        """Set ``widget.value`` to the entry's inputs the controls can show; return the rest."""
        controls = self.widget._controls
        usable: dict[str, str] = {}
        skipped: list[str] = []
        for name, value in (entry.inputs or {}).items():
            control = controls.control(name)
            try:
                if control is None:
                    raise ValueError(name)
                control.check(value)
            except ValueError:
                skipped.append(f"{name}={shorten(value, 40)}")
                continue
            usable[name] = value
        self.widget.value = usable
        return skipped

    async def _load(self, client: Any, execution: Execution, inputs: dict[str, str]) -> None:
        try:
            thumbs, videos = await self.widget._media.for_execution(client, execution)
        except asyncio.CancelledError:
            raise
        except Exception:  # expired URLs etc.: tiles fall back to links
            thumbs, videos = {}, {}
        diff = changed_inputs(inputs, None)
        self.widget._ui(self.card.fill, execution, thumbs, videos, diff, "from history")
