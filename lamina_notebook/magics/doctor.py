"""``%lamina doctor``: an environment check rendered as a small two-column table.

Says where the key comes from but never its value; checks the base URL with one real request.
"""

from __future__ import annotations

import importlib.metadata
import sys
import time
from typing import TYPE_CHECKING, Any

from .. import render
from ..errors import APIError, ConfigurationError, LaminaError
from ..session.results import has_kernel

if TYPE_CHECKING:  # pragma: no cover
    from ..session.session import Session

__all__ = ["doctor_bundle", "doctor_rows"]


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _frontend() -> str:
    if has_kernel():
        return "Jupyter kernel (ipykernel): HTML outputs and widgets can show"
    return "terminal IPython: text outputs; widgets will not render here"


def _reachability(session: Session) -> str:
    """One GET /apps?limit=1, not retried: HTTP status (or why not) and how long it took."""
    from ..client import LaminaClient

    s = session.settings

    async def probe() -> None:
        async with LaminaClient(
            s.api_key,
            s.base_url,
            api_prefix=s.api_prefix,
            journal=None,
            max_retries=0,
            timeout=min(10.0, s.request_timeout),
        ) as client:
            await client.list_apps(limit=1)

    started = time.perf_counter()
    try:
        session.run(probe())
        status = "HTTP 200"
    except ConfigurationError:
        return "not checked: no API key"
    except APIError as exc:
        status = f"HTTP {exc.status_code}" if exc.status_code else exc.message
    except LaminaError as exc:
        return f"unreachable: {exc.message}"
    return f"{status} in {(time.perf_counter() - started) * 1000:.0f} ms"


def _journal(session: Session) -> str:
    journal = session.client.journal
    if journal is None:
        return "off"
    try:
        count = len(journal)
    except LaminaError as exc:
        return f"{getattr(journal, 'path', '?')} (unusable: {exc.message})"
    return f"{journal.path} ({count} executions)"


def doctor_rows(session: Session) -> list[tuple[str, str]]:
    """(check, finding) pairs; no row ever contains the API key."""
    from .. import __version__

    sandbox = session.sandbox
    if sandbox is None:
        sandbox_text = "not running"
    elif sandbox.embedded is None:
        sandbox_text = f"external at {sandbox.base_url} (LAMINA_SANDBOX_URL)"
    else:
        sandbox_text = f"embedded at {sandbox.base_url} (results are simulated)"
    source = session.key_source()
    return [
        ("lamina-notebook", __version__),
        ("Python", sys.version.split()[0]),
        ("IPython", _version("ipython")),
        ("ipywidgets", _version("ipywidgets")),
        ("jupyterlab_widgets", _version("jupyterlab_widgets")),
        ("ipykernel", _version("ipykernel")),
        ("front end", _frontend()),
        (
            "API key",
            f"from {source}"
            if source
            else "none: %lamina login, LAMINA_API_KEY, or %lamina sandbox",
        ),
        ("base URL", session.client.base_url + session.client.api_prefix),
        ("reachable", _reachability(session)),
        ("journal", _journal(session)),
        ("sandbox", sandbox_text),
    ]


def doctor_bundle(session: Session) -> dict[str, Any]:
    """The rows as text/plain and text/html (every cell escaped)."""
    rows = doctor_rows(session)
    width = max(len(k) for k, _ in rows)
    text = "\n".join(f"{k:<{width}}  {render.plain(v)}" for k, v in rows)
    cells = "".join(
        f"<tr><th style='text-align:left'>{render.esc(k)}</th>"
        f"<td style='text-align:left'>{render.esc(v)}</td></tr>"
        for k, v in rows
    )
    html = f'<table class="lamina-table"><tbody>{cells}</tbody></table>'
    return {"text/plain": text, "text/html": html}
