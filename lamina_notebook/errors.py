"""The exception tree, and the only place that maps an HTTP error answer to an exception.

::

    LaminaError                       every error this package raises on purpose
    ├── ConfigurationError            no API key, bad base URL, bad settings
    ├── APIError                      the service answered with an HTTP error
    │   ├── ValidationError           400: invalid inputs or webhook URL (``details``)
    │   │   └── InputValidationError  caught before sending (no request was made)
    │   ├── AuthenticationError       401: missing or invalid API key
    │   ├── PermissionDeniedError     403: the key's workspace has no access to the app
    │   ├── NotFoundError             404: unknown app or execution
    │   │   ├── AppNotFoundError      a name matched no app, or several (``candidates``)
    │   │   └── UnconfirmedRunError   a local journal id of a start whose answer was lost
    │   ├── RateLimitError            429 (``retry_after``)
    │   └── ServerError               5xx
    ├── TransportError                the request did not get a complete answer
    ├── InvalidResponseError          the answer was not the JSON the contract promises
    ├── ExecutionFailed               the run ended ``failed`` or ``cancelled`` (``execution``)
    │   └── RunFailed                 ... raised by ``%lamina run`` so the cell fails
    ├── WaitTimeout                   gave up waiting; the run goes on (``execution_id``)
    └── WebhookVerificationError      a delivery failed signature/timestamp/id checks

Messages never contain the API key: no error is built from request headers. An error after
which a run MAY exist carries ``journal_id``, the local id its attempt was journaled under.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .models import Execution

__all__ = [
    "APIError",
    "AppNotFoundError",
    "AuthenticationError",
    "ConfigurationError",
    "ExecutionFailed",
    "InputValidationError",
    "InvalidResponseError",
    "LaminaError",
    "NotFoundError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "RunFailed",
    "ServerError",
    "TransportError",
    "UnconfirmedRunError",
    "ValidationError",
    "WaitTimeout",
    "WebhookVerificationError",
    "detail_lines",
    "error_from_response",
    "resume_hint",
    "stopped_watching",
]


def resume_hint(execution_id: str | None = None) -> str:
    """The one sentence that says a run goes on at the service and how to pick it up again."""
    return (
        "The run goes on at the service; reattach with "
        f"%lamina resume {execution_id or 'EXECUTION_ID'}."
    )


def stopped_watching(execution_id: str) -> str:
    """What a front end says after it stopped watching a run (Ctrl-C, Stop, a timeout)."""
    return f"Stopped watching execution {execution_id}. {resume_hint(execution_id)}"


class LaminaError(Exception):
    """Base class of every error raised on purpose by lamina-notebook.

    ``hint`` is the one sentence that tells the user how to fix it; front ends show it
    under the message.
    """

    #: Set on a run-start error whose run MAY exist: the local id of its journal row
    #: (``unconfirmed-...``), so it shows in ``%lamina history``.
    journal_id: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(LaminaError):
    """Settings are missing or wrong (no API key, malformed base URL, bad option)."""


class APIError(LaminaError):
    """The service answered with an HTTP error status.

    Carries the contract's error envelope fields: ``status_code``, ``code``, ``details``,
    ``request_id``, ``retryable`` and the raw ``body`` (parsed JSON or None).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        details: Sequence[str] = (),
        request_id: str | None = None,
        retryable: bool | None = None,
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.error = message
        self.status_code = status_code
        self.code = code
        self.details = tuple(str(d) for d in details)
        self.request_id = request_id
        self.retryable = retryable
        self.body = body
        super().__init__(self._compose(message), hint=hint)

    def _compose(self, message: str) -> str:
        head = f"{message} (HTTP {self.status_code})" if self.status_code else message
        lines = [head]
        lines.extend(f"  - {d}" for d in self.details)
        if self.request_id:
            lines.append(f"  request id: {self.request_id}")
        return "\n".join(lines)


class ValidationError(APIError):
    """400: the inputs or the webhook URL were rejected; ``details`` names every problem."""


@dataclass(frozen=True)
class Problem:
    """One problem with the inputs: the parameter it concerns (None: the inputs as a whole,
    e.g. their size) and what is wrong, without the name. ``text`` is how it is shown."""

    param: str | None
    message: str

    @property
    def text(self) -> str:
        """The problem as one line: ``"Style": invalid option ...`` (names quoted as JSON)."""
        if self.param is None:
            return self.message
        return f"{json.dumps(self.param, ensure_ascii=False)}: {self.message}"


class InputValidationError(ValidationError):
    """Inputs that the client rejected before sending anything (no request was made).

    ``problems`` holds each problem with the parameter it concerns; ``details`` their texts.
    """

    def __init__(
        self, message: str, problems: Sequence[Problem | str], *, hint: str | None = None
    ) -> None:
        self.problems = tuple(p if isinstance(p, Problem) else Problem(None, p) for p in problems)
        super().__init__(message, details=[p.text for p in self.problems], hint=hint)

    def by_param(self) -> dict[str | None, str]:
        """The first problem of each parameter (key None: problems of the inputs as a whole)."""
        found: dict[str | None, str] = {}
        for problem in self.problems:
            found.setdefault(problem.param, problem.message)
        return found


class AuthenticationError(APIError):
    """401: the API key is missing, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key's workspace may not run this app."""


class NotFoundError(APIError):
    """404: no app or execution with that id."""


class AppNotFoundError(NotFoundError):
    """An app name or id matched no app, or matched several; ``candidates`` lists the names."""

    def __init__(self, message: str, candidates: Sequence[str] = (), *, hint: str | None = None):
        self.candidates = tuple(candidates)
        super().__init__(message, details=[f"candidate: {c}" for c in self.candidates], hint=hint)


class UnconfirmedRunError(NotFoundError):
    """A local ``unconfirmed-...`` id: the start's answer was lost, so the service's id for
    the run (if it exists) is unknown and cannot be looked up; raised without a request."""

    def __init__(self, message: str, *, execution_id: str, hint: str | None = None) -> None:
        self.execution_id = execution_id
        super().__init__(message, hint=hint)


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds (if given)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class ServerError(APIError):
    """5xx: the service failed; reads are retried, run creation is not."""


class TransportError(LaminaError):
    """No complete answer: connection refused or dropped, timeout, protocol error.

    ``sent`` tells whether the request may have reached the server (then a POST must not be
    repeated blindly).
    """

    def __init__(self, message: str, *, sent: bool = True, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.sent = sent


class InvalidResponseError(LaminaError):
    """The service answered 2xx with something that is not the JSON the contract promises."""

    def __init__(self, message: str, *, status_code: int | None = None, snippet: str = "") -> None:
        self.status_code = status_code
        self.snippet = snippet
        text = message if not snippet else f"{message}: {snippet!r}"
        super().__init__(
            text,
            hint="The service (or a proxy in front of it) sent a malformed "
            "answer; retry later, or check LAMINA_BASE_URL points at the Lamina API.",
        )


class ExecutionFailed(LaminaError):
    """The run ended ``failed`` or ``cancelled``; ``execution`` holds its final state."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        reason = _failure_reason(execution)
        super().__init__(f"Execution {execution.execution_id} {execution.status}: {reason}")


class RunFailed(ExecutionFailed):
    """``%lamina run``'s run ended ``failed`` or ``cancelled``: raised after its card is shown,
    so the cell fails and Run All stops there, as ``replicate.run``'s ``ModelError`` does.

    The message names the app, the short id and the service's reason; ``headline`` is the
    same without the reason, for a display right under the run's card (which shows the reason
    already). ``hint`` says how to carry on past failures instead (the magic's
    ``--no-raise``).
    """

    def __init__(self, execution: Execution, *, hint: str | None = None) -> None:
        super().__init__(execution)
        what = execution.app_name or execution.app_id or "The"
        verb = "was cancelled" if execution.status == "cancelled" else execution.status
        self.headline = f"{what} run {execution.execution_id[:8]} {verb}"
        self.message = f"{self.headline}: {_failure_reason(execution)}"
        self.hint = hint
        self.args = (self.message,)


def _failure_reason(execution: Execution) -> str:
    """The service's message, else the first output errors, else "no reason given"."""
    return (
        execution.error_message
        or "; ".join(f"{o.label}: {o.error}" for o in execution.outputs if o.error)
        or "no reason given"
    )


class WaitTimeout(LaminaError):
    """Stopped waiting after ``timeout`` seconds; the run continues and can be resumed."""

    def __init__(self, execution_id: str, timeout: float, last: Execution | None = None) -> None:
        self.execution_id = execution_id
        self.timeout = timeout
        self.last = last
        super().__init__(
            f"Gave up waiting for execution {execution_id} after {timeout:g} s "
            f"(last status: {last.status if last else 'unknown'}).",
            hint=resume_hint(execution_id),
        )


class WebhookVerificationError(LaminaError):
    """A webhook delivery failed verification (signature, timestamp window or request id)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: ValidationError,
    429: RateLimitError,
}

_HINTS: dict[type[APIError], str] = {
    AuthenticationError: "Check the key: %lamina login, or set LAMINA_API_KEY "
    "(keys start with lma_); %lamina sandbox runs offline without one.",
    PermissionDeniedError: "This app belongs to another workspace; use an app from "
    "%lamina apps, or a key of the workspace that owns it.",
    NotFoundError: "Check the id: %lamina apps lists apps, %lamina history lists executions.",
    RateLimitError: "The service allows 100 requests per minute; wait and retry "
    "(the client's rate budget normally prevents this).",
    ServerError: "The service had a problem; reads are retried automatically. "
    "Try again in a minute.",
    ValidationError: "Fix the inputs listed above; %lamina info APP shows the parameters.",
}

# Statuses with no exception class of their own, whose generic APIError still needs the fix.
_STATUS_HINTS: dict[int, str] = {
    413: "The request is larger than the service accepts: shorten long text inputs, or pass "
    "images and videos as http(s) URLs instead of inline data.",
}


def _parse_retry_after(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(seconds):  # "inf" would pause every request of the client forever
        return None
    return max(0.0, seconds)


def detail_lines(details: Any) -> list[str]:
    """The ``details`` of an error answer as readable lines.

    The service sends a list of strings, or (as Lamina's CLI documents) an object
    ``{"code", "message", "details": {"errors": [{"field", "error", "message", "allowed",
    "got"}]}}``; each field error becomes ``field: message`` (with the allowed values when
    the message does not name them). Anything else is shown as compact JSON, never lost.
    """
    if details is None or details == [] or details == {}:
        return []
    if isinstance(details, str):
        return [details]
    if isinstance(details, list):
        return [line for item in details for line in detail_lines(item)]
    if not isinstance(details, Mapping):
        return [json.dumps(details, ensure_ascii=False)]
    inner = details.get("details")
    errors = inner.get("errors") if isinstance(inner, Mapping) else details.get("errors")
    if isinstance(errors, list) and errors:
        return [_field_error(e) for e in errors]
    if "field" in details and ("message" in details or "error" in details):
        return [_field_error(details)]
    message = details.get("message")
    if isinstance(message, str) and message:
        return [message]
    return [json.dumps(details, ensure_ascii=False)]


def _field_error(error: Any) -> str:
    """``field: message (allowed: a, b)`` for one entry of ``details.errors``."""
    if not isinstance(error, Mapping):
        return error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    field = error.get("field") or error.get("param") or error.get("path")
    message = error.get("message") or error.get("error") or "invalid"
    line = f"{field}: {message}" if field else str(message)
    allowed = error.get("allowed")
    if isinstance(allowed, list) and allowed:
        shown = ", ".join(str(a) for a in allowed)
        if shown not in line:
            line += f" (allowed: {shown})"
    got = error.get("got")
    if got is not None and "got" not in line:
        line += f"; got {json.dumps(got, ensure_ascii=False)[:80]}"
    return line


def error_from_response(
    status_code: int, body: bytes | str, headers: Mapping[str, str] | None = None
) -> APIError:
    """Build the exception for an HTTP error answer (the one status → exception mapping).

    ``body`` is the raw response body; the contract's envelope is read when it is JSON,
    otherwise a short snippet of the text becomes the message.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    parsed: Any = None
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    envelope = parsed if isinstance(parsed, dict) else {}
    message = envelope.get("error") or envelope.get("message")
    if isinstance(message, dict):  # some gateways nest {"error": {"message": ...}}
        message = message.get("message")
    if not isinstance(message, str) or not message:
        snippet = " ".join(text.split())[:200] if text else ""
        message = f"HTTP {status_code} from the Lamina API" + (f": {snippet}" if snippet else "")
    details = detail_lines(envelope.get("details"))
    cls = _BY_STATUS.get(status_code, ServerError if status_code >= 500 else APIError)
    kw: dict[str, Any] = {
        "status_code": status_code,
        "code": envelope.get("code"),
        "details": details,
        "request_id": envelope.get("requestId") or headers.get("x-request-id"),
        "retryable": envelope.get("retryable"),
        "body": parsed,
        "hint": _HINTS.get(cls) or _STATUS_HINTS.get(status_code),
    }
    if cls is RateLimitError:
        retry_after = _parse_retry_after(headers.get("retry-after"))
        if retry_after is None:
            retry_after = _parse_retry_after(envelope.get("retryAfter"))
        return RateLimitError(message, retry_after=retry_after, **kw)
    return cls(message, **kw)
