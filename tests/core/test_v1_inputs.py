"""The awkward cases of real catalogues, in both editions: what the client sends is what the
service accepts, and what the client refuses the service refuses too (checked by sending the
raw inputs past the client's own check). Also: a 3xx is an error naming its Location, nested
validation details read as lines, the older plain-text 429 is a 429, and a loopback webhook
receiver is not handed to a service elsewhere.

Apps (docs/architecture.md, Sandbox): Model Photoshoot (``"Model  Ethnicity"``, option
``"Standard "``, ``Background`` required:false without default), Selfie With Celebrity (keys
``your_photo_image_url``, ``celebrity_text``), Mood Board (``Reference Images`` multiple,
``Title`` default ``""``, ``Layout`` without id or key).
"""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from client_support import Recorder, edition, fast_client, is_run_post  # noqa: F401 (fixture)

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import (
    APIError,
    InputValidationError,
    RateLimitError,
    ValidationError,
)
from lamina_notebook.models import Execution
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.webhooks import WebhookReceiver

pytestmark = pytest.mark.usefixtures("edition")

IMG = "https://example.com/{}.jpg"
BOARD = [IMG.format(n) for n in ("sea", "sand", "sky")]
SHOOT = {"Garment": IMG.format("shirt"), "Background": "white studio"}
SELFIE_KEYS = {"your_photo_image_url": IMG.format("me"), "celebrity_text": "Ada Lovelace"}


@pytest.fixture(scope="module")
def own() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def sb(own: Sandbox) -> Iterator[Sandbox]:
    knobs = {"redirect_status": 0, "validation_details": "list", "rate_limit_body": "json"}
    own.configure(**knobs, force_429=0)
    yield own
    own.configure(**knobs, force_429=0)


def sent_inputs(rec: Recorder) -> list[dict[str, Any]]:
    return [json.loads(r.content)["inputs"] for r in rec.requests if is_run_post(r)]


def start(sb: Sandbox, app: str, inputs: Mapping[str, Any], *, raw: bool = False) -> Any:
    """Run ``app`` with ``inputs``: (what went out, the execution) or the error. ``raw``
    skips the client's check, to ask the service itself."""

    async def main() -> tuple[list[dict[str, Any]], Execution | Exception]:
        rec = Recorder()
        async with fast_client(sb, transport=rec, journal=None) as c:
            resolved = await c.resolve_app(app)
            if raw:
                c.validate_inputs = lambda a, i: dict(i or {})  # type: ignore[method-assign]
            try:
                outcome: Execution | Exception = await c.run(resolved, inputs)
            except (InputValidationError, ValidationError) as exc:
                outcome = exc
        return sent_inputs(rec), outcome

    return asyncio.run(main())


ACCEPTED = [
    ("Mood Board", {"Reference Images": BOARD}, {"Reference Images": BOARD}),
    ("Mood Board", {"Reference Images": BOARD[0]}, {"Reference Images": BOARD[:1]}),
    ("Mood Board", {"Reference Images": BOARD, "Title": ""}, {"Reference Images": BOARD}),
    (
        "Mood Board",
        {"reference_images_image_url": BOARD[:2], "Title": "Summer", "Layout": "Strip"},
        {"Reference Images": BOARD[:2], "Title": "Summer", "Layout": "Strip"},
    ),
    (
        "Selfie With Celebrity",
        SELFIE_KEYS,
        {"Your Photo": IMG.format("me"), "Celebrity": "Ada Lovelace"},
    ),
    (
        "Model Photoshoot",
        {**SHOOT, "Quality": "Standard ", "Model  Ethnicity": "Latina"},
        {**SHOOT, "Quality": "Standard ", "Model  Ethnicity": "Latina"},
    ),
]


@pytest.mark.parametrize(("app", "given", "wire"), ACCEPTED)
def test_what_the_client_sends_the_service_accepts(
    sb: Sandbox, app: str, given: dict[str, Any], wire: dict[str, Any]
) -> None:
    sent, outcome = start(sb, app, given)
    assert sent == [wire]  # under the parameters' names, lists for multiple, defaults left out
    assert isinstance(outcome, Execution) and outcome.status == "queued"


def test_the_awkward_apps_run_to_completion_on_fetchable_pictures(sb: Sandbox) -> None:
    """End to end: each item of a multiple url input is fetched by the service."""
    samples = [f"{sb.base_url}/samples/{n}.png" for n in ("portrait", "product", "landscape")]
    cases = {
        "Mood Board": {"Reference Images": samples, "Title": ""},
        "Selfie With Celebrity": {"your_photo_image_url": samples[0], "celebrity_text": "Ada"},
        "Model Photoshoot": {"Garment": samples[1], "Background": "beach", "Quality": "Standard "},
    }

    async def main() -> dict[str, Execution]:
        async with fast_client(sb, journal=None) as c:
            runs = {app: await c.run(app, inputs) for app, inputs in cases.items()}
            return {app: await c.wait(run) for app, run in runs.items()}

    fetches = sb.stats.url_fetches
    finals = asyncio.run(main())
    assert all(f.is_completed for f in finals.values()), finals
    assert sb.stats.url_fetches - fetches == 3 + 1 + 1  # the board's three, one each other


REFUSED = [
    ("Mood Board", {"Title": "no pictures"}, "Reference Images"),  # no default: must be given
    ("Mood Board", {"Reference Images": []}, "Reference Images"),
    ("Mood Board", {"Reference Images": [BOARD[0], "not a url"]}, "Reference Images"),
    ("Selfie With Celebrity", {"your_photo": IMG.format("me"), "Celebrity": "Ada"}, "your_photo"),
    ("Selfie With Celebrity", {"Your Photo": IMG.format("me"), "Celebrity": ""}, "Celebrity"),
    ("Model Photoshoot", {**SHOOT, "Quality": "Standard"}, "Quality"),
    ("Model Photoshoot", {**SHOOT, "Model Ethnicity": "Latina"}, "Model Ethnicity"),
    ("Model Photoshoot", {"Garment": IMG.format("shirt")}, "Background"),  # required: false
]


@pytest.mark.parametrize(("app", "given", "param"), REFUSED)
def test_what_the_client_refuses_the_service_refuses_too(
    sb: Sandbox, app: str, given: dict[str, Any], param: str
) -> None:
    sent, ours = start(sb, app, given)
    assert sent == [] and isinstance(ours, InputValidationError)
    assert any(param in d for d in ours.details), ours.details
    creations = sb.stats.run_creations
    sent, theirs = start(sb, app, given, raw=True)
    assert len(sent) == 1 and isinstance(theirs, ValidationError)
    assert theirs.status_code == 400 and any(param in d for d in theirs.details), theirs.details
    assert sb.stats.run_creations == creations


def test_the_near_miss_label_names_its_trailing_space(sb: Sandbox) -> None:
    _, error = start(sb, "Model Photoshoot", {**SHOOT, "Quality": "Standard"})
    assert 'did you mean "Standard ", with its space at the end?' in str(error)


def test_nested_validation_details_read_as_field_lines(sb: Sandbox) -> None:
    sb.configure(validation_details="nested")
    _, error = start(sb, "Model Photoshoot", {**SHOOT, "Quality": "Ultra", "Extra": 1}, raw=True)
    assert isinstance(error, ValidationError) and error.status_code == 400
    assert any(d.startswith("quality_text: ") and "Ultra" in d for d in error.details)
    assert any(d.startswith("Extra: ") for d in error.details), error.details
    assert not any(d.lstrip().startswith("{") for d in error.details)  # no raw JSON


# -- a redirect is an error that says where; nothing is started or journaled ---------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_run_is_an_error_naming_the_location(sb: Sandbox, status: int) -> None:
    sb.configure(redirect_status=status)

    async def main() -> APIError:
        async with fast_client(sb) as c:
            app = await c.resolve_app("Photo Stylizer")
            creations, requests = sb.stats.run_creations, sb.stats.requests
            with pytest.raises(APIError) as info:
                await c.run(app, {"Upload": IMG.format("cat")})
            assert sb.stats.run_creations == creations and sb.stats.requests == requests + 1
            assert info.value.journal_id is None and c.history() == []
            return info.value

    error = asyncio.run(main())
    text = str(error)
    assert error.status_code == status and f"HTTP {status}" in text
    assert "pointing to https://app.uselamina.ai/" in text and "/apps/" in text
    assert "Nothing was started" in text and "MAY" not in text
    assert "LAMINA_BASE_URL=https://app.uselamina.ai" in (error.hint or "")


# -- the older plain-text 429 --------------------------------------------------------------------


def test_a_plain_text_429_pauses_and_retries_like_any_429(sb: Sandbox) -> None:
    faults = sb.stats.faults["force_429"]
    sb.configure(rate_limit_body="text", force_429=1)

    async def main() -> None:
        async with fast_client(sb, journal=None) as c:
            assert await c.list_apps(limit=1)
            assert c.budget.pauses == 1
            app = await c.resolve_app("Photo Stylizer")
            creations, posts = sb.stats.run_creations, sb.stats.run_requests
            sb.configure(force_429=1)
            run = await c.run(app, {"Upload": IMG.format("cat")})  # a refused POST goes again
            assert run.execution_id and c.budget.pauses == 2
            assert sb.stats.run_creations == creations + 1 and sb.stats.run_requests == posts + 1
            sb.configure(force_429=1)
        async with fast_client(sb, journal=None, max_retries=0) as c:
            with pytest.raises(RateLimitError) as info:
                await c.list_apps()
            assert "Too many requests from this IP" in str(info.value)
            assert info.value.status_code == 429 and info.value.retry_after == 1.0

    asyncio.run(main())
    assert sb.stats.faults["force_429"] == faults + 3


def test_a_429_without_retry_after_pauses_until_its_ratelimit_reset() -> None:
    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            headers={"RateLimit-Reset": "7", "Content-Type": "text/plain"},
            content=b"Too many requests from this IP, please try again in a minute",
        )

    async def main() -> float:
        async with LaminaClient(
            "lma_k",
            "https://lamina.test",
            journal=None,
            rate_limit=0,
            max_retries=0,
            transport=httpx.MockTransport(service),
        ) as c:
            with pytest.raises(RateLimitError):
                await c.list_apps()
            return c.budget._paused_until - time.monotonic()

    assert 6.0 < asyncio.run(main()) <= 7.0


# -- a loopback webhook receiver and a service elsewhere ----------------------------------------


def test_a_loopback_receiver_is_not_handed_to_a_remote_service() -> None:
    posts: list[httpx.Request] = []
    app_id = "8d3c3a36-0000-4000-8000-00000000000b"

    def service(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(202, json={"data": {"runId": "r1", "status": "queued"}})
        app = {"appId": app_id, "name": "Echo", "parameters": [{"name": "Prompt"}]}
        return httpx.Response(200, json={"data": app})

    async def main() -> None:
        async with LaminaClient(
            "lma_k",
            "https://lamina.test",
            api_edition="v1",
            journal=None,
            rate_limit=0,
            transport=httpx.MockTransport(service),
        ) as c:
            with WebhookReceiver(keys=list) as local:
                with pytest.warns(RuntimeWarning, match=r"public_url='https://<your tunnel>") as w:
                    c.use_webhooks(local)
                assert local.url in str(w[0].message) and "polled as usual" in str(w[0].message)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    c.use_webhooks(local)  # once is enough
                await c.run(app_id, {"Prompt": "hi"})
                assert "webhook" not in posts[-1].url.params
                public = WebhookReceiver(keys=list, public_url="https://hooks.example/lamina")
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    c.use_webhooks(public)
                await c.run(app_id, {"Prompt": "hi"})
                assert posts[-1].url.params["webhook"] == "https://hooks.example/lamina"

    asyncio.run(main())


def test_a_loopback_receiver_serves_a_loopback_service_without_a_warning(sb: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(sb, journal=None) as c:
            with WebhookReceiver(keys=await c.signing_keys()) as receiver:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    c.use_webhooks(receiver)
                run = await c.run("Photo Stylizer", {"Upload": IMG.format("cat")})
                assert run.webhook_url == receiver.url
                c.use_webhooks(None)

    asyncio.run(main())
