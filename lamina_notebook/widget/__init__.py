"""``LaminaApp``: the ipywidgets front end for one app.

:mod:`.app` assembles the widget from its panels and wires them with narrow callbacks; no other
module imports it. :mod:`.ui` is the port every panel changes the screen through (ordered and
thread-safe, click guards, the status line). :mod:`.runs` is a run's life from POST to result,
with no widgets; :mod:`.progress`, :mod:`.gallery`, :mod:`.history`, :mod:`.sweep`,
:mod:`.controls` and :mod:`.preview` are the panels; :mod:`.media` keeps what crosses the comm
small; :mod:`.snapshot` is the static copy for saved notebooks; :mod:`.parts` is the read-only
``LaminaApp.parts`` view.
"""

from __future__ import annotations

from .app import LaminaApp

__all__ = ["LaminaApp"]
