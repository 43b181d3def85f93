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


@pytest.mark.parametrize("value", [3, 1.5, True, {"a": 1}])
def test_non_string_values_are_rejected(value: Any) -> None:
    (detail,) = problems({**GOOD, "Caption": value})
    assert '"Caption": must be a string' in detail
    assert type(value).__name__ in detail


def test_a_list_for_a_single_value_parameter_says_it_takes_one() -> None:
    (detail,) = problems({**GOOD, "Caption": ["a", "b"]})
    assert detail == '"Caption": takes one value, got a list of 2; pass one string'


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


# -- inputs resolved as the service resolves them (lamina-api-v1.md) -----------------------------

AWKWARD = App.from_json(
    {
        "appId": "8d3c3a36-0000-4000-8000-000000000002",
        "name": "Mood Board",
        "parameters": [
            {
                "id": "q1",
                "key": "your_photo_image_url",
                "name": "Your Photo",
                "type": "url",
                "required": True,
                "default": None,
            },
            {"id": "q2", "name": "References", "type": "url", "multiple": True, "default": None},
            {"name": "Notes", "type": "text", "required": True, "default": ""},
            {"id": "q4", "name": "Caption", "type": "text", "required": False},
            {"id": "q5", "name": "Model  Ethnicity", "type": "text", "default": "any"},
            {
                "id": "q6",
                "name": "Quality",
                "type": "options",
                "options": ["Standard ", "High"],
                "default": "High",
            },
            {
                "id": "q7",
                "name": "Tags",
                "type": "options",
                "options": ["a", "b"],
                "multiple": True,
                "default": [],
            },
        ],
    }
)
PHOTO = "https://example.com/me.jpg"
REFS = ["https://example.com/1.jpg", "https://example.com/2.jpg"]
MINIMAL = {"Your Photo": PHOTO, "References": REFS, "Caption": "hi"}


def awkward_problems(inputs: Any) -> dict[str | None, str]:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(AWKWARD, inputs)
    return info.value.by_param()


def test_a_default_of_empty_string_means_the_input_may_be_left_out() -> None:
    sent = validate_inputs(AWKWARD, MINIMAL)
    assert "Notes" not in sent  # the service fills in ""
    assert validate_inputs(AWKWARD, {**MINIMAL, "Notes": ""}) == sent  # "" = not given


def test_required_false_without_default_must_still_be_given() -> None:
    found = awkward_problems({"Your Photo": PHOTO, "References": REFS})
    assert found == {"Caption": "missing; it has no default, give a text value"}


def test_a_parameter_is_found_by_key_then_id_then_name_and_sent_under_its_name() -> None:
    rest = {k: v for k, v in MINIMAL.items() if k != "Your Photo"}
    for alias in ("your_photo_image_url", "q1", "Your Photo"):
        sent = validate_inputs(AWKWARD, {**rest, alias: PHOTO})
        assert dict(sent) == {**rest, "Your Photo": PHOTO}, alias
    assert AWKWARD.parameter("your_photo_image_url") is AWKWARD.parameter("Your Photo")
    assert AWKWARD.parameter("your photo") is None  # exact and case-sensitive


def test_the_same_parameter_given_twice_is_refused() -> None:
    found = awkward_problems({**MINIMAL, "your_photo_image_url": PHOTO})
    assert "given twice" in found["Your Photo"] and "your_photo_image_url" in found["Your Photo"]


def test_multiple_takes_a_list_and_one_string_becomes_a_list_of_one() -> None:
    assert validate_inputs(AWKWARD, MINIMAL)["References"] == REFS
    one = validate_inputs(AWKWARD, {**MINIMAL, "References": REFS[0]})
    assert one["References"] == [REFS[0]]
    found = awkward_problems({**MINIMAL, "References": [REFS[0], "ftp://x/y.jpg", 3]})
    assert found["References"].startswith('item 2: "ftp://x/y.jpg" is not an http(s) URL')
    assert awkward_problems({**MINIMAL, "References": []})["References"].startswith("is an empty")


def test_an_empty_list_for_a_multiple_parameter_with_a_default_is_not_given() -> None:
    assert "Tags" not in validate_inputs(AWKWARD, {**MINIMAL, "Tags": []})
    assert validate_inputs(AWKWARD, {**MINIMAL, "Tags": ["a", "b"]})["Tags"] == ["a", "b"]
    assert "item 1" in awkward_problems({**MINIMAL, "Tags": ["c"]})["Tags"]


def test_option_labels_must_match_exactly_even_their_trailing_space() -> None:
    assert validate_inputs(AWKWARD, {**MINIMAL, "Quality": "Standard "})["Quality"] == "Standard "
    message = awkward_problems({**MINIMAL, "Quality": "Standard"})["Quality"]
    assert 'did you mean "Standard ", with its space at the end?' in message
    assert 'Must be one of: "Standard ", High' in message


def test_a_name_with_a_double_space_must_be_typed_with_both() -> None:
    sent = validate_inputs(AWKWARD, {**MINIMAL, "Model  Ethnicity": "x"})
    assert sent["Model  Ethnicity"] == "x"
    message = awkward_problems({**MINIMAL, "Model Ethnicity": "x"})["Model Ethnicity"]
    assert 'did you mean "Model  Ethnicity", spaced exactly like that?' in message


def test_a_parameter_without_id_is_found_by_name() -> None:
    assert validate_inputs(AWKWARD, {**MINIMAL, "Notes": "n"})["Notes"] == "n"


def test_valid_inputs_are_read_only_and_remember_their_app() -> None:
    sent = validate_inputs(AWKWARD, MINIMAL)
    assert sent.app_id == AWKWARD.app_id
    sent["References"].append("x")  # a copy: what was validated cannot change
    assert sent["References"] == REFS
    with pytest.raises(TypeError):
        sent["Caption"] = "changed"  # type: ignore[index]
