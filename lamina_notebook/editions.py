"""The two editions of the Lamina API and how the client speaks each (paths, id field, features).

The seeds' ``/api`` edition (``/api/apps/{id}/executions``, ``/api/executions/{id}``,
``executionId``) and the service's current ``/v1`` edition (``/v1/apps/{id}/runs``,
``/v1/runs/{id}``, ``runId``, plus cancel, asset uploads, estimates, run lists, a server-side
wait and the account) name the same resources. Everything that differs lives here, so the
client's methods are written once. ``auto`` (the default) picks the edition per base URL at
the first request: see :class:`EditionProbe`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from .errors import ConfigurationError, LaminaError

__all__ = [
    "API",
    "EDITIONS",
    "EDITION_CHOICES",
    "V1",
    "Edition",
    "EditionProbe",
    "NotOfferedError",
    "edition_setting",
]

#: What ``api_edition`` / ``LAMINA_API_EDITION`` accept.
EDITION_CHOICES = ("auto", "api", "v1")


class NotOfferedError(LaminaError):
    """The call needs an endpoint that this edition of the service does not have."""


@dataclass(frozen=True)
class Edition:
    """One edition: its path prefix, its run paths and id field, and the extras it offers."""

    name: str
    prefix: str
    runs_segment: str  # "executions" | "runs"
    id_field: str  # "executionId" | "runId"
    extras: frozenset[str] = frozenset()

    def app_runs(self, app_id: str) -> str:
        """The path that starts a run of ``app_id`` (a POST)."""
        return f"/apps/{_seg(app_id)}/{self.runs_segment}"

    def run(self, run_id: str) -> str:
        """The path of one run (execution)."""
        return f"/{self.runs_segment}/{_seg(run_id)}"

    def offers(self, feature: str) -> bool:
        return feature in self.extras

    def require(self, feature: str, what: str) -> None:
        """Raise :class:`NotOfferedError` naming the fix when ``feature`` is not offered."""
        if feature not in self.extras:
            raise NotOfferedError(
                f"{what} is not offered by the {self.prefix} edition of the Lamina API.",
                hint="It needs the /v1 edition: set LAMINA_API_EDITION=v1 (or "
                "%config LaminaMagics.api_edition = 'v1', or api_edition='v1') if your "
                "service has it; 'auto' picks /v1 when the service answers there.",
            )


def _seg(text: str) -> str:
    return quote(text, safe="")


API = Edition("api", "/api", "executions", "executionId")
V1 = Edition(
    "v1",
    "/v1",
    "runs",
    "runId",
    frozenset({"cancel", "uploads", "estimate", "list_runs", "server_wait", "account"}),
)
EDITIONS = {"api": API, "v1": V1}


def edition_setting(value: str | None) -> str:
    """``value`` (None: ``LAMINA_API_EDITION``, else ``auto``) checked against the choices."""
    raw = os.environ.get("LAMINA_API_EDITION", "auto") if value is None else value
    choice = (raw or "auto").strip().lower().lstrip("/")
    if choice not in EDITION_CHOICES:
        source = "LAMINA_API_EDITION" if value is None else "api_edition"
        raise ConfigurationError(
            f"{source}={raw!r} is not an edition of the Lamina API.",
            hint="Use 'auto' (default: /v1 when the service has it, else /api), 'v1' or 'api'.",
        )
    return choice


#: Editions found by ``auto``, per base URL, for this process: a client rebuilt after a
#: settings change (same base URL) does not probe again.
_FOUND: dict[str, Edition] = {}


class EditionProbe:
    """Picks the edition for ``auto`` once per base URL, before the first API request.

    Order: ``/v1`` first (the service's canonical edition, the only one its SDK and CLI use),
    falling back to ``/api`` when ``GET /v1/apps?limit=1`` answers 404. The probe is a GET,
    so it is safe to send at any time; a run POST waits for it and is never used to guess.
    Cost: when the session's first call is the app list, that call itself is the probe (0
    extra requests on a /v1 service, 1 on an /api-only one); any other first call costs one
    extra GET. Nothing is probed again for that base URL in this process.
    """

    def __init__(self, base_url: str, fixed: Edition | None) -> None:
        self.base_url = base_url
        self.edition: Edition | None = fixed or _FOUND.get(base_url)
        self.fixed = fixed is not None
        self.probes = 0  # extra requests spent on finding the edition (for tests, doctor)
        self._lock: asyncio.Lock | None = None

    async def resolve(self, probe: Callable[[Edition], Awaitable[bool]]) -> Edition:
        """The edition, probing with ``probe(V1)`` if not known: True = it answered there."""
        if self.edition is not None:
            return self.edition
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.edition is None:
                self.probes += 1
                found = V1 if await probe(V1) else API
                self.remember(found)
        assert self.edition is not None
        return self.edition

    def remember(self, edition: Edition) -> None:
        """Settle on ``edition`` (also when a first app-list call found it)."""
        self.edition = edition
        if not self.fixed:
            _FOUND[self.base_url] = edition


def forget_found_editions() -> None:
    """Forget what ``auto`` found (tests, or after the service moved to another edition)."""
    _FOUND.clear()
