"""The sandbox's /v1 edition over real HTTP: one state with /api, runId, the /v1-only endpoints
(list runs, wait, account), /v1 webhook bodies, and /v1 errors in the documented envelope."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sandbox_v1_support import ENVELOPE, TERMINAL, client, finish, start, until
from test_sandbox_webhooks import Receiver, jwk_key

from lamina_notebook.sandbox import Sandbox

RUN_ROW = {
    "runId",
    "workflowId",
    "status",
    "source",
    "errorMessage",
    "startedAt",
    "completedAt",
    "createdAt",
}


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """Runs here stay queued for 100 s of server time (2 s on this clock)."""
    with Sandbox(time_scale=0.02, rate_limit=0, queue_seconds=100) as sb:
        yield sb


@pytest.fixture(scope="module")
def real_clock() -> Iterator[Sandbox]:
    """An unscaled clock, so a wait's 120 s timeout is far longer than any test may take;
    a Text to Image run still ends within about a second."""
    with Sandbox(time_scale=1.0, rate_limit=0, durations={"Text to Image": 0.5}) as sb:
        yield sb


def test_both_editions_see_the_same_runs(sandbox: Any) -> None:
    with client(sandbox, "api") as api, client(sandbox, "v1") as v1:
        via_v1 = start(v1, sandbox, "v1", "Text to Image", {"Prompt": "a red kite"})
        via_api = start(api, sandbox, "api", "Text to Image", {"Prompt": "a blue kite"})
        assert "runId" in via_v1 and "executionId" not in via_v1
        assert "executionId" in via_api and "runId" not in via_api
        done_v1 = finish(v1, "v1", via_v1["runId"])
        seen_by_api = api.get(f"/executions/{via_v1['runId']}").json()["data"]
        seen_by_v1 = v1.get(f"/runs/{via_api['executionId']}").json()["data"]
        finish(api, "api", via_api["executionId"])
        listed = v1.get("/runs", params={"limit": 100}).json()["data"]
    assert seen_by_api["executionId"] == via_v1["runId"]
    assert {k: v for k, v in seen_by_api.items() if k != "executionId"} == {
        k: v for k, v in done_v1.items() if k != "runId"
    }
    assert seen_by_v1["runId"] == via_api["executionId"]
    ids = {row["runId"] for row in listed}
    assert {via_v1["runId"], via_api["executionId"]} <= ids


def test_v1_contract_fields(sandbox: Any) -> None:
    """Fails if a field lamina-api-v1.md names goes missing from a /v1 answer."""
    with client(sandbox, "v1") as c:
        apps = c.get("/apps").json()["data"]
        for a in apps:
            assert {"appId", "name", "description", "isPublic"} <= a.keys()
        detail = c.get(f"/apps/{sandbox.app_id('Catalog Studio')}").json()["data"]
        assert detail["outputs"] == [
            {"index": 0, "label": "AI Designer", "type": "image"},
            {"index": 1, "label": "AI Designer", "type": "image"},
        ]
        created = start(c, sandbox, "v1", "Catalog Studio", {"Upload": "https://x.test/a.png"})
        assert {"runId", "workflowId", "workflowName", "status", "webhookUrl", "outputs"} <= (
            created.keys()
        )
        assert created["status"] == "queued"
        done = finish(c, "v1", created["runId"])
        assert {
            "runId",
            "workflowId",
            "status",
            "outputs",
            "errorMessage",
            "startedAt",
            "completedAt",
            "createdAt",
        } <= done.keys()
        keys = c.get("/webhooks/signing-key").json()
        assert "data" not in keys and keys["keys"][0]["kty"] == "OKP"
    with client(sandbox, "api") as api:
        api_detail = api.get(f"/apps/{sandbox.app_id('Catalog Studio')}").json()["data"]
    assert "outputs" not in api_detail  # the /api edition is unchanged


def test_v1_browse_default_lists_ten_public_apps_and_every_workspace_app() -> None:
    extra = [
        {"name": f"Extra Public {i}", "description": "filler", "parameters": []} for i in range(6)
    ]
    with Sandbox(time_scale=0.02, rate_limit=0, extra_apps=extra) as sb:
        with client(sb, "v1") as v1, client(sb, "api") as api:
            browsed = v1.get("/apps").json()["data"]
            searched = v1.get("/apps", params={"search": "extra"}).json()["data"]
            limited = v1.get("/apps", params={"limit": 3}).json()["data"]
            everything = api.get("/apps").json()["data"]
        public = [a for a in browsed if a["isPublic"]]
        private = [a["name"] for a in browsed if not a["isPublic"]]
        assert len(public) == 10
        assert [a["name"] for a in public] == [a["name"] for a in everything if a["isPublic"]][:10]
        assert set(private) == {a["name"] for a in everything if not a["isPublic"]}
        assert "Mood Board" in private  # a workspace app is always listed
        assert len(searched) == 6 and len(limited) == 3
        assert len(everything) == len(sb.app_names)  # /api lists everything, as before


def test_outputs_subset_case_insensitive_and_errors(sandbox: Any) -> None:
    app = "Model Photoshoot"
    inputs = {"garment_image_url": "https://x.test/shirt.png", "Background": "white studio"}
    with client(sandbox, "v1") as c:
        picked = start(c, sandbox, "v1", app, inputs, outputs=["front view", "SIDE VIEW"])
        assert [o["label"] for o in picked["outputs"]] == ["Front View", "Side View"]
        done = finish(c, "v1", picked["runId"])
        bad = c.post(
            f"/apps/{sandbox.app_id(app)}/runs", json={"inputs": inputs, "outputs": ["Top View"]}
        )
        empty = c.post(f"/apps/{sandbox.app_id(app)}/runs", json={"inputs": inputs, "outputs": []})
        both = start(
            c, sandbox, "v1", "Catalog Studio", {"Upload": "https://x"}, outputs=["AI designer"]
        )
    assert done["status"] == "completed" and len(done["outputs"]) == 2
    assert all(o["status"] == "completed" for o in done["outputs"])
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    assert bad.json()["details"] == [
        '"outputs": no output labelled "Top View". Outputs: Front View, Back View, Side View'
    ]
    assert empty.status_code == 400 and "at least one output" in empty.json()["details"][0]
    assert len(both["outputs"]) == 2  # a shared label selects every output wearing it


def test_list_runs_filters_and_pagination() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0) as sb, client(sb, "v1") as c:
        t2i = [start(c, sb, "v1", "Text to Image", {"Prompt": f"p{i}"})["runId"] for i in range(4)]
        cut = datetime.now(timezone.utc)
        time.sleep(0.01)
        copy = start(c, sb, "v1", "Product Copywriter", {"Product": "a steel bottle"})["runId"]
        for rid in [*t2i, copy]:
            finish(c, "v1", rid)
        web = sb.start_run("Text to Image", {"Prompt": "from the web app"})
        everything = c.get("/runs").json()
        assert everything["pagination"] == {"total": 6, "limit": 25, "offset": 0}
        assert [r["runId"] for r in everything["data"]] == [web, copy, *reversed(t2i)]
        for row in everything["data"]:
            assert set(row) == RUN_ROW
        assert {r["runId"]: r["source"] for r in everything["data"]}[web] == "web"
        assert {r["source"] for r in everything["data"] if r["runId"] != web} == {"api"}
        page = c.get("/runs", params={"limit": 2, "offset": 1}).json()
        assert [r["runId"] for r in page["data"]] == [copy, t2i[3]]
        assert page["pagination"] == {"total": 6, "limit": 2, "offset": 1}
        by_app = c.get("/runs", params={"appId": sb.app_id("Product Copywriter")}).json()
        assert [r["runId"] for r in by_app["data"]] == [copy]
        since = c.get("/runs", params={"since": cut.isoformat().replace("+00:00", "Z")}).json()
        assert [r["runId"] for r in since["data"]] == [web, copy]
        until(lambda: c.get(f"/runs/{web}").json()["data"]["status"] == "completed")
        completed = c.get("/runs", params={"status": "completed"}).json()
        assert completed["pagination"]["total"] == 6
        assert c.get("/runs", params={"status": "cancelled"}).json()["data"] == []
        stopped = start(c, sb, "v1", "Text to Image", {"Prompt": "stop me"})["runId"]
        c.post(f"/runs/{stopped}/cancel")
        cancelled = c.get("/runs", params={"status": "cancelled"}).json()["data"]
        assert [r["runId"] for r in cancelled] == [stopped]
        capped = c.get("/runs", params={"limit": 500}).json()["pagination"]
        assert capped["limit"] == 100
        errors = [
            c.get("/runs", params={"status": "done"}),
            c.get("/runs", params={"limit": 0}),
            c.get("/runs", params={"offset": -1}),
            c.get("/runs", params={"since": "yesterday"}),
        ]
        later = c.get("/runs", params={"since": (cut + timedelta(days=1)).isoformat()}).json()
    assert later["data"] == [] and later["pagination"]["total"] == 0
    for r in errors:
        assert r.status_code == 400 and r.json().keys() >= ENVELOPE
    assert "queued, running, completed, failed, cancelled" in errors[0].json()["error"]
    assert "ISO-8601" in errors[3].json()["error"]
    assert sb.stats.run_lists == 9  # answered lists; the four refused ones are not counted


def test_wait_returns_as_soon_as_the_run_ends(real_clock: Sandbox) -> None:
    """A 120 s long-poll on a run of about a second answers within the client's 30 s timeout,
    completed and without ``timeout``."""
    with client(real_clock, "v1", timeout=30) as c:
        rid = start(c, real_clock, "v1", "Text to Image", {"Prompt": "a quick one"})["runId"]
        before = real_clock.stats.waits
        answer = c.get(f"/runs/{rid}/wait", params={"timeout": 120}).json()
    assert "timeout" not in answer and answer["data"]["status"] == "completed"
    assert answer["data"]["runId"] == rid
    assert real_clock.stats.waits == before + 1


def test_wait_times_out_with_the_run_still_going(slow: Sandbox) -> None:
    with client(slow, "v1") as c:
        rid = start(c, slow, "v1", "Text to Image", {"Prompt": "slow"})["runId"]
        timed_out = c.get(f"/runs/{rid}/wait", params={"timeout": 1}).json()
        default = c.get(f"/runs/{rid}/wait").json()  # 60 s of server time = 1.2 s here
        bad = c.get(f"/runs/{rid}/wait", params={"timeout": "soon"})
        missing = c.get(f"/runs/{uuid.uuid4()}/wait")
    assert timed_out["timeout"] is True and timed_out["data"]["status"] == "queued"
    assert default["timeout"] is True and default["data"]["status"] == "queued"
    assert bad.status_code == 400 and "timeout must be a number" in bad.json()["error"]
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert slow.stats.wait_timeouts >= 2


def test_wait_wakes_at_once_when_the_run_is_cancelled(real_clock: Sandbox) -> None:
    """The run would stay queued for 1000 s and the wait lasts 120 s: only the cancel can make
    it answer within the client's 30 s timeout."""
    real_clock.configure(queue_seconds=1000)
    try:
        with client(real_clock, "v1") as c:
            rid = start(c, real_clock, "v1", "Text to Image", {"Prompt": "to cancel"})["runId"]
    finally:
        real_clock.configure(queue_seconds=None)
    got: list[Any] = []

    def wait() -> None:
        with client(real_clock, "v1", timeout=30) as w:
            try:
                got.append(w.get(f"/runs/{rid}/wait", params={"timeout": 120}).json())
            except httpx.TimeoutException as exc:
                got.append(exc)

    before = real_clock.stats.waits
    waiter = threading.Thread(target=wait)
    waiter.start()
    until(lambda: real_clock.stats.waits > before)
    with client(real_clock, "v1") as c:
        cancelled = c.post(f"/runs/{rid}/cancel").json()["data"]
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert cancelled == {"runId": rid, "status": "cancelled"}
    assert isinstance(got[0], dict), got
    assert "timeout" not in got[0] and got[0]["data"]["status"] == "cancelled"


def test_account_names_the_workspace_never_the_key(sandbox: Any) -> None:
    with client(sandbox, "v1") as c:
        r = c.get("/account")
    data = r.json()["data"]
    assert {"user", "workspace", "memberships"} <= data.keys()
    assert {"id", "email"} <= data["user"].keys()
    assert {"id", "name", "slug", "role"} <= data["workspace"].keys()
    assert data["workspace"]["id"] in {m["workspaceId"] for m in data["memberships"]}
    assert sandbox.api_key not in r.text and "lma_" not in r.text


def test_v1_errors_use_the_envelope_and_name_v1_paths(sandbox: Any) -> None:
    base = sandbox.base_url + "/v1"
    with httpx.Client(trust_env=False) as raw, client(sandbox, "v1") as c:
        answers = {
            (401, "AUTH_MISSING_KEY"): raw.get(f"{base}/apps"),
            (401, "AUTH_INVALID_KEY"): raw.get(f"{base}/runs", headers={"x-api-key": "lma_x"}),
            (403, "FORBIDDEN"): c.post(
                f"/apps/{sandbox.app_id('Acme Brand Kit')}/runs", json={"inputs": {"Prompt": "x"}}
            ),
            (404, "NOT_FOUND", "app"): c.get(f"/apps/{uuid.uuid4()}"),
            (404, "NOT_FOUND", "run"): c.get("/runs/nope"),
            (404, "NOT_FOUND", "cancel"): c.post("/runs/nope/cancel"),
            (404, "NOT_FOUND", "route"): c.get("/executions/nope"),
            (400, "WEBHOOK_INVALID_URL"): c.post(
                f"/apps/{sandbox.app_id('Text to Image')}/runs?webhook=ftp://x/y",
                json={"inputs": {"Prompt": "x"}},
            ),
            (400, "VALIDATION_ERROR"): c.post(
                f"/apps/{sandbox.app_id('Text to Image')}/runs", content=b"{broken"
            ),
        }
        bearer = raw.get(f"{base}/apps", headers={"Authorization": f"Bearer {sandbox.api_key}"})
    assert bearer.status_code == 200
    for key, r in answers.items():
        assert r.status_code == key[0], (key, r.text)
        body = r.json()
        assert body.keys() >= ENVELOPE and body["code"] == key[1]
        assert body["requestId"] == r.headers["x-request-id"]
    assert "GET /v1/apps" in answers[(404, "NOT_FOUND", "app")].json()["error"]
    assert "runId" in answers[(404, "NOT_FOUND", "run")].json()["error"]
    assert "/v1" in answers[(404, "NOT_FOUND", "route")].json()["error"]


def test_requests_are_counted_per_edition() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:
        with client(sb, "api") as api, client(sb, "v1") as v1:
            api.get("/apps")
            for _ in range(3):
                v1.get("/apps")
            httpx.get(sb.base_url + "/healthz", trust_env=False)
        assert sb.stats.requests_by_edition == {"api": 1, "v1": 3}
        assert sb.stats.snapshot()["requests_by_edition"] == {"api": 1, "v1": 3}


def _verify(raw: bytes, headers: dict[str, str], jwk: dict[str, str]) -> dict[str, Any]:
    ts = headers["x-lamina-webhook-timestamp"]
    assert abs(time.time() - int(ts)) <= 300
    jwk_key(jwk).verify(
        bytes.fromhex(headers["x-lamina-webhook-signature"]), ts.encode() + b"." + raw
    )
    data: dict[str, Any] = json.loads(raw)["data"]
    return data


def test_webhook_bodies_speak_the_edition_that_created_the_run(sandbox: Any) -> None:
    receiver = Receiver()
    try:
        with client(sandbox, "v1") as v1, client(sandbox, "api") as api:
            keys = v1.get("/webhooks/signing-key").json()["keys"]
            r1 = v1.post(
                f"/apps/{sandbox.app_id('Text to Image')}/runs",
                params={"webhook": receiver.url},
                json={"inputs": {"Prompt": "v1 hook"}},
            )
            r2 = api.post(
                f"/apps/{sandbox.app_id('Text to Image')}/executions",
                params={"webhook": receiver.url},
                json={"inputs": {"Prompt": "api hook"}},
            )
        run_id, execution_id = r1.json()["data"]["runId"], r2.json()["data"]["executionId"]
        got = receiver.wait_for(2)
    finally:
        receiver.close()
    bodies = {h["x-lamina-webhook-request-id"]: _verify(raw, h, keys[0]) for raw, h in got}
    assert bodies[run_id]["runId"] == run_id and "executionId" not in bodies[run_id]
    assert bodies[execution_id]["executionId"] == execution_id
    assert "runId" not in bodies[execution_id]
    assert all(b["status"] in TERMINAL for b in bodies.values())
