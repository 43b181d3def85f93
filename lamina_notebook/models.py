"""Typed, frozen views of the service's JSON: App, Parameter, Execution, Output, and the
``/v1`` extras: Estimate, RunSummary/RunPage (the list of runs) and Account.

Every ``from_json`` tolerates unknown extra fields (kept in ``raw``) and the newer variants the
contract names (``runId`` for ``executionId``, ``key``, ``progress``, ``mimeType``). Whether an
execution or output is done is decided by ``status``, never by ``type``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import InvalidResponseError

__all__ = [
    "TERMINAL_STATUSES",
    "Account",
    "App",
    "Estimate",
    "Execution",
    "Media",
    "Output",
    "Parameter",
    "Progress",
    "RunPage",
    "RunSummary",
    "parse_timestamp",
]

#: An image ready to embed, as ``(bytes, mime)``: downscaled already (for a video, its poster).
Media = tuple[bytes, str]

#: Execution statuses after which nothing changes any more.
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
#: Output statuses that mean the output will never get a value.
OUTPUT_ERROR_STATUSES = frozenset({"error", "failed", "cancelled"})


def parse_timestamp(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` suffix allowed) or unix seconds; None if absent/bad."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        from datetime import timezone

        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _flag(value: Any, default: bool) -> bool:
    """A JSON boolean that may arrive as a string ("false") or be missing."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return bool(value)


#: Spellings some services use for the contract's statuses.
_STATUS_ALIASES = {
    "canceled": "cancelled",
    "succeeded": "completed",
    "success": "completed",
    "error": "failed",
    "pending": "queued",
}


def _require_mapping(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidResponseError(
            f"expected a JSON object for {what}, got {type(payload).__name__}"
        )
    return payload


@dataclass(frozen=True)
class Parameter:
    """One input of an app: ``type`` is ``text``, ``options`` (a label) or ``url``."""

    id: str
    name: str
    type: str
    required: bool = True
    options: tuple[str, ...] = ()
    default: str | None = None
    description: str | None = None
    key: str | None = None
    accept: tuple[str, ...] = ()
    multiple: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_default(self) -> bool:
        """True when the app saved a default (even ``""``, ``[]``, ``0`` or ``false``): the
        service then fills it in when the input is omitted."""
        return self.default is not None

    @property
    def needs_value(self) -> bool:
        """True when a run without this input is rejected: the parameter has no default.

        ``required`` is set inconsistently by app authors and the service ignores it; the
        saved default decides (as the service's resolver and Lamina's CLI do).
        """
        return self.default is None

    @property
    def default_value(self) -> Any:
        """The default as the service sent it (a string, a list, a number...); None if none."""
        return self.raw.get("default", self.default)

    @property
    def aliases(self) -> tuple[str, ...]:
        """What an input may be keyed by, in the service's order: ``key``, then ``id``, then
        ``name`` (exact, case-sensitive); duplicates removed."""
        ident = self.raw.get("id") if self.raw else self.id
        found = [a for a in (self.key, None if ident is None else str(ident), self.name) if a]
        return tuple(dict.fromkeys(found))

    @classmethod
    def from_json(cls, payload: Any) -> Parameter:
        d = _require_mapping(payload, "a parameter")
        name = d.get("name") or d.get("key") or d.get("id")
        if not name:
            raise InvalidResponseError("parameter without a name", snippet=str(dict(d))[:200])
        options = d.get("options") or ()
        if isinstance(options, (str, bytes)) or not isinstance(options, (list, tuple)):
            options = ()
        # Options may arrive as plain labels or as {"label": ..., "value": ...} objects.
        labels = tuple(
            str(o.get("label", o.get("value", ""))) if isinstance(o, Mapping) else str(o)
            for o in options
        )
        accept = d.get("accept") or ()
        default = d.get("default")
        return cls(
            id=str(d.get("id") or name),
            name=str(name),
            type=str(d.get("type") or "text"),
            required=_flag(d.get("required"), True),
            options=labels,
            default=_default_text(default),
            description=_str_or_none(d.get("description")),
            key=_str_or_none(d.get("key")),
            accept=tuple(str(a) for a in accept) if isinstance(accept, (list, tuple)) else (),
            multiple=_flag(d.get("multiple"), False),
            raw=dict(d),
        )


def _default_text(value: Any) -> str | None:
    """A saved default as text for display and controls (``[]``/``false`` as JSON)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class App:
    """A Lamina app. ``parameters`` is None when the app came from the list endpoint."""

    app_id: str
    name: str
    description: str = ""
    is_public: bool | None = None
    parameters: tuple[Parameter, ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, payload: Any) -> App:
        d = _require_mapping(payload, "an app")
        app_id = d.get("appId") or d.get("id")
        if not app_id:
            raise InvalidResponseError("app without an appId", snippet=str(dict(d))[:200])
        params = d.get("parameters")
        parameters = None
        if isinstance(params, list):
            parameters = tuple(Parameter.from_json(p) for p in params)
        is_public = d.get("isPublic")
        return cls(
            app_id=str(app_id),
            name=str(d.get("name") or app_id),
            description=str(d.get("description") or ""),
            is_public=None if is_public is None else bool(is_public),
            parameters=parameters,
            raw=dict(d),
        )

    def parameter(self, name: str) -> Parameter | None:
        """The parameter an input keyed ``name`` is for, resolved as the service does: by
        ``key``, then ``id``, then ``name``, each exact and case-sensitive."""
        params = self.parameters or ()
        for attr in ("key", "id", "name"):
            for p in params:
                ident = (p.raw.get("id") if p.raw else p.id) if attr == "id" else getattr(p, attr)
                if ident is not None and str(ident) == name:
                    return p
        return None


@dataclass(frozen=True)
class Progress:
    """The optional ``progress`` object some executions carry."""

    total_outputs: int
    completed_outputs: int
    failed_outputs: int = 0
    percent_complete: float | None = None

    @classmethod
    def from_json(cls, payload: Any) -> Progress | None:
        if not isinstance(payload, Mapping):
            return None
        try:
            return cls(
                total_outputs=int(payload.get("totalOutputs") or 0),
                completed_outputs=int(payload.get("completedOutputs") or 0),
                failed_outputs=int(payload.get("failedOutputs") or 0),
                percent_complete=(
                    float(payload["percentComplete"])
                    if payload.get("percentComplete") is not None
                    else None
                ),
            )
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Output:
    """One output slot. ``type`` may stay ``pending`` on failure: read ``status`` instead."""

    id: str
    label: str
    type: str
    value: str | None
    status: str
    error: str | None = None
    mime_type: str | None = None
    dimensions: Mapping[str, Any] | None = None
    duration_seconds: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def is_failed(self) -> bool:
        return self.status in OUTPUT_ERROR_STATUSES

    @property
    def is_done(self) -> bool:
        """Finished one way or the other."""
        return self.is_completed or self.is_failed

    @property
    def kind(self) -> str:
        """What to render: image/video/audio/text, ``url`` for an unknown type with a URL value."""
        if self.type in ("image", "video", "audio", "text"):
            return self.type
        if self.mime_type:
            major = self.mime_type.split("/", 1)[0]
            if major in ("image", "video", "audio", "text"):
                return major
        if isinstance(self.value, str) and self.value.startswith(("http://", "https://")):
            return "url"
        return "text" if self.value else "none"

    @classmethod
    def from_json(cls, payload: Any) -> Output:
        d = _require_mapping(payload, "an output")
        value = d.get("value")
        if value is not None and not isinstance(value, str):
            value = str(value)
        duration = d.get("durationSeconds")
        try:
            duration_f = float(duration) if duration is not None else None
        except (TypeError, ValueError):
            duration_f = None
        dims = d.get("dimensions")
        return cls(
            id=str(d.get("id") or d.get("label") or ""),
            label=str(d.get("label") or d.get("id") or "output"),
            type=str(d.get("type") or "pending"),
            value=value,
            status=str(d.get("status") or ("completed" if value is not None else "pending")),
            error=_str_or_none(d.get("error")),
            mime_type=_str_or_none(d.get("mimeType")),
            dimensions=dims if isinstance(dims, Mapping) else None,
            duration_seconds=duration_f,
            raw=dict(d),
        )


@dataclass(frozen=True)
class Execution:
    """A run of an app as last seen; ``app_id``/``app_name`` are filled in by the client."""

    execution_id: str
    status: str
    outputs: tuple[Output, ...] = ()
    workflow_id: str | None = None
    workflow_name: str | None = None
    webhook_url: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    progress: Progress | None = None
    app_id: str | None = None
    app_name: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_completed(self) -> bool:
        return self.status == "completed"

    @property
    def is_failed(self) -> bool:
        return self.status in ("failed", "cancelled")

    @property
    def outputs_total(self) -> int:
        if self.outputs:
            return len(self.outputs)
        return self.progress.total_outputs if self.progress else 0

    @property
    def outputs_done(self) -> int:
        """Outputs finished (completed or failed), from the outputs, else ``progress``."""
        if self.outputs:
            return sum(1 for o in self.outputs if o.is_done)
        if self.progress:
            return self.progress.completed_outputs + self.progress.failed_outputs
        return 0

    @property
    def fraction_done(self) -> float:
        """0..1 for a progress bar; 1.0 once terminal."""
        if self.is_terminal:
            return 1.0
        if self.progress and self.progress.percent_complete is not None:
            return max(0.0, min(1.0, self.progress.percent_complete / 100.0))
        total = self.outputs_total
        return self.outputs_done / total if total else 0.0

    def raise_for_status(self) -> Execution:
        """Raise :class:`ExecutionFailed` if the run failed or was cancelled; else return self."""
        from .errors import ExecutionFailed

        if self.is_failed:
            raise ExecutionFailed(self)
        return self

    def with_app(self, app_id: str | None, app_name: str | None) -> Execution:
        """A copy that knows which app it belongs to (the API's payload does not say)."""
        from dataclasses import replace

        return replace(self, app_id=app_id or self.app_id, app_name=app_name or self.app_name)

    @classmethod
    def from_json(cls, payload: Any) -> Execution:
        d = _require_mapping(payload, "an execution")
        execution_id = d.get("executionId") or d.get("runId") or d.get("id")
        if not execution_id:
            raise InvalidResponseError(
                "execution without an executionId", snippet=str(dict(d))[:200]
            )
        outputs = d.get("outputs") or []
        status = str(d.get("status") or "queued").strip().lower()
        if not isinstance(outputs, list):
            raise InvalidResponseError(
                "execution outputs is not a list", snippet=str(outputs)[:200]
            )
        return cls(
            execution_id=str(execution_id),
            status=_STATUS_ALIASES.get(status, status),
            outputs=tuple(Output.from_json(o) for o in outputs),
            workflow_id=_str_or_none(d.get("workflowId")),
            workflow_name=_str_or_none(d.get("workflowName")),
            webhook_url=_str_or_none(d.get("webhookUrl")),
            error_message=_str_or_none(d.get("errorMessage") or d.get("error")),
            created_at=parse_timestamp(d.get("createdAt")),
            started_at=parse_timestamp(d.get("startedAt")),
            completed_at=parse_timestamp(d.get("completedAt")),
            progress=Progress.from_json(d.get("progress")),
            app_id=_str_or_none(d.get("appId")),
            app_name=_str_or_none(d.get("appName")),
            raw=dict(d),
        )


def _int_or_none(value: Any) -> int | None:
    """A count from JSON (``12``, ``12.0``, ``"12"``); None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Estimate:
    """What a run of an app is expected to cost, from ``POST /v1/apps/{id}/estimate``.

    Credits: ``expected`` (with ``minimum``/``maximum``), the workspace's ``balance`` and
    whether it can afford the run (``affordable``: the service counts credits that runs in
    flight will still spend). ``breakdown`` holds the per-step entries as sent
    (``{"nodeId", "nodeType", "credits"}``).
    """

    app_id: str
    name: str
    expected: int | None
    minimum: int | None = None
    maximum: int | None = None
    balance: int | None = None
    affordable: bool | None = None
    breakdown: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def times(self, runs: int) -> int | None:
        """Expected credits of ``runs`` such runs (a sweep's cost); None when unknown."""
        return None if self.expected is None else self.expected * runs

    @classmethod
    def from_json(cls, payload: Any) -> Estimate:
        d = _require_mapping(payload, "an estimate")
        credits = d.get("estimatedCredits")
        credits = credits if isinstance(credits, Mapping) else {}
        breakdown = d.get("breakdown")
        affordable = d.get("affordable")
        return cls(
            app_id=str(d.get("appId") or ""),
            name=str(d.get("name") or ""),
            expected=_int_or_none(credits.get("expected")),
            minimum=_int_or_none(credits.get("min", credits.get("minimum"))),
            maximum=_int_or_none(credits.get("max", credits.get("maximum"))),
            balance=_int_or_none(d.get("currentBalance")),
            affordable=None if affordable is None else _flag(affordable, False),
            breakdown=tuple(b for b in breakdown if isinstance(b, Mapping))
            if isinstance(breakdown, list)
            else (),
            raw=dict(d),
        )


@dataclass(frozen=True)
class RunSummary:
    """One row of ``GET /v1/runs``: a run as the service lists it (no outputs).

    ``source`` says where it was started (``api``, ``web``, ...); :meth:`to_execution` gives
    the Execution-shaped view the rest of the package uses.
    """

    run_id: str
    status: str
    workflow_id: str | None = None
    source: str | None = None
    error_message: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def execution_id(self) -> str:
        """The same id under the package's usual name."""
        return self.run_id

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_execution(self) -> Execution:
        """This row as an :class:`Execution` without outputs (fetch the run for those)."""
        return Execution.from_json({**self.raw, "runId": self.run_id, "status": self.status})

    @classmethod
    def from_json(cls, payload: Any) -> RunSummary:
        d = _require_mapping(payload, "a run")
        run_id = d.get("runId") or d.get("executionId") or d.get("id")
        if not run_id:
            raise InvalidResponseError("run without a runId", snippet=str(dict(d))[:200])
        status = str(d.get("status") or "queued").strip().lower()
        return cls(
            run_id=str(run_id),
            status=_STATUS_ALIASES.get(status, status),
            workflow_id=_str_or_none(d.get("workflowId")),
            source=_str_or_none(d.get("source")),
            error_message=_str_or_none(d.get("errorMessage")),
            created_at=parse_timestamp(d.get("createdAt")),
            started_at=parse_timestamp(d.get("startedAt")),
            completed_at=parse_timestamp(d.get("completedAt")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class RunPage:
    """One page of ``GET /v1/runs`` (newest first): ``runs`` and the ``pagination`` numbers."""

    runs: tuple[RunSummary, ...]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        """True when runs after this page match too (ask again with ``offset + limit``)."""
        return self.offset + len(self.runs) < self.total

    @classmethod
    def from_json(cls, payload: Any) -> RunPage:
        """From the whole answer ``{"data": [...], "pagination": {...}}``."""
        d = _require_mapping(payload, "a list of runs")
        rows = d.get("data")
        if not isinstance(rows, list):
            raise InvalidResponseError(
                'the list of runs has no "data" list', snippet=str(dict(d))[:200]
            )
        runs = tuple(RunSummary.from_json(r) for r in rows)
        page = d.get("pagination")
        page = page if isinstance(page, Mapping) else {}
        total = _int_or_none(page.get("total"))
        return cls(
            runs=runs,
            total=len(runs) if total is None else total,
            limit=_int_or_none(page.get("limit")) or len(runs),
            offset=_int_or_none(page.get("offset")) or 0,
        )


@dataclass(frozen=True)
class Account:
    """Who an API key belongs to, from ``GET /v1/account`` (the key itself is never in it)."""

    user_id: str | None
    email: str | None
    workspace_id: str | None
    workspace_name: str | None
    workspace_slug: str | None
    role: str | None
    memberships: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def workspace(self) -> str:
        """``"Name (slug), role"`` for a status line; parts the service left out are skipped."""
        name = self.workspace_name or self.workspace_slug or self.workspace_id or "unknown"
        slug = f" ({self.workspace_slug})" if self.workspace_slug and self.workspace_name else ""
        role = f", {self.role}" if self.role else ""
        return f"{name}{slug}{role}"

    @classmethod
    def from_json(cls, payload: Any) -> Account:
        d = _require_mapping(payload, "an account")
        user = d.get("user")
        user = user if isinstance(user, Mapping) else {}
        ws = d.get("workspace")
        ws = ws if isinstance(ws, Mapping) else {}
        members = d.get("memberships")
        return cls(
            user_id=_str_or_none(user.get("id")),
            email=_str_or_none(user.get("email")),
            workspace_id=_str_or_none(ws.get("id")),
            workspace_name=_str_or_none(ws.get("name")),
            workspace_slug=_str_or_none(ws.get("slug")),
            role=_str_or_none(ws.get("role")),
            memberships=tuple(m for m in members if isinstance(m, Mapping))
            if isinstance(members, list)
            else (),
            raw=dict(d),
        )
