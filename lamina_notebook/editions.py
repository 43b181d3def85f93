"""The two editions of the Lamina API and how the client speaks each (paths, id field, features).

The seeds' ``/api`` edition (``/api/apps/{id}/executions``, ``/api/executions/{id}``,
``executionId``) and the service's current ``/v1`` edition (``/v1/apps/{id}/runs``,
``/v1/runs/{id}``, ``runId``, plus cancel, asset uploads, estimates, run lists, a server-side
wait and the account) name the same resources. Everything that differs lives here, so the
client's methods are written once.

One setting picks the edition: ``api_edition=`` (``LaminaClient``), ``%config
LaminaMagics.api_edition``, or ``LAMINA_API_EDITION``; ``auto`` (the default), ``api`` or
``v1``. The older ``api_prefix`` setting still works: a prefix whose last segment is ``v1``
(``/v1``, ``/gateway/v1``) means the ``/v1`` edition under that prefix, any other prefix the
``/api`` edition under it. ``auto`` picks the edition per base URL at the first request: see
:class:`EditionProbe` for how, and for what it costs (measured in
``tests/core/test_v1_editions.py``: at most one extra GET per process and base URL, against a
``/v1`` service and against an ``/api``-only one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote

from .errors import APIError, ConfigurationError, LaminaError

__all__ = [
    "API",
    "EDITIONS",
    "EDITION_CHOICES",
    "V1",
    "Edition",
    "EditionProbe",
    "NotOfferedError",
    "edition_setting",
    "fixed_edition",
    "forget_found_editions",
    "is_absent",
]

T = TypeVar("T")

#: What ``api_edition`` / ``LAMINA_API_EDITION`` accept.
EDITION_CHOICES = ("auto", "api", "v1")
#: Answers of the probe that mean "this edition is not served here".
ABSENT_STATUSES = frozenset({404, 405, 410})


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
                f"{what} is not offered by the /{self.name} edition of the Lamina API.",
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


def fixed_edition(api_edition: str | None, api_prefix: str | None) -> Edition | None:
    """The edition the settings fix, or None for ``auto`` (found at the first request).

    ``api_prefix`` (the older setting) keeps working: a prefix whose last segment is ``v1``
    means the ``/v1`` edition under that prefix, any other (also ``""``) the ``/api`` edition
    under it. With both settings given they must agree on the edition.
    """
    choice = edition_setting(api_edition)
    if api_prefix is None:
        return None if choice == "auto" else EDITIONS[choice]
    prefix = "/" + api_prefix.strip().strip("/") if api_prefix.strip().strip("/") else ""
    implied = "v1" if prefix.rsplit("/", 1)[-1] == "v1" else "api"
    if choice not in ("auto", implied):
        raise ConfigurationError(
            f"api_prefix={api_prefix!r} names the {implied} edition but api_edition is {choice!r}.",
            hint="Set only api_edition ('api' or 'v1'); api_prefix is needed only when the "
            "API sits under another path (e.g. '/gateway/v1' behind a proxy).",
        )
    return dataclasses.replace(EDITIONS[implied], prefix=prefix)


def is_absent(exc: BaseException) -> bool:
    """True for an answer that says "no such route here" (404, 405, 410)."""
    return isinstance(exc, APIError) and exc.status_code in ABSENT_STATUSES


#: Editions found by ``auto``, per base URL, for this process: a client rebuilt after a
#: settings change (same base URL) does not probe again.
_FOUND: dict[str, Edition] = {}


class EditionProbe:
    """Picks the edition for ``auto`` once per base URL, before the first API request.

    Order: ``/v1`` first (the service's canonical edition, the only one its SDK and CLI use),
    falling back to ``/api`` when ``/v1`` answers 404 (or 405/410: no such route). Any other
    failure (no network, a 401, a 5xx after the retries) is raised to the caller and nothing
    is remembered, so the next request probes again. The probe is a GET, so it is safe to
    send at any time; a run POST waits for it and is never used to guess.

    Cost (measured against the sandbox in ``tests/core/test_v1_editions.py``): when the
    session's first call is the app list (``%lamina apps``, a name lookup), that call itself
    is the probe (:meth:`first_call`): 0 extra requests on a ``/v1`` service, 1 on an
    ``/api``-only one (its ``/v1`` 404). Any other first call costs one extra
    ``GET /v1/apps?limit=1``. Nothing is probed again for that base URL in this process,
    unless ``share=False`` (a client with its own transport, e.g. a test seam or a proxy,
    keeps what it found to itself: the transport decides what answers there).
    """

    def __init__(self, base_url: str, fixed: Edition | None, *, share: bool = True) -> None:
        self.base_url = base_url
        self.share = share
        self.edition: Edition | None = fixed or (_FOUND.get(base_url) if share else None)
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

    async def first_call(self, call: Callable[[Edition], Awaitable[T]]) -> T:
        """``call(edition)``; while the edition is unknown, ``call(V1)`` is itself the probe.

        For a GET whose 404 can only mean "no such route" (the app list: an empty list is
        not a 404). If ``/v1`` is absent, ``call(API)`` follows and the ``/v1`` try counts as
        the one extra request.
        """
        if self.edition is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self.edition is None:
                    try:
                        result = await call(V1)
                    except LaminaError as exc:
                        if not is_absent(exc):
                            raise
                        self.probes += 1
                        self.remember(API)
                    else:
                        self.remember(V1)
                        return result
        assert self.edition is not None
        return await call(self.edition)

    def remember(self, edition: Edition) -> None:
        """Settle on ``edition`` (also when a first app-list call found it)."""
        self.edition = edition
        if not self.fixed and self.share:
            _FOUND[self.base_url] = edition


def forget_found_editions() -> None:
    """Forget what ``auto`` found (tests, or after the service moved to another edition)."""
    _FOUND.clear()
