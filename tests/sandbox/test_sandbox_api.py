"""The sandbox's API over real HTTP: the seed's sample flow, contract fields, errors, lifecycle."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import httpx
import pytest

from lamina_notebook.sandbox import Sandbox

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ENVELOPE = {"error", "code", "retryable", "requestId"}
#: How long a poll loop may take before the test fails: the fast sandbox ends any run in well
#: under a second, so this only trips when a run never ends.
DEADLINE = 30.0


def check_deadline(deadline: float, what: str) -> None:
    """Fail the test, naming ``what``, once ``deadline`` (a ``time.monotonic()`` value) passed."""
    if time.monotonic() > deadline:
        pytest.fail(f"{what} after {DEADLINE:g} s")


def api(sb: Any) -> httpx.Client:
    return httpx.Client(
        base_url=sb.base_url + "/api",
        headers={"x-api-key": sb.api_key},
        trust_env=False,
        timeout=30,
    )


def wait(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    """Poll until terminal, returning the last ``data``; fails the test after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while True:
        data = client.get(f"/executions/{execution_id}").json()["data"]
        if data["status"] in ("completed", "failed"):
            return data
        check_deadline(deadline, f"execution {execution_id} still {data['status']!r}")
        time.sleep(0.02)


def start(client: httpx.Client, sb: Any, app: str, inputs: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/apps/{sb.app_id(app)}/executions", json={"inputs": inputs})
    assert r.status_code == 202, r.text
    return r.json()["data"]


def test_seed_python_sample_flow_verbatim(sandbox: Any) -> None:
    """The seed's "Quick Integration (Python)" with only BASE and API_KEY changed (and a
    deadline on its loop, so a run that never ends fails the test instead of hanging it)."""
    import requests  # a dev dependency: the seed's sample uses it, so this test never skips

    api_key = sandbox.api_key
    base = sandbox.base_url + "/api"
    h = {"x-api-key": api_key, "Content-Type": "application/json"}
    apps = requests.get(f"{base}/apps?search=catalog", headers=h).json()["data"]
    app_id = apps[0]["appId"]
    app = requests.get(f"{base}/apps/{app_id}", headers=h).json()["data"]
    assert {p["name"] for p in app["parameters"]} >= {"Upload", "Style"}
    r = requests.post(
        f"{base}/apps/{app_id}/executions?webhook=https://your-server.com/cb",
        headers=h,
        json={"inputs": {"Upload": "https://example.com/photo.jpg", "Style": "Ghibli"}},
    )
    exec_id = r.json()["data"]["executionId"]
    printed = []
    deadline = time.monotonic() + DEADLINE
    while True:
        status = requests.get(f"{base}/executions/{exec_id}", headers=h).json()["data"]
        if status["status"] in ("completed", "failed"):
            for o in status["outputs"]:
                printed.append(f"{o['label']}: {o['value']}")
            break
        check_deadline(deadline, f"execution {exec_id} still {status['status']!r}")
        time.sleep(0.05)
    assert status["status"] == "completed"
    assert [p.split(":")[0] for p in printed] == ["AI Designer", "AI Designer"]
    for o in status["outputs"]:
        assert requests.get(o["value"]).headers["content-type"] == "image/png"


def test_contract_fields_of_every_endpoint(sandbox: Any) -> None:
    """Fails if a field that lamina-api.md names goes missing."""
    with api(sandbox) as c:
        apps = c.get("/apps").json()["data"]
        for a in apps:
            assert {"appId", "name", "description", "isPublic"} <= a.keys()
            uuid.UUID(a["appId"])
        details = c.get(f"/apps/{apps[0]['appId']}").json()["data"]
        assert {"appId", "name", "description", "parameters"} <= details.keys()
        for p in details["parameters"]:
            assert {"id", "name", "type", "required", "options", "default"} <= p.keys()
            assert p["required"] is True and p["type"] in ("text", "options", "url")
        r = c.post(
            f"/apps/{sandbox.app_id('Text to Image')}/executions?webhook=http://127.0.0.1:9/x",
            json={"inputs": {"Prompt": "a red fox"}},
        )
        assert r.status_code == 202
        created = r.json()["data"]
        assert {
            "executionId",
            "workflowId",
            "workflowName",
            "status",
            "webhookUrl",
            "outputs",
        } <= created.keys()
        assert created["status"] == "queued" and created["webhookUrl"] == "http://127.0.0.1:9/x"
        for o in created["outputs"]:
            assert o == {**o, "type": "pending", "value": None, "status": "pending", "error": None}
            assert {"id", "label"} <= o.keys()
        done = wait(c, created["executionId"])
        assert {
            "executionId",
            "workflowId",
            "status",
            "outputs",
            "errorMessage",
            "startedAt",
            "completedAt",
            "createdAt",
        } <= done.keys()
        for field in ("startedAt", "completedAt", "createdAt"):
            assert ISO.match(done[field]), done[field]
        for o in done["outputs"]:
            assert {"id", "label", "type", "value", "status", "error"} <= o.keys()
        keys = c.get("/webhooks/signing-key").json()
        assert "data" not in keys
        assert {"kty", "crv", "x", "kid", "use", "alg"} <= keys["keys"][0].keys()


def test_search_is_case_insensitive_on_name_and_description_and_limit_caps(sandbox: Any) -> None:
    with api(sandbox) as c:
        names = [a["name"] for a in c.get("/apps", params={"search": "CATALOG"}).json()["data"]]
        assert names[0] == "Catalog Studio"
        by_desc = c.get("/apps", params={"search": "headline"}).json()["data"]
        assert [a["name"] for a in by_desc] == ["Product Copywriter"]
        assert len(c.get("/apps", params={"limit": 2}).json()["data"]) == 2
        assert c.get("/apps", params={"search": "no such thing"}).json()["data"] == []
        everything = c.get("/apps").json()["data"]
        assert len(everything) >= 7 and any(a["isPublic"] is False for a in everything)
        bad = c.get("/apps", params={"limit": "many"})
        assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"


def test_lifecycle_queued_running_completed_with_outputs_one_by_one(sandbox: Any) -> None:
    with api(sandbox) as c:
        created = start(
            c, sandbox, "Catalog Studio", {"Upload": f"{sandbox.base_url}/samples/product.png"}
        )
        seen: list[tuple[str, tuple[str, ...]]] = []
        deadline = time.monotonic() + DEADLINE
        while not seen or seen[-1][0] not in ("completed", "failed"):
            check_deadline(deadline, f"execution {created['executionId']} seen only as {seen}")
            d = c.get(f"/executions/{created['executionId']}").json()["data"]
            state = (d["status"], tuple(o["status"] for o in d["outputs"]))
            if not seen or seen[-1] != state:
                seen.append(state)
            time.sleep(0.005)
    statuses = [s for s, _ in seen]
    assert statuses[-1] == "completed"
    assert statuses == sorted(statuses, key=["queued", "running", "completed"].index)
    assert ("running", ("completed", "pending")) in seen  # outputs finish one by one
    completed_at = sandbox.completed_at(created["executionId"])
    assert completed_at is not None and d["completedAt"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(completed_at))
    )


def test_validation_names_every_problem_in_one_answer(sandbox: Any) -> None:
    with api(sandbox) as c:
        r = c.post(
            f"/apps/{sandbox.app_id('Photo Stylizer')}/executions?webhook=ftp://x/y",
            json={
                "inputs": {
                    "Upload": "file:///etc/passwd",
                    "Style": "Mars",
                    "style": "Comic",
                    "Aspect Ratio": 16,
                }
            },
        )
        body = r.json()
        assert r.status_code == 400 and body.keys() >= ENVELOPE
        assert body["code"] == "VALIDATION_ERROR"
        text = "\n".join(body["details"])
        assert '"Style": invalid option "Mars". Must be one of: Disney / Pixar, Ghibli' in text
        assert (
            '"style": unknown parameter (names are case-sensitive: did you mean "Style"?)' in text
        )
        assert '"Upload": must be an http(s) URL' in text
        assert '"Aspect Ratio": must be a string' in text
        assert "webhook: must be an http or https URL" in text
        assert len(body["details"]) == 5
        missing = c.post(
            f"/apps/{sandbox.app_id('Text to Image')}/executions", json={"inputs": {}}
        ).json()
        assert missing["details"] == ['"Prompt": missing; this parameter has no default']
        hook = c.post(
            f"/apps/{sandbox.app_id('Text to Image')}/executions?webhook=javascript:x",
            json={"inputs": {"Prompt": "x"}},
        )
        assert hook.status_code == 400 and hook.json()["code"] == "WEBHOOK_INVALID_URL"


def test_defaults_fill_omitted_parameters(sandbox: Any) -> None:
    with api(sandbox) as c:
        d = wait(c, start(c, sandbox, "Text to Image", {"Prompt": "a boat"})["executionId"])
    assert d["status"] == "completed"
    assert d["outputs"][0]["dimensions"] == {"width": 1024, "height": 1024}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"prompt": "x"}', "inputs"),
        (b'{"inputs": ["Prompt"]}', "object keyed by parameter name"),
    ],
)
def test_malformed_bodies_are_400(sandbox: Any, body: bytes, detail: str) -> None:
    with api(sandbox) as c:
        r = c.post(
            f"/apps/{sandbox.app_id('Text to Image')}/executions",
            content=body,
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 400 and r.json().keys() >= ENVELOPE
    assert detail in r.text


def test_error_statuses_carry_the_envelope(sandbox: Any) -> None:
    base = sandbox.base_url + "/api"
    with httpx.Client(trust_env=False) as raw, api(sandbox) as c:
        missing = raw.get(f"{base}/apps")
        wrong = raw.get(f"{base}/apps", headers={"x-api-key": "lma_wrong"})
        bearer = raw.get(f"{base}/apps", headers={"Authorization": f"Bearer {sandbox.api_key}"})
        private = c.post(
            f"/apps/{sandbox.app_id('Acme Brand Kit')}/executions",
            json={"inputs": {"Prompt": "logo"}},
        )
        answers = {
            (401, "AUTH_MISSING_KEY"): missing,
            (401, "AUTH_INVALID_KEY"): wrong,
            (403, "FORBIDDEN"): private,
            (404, "NOT_FOUND"): c.get(f"/apps/{uuid.uuid4()}"),
            (404, "NOT_FOUND", "exec"): c.get("/executions/nope"),
            (404, "NOT_FOUND", "route"): c.get("/no/such/route"),
            (413, "PAYLOAD_TOO_LARGE"): c.post(
                f"/apps/{sandbox.app_id('Text to Image')}/executions",
                content=b'{"inputs": {"Prompt": "' + b"x" * 1_100_000 + b'"}}',
            ),
        }
    assert bearer.status_code == 200
    for key, r in answers.items():
        assert r.status_code == key[0], (key, r.text)
        body = r.json()
        assert body.keys() >= ENVELOPE and body["code"] == key[1]
        assert body["requestId"] == r.headers["x-request-id"]
        assert sandbox.api_key not in r.text
    assert "another workspace" in private.json()["error"]


def test_private_app_details_are_readable_but_running_is_forbidden(sandbox: Any) -> None:
    with api(sandbox) as c:
        details = c.get(f"/apps/{sandbox.app_id('Acme Brand Kit')}").json()["data"]
    assert details["isPublic"] is False


def test_extra_apps_durations_and_extra_keys() -> None:
    extra = {
        "name": "Sticker Maker",
        "description": "Die-cut stickers",
        "duration": 2,
        "parameters": [{"name": "Word", "type": "text"}],
        "outputs": [
            {"label": "Sticker", "type": "image"},
            {"label": "Caption", "type": "text", "text": "fixed caption"},
        ],
    }
    with Sandbox(
        time_scale=0.01,
        rate_limit=0,
        extra_apps=[extra],
        extra_keys=["lma_second"],
        durations={"Text to Image": 1},
    ) as sb:
        with httpx.Client(
            base_url=sb.base_url + "/api", headers={"x-api-key": "lma_second"}, trust_env=False
        ) as c:
            found = c.get("/apps", params={"search": "sticker"}).json()["data"]
            assert [a["name"] for a in found] == ["Sticker Maker"]
            d = wait(c, start(c, sb, "Sticker Maker", {"Word": "hi"})["executionId"])
        assert [o["type"] for o in d["outputs"]] == ["image", "text"]
        assert d["outputs"][1]["value"] == "fixed caption"
        assert sb.stats.run_creations_by_app[sb.app_id("Sticker Maker")] == 1


def test_a_revoked_key_gets_401_saying_so_until_it_is_added_again() -> None:
    with (
        Sandbox(time_scale=0.01, rate_limit=0, extra_keys=["lma_second"]) as sb,
        httpx.Client(
            base_url=sb.base_url + "/api", headers={"x-api-key": "lma_second"}, trust_env=False
        ) as c,
    ):
        assert c.get("/apps").status_code == 200
        sb.revoke_key("lma_second")
        refused = c.get("/apps")
        assert refused.status_code == 401
        assert refused.json()["code"] == "AUTH_INVALID_KEY"
        assert "revoked" in refused.json()["error"]
        other = c.get("/apps", headers={"x-api-key": sb.api_key})
        assert other.status_code == 200  # only that key is affected
        unknown = c.get("/apps", headers={"x-api-key": "lma_never_issued"})
        assert unknown.status_code == 401 and "revoked" not in unknown.json()["error"]
        sb.add_key("lma_second")
        assert c.get("/apps").status_code == 200
        sb.add_key("lma_third")  # a brand-new key works at once
        assert c.get("/apps", headers={"x-api-key": "lma_third"}).status_code == 200
        with pytest.raises(ValueError, match="non-empty"):
            sb.revoke_key("")


def test_stats_count_requests_and_run_creations(sandbox: Any) -> None:
    with api(sandbox) as c:
        before = sandbox.stats.run_creations
        before_req = sandbox.stats.run_requests
        start(c, sandbox, "Product Copywriter", {"Product": "a steel water bottle"})
        c.post(f"/apps/{sandbox.app_id('Product Copywriter')}/executions", json={"inputs": {}})
    assert sandbox.stats.run_creations == before + 1
    assert sandbox.stats.run_requests == before_req + 2
    assert sandbox.stats.by_status[400] >= 1


def test_output_level_failure_keeps_pending_type(sandbox: Any) -> None:
    with api(sandbox) as c:
        d = wait(c, start(c, sandbox, "Product Copywriter", {"Product": "mug"})["executionId"])
    headline, description = d["outputs"]
    assert headline["status"] == "completed" and headline["type"] == "text"
    assert description["status"] == "error" and description["type"] == "pending"
    assert "at least 3 words" in description["error"] and description["value"] is None
    assert d["progress"]["failedOutputs"] == 1


def test_deterministic_failure_has_error_message(sandbox: Any) -> None:
    with api(sandbox) as c:
        d = wait(
            c,
            start(c, sandbox, "Upscaler 4x", {"Upload": f"{sandbox.base_url}/samples/tiny.png"})[
                "executionId"
            ],
        )
        ok = wait(
            c,
            start(
                c,
                sandbox,
                "Upscaler 4x",
                {"Upload": f"{sandbox.base_url}/samples/portrait.png", "Scale": "2x"},
            )["executionId"],
        )
    assert d["status"] == "failed" and "at least 64 px" in d["errorMessage"]
    assert d["outputs"][0]["status"] == "error" and d["outputs"][0]["type"] == "pending"
    assert ok["status"] == "completed"
    assert ok["outputs"][0]["dimensions"] == {"width": 1536, "height": 1536}


def test_healthz_and_unknown_sample(sandbox: Any) -> None:
    with httpx.Client(base_url=sandbox.base_url, trust_env=False) as raw:
        assert raw.get("/healthz").json()["status"] == "ok"
        r = raw.get("/samples/cat.png")
    assert r.status_code == 404 and "/samples/portrait.png" in r.json()["error"]
