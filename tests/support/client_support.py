"""A LaminaClient tuned for the fast test sandbox, shared by the client test modules."""

from __future__ import annotations

from typing import Any

from lamina_notebook.client import LaminaClient

FAST_CLIENT_OPTIONS: dict[str, Any] = {
    "poll_interval": 0.05,
    "min_poll_interval": 0.01,
    "rate_limit": 0,
    "retry_backoff": 0.01,
    "retry_backoff_cap": 0.05,
}


def fast_client(sb: Any, **kw: Any) -> LaminaClient:
    """A client for ``sb``: quick polls, tiny backoffs, no rate budget unless ``kw`` sets one."""
    return LaminaClient(sb.api_key, sb.base_url, **{**FAST_CLIENT_OPTIONS, **kw})
