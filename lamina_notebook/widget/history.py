"""The History tab of ``LaminaApp``: this app's journaled runs, newest first (earlier sessions too).

Choosing a run restores its inputs into the controls and shows its outputs (thumbnails fetched
in the background); a run that was still in flight is watched again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..render.html import esc, fmt_epoch, inputs_text, shorten
from ..render.styles import MUTED_STYLE
from ..render.tables import UNCONFIRMED_NOTE
from .gallery import CardParts, RunCard, changed_inputs

if TYPE_CHECKING:  # pragma: no cover
    from ..journal import JournalEntry
    from ..models import App, Execution
    from ..session.session import Session
    from .media import GalleryMedia
    from .ui import UI

__all__ = ["HISTORY_LIMIT", "HistoryPanel", "HistoryParts"]

#: Entries listed in the dropdown (the journal keeps everything).
HISTORY_LIMIT = 100
_PLACEHOLDER = "— choose a past run to restore it —"


def entry_label(entry: JournalEntry) -> str:
    """Dropdown label: when, status, inputs, short id (plain text: Dropdown labels are text)."""
    return (
        f"{fmt_epoch(entry.created_at)} · {entry.status} · "
        f"{inputs_text(entry.inputs, 60) or 'defaults'} · {entry.execution_id[:8]}"
    )


@dataclass(frozen=True)
class HistoryParts:
    """The widgets of the History tab (see :attr:`LaminaApp.parts`)."""

    box: W.VBox
    #: Past runs of this app, newest first; choosing one restores it.
    select: W.Dropdown
    refresh_button: W.Button
    #: What the last restore did (and what it skipped).
    note: W.HTML
    #: The chosen run's outputs.
    card: CardParts


class HistoryPanel:
    """A Dropdown of past runs, a Refresh button, a note line and the chosen run's outputs.

    Choosing a run calls ``restore_inputs(inputs)`` (which sets what the controls can show
    and returns the rest) and, for a run still in flight, ``adopt(execution, inputs)``.
    """

    def __init__(
        self,
        session: Session,
        app: App,
        ui: UI,
        media: GalleryMedia,
        *,
        restore_inputs: Callable[[Mapping[str, str]], Mapping[str, str]],
        adopt: Callable[[Execution, dict[str, str]], Any],
    ) -> None:
        self.session = session
        self.app = app
        self.ui = ui
        self.media = media
        self.restore_inputs = restore_inputs
        self.adopt = adopt
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
        self.refresh_button.on_click(ui.guard(self.refresh_button, self.refresh))

    @property
    def parts(self) -> HistoryParts:
        return HistoryParts(self.box, self.select, self.refresh_button, self.note, self.card.parts)

    def refresh(self, client: Any = None) -> None:
        """Reload the list from the journal, keeping the current choice when it is still there.

        ``client`` (default: the session's) is whose journal is read; the loop thread passes
        the client of the run that just ended, since it must not build one.
        """
        client = client if client is not None else self.session.client
        entries = client.history(app=self.app.app_id, limit=HISTORY_LIMIT)
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
            self.ui.show_error(exc)

    def restore(self, execution_id: str) -> None:
        """Put the run's inputs into the controls and show its outputs."""
        entry = self.entries.get(execution_id)
        if entry is None:
            raise ValueError(
                f"execution {execution_id} is not in this app's history; press Refresh"
            )
        rest = self.restore_inputs(dict(entry.inputs or {}))
        skipped = [f"{name}={shorten(value, 40)}" for name, value in rest.items()]
        execution = entry.to_execution()
        when = fmt_epoch(entry.created_at)
        note = f"Restored the inputs of run {entry.execution_id} ({when})."
        if skipped:
            note += " Skipped (the app no longer takes them as given): " + ", ".join(skipped)
        if entry.is_unconfirmed:  # a local id: the service cannot be asked about it
            note += " " + UNCONFIRMED_NOTE[0].upper() + UNCONFIRMED_NOTE[1:]
        elif not execution.is_terminal:
            note += " It was still running when last seen: watching it again."
            self.adopt(execution, dict(entry.inputs or {}))
        self.note.value = f'<span style="{MUTED_STYLE}">{esc(note)}</span>'
        self.card.loading(entry.app_name or "")
        client = self.session.client  # taken here: the loop thread must not build it
        self.session.runtime.submit(self._load(client, execution, dict(entry.inputs or {})))

    async def _load(self, client: Any, execution: Execution, inputs: dict[str, str]) -> None:
        try:
            thumbs, videos = await self.media.for_execution(client, execution)
        except asyncio.CancelledError:
            raise
        except Exception:  # expired URLs etc.: tiles fall back to links
            thumbs, videos = {}, {}
        diff = changed_inputs(inputs, None)
        self.ui.apply(self.card.fill, execution, thumbs, videos, diff, "from history")
