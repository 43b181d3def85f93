"""``POST /v1/apps/{id}/estimate`` and the sandbox account: runs of either edition spend credits
step by step, a short workspace gets 402 before anything is created."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_v1_support import ENVELOPE, client, finish, start

from lamina_notebook.sandbox import Sandbox


def estimate(sb: Sandbox, app: str) -> dict[str, Any]:
    with client(sb, "v1") as c:
        r = c.post(f"/apps/{sb.app_id(app)}/estimate")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def test_estimate_shape_and_breakdown(sandbox: Any) -> None:
    data = estimate(sandbox, "Catalog Studio")
    assert set(data) == {
        "appId",
        "name",
        "estimatedCredits",
        "breakdown",
        "currentBalance",
        "affordable",
    }
    assert data["appId"] == sandbox.app_id("Catalog Studio") and data["name"] == "Catalog Studio"
    assert data["estimatedCredits"] == {"expected": 13, "min": 13, "max": 19}
    assert sum(step["credits"] for step in data["breakdown"]) == 13
    for step in data["breakdown"]:
        assert set(step) == {"nodeId", "nodeType", "credits"}
        assert step["nodeId"].startswith(step["nodeType"] + "-")
    with client(sandbox, "v1") as c:
        run = start(c, sandbox, "v1", "Catalog Studio", {"Upload": "https://x.test/p.png"})
    output_nodes = {o["id"] for o in run["outputs"]}
    assert output_nodes <= {step["nodeId"] for step in data["breakdown"]}
    assert isinstance(data["currentBalance"], int) and data["affordable"] is True
    for app in sandbox.app_names:
        if app != "Acme Brand Kit":
            low_mid_high = estimate(sandbox, app)["estimatedCredits"]
            assert 0 < low_mid_high["min"] <= low_mid_high["expected"] <= low_mid_high["max"]


def test_runs_of_both_editions_spend_what_the_estimate_says() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, credit_balance=100) as sb:
        assert estimate(sb, "Catalog Studio")["currentBalance"] == 100 == sb.balance
        with client(sb, "v1") as v1, client(sb, "api") as api:
            rid = start(v1, sb, "v1", "Catalog Studio", {"Upload": "https://x.test/p.png"})["runId"]
            finish(v1, "v1", rid)
            eid = start(api, sb, "api", "Text to Image", {"Prompt": "spent"})["executionId"]
            finish(api, "api", eid)
            part = start(
                v1,
                sb,
                "v1",
                "Model Photoshoot",
                {"Garment": "https://x.test/s.png", "Background": "studio"},
                outputs=["Back View"],
            )["runId"]
            finish(v1, "v1", part)
        after = estimate(sb, "Catalog Studio")
        assert after["currentBalance"] == 100 - 13 - 5 - (2 + 8) == sb.balance
        assert sb.stats.credits_spent == 28 and sb.stats.estimates == 2


def test_a_short_workspace_gets_402_and_nothing_is_created() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, credit_balance=10) as sb:
        dear = estimate(sb, "Catalog Studio")
        assert dear["affordable"] is False and dear["currentBalance"] == 10
        assert estimate(sb, "Text to Image")["affordable"] is True
        with client(sb, "v1") as c:
            refused = c.post(
                f"/apps/{sb.app_id('Catalog Studio')}/runs",
                json={"inputs": {"Upload": "https://x.test/p.png"}},
            )
            assert refused.status_code == 402 and refused.json().keys() >= ENVELOPE
            assert refused.json()["code"] == "INSUFFICIENT_CREDITS"
            assert (
                "13 credits" in refused.json()["error"]
                and "10 available" in refused.json()["error"]
            )
            assert sb.stats.run_creations == 0
            shoot = f"/apps/{sb.app_id('Model Photoshoot')}/runs"
            inputs = {"Garment": "https://x.test/s.png", "Background": "studio"}
            full = c.post(shoot, json={"inputs": inputs})
            assert full.status_code == 402 and "26 credits" in full.json()["error"]
            one = c.post(shoot, json={"inputs": inputs, "outputs": ["Side View"]})
            assert one.status_code == 202  # a subset costs only its steps: 2 + 8
            finish(c, "v1", one.json()["data"]["runId"])
            assert sb.balance == 0
            sb.set_balance(10)
            first = start(c, sb, "v1", "Text to Image", {"Prompt": "one"})["runId"]
            second = start(c, sb, "v1", "Text to Image", {"Prompt": "two"})["runId"]
            # both in flight: their 10 credits are spoken for, though not yet spent
            third = c.post(
                f"/apps/{sb.app_id('Text to Image')}/runs", json={"inputs": {"Prompt": "three"}}
            )
            assert third.status_code == 402 and "0 available" in third.json()["error"]
            for rid in (first, second):
                finish(c, "v1", rid)
        assert sb.balance == 0 and estimate(sb, "Text to Image")["affordable"] is False
        sb.set_balance(50)
        topped_up = estimate(sb, "Catalog Studio")
        assert topped_up["currentBalance"] == 50 == sb.balance and topped_up["affordable"] is True


def test_a_failed_run_spends_only_the_steps_it_ran() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, credit_balance=100, fail_rate=1.0) as sb:
        with client(sb, "v1") as c:
            rid = start(c, sb, "v1", "Text to Image", {"Prompt": "doomed"})["runId"]
            failed = finish(c, "v1", rid)
        assert failed["status"] == "failed"
        assert sb.balance == 100 - 1  # the prompt enhancer ran; the image never came
        assert sb.outputs_produced(rid) == 0


def test_estimate_errors_and_balance_validation(sandbox: Any) -> None:
    with client(sandbox, "v1") as c:
        private = c.post(f"/apps/{sandbox.app_id('Acme Brand Kit')}/estimate")
        missing = c.post("/apps/00000000-0000-0000-0000-000000000000/estimate")
        wrong_method = c.get(f"/apps/{sandbox.app_id('Text to Image')}/estimate")
    assert private.status_code == 403 and private.json()["code"] == "FORBIDDEN"
    assert missing.status_code == 404 and "GET /v1/apps" in missing.json()["error"]
    assert wrong_method.status_code == 405
    with pytest.raises(ValueError, match="credit_balance"):
        Sandbox(credit_balance=-5)
    with pytest.raises(ValueError, match="credit_balance"):
        sandbox.set_balance(1.5)
