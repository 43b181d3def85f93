"""The awkward catalogue apps, resolved as the service resolves inputs, in both editions.

Each case sends what the service accepts (and the run completes) or what it rejects (400 with
the line that names the fix): key, then id, then name; must-supply exactly when there is no
default; exact option labels (trailing spaces included); ``multiple`` takes a JSON array.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sandbox_v1_support import client, finish

from lamina_notebook.sandbox import Sandbox

EDITIONS = ["api", "v1"]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0) as s:
        yield s


def post(sb: Sandbox, edition: str, app: str, inputs: Any) -> httpx.Response:
    path = f"/apps/{sb.app_id(app)}/" + ("runs" if edition == "v1" else "executions")
    with client(sb, edition) as c:
        return c.post(path, json={"inputs": inputs})


def accepted(sb: Sandbox, edition: str, app: str, inputs: Any) -> dict[str, Any]:
    r = post(sb, edition, app, inputs)
    assert r.status_code == 202, r.text
    run_id = r.json()["data"]["runId" if edition == "v1" else "executionId"]
    with client(sb, edition) as c:
        done = finish(c, edition, run_id)
    assert done["status"] == "completed", done
    return done


def rejected(sb: Sandbox, edition: str, app: str, inputs: Any) -> list[str]:
    r = post(sb, edition, app, inputs)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "VALIDATION_ERROR"
    details: list[str] = r.json()["details"]
    return details


def param_id(sb: Sandbox, app: str, name: str) -> str:
    with client(sb, "v1") as c:
        params = c.get(f"/apps/{sb.app_id(app)}").json()["data"]["parameters"]
    return str(next(p["id"] for p in params if p["name"] == name))


def photo(sb: Sandbox) -> str:
    return f"{sb.base_url}/samples/portrait.png"


def test_the_catalogue_shows_every_quirk(sb: Sandbox) -> None:
    with client(sb, "v1") as c:
        shoot = c.get(f"/apps/{sb.app_id('Model Photoshoot')}").json()["data"]
        board = c.get(f"/apps/{sb.app_id('Mood Board')}").json()["data"]
        selfie = c.get(f"/apps/{sb.app_id('Selfie With Celebrity')}").json()["data"]
    by_name = {p["name"]: p for p in shoot["parameters"] + board["parameters"]}
    assert "Model  Ethnicity" in by_name  # double space
    assert "Standard " in by_name["Quality"]["options"]  # trailing space
    assert by_name["Background"]["required"] is False and by_name["Background"]["default"] is None
    assert by_name["Title"]["default"] == ""
    assert by_name["Reference Images"]["multiple"] is True
    assert "id" not in by_name["Layout"] and "key" not in by_name["Layout"]
    assert {p["key"] for p in selfie["parameters"]} == {"your_photo_image_url", "celebrity_text"}


@pytest.mark.parametrize("edition", EDITIONS)
def test_key_then_id_then_name(sb: Sandbox, edition: str) -> None:
    app = "Selfie With Celebrity"
    by_key = {"your_photo_image_url": photo(sb), "celebrity_text": "Tom Holland"}
    by_id = {param_id(sb, app, "Your Photo"): photo(sb), param_id(sb, app, "Celebrity"): "Zendaya"}
    by_name = {"Your Photo": photo(sb), "Celebrity": "Zendaya"}
    outputs = [accepted(sb, edition, app, inputs)["outputs"] for inputs in (by_key, by_id, by_name)]
    assert all(o[0]["status"] == "completed" and o[0]["type"] == "image" for o in outputs)
    via_id, via_name = (httpx.get(o[0]["value"], trust_env=False, timeout=60) for o in outputs[1:])
    assert via_id.headers["content-type"] == "image/png"
    assert via_id.content == via_name.content  # the same inputs, however they were addressed


@pytest.mark.parametrize("edition", EDITIONS)
def test_key_and_name_mistakes_are_named(sb: Sandbox, edition: str) -> None:
    app = "Selfie With Celebrity"
    wrong_case = rejected(
        sb, edition, app, {"Your_Photo_Image_Url": photo(sb), "celebrity_text": "x"}
    )
    twice = rejected(
        sb,
        edition,
        app,
        {"Your Photo": photo(sb), "your_photo_image_url": photo(sb), "Celebrity": "x"},
    )
    number = rejected(sb, edition, app, {"Your Photo": photo(sb), "Celebrity": 42})
    assert any(
        'keys are case-sensitive: did you mean "your_photo_image_url"' in d for d in wrong_case
    )
    assert any('"Your Photo": missing; this parameter has no default' in d for d in wrong_case)
    assert twice == [
        '"your_photo_image_url": names the same parameter as "Your Photo" ("Your Photo"); '
        "send it once"
    ]
    assert number == ['"Celebrity": must be a string, got int 42']


@pytest.mark.parametrize("edition", EDITIONS)
def test_photoshoot_labels_spaces_and_required_false(sb: Sandbox, edition: str) -> None:
    app = "Model Photoshoot"
    good = {
        "Garment": photo(sb),
        "Model  Ethnicity": "South Asian",
        "Quality": "Standard ",
        "Background": "white studio",
    }
    done = accepted(sb, edition, app, good)
    assert [o["label"] for o in done["outputs"]] == ["Front View", "Back View", "Side View"]
    accepted(sb, edition, app, {"garment_image_url": photo(sb), "background_text": "a beach"})
    bad = rejected(
        sb,
        edition,
        app,
        {"Garment": [photo(sb)], "Model Ethnicity": "Any", "Quality": "Standard"},
    )
    assert bad == [
        '"Model Ethnicity": unknown parameter (names must match exactly, spaces included: '
        'did you mean "Model  Ethnicity"?). Known parameters: Garment, Model  Ethnicity, '
        "Quality, Background",
        '"Garment": takes one value, got a list of 1 (only "multiple" parameters take a list)',
        '"Quality": invalid option "Standard" (did you mean "Standard "? labels must match '
        'exactly, spaces and case included). Must be one of: "Standard ", "High"',
        '"Background": missing; this parameter has no default',  # required: false, no default
    ]


@pytest.mark.parametrize("edition", EDITIONS)
def test_mood_board_takes_a_list_and_defaults_title_to_empty(sb: Sandbox, edition: str) -> None:
    app = "Mood Board"
    urls = [f"{sb.base_url}/samples/{n}.png" for n in ("portrait", "product", "landscape")]
    fetched = sb.stats.url_fetches
    grid = accepted(sb, edition, app, {"reference_images_image_url": urls})
    assert sb.stats.url_fetches == fetched + 3  # every picture of the list was fetched
    strip = accepted(
        sb, edition, app, {"Reference Images": urls[:2], "Title": "Autumn", "Layout": "Strip"}
    )
    lone = accepted(sb, edition, app, {"Reference Images": urls[0], "Title": ""})
    assert grid["outputs"][0]["dimensions"] == {"width": 1024, "height": 1024}
    assert strip["outputs"][0]["dimensions"] == {"width": 1536, "height": 512}
    picture = httpx.get(strip["outputs"][0]["value"], trust_env=False, timeout=60).content
    assert Image.open(io.BytesIO(picture)).size == (1536, 512)
    assert lone["status"] == "completed"


@pytest.mark.parametrize("edition", EDITIONS)
def test_mood_board_list_problems(sb: Sandbox, edition: str) -> None:
    app = "Mood Board"
    url = f"{sb.base_url}/samples/product.png"
    assert rejected(sb, edition, app, {}) == [
        '"Reference Images": missing; this parameter has no default'
    ]
    assert rejected(sb, edition, app, {"Reference Images": []}) == [
        '"Reference Images": needs at least one value; this parameter has no default'
    ]
    assert rejected(sb, edition, app, {"Reference Images": [url] * 10}) == [
        '"Reference Images": takes at most 9 values, got 10'
    ]
    assert rejected(sb, edition, app, {"Reference Images": [url, "ftp://x/y.png", 7]}) == [
        '"Reference Images[1]": must be an http(s) URL, got "ftp://x/y.png"',
        '"Reference Images[2]": must be a string, got int 7',
    ]
    layout = rejected(sb, edition, app, {"Reference Images": [url], "Layout": "grid"})
    assert layout == [
        '"Layout": invalid option "grid" (did you mean "Grid"? labels must match exactly, '
        "spaces and case included). Must be one of: Grid, Strip"
    ]


@pytest.mark.parametrize("edition", EDITIONS)
def test_nested_details_knob(sb: Sandbox, edition: str) -> None:
    sb.configure(validation_details="nested")
    try:
        r = post(
            sb,
            edition,
            "Model Photoshoot",
            {"Garment": "file:///etc/passwd", "Quality": "Ultra", "Extra": 1},
        )
    finally:
        sb.configure(validation_details="list")
    body = r.json()
    assert r.status_code == 400 and body["code"] == "VALIDATION_ERROR"
    nested = body["details"]
    assert nested["code"] == "VALIDATION_ERROR" and nested["message"] == body["error"]
    errors = {e["field"]: e for e in nested["details"]["errors"]}
    assert set(errors) == {"Extra", "garment_image_url", "quality_text", "background_text"}
    assert errors["Extra"]["error"] == "unknown_parameter"
    assert errors["garment_image_url"]["error"] == "invalid_media"
    assert errors["garment_image_url"]["got"] == "file:///etc/passwd"
    quality = errors["quality_text"]
    assert quality["error"] == "invalid_option" and quality["got"] == "Ultra"
    assert quality["allowed"] == ["Standard ", "High"]
    assert quality["message"].startswith('"Quality": invalid option "Ultra"')
    assert errors["background_text"]["error"] == "missing_no_default"
    for e in errors.values():
        assert set(e) == {"field", "error", "message", "allowed", "got"}
    assert post(sb, edition, "Mood Board", {}).json()["details"] == [
        '"Reference Images": missing; this parameter has no default'
    ]  # back to the list form
