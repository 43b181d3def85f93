"""Typed, frozen views of the service's JSON: App, Parameter, Execution, Output.

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
    "App",
    "Execution",
    "Media",
    "Output",
    "Parameter",
    "Progress",
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
