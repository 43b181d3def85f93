"""Kept so ``from lamina_notebook.results import RunHandle`` keeps working; the code lives in
:mod:`lamina_notebook.session.results`."""

from __future__ import annotations

from .session.results import Result, RunHandle

__all__ = ["Result", "RunHandle"]
