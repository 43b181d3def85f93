"""The offline Lamina sandbox: a Starlette + uvicorn imitation of the Lamina API.

It serves both editions from one state: ``/api`` (the seeds: ``executionId``) and ``/v1`` (the
service's canonical paths: ``runId``, plus cancel, asset uploads, estimates, the list of runs, a
long-poll wait and the account). ``Sandbox`` runs it in-process (``with Sandbox() as sb:
sb.base_url``); ``SandboxProcess`` in a child process (what ``%lamina sandbox`` uses, so the
sandbox's drawing never competes with the kernel); ``lamina-sandbox`` or ``python -m
lamina_notebook.sandbox`` runs it from a shell.
Imports nothing from the client.
"""

from __future__ import annotations

from .process import SandboxProcess
from .server import DEFAULT_KEY, Sandbox
from .stats import Delivery, Stats

__all__ = ["DEFAULT_KEY", "Delivery", "Sandbox", "SandboxProcess", "Stats"]
