"""``LaminaApp.parts``: a read-only view of the widget's pieces, for tests and power users.

Each view is a frozen snapshot taken when ``parts`` is read: its fields cannot be reassigned,
but the widgets in them are the live ones (click a button or type into an input exactly as a
user would). Read ``w.parts`` again to see runs added since.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ipywidgets as W

if TYPE_CHECKING:  # pragma: no cover
    from ..session.results import Result, RunHandle
    from .controls import ControlParts
    from .gallery import CardParts
    from .history import HistoryParts
    from .progress import RowParts
    from .runs import Phase
    from .sweep import Sweep, SweepParts

__all__ = ["Parts", "RunParts"]


@dataclass(frozen=True)
class RunParts:
    """One run of the widget: its progress row, its gallery card and its outcome so far."""

    title: str
    #: ``starting``, ``watching``, ``stopped``, ``lost``, ``not started`` or ``ended``.
    phase: Phase
    row: RowParts
    card: CardParts
    #: None until the service accepted the run (and for ever if it did not).
    handle: RunHandle | None
    result: Result | None
    #: Why it did not start, or why watching it failed.
    error: BaseException | None


@dataclass(frozen=True)
class Parts:
    """The widget's pieces (see the module docstring)."""

    header: W.HTML
    #: Each parameter's widgets by parameter name, in the app's order.
    controls: Mapping[str, ControlParts]
    run_button: W.Button
    stop_all_button: W.Button
    #: Why Run is disabled ("" while the inputs are valid).
    problems: W.HTML
    #: Errors and notes from clicks and runs ("" when there is nothing to say).
    status: W.HTML
    #: The progress rows on screen, newest first.
    progress: W.VBox
    #: Every run this widget started or adopted, oldest first.
    runs: tuple[RunParts, ...]
    #: The run cards on screen, newest first.
    gallery: W.VBox
    tabs: W.Tab
    history: HistoryParts
    sweep: SweepParts
    #: Every sweep started from code or the Sweep tab, oldest first.
    sweeps: tuple[Sweep, ...]
