"""lamina-notebook: run Lamina AI apps from Jupyter.

``%load_ext lamina_notebook`` registers the ``%lamina`` magics. Public names are imported
lazily (PEP 562) so loading the extension stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY: dict[str, str] = {
    "App": "models",
    "Execution": "models",
    "Output": "models",
    "Parameter": "models",
    "Result": "session.results",
    "RunHandle": "session.results",
    "LaminaClient": "client",
    "Journal": "journal",
    "LaminaApp": "widget",
    "LaminaMagics": "magics",
    "Sandbox": "sandbox",
    "WebhookReceiver": "webhooks",
    "save": "files",
    "verify_webhook": "webhooks",
    "LaminaError": "errors",
    "ExecutionFailed": "errors",
    "NotOfferedError": "editions",
    "WaitTimeout": "errors",
}

__all__ = [
    "App",
    "Execution",
    "ExecutionFailed",
    "Journal",
    "LaminaApp",
    "LaminaClient",
    "LaminaError",
    "LaminaMagics",
    "NotOfferedError",
    "Output",
    "Parameter",
    "Result",
    "RunHandle",
    "Sandbox",
    "WaitTimeout",
    "WebhookReceiver",
    "__version__",
    "load_ipython_extension",
    "save",
    "unload_ipython_extension",
    "verify_webhook",
]

if TYPE_CHECKING:  # pragma: no cover
    from .client import LaminaClient
    from .editions import NotOfferedError
    from .errors import ExecutionFailed, LaminaError, WaitTimeout
    from .files import save
    from .journal import Journal
    from .magics import LaminaMagics
    from .models import App, Execution, Output, Parameter
    from .sandbox import Sandbox
    from .session.results import Result, RunHandle
    from .webhooks import WebhookReceiver, verify_webhook
    from .widget import LaminaApp


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lamina_notebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%lamina`` / ``%%lamina`` (called by ``%load_ext lamina_notebook``)."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop background work started by the magics (called by ``%unload_ext``)."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)
