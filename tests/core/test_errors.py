"""The exception tree and the one HTTP status -> exception mapping (error_from_response)."""

from __future__ import annotations

import json

import pytest

from lamina_notebook.errors import (
    APIError,
    AppNotFoundError,
    AuthenticationError,
    ExecutionFailed,
    InvalidResponseError,
    LaminaError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    WaitTimeout,
    error_from_response,
)
from lamina_notebook.models import Execution


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "status,cls",
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, ValidationError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, APIError),
    ],
)
def test_status_maps_to_class(status: int, cls: type[APIError]) -> None:
    err = error_from_response(status, body(error="nope"))
    assert type(err) is cls and err.status_code == status
    assert isinstance(err, LaminaError)


def test_message_includes_error_details_and_request_id() -> None:
    err = error_from_response(
        400,
        body(
            error="Invalid inputs",
            code="VALIDATION_ERROR",
            retryable=False,
            requestId="req_42",
            details=['"Location": invalid option "Mars". Must be one of: Studio, Urban, Park'],
        ),
    )
    text = str(err)
    assert "Invalid inputs (HTTP 400)" in text
    assert '"Location": invalid option "Mars"' in text
    assert "request id: req_42" in text
    assert (err.code, err.retryable, err.request_id) == ("VALIDATION_ERROR", False, "req_42")
    assert "%lamina info" in text  # the hint names the fix


def test_every_api_error_kind_has_a_hint() -> None:
    for status in (400, 401, 403, 404, 429, 500):
        assert error_from_response(status, body(error="x")).hint


def test_retry_after_header_wins_over_the_body() -> None:
    err = error_from_response(429, body(error="slow down", retryAfter=9), {"Retry-After": "3"})
    assert isinstance(err, RateLimitError) and err.retry_after == 3.0
    from_body = error_from_response(429, body(error="slow down", retryAfter=9))
    assert isinstance(from_body, RateLimitError) and from_body.retry_after == 9.0
    bad = error_from_response(429, b"", {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})
    assert isinstance(bad, RateLimitError) and bad.retry_after is None


def test_non_json_bodies_become_a_short_message() -> None:
    err = error_from_response(502, b"<html><body>Bad   Gateway</body></html>" + b"x" * 500)
    assert isinstance(err, ServerError)
    assert err.error.startswith("HTTP 502 from the Lamina API: <html><body>Bad Gateway")
    assert len(err.error) < 260
    assert error_from_response(500, b"").error == "HTTP 500 from the Lamina API"


def test_gateway_shapes_are_read() -> None:
    nested = error_from_response(500, body(error={"message": "upstream died"}))
    assert nested.error == "upstream died"
    odd = error_from_response(400, body(message="bad", details={"field": "Style"}))
    assert odd.error == "bad" and odd.details == ('{"field": "Style"}',)
    headers = error_from_response(404, body(error="gone"), {"X-Request-Id": "req_h"})
    assert headers.request_id == "req_h"


def test_repr_is_short_and_typed() -> None:
    err = error_from_response(404, body(error="Execution not found"))
    assert repr(err) == "NotFoundError('Execution not found (HTTP 404)')"


def test_app_not_found_lists_candidates() -> None:
    err = AppNotFoundError(
        "No app is called 'Photo'.",
        ["Photo Stylizer", "Photo Booth"],
        hint="%lamina apps lists them",
    )
    assert err.candidates == ("Photo Stylizer", "Photo Booth")
    assert "candidate: Photo Stylizer" in str(err) and isinstance(err, NotFoundError)


def test_transport_error_says_whether_it_was_sent() -> None:
    assert TransportError("refused", sent=False).sent is False
    assert TransportError("dropped").sent is True


def test_invalid_response_shows_a_snippet_and_a_fix() -> None:
    err = InvalidResponseError("not JSON", status_code=200, snippet="<html>")
    assert "'<html>'" in str(err) and "LAMINA_BASE_URL" in str(err)


def test_execution_failed_and_wait_timeout_carry_their_subject() -> None:
    failed = Execution(execution_id="e1", status="cancelled")
    err = ExecutionFailed(failed)
    assert err.execution is failed and "e1 cancelled: no reason given" in str(err)
    timeout = WaitTimeout("e2", 2.5, Execution(execution_id="e2", status="running"))
    assert timeout.execution_id == "e2" and timeout.last is not None
    assert "after 2.5 s (last status: running)" in str(timeout)
    assert "%lamina resume e2" in str(timeout)
    assert "unknown" in str(WaitTimeout("e3", 1))


def test_a_non_finite_retry_after_is_ignored() -> None:
    # "inf" would pause every request of the client forever; fall back to backoff instead.
    for value in ("inf", "Infinity", "nan", "-inf"):
        err = error_from_response(429, b"", {"Retry-After": value})
        assert isinstance(err, RateLimitError) and err.retry_after is None, value


def test_nested_validation_details_become_field_lines() -> None:
    """The CLI-documented object form of ``details`` reads as "field: message" lines."""
    nested = {
        "code": "VALIDATION_ERROR",
        "message": "Invalid inputs",
        "details": {
            "errors": [
                {
                    "field": "Style",
                    "error": "invalid_option",
                    "message": "must be one of the options",
                    "allowed": ["Ghibli", "Watercolor"],
                    "got": "Mars",
                },
                {"field": "Upload", "error": "missing_no_default", "message": "has no default"},
            ]
        },
    }
    err = error_from_response(400, body(error="Invalid inputs", details=nested))
    assert err.details == (
        'Style: must be one of the options (allowed: Ghibli, Watercolor); got "Mars"',
        "Upload: has no default",
    )
    assert "{" not in str(err)  # no raw JSON in what the user reads
    flat = error_from_response(400, body(error="x", details={"errors": [{"field": "A"}]}))
    assert flat.details == ("A: invalid",)
    mixed = error_from_response(400, body(error="x", details=["plain", {"message": "m"}]))
    assert mixed.details == ("plain", "m")
