"""A LaminaClient tuned for the fast test sandbox, and the two API editions every client test
runs in, shared by the client test modules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lamina_notebook.client import LaminaClient

FAST_CLIENT_OPTIONS: dict[str, Any] = {
    "poll_interval": 0.05,
    "min_poll_interval": 0.01,
    "rate_limit": 0,
    "retry_backoff": 0.01,
    "retry_backoff_cap": 0.05,
}
#: The editions of the API the sandbox serves, both from one state.
EDITIONS = ("api", "v1")
#: A run creation in either edition (what a "never resend a POST" seam watches for).
RUN_POST = re.compile(r"/(api/apps/[^/]+/executions|v1/apps/[^/]+/runs)$")


def fast_client(sb: Any, **kw: Any) -> LaminaClient:
    """A client for ``sb``: quick polls, tiny backoffs, no rate budget unless ``kw`` sets one.

    Its edition is ``kw["api_edition"]``, else ``LAMINA_API_EDITION`` (which the ``edition``
    fixture sets), else auto.
    """
    return LaminaClient(sb.api_key, sb.base_url, **{**FAST_CLIENT_OPTIONS, **kw})


def is_run_post(request: httpx.Request) -> bool:
    return request.method == "POST" and RUN_POST.search(request.url.path) is not None


@pytest.fixture(params=EDITIONS)
def edition(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once per edition, chosen the way a user would: ``LAMINA_API_EDITION``
    (so every client the test builds, and a subprocess it starts, speaks that edition)."""
    monkeypatch.setenv("LAMINA_API_EDITION", request.param)
    yield request.param
