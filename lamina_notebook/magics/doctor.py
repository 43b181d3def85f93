"""``%lamina doctor``: an environment check rendered as a small two-column table.

Says where the key comes from but never its value; checks the base URL with one real request
(which also finds the API edition for ``auto``) and, where the edition offers it, reads which
workspace the key belongs to (``GET /v1/account``; the email is left out of saved notebooks).
"""

from __future__ import annotations

import importlib.metadata
import sys
import time
from dataclasses import dataclass
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


@dataclass
class _Check:
    """What the one live check found: reachability, the edition, the workspace."""

    reachable: str = ""
    edition: str | None = None
    workspace: str | None = None


def _check(session: Session) -> _Check:
    """One GET /apps?limit=1, not retried: HTTP status (or why not) and how long it took; the
    edition it was answered in; then the account's workspace where the edition has it."""
    from ..client import LaminaClient

    s = session.settings
    found = _Check()

    async def probe() -> None:
        async with LaminaClient(
            s.api_key,
            s.base_url,
            api_edition=s.api_edition,
            api_prefix=s.api_prefix,
            journal=None,
            max_retries=0,
            timeout=min(10.0, s.request_timeout),
        ) as client:
            try:
                await client.list_apps(limit=1)
            finally:
                found.edition = client.edition_name
            if client.edition_name == "v1":
                try:
                    found.workspace = (await client.account()).workspace
                except LaminaError as exc:
                    found.workspace = f"not read: {exc.message.splitlines()[0]}"

    started = time.perf_counter()
    took = 0.0
    try:
        session.run(probe())
        status = "HTTP 200"
    except ConfigurationError:
        found.reachable = "not checked: no API key"
        return found
    except APIError as exc:
        status = f"HTTP {exc.status_code}" if exc.status_code else exc.message
    except LaminaError as exc:
        found.reachable = f"unreachable: {exc.message}"
        return found
    finally:
        took = (time.perf_counter() - started) * 1000
    found.reachable = f"{status} in {took:.0f} ms"
    return found


def _edition_text(session: Session, found: _Check) -> str:
    """The edition in use and why (the setting, or what auto found)."""
    from ..editions import edition_setting

    s = session.settings
    try:
        setting = edition_setting(s.api_edition)
    except LaminaError as exc:
        return f"invalid setting: {exc.message}"
    if s.api_prefix:
        how = f"api_prefix={s.api_prefix!r}"
    elif s.api_edition:
        how = f"LaminaMagics.api_edition={setting!r}"
    elif setting != "auto":
        how = f"LAMINA_API_EDITION={setting}"
    else:
        how = "auto"
    name = found.edition or (setting if setting != "auto" else None)
    if name is None:
        return f"not known yet ({how}: found at the first request that gets an answer)"
    return f"/{name} ({how})"


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
    found = _check(session)
    rows = [
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
        ("base URL", session.client.base_url),
        ("API edition", _edition_text(session, found)),
        ("reachable", found.reachable),
    ]
    if found.workspace is not None:
        rows.append(("workspace", found.workspace))
    rows += [("journal", _journal(session)), ("sandbox", sandbox_text)]
    if sandbox is not None:
        rows.append(("sandbox media", _media_route(session)))
    return rows


def _media_route(session: Session) -> str:
    """How the browser reaches the sandbox's pictures and videos: directly, or through the
    Jupyter server's proxy (Binder), and how that server was found."""
    from ..session.proxy import proxy_route

    try:
        route = proxy_route(session)
    except LaminaError as exc:
        return f"as they are ({exc.message.splitlines()[0]})"
    if route is None:
        return "loaded directly from the sandbox (no Jupyter server proxy found)"
    return f"through the Jupyter server at {route.prefix}proxy/PORT/ (found by {route.source})"


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
