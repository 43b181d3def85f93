"""Input validation against an app's parameters: every problem listed in one error, none sent."""

from __future__ import annotations

from typing import Any

import pytest

from lamina_notebook.errors import InputValidationError, ValidationError
from lamina_notebook.models import App
from lamina_notebook.validation import MAX_BODY_BYTES, validate_inputs

STYLIZER = App.from_json(
    {
        "appId": "8d3c3a36-0000-4000-8000-000000000001",
        "name": "Photo Stylizer",
        "parameters": [
            {
                "id": "p1",
                "name": "Upload",
                "type": "url",
                "required": True,
                "options": None,
                "default": None,
                "accept": ["image"],
            },
            {
                "id": "p2",
                "name": "Style",
                "type": "options",
                "required": True,
                "options": ["Disney / Pixar", "Ghibli", "Watercolor"],
                "default": "Disney / Pixar",
            },
            {
                "id": "p3",
                "name": "Aspect Ratio",
                "type": "options",
                "required": True,
                "options": ["1:1", "16:9"],
                "default": "1:1",
            },
            {"id": "p4", "name": "Caption", "type": "text", "required": True, "default": None},
        ],
    }
)

GOOD = {"Upload": "https://example.com/cat.jpg", "Caption": "a cat"}


def problems(inputs: Any) -> tuple[str, ...]:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(STYLIZER, inputs)
    return info.value.details


def test_valid_inputs_pass_through_unchanged() -> None:
    inputs = {**GOOD, "Style": "Ghibli", "Aspect Ratio": "16:9"}
    assert validate_inputs(STYLIZER, inputs) == inputs


def test_defaults_may_be_omitted_and_none_or_blank_means_not_given() -> None:
    assert validate_inputs(STYLIZER, GOOD) == GOOD
    assert validate_inputs(STYLIZER, {**GOOD, "Style": None, "Aspect Ratio": ""}) == GOOD


def test_unknown_name_suggests_the_close_one() -> None:
    (detail,) = problems({**GOOD, "Stlye": "Ghibli"})
    assert '"Stlye": unknown input' in detail
    assert 'did you mean "Style"?' in detail
    assert "Upload, Style, Aspect Ratio, Caption" in detail


def test_wrong_case_name_suggests_the_exact_spelling() -> None:
    (detail,) = problems({**GOOD, "aspect ratio": "1:1"})
    assert 'did you mean "Aspect Ratio"?' in detail


def test_invalid_option_lists_the_valid_labels() -> None:
    (detail,) = problems({**GOOD, "Style": "ghibli"})
    assert detail.startswith('"Style": invalid option "ghibli"')
    assert '(did you mean "Ghibli"?)' in detail
    assert detail.endswith("Must be one of: Disney / Pixar, Ghibli, Watercolor")


def test_missing_values_without_default_are_named() -> None:
    details = problems({})
    assert len(details) == 2
    assert details[0].startswith('"Upload": missing') and "http(s) URL" in details[0]
    assert details[1].startswith('"Caption": missing')


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "/photos/cat.jpg",
        "cat.jpg",
        "ftp://example.com/a.jpg",
        "https://",
        "http:///nohost",
    ],
)
def test_url_values_must_be_http_or_https(url: str) -> None:
    (detail,) = problems({**GOOD, "Upload": url})
    assert detail.startswith('"Upload":') and "not an http(s) URL" in detail


@pytest.mark.parametrize("value", [3, 1.5, True, ["a"], {"a": 1}])
def test_non_string_values_are_rejected(value: Any) -> None:
    (detail,) = problems({**GOOD, "Caption": value})
    assert '"Caption": must be a string' in detail
    assert type(value).__name__ in detail


def test_number_gets_a_quoted_suggestion() -> None:
    (detail,) = problems({**GOOD, "Caption": 42})
    assert 'pass "42"' in detail


def test_every_problem_is_listed_in_one_error() -> None:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(
            STYLIZER, {"Upload": "javascript:x", "Style": "Mars", "Colour": "red", "Caption": 7}
        )
    err = info.value
    assert len(err.details) == 4
    assert isinstance(err, ValidationError)  # callers catching the service's 400 catch this too
    assert "4 problem(s)" in str(err) and "nothing was sent" in str(err)
    assert "%lamina info Photo Stylizer" in str(err)
    assert err.status_code is None


def test_long_values_are_cut_in_messages() -> None:
    (detail,) = problems({**GOOD, "Upload": "x" * 5000})
    assert len(detail) < 300


def test_empty_required_text_is_a_problem() -> None:
    (detail,) = problems({**GOOD, "Caption": "   "})
    assert '"Caption": is empty' in detail


def test_oversized_body_is_refused_before_sending() -> None:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(STYLIZER, {**GOOD, "Caption": "x" * (MAX_BODY_BYTES + 1)})
    assert "limit is 1,000,000" in info.value.details[0]
    assert validate_inputs(STYLIZER, {**GOOD, "Caption": "x" * 200_000})  # 200 KB is fine


def test_inputs_must_be_a_mapping() -> None:
    with pytest.raises(InputValidationError, match="must be a dict"):
        validate_inputs(STYLIZER, ["Upload"])  # type: ignore[arg-type]


def test_non_string_names_are_reported() -> None:
    (detail,) = problems({**GOOD, 3: "x"})
    assert "input names must be strings" in detail


def test_app_from_the_list_endpoint_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="get_app"):
        validate_inputs(App(app_id="a", name="A"), {})
