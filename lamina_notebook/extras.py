"""The calls only the ``/v1`` edition offers, as methods of :class:`LaminaClient`: cancel a
run, upload a local file, estimate a run's cost, list runs at the service, read the account,
and find the run behind an unconfirmed start.

Each one first asks the client for its edition and raises
:class:`~lamina_notebook.editions.NotOfferedError` (naming the fix) on the ``/api`` edition.
They go through the client's one choke point like every other request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from .errors import APIError, ConfigurationError, InvalidResponseError, LaminaError
from .models import Account, App, Estimate, Execution, RunPage, RunSummary
from .starts import journal_started, refuse_unconfirmed
from .transport import envelope_data, is_uuid, parse_json, require_id
from .uploads import Upload, prepare_upload

if TYPE_CHECKING:  # pragma: no cover
    from .editions import Edition
    from .journal import Journal, JournalEntry
    from .scheduling import Poller
    from .transport import Reply
    from .validation import ValidInputs

__all__ = ["RUN_STATUSES", "ExtrasMixin"]

log = logging.getLogger("lamina_notebook.client")

#: Statuses ``list_runs(status=...)`` takes.
RUN_STATUSES = ("queued", "running", "completed", "failed", "cancelled")
#: Seconds of clock difference between this machine and the service that a match tolerates.
MATCH_SLACK = 60.0


class _Client(Protocol):
    """What the mixin uses of :class:`LaminaClient` (its explicit ``self`` type)."""

    journal: Journal | None
    base_url: str
    timeout: float
    max_upload_bytes: int
    _assets: dict[str, str]
    _poller: Poller

    def _bind(self) -> None: ...
    async def _offered(self, feature: str, what: str) -> Edition: ...
    def _url(self, edition: Edition, path: str) -> str: ...
    async def _send(
        self, method: str, url: str, *, api: bool = True, token_held: bool = False, **kw: Any
    ) -> Reply: ...
    async def _get_json(
        self,
        edition: Edition,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        token_held: bool = False,
        timeout: float | None = None,
    ) -> Any: ...
    async def _fetch_execution(
        self, execution_id: str, *, token_held: bool = False
    ) -> Execution: ...
    async def resolve_app(self, app: App | str) -> App: ...
    def validate_inputs(self, app: App, inputs: Mapping[str, Any] | None) -> ValidInputs: ...
    def _remember_app(
        self, execution_id: str, app_id: str | None, app_name: str | None
    ) -> None: ...
    async def list_runs(
        self,
        status: str | None = None,
        app: App | str | None = None,
        limit: int = 25,
        offset: int = 0,
        since: datetime | float | str | None = None,
    ) -> RunPage: ...


class ExtrasMixin:
    """``cancel``, ``upload``, ``estimate``, ``list_runs``, ``account``, ``match_unconfirmed``."""

    # -- cancel ---------------------------------------------------------------------------------

    async def cancel(self: _Client, run: Execution | str) -> Execution:
        """Cancel a run at the service (it stops producing outputs and spending credits);
        returns its state after the cancel.

        Idempotent: a run that already ended answers its final state. Anyone waiting on the
        run sees that state at once. Costs two requests (the cancel, then a fresh GET of the
        run for its outputs).
        """
        run_id = require_id(run.execution_id if isinstance(run, Execution) else run, "run id")
        refuse_unconfirmed(run_id, self.journal)
        edition = await self._offered("cancel", "Cancelling a run")
        path = edition.run(run_id) + "/cancel"
        doc = parse_json(await self._send("POST", self._url(edition, path)), path)
        answer = envelope_data(doc, path, dict)
        state = await self._fetch_execution(run_id)
        said = str(answer.get("status") or "").lower()
        if said in ("cancelled", "canceled") and not state.is_terminal:
            state = replace(state, status="cancelled")  # the service settles it a moment later
        if isinstance(run, Execution) and (run.app_id or run.app_name):
            state = state.with_app(run.app_id, run.app_name)
        self._poller.deliver(state)  # ends every watch of it, and journals it
        return state

    # -- uploads --------------------------------------------------------------------------------

    async def upload(
        self: _Client,
        source: Any,
        filename: str | None = None,
        media_type: str | None = None,
    ) -> str:
        """Upload a local file, bytes, a PIL image or an image array; returns its asset URL
        (pass it as a ``url`` input; it is reusable across runs).

        ``source`` is read (and a picture object encoded as PNG) before anything is sent;
        ``media_type`` (``image``/``video``/``audio``) is read from the content when not
        given. The same content is uploaded once: its sha256 is remembered by this client and
        in the journal, per service. The bytes go to the service's presigned storage URL with
        only a Content-Type header, never the API key.
        """
        self._bind()
        item = await asyncio.to_thread(
            prepare_upload, source, filename, media_type, max_bytes=self.max_upload_bytes
        )
        edition = await self._offered("uploads", "Uploading a file")
        known = self._assets.get(item.sha256) or _journaled_asset(self, item.sha256)
        if known is not None:
            self._assets[item.sha256] = known
            return known
        path = "/assets/upload-urls"
        body = {"files": [{"filename": item.filename, "mediaType": item.media_type}]}
        doc = parse_json(await self._send("POST", self._url(edition, path), body=body), path)
        slot = _upload_slot(doc, path)
        content_type = item.content_type or str(slot.get("contentTypeHint") or "")
        if not content_type.startswith(item.media_type + "/"):
            content_type = str(slot.get("contentTypeHint") or f"{item.media_type}/*")
        try:
            await self._send(
                "PUT",
                slot["uploadUrl"],
                api=False,  # a presigned storage URL: no key, no API budget
                content=item.data,
                headers={"Content-Type": content_type},
            )
        except APIError as exc:
            exc.hint = _put_hint(exc, item) or exc.hint
            raise
        asset_url = str(slot["assetUrl"])
        self._assets[item.sha256] = asset_url
        if self.journal is not None:
            try:
                self.journal.remember_asset(item.sha256, asset_url, base_url=self.base_url)
            except Exception as exc:  # the upload worked; only its reuse is lost
                log.warning("could not journal the asset of %s (%s)", item.filename, exc)
        return asset_url

    # -- estimates, runs, account ---------------------------------------------------------------

    async def estimate(
        self: _Client, app: App | str, inputs: Mapping[str, Any] | None = None
    ) -> Estimate:
        """What one run of ``app`` is expected to cost, and whether the workspace can afford it.

        ``inputs``, when given, are validated first (no request if they are wrong); the
        service prices an app by its steps, so they do not change the figure.
        """
        edition = await self._offered("estimate", "Estimating a run's cost")
        resolved = await self.resolve_app(app)
        if inputs is not None:
            self.validate_inputs(resolved, inputs)
        path = f"/apps/{quote(resolved.app_id, safe='')}/estimate"
        doc = parse_json(await self._send("POST", self._url(edition, path)), path)
        return Estimate.from_json(envelope_data(doc, path, dict))

    async def list_runs(
        self: _Client,
        status: str | None = None,
        app: App | str | None = None,
        limit: int = 25,
        offset: int = 0,
        since: datetime | float | str | None = None,
    ) -> RunPage:
        """Runs at the service, newest first, also those started elsewhere (the web app, the
        CLI, another machine): ``status`` one of :data:`RUN_STATUSES`, ``app`` an App, id or
        name, ``limit`` 1..100, ``since`` a datetime, epoch seconds or ISO 8601 text."""
        params = _list_params(status, limit, offset, since)
        edition = await self._offered("list_runs", "Listing runs at the service")
        if app is not None:
            params["appId"] = await _app_id(self, app)
        return RunPage.from_json(await self._get_json(edition, "/runs", params))

    async def account(self: _Client) -> Account:
        """Who the API key belongs to: user and workspace (the key itself is never sent back)."""
        edition = await self._offered("account", "Reading the account")
        doc = await self._get_json(edition, "/account")
        return Account.from_json(envelope_data(doc, "/account", dict))

    # -- unconfirmed starts ---------------------------------------------------------------------

    async def match_unconfirmed(self: _Client, local_id: str) -> Execution | None:
        """The run an unconfirmed start (``unconfirmed-...``) created, if the service's list
        of runs shows exactly one candidate; None when it shows none or several.

        A candidate is a run of the same app, created between the attempt's start (at most
        the request timeout before it was journaled) and its journaling, with a minute of
        slack for clock differences, and not already in the journal. A match is journaled
        with the attempt's inputs (resume it with its real id); the ``unconfirmed`` row stays.
        """
        entry = _unconfirmed_entry(self, local_id)
        earliest = entry.created_at - self.timeout - MATCH_SLACK
        latest = entry.created_at + MATCH_SLACK
        page = await self.list_runs(app=entry.app_id, since=earliest, limit=100)
        found = [r for r in page.runs if _candidate(self, r, earliest, latest)]
        if len(found) != 1:
            log.info(
                "unconfirmed start %s: %d candidate run(s) at the service; no match",
                local_id,
                len(found),
            )
            return None
        execution = await self._fetch_execution(found[0].run_id)
        app = App(app_id=entry.app_id or "", name=entry.app_name or entry.app_id or "")
        execution = execution.with_app(app.app_id, app.name)
        self._remember_app(execution.execution_id, app.app_id, app.name)
        journal_started(
            self.journal,
            execution,
            app=app,
            inputs=entry.inputs,
            base_url=self.base_url,
            webhook=entry.webhook_url,
        )
        return execution


# -- helpers ------------------------------------------------------------------------------------


def _journaled_asset(client: _Client, sha256: str) -> str | None:
    if client.journal is None:
        return None
    try:
        return client.journal.asset(sha256, base_url=client.base_url)
    except Exception:  # an unusable journal only costs the reuse
        return None


def _upload_slot(doc: Any, path: str) -> dict[str, Any]:
    """The one upload slot of an ``upload-urls`` answer, its URLs checked to be http(s)."""
    data = envelope_data(doc, path, dict)
    uploads = data.get("uploads")
    slot = uploads[0] if isinstance(uploads, list) and uploads else None
    if not isinstance(slot, dict) or not all(
        isinstance(slot.get(k), str) and slot[k].startswith(("http://", "https://"))
        for k in ("uploadUrl", "assetUrl")
    ):
        raise InvalidResponseError(
            f"{path} answered without an upload slot (uploadUrl, assetUrl)",
            snippet=str(doc)[:200],
        )
    return slot


def _put_hint(exc: APIError, item: Upload) -> str | None:
    """The fix for a refused upload PUT."""
    if exc.status_code == 413:
        return (
            f"{item.filename} ({item.size / 1e6:,.1f} MB) is larger than the storage accepts: "
            "upload a smaller copy (for a picture img.thumbnail((2048, 2048)); for a video a "
            "shorter or re-encoded one)."
        )
    if exc.status_code == 415:
        return (
            f"The storage refused {item.filename} as {item.media_type}: pass media_type= (and "
            "filename= with the right extension) to match the file."
        )
    if exc.status_code == 403:
        return "The upload URL was refused or expired; upload again (each try gets a new one)."
    return None


def _iso(when: datetime | float | str) -> str:
    """A ``since`` value as ISO 8601 UTC text (``...Z``)."""
    if isinstance(when, str):
        return when.strip()
    if isinstance(when, datetime):
        stamp = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    elif isinstance(when, (int, float)) and not isinstance(when, bool):
        stamp = datetime.fromtimestamp(float(when), tz=timezone.utc)
    else:
        raise ConfigurationError(
            f"since must be a datetime, epoch seconds or ISO 8601 text, got {when!r}."
        )
    text = stamp.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _list_params(
    status: str | None, limit: int, offset: int, since: datetime | float | str | None
) -> dict[str, str]:
    """The query of ``GET /v1/runs``, checked before sending."""

    def whole(value: Any, name: str, low: int, high: int | None) -> str:
        bad = not isinstance(value, int) or isinstance(value, bool) or value < low
        if bad or (high is not None and value > high):
            span = f"{low}..{high}" if high is not None else f"{low} or more"
            raise ConfigurationError(f"{name} must be a whole number {span}, got {value!r}.")
        return str(value)

    params = {"limit": whole(limit, "limit", 1, 100), "offset": whole(offset, "offset", 0, None)}
    if status is not None:
        if status not in RUN_STATUSES:
            raise ConfigurationError(
                f"status must be one of {', '.join(RUN_STATUSES)}; got {status!r}."
            )
        params["status"] = status
    if since is not None:
        params["since"] = _iso(since)
    return params


async def _app_id(client: _Client, app: App | str) -> str:
    """An app's id from an App, an id, or a name (resolved like every app name)."""
    if isinstance(app, App):
        return app.app_id
    text = require_id(app, "app name or id")
    return text if is_uuid(text) else (await client.resolve_app(text)).app_id


def _unconfirmed_entry(client: _Client, local_id: str) -> JournalEntry:
    from .journal import is_unconfirmed_id

    entry = client.journal.get(local_id) if client.journal is not None else None
    if entry is None or not is_unconfirmed_id(local_id) or not entry.is_unconfirmed:
        raise LaminaError(
            f"{local_id!r} is not an unconfirmed start in the run journal.",
            hint="%lamina history lists unconfirmed starts (status unconfirmed, id "
            "unconfirmed-...).",
        )
    if not entry.app_id:
        raise LaminaError(f"The unconfirmed start {local_id} does not say which app it ran.")
    return entry


def _candidate(client: _Client, run: RunSummary, earliest: float, latest: float) -> bool:
    """A listed run that may be the unconfirmed start: in the window, started through the
    API (or not said), and not one the journal already knows."""
    created = run.created_at.timestamp() if run.created_at is not None else None
    if created is None or not earliest <= created <= latest:
        return False
    if run.source not in (None, "api"):
        return False
    return client.journal is None or client.journal.get(run.run_id) is None
