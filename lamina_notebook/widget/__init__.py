"""``LaminaApp``: the ipywidgets front end for one app.

:mod:`.app` assembles the widget; :mod:`.ui` is the port panels use to change the UI from any
thread; :mod:`.controls`, :mod:`.runs`, :mod:`.gallery`, :mod:`.history`, :mod:`.sweep`,
:mod:`.preview` and :mod:`.snapshot` are its panels and parts.
"""

from __future__ import annotations

from .app import LaminaApp

__all__ = ["LaminaApp"]
