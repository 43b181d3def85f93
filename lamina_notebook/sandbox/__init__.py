"""The offline Lamina sandbox: a Starlette + uvicorn imitation of the Lamina API.

``Sandbox`` runs it in-process (``with Sandbox() as sb: sb.base_url``); ``lamina-sandbox`` or
``python -m lamina_notebook.sandbox`` runs it from a shell. Imports nothing from the client.
"""

from __future__ import annotations

from .server import DEFAULT_KEY, Sandbox
from .stats import Delivery, Stats

__all__ = ["DEFAULT_KEY", "Delivery", "Sandbox", "Stats"]
