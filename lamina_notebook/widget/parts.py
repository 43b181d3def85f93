"""``LaminaApp.parts``: a read-only view of the widget's pieces, for tests and power users.

Each view is a frozen snapshot taken when ``parts`` is read: its fields cannot be reassigned,
but the widgets in them are the live ones (click a button or type into an input exactly as a
user would). Read ``w.parts`` again to see runs added since.

Browser tests find the same pieces by their CSS classes (stable, ``lamina-`` prefixed): the
widget ``lamina-app``; a parameter row ``lamina-param`` with its message
``lamina-param-error``, a url field's ``lamina-upload`` picker, ``lamina-url-status`` line and
``lamina-previews`` / ``lamina-preview`` pictures; ``lamina-run-button``,
``lamina-cancel-all``, ``lamina-detach-all``; a progress row ``lamina-progress-row`` with
``lamina-progress-status``, ``lamina-progress-id``, ``lamina-progress-clock``,
``lamina-progress-title``, ``lamina-cancel-button``, ``lamina-detach-button`` and the fold
``lamina-progress-more``; gallery cards ``lamina-run-card``, tiles ``lamina-tile`` and the mark
``lamina-reused``; the Sweep tab ``lamina-sweep-tab`` (grid ``lamina-sweep-grid``); the Grid tab
``lamina-grid-tab`` (``lamina-axis-x``/``-y``/``-z``, ``lamina-grid-run``, ``lamina-grid-view``,
``lamina-grid-notes``); a batch's price ``lamina-price``, confirmation ``lamina-confirm`` and
``lamina-confirm-button``; the History tab ``lamina-history-tab`` (``lamina-history-search``,
``lamina-history-row``, ``lamina-short-id``, ``lamina-star-button``, ``lamina-use-inputs``,
``lamina-show-run``, ``lamina-note-button``, ``lamina-history-more``, ``lamina-open-grid``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as W

if TYPE_CHECKING:  # pragma: no cover
    from ..session.grids import GridRun
    from ..session.results import Result, RunHandle
    from .controls import ControlParts
    from .gallery import CardParts
    from .gridtab import GridParts
    from .history import HistoryParts
    from .progress import ProgressParts, RowParts
    from .runs import Phase
    from .sweep import Sweep, SweepParts

__all__ = ["Parts", "RunParts"]


@dataclass(frozen=True)
class RunParts:
    """One run of the widget: its progress row, its gallery card and its outcome so far."""

    title: str
    #: ``starting``, ``watching``, ``detached``, ``lost``, ``not started`` or ``ended``.
    phase: Phase
    row: RowParts
    card: CardParts
    #: None until the service accepted the run (and for ever if it did not).
    handle: RunHandle | None
    result: Result | None
    #: Why it did not start, or why watching it failed.
    error: BaseException | None
    #: Answered by an earlier identical run from the journal (nothing sent).
    reused: bool = False


@dataclass(frozen=True)
class Parts:
    """The widget's pieces (see the module docstring)."""

    header: W.HTML
    #: Each parameter's widgets by parameter name, in the app's order.
    controls: Mapping[str, ControlParts]
    run_button: W.Button
    #: Reuse an identical completed run for Run (off by default for single runs).
    reuse_toggle: W.Checkbox
    #: Cancel every run of the widget at the service.
    cancel_all_button: W.Button
    #: Stop watching every run (they go on).
    detach_all_button: W.Button
    #: A problem of the inputs as a whole (their size), shown once Run was pressed.
    problems: W.HTML
    #: Errors and notes from clicks and runs ("" when there is nothing to say).
    status: W.HTML
    #: The progress rows (newest first) and the "+N earlier runs" fold.
    progress: ProgressParts
    #: Every run this widget started, adopted or reused, oldest first.
    runs: tuple[RunParts, ...]
    #: The run cards on screen, newest first.
    gallery: W.VBox
    tabs: W.Tab
    history: HistoryParts
    sweep: SweepParts
    #: Every sweep started from code or the Sweep tab, oldest first.
    sweeps: tuple[Sweep, ...]
    grid: GridParts
    #: Every grid started, or opened from History, in this widget, oldest first.
    grids: tuple[GridRun, ...]
