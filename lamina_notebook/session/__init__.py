"""The front ends' shared session: settings, the loop thread, the client, runs and their media.

``get_session()`` is the one :class:`Session` that ``%lamina`` and ``LaminaApp`` share. Runs
(:class:`~.results.RunHandle`, :class:`~.results.Result`) live in :mod:`.results`, output media
for display in :mod:`.media`, and the loop thread that owns the client in :mod:`.runtime`.
Imports no ipywidgets; importing this package stays cheap (``%load_ext`` does).
"""

from __future__ import annotations

from .session import SANDBOX_KEY, SandboxState, Session, Settings, get_session, reset_session

__all__ = ["SANDBOX_KEY", "SandboxState", "Session", "Settings", "get_session", "reset_session"]
