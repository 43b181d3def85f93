"""``POST /v1/runs/{id}/cancel`` over real HTTP: while queued, while running, after the end.

"No further outputs" is measured by the sandbox's own counter (``stats.outputs_produced``),
read after the moment the run would have finished had it not been cancelled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sandbox_v1_support import client, finish, start, until
from test_sandbox_webhooks import Receiver, jwk_key

from lamina_notebook.sandbox import Sandbox

TRIPTYCH = {
    "name": "Triptych",
    "description": "three pictures, one after another",
    "duration": 20,
    "parameters": [{"name": "Prompt", "type": "text"}],
    "outputs": [
        {"label": "Left", "type": "image", "credits": 5},
        {"label": "Middle", "type": "image", "credits": 5},
        {"label": "Right", "type": "image", "credits": 5},
    ],
}


@pytest.fixture(scope="module")
def queued_sb() -> Iterator[Sandbox]:
    """Runs stay queued for 100 s of server time (2 s here): a cancel surely lands first."""
    with Sandbox(time_scale=0.02, rate_limit=0, queue_seconds=100) as sb:
        yield sb


@pytest.fixture(scope="module")
def running_sb() -> Iterator[Sandbox]:
    """Triptych: queued 0.2 s, then one output every 0.67 s (2.2 s in all)."""
    with Sandbox(time_scale=0.1, rate_limit=0, extra_apps=[TRIPTYCH]) as sb:
        yield sb


def _sleep_until(epoch: float) -> None:
    time.sleep(max(0.0, epoch - time.time()) + 0.2)


def test_cancel_while_queued_produces_nothing(queued_sb: Sandbox) -> None:
    sb = queued_sb
    balance = sb.balance
    with client(sb, "v1") as c:
        created = start(c, sb, "v1", "Catalog Studio", {"Upload": "https://x.test/p.png"})
        rid = created["runId"]
        natural_end = time.time() + (100 + 12) * 0.02
        answer = c.post(f"/runs/{rid}/cancel")
        data = c.get(f"/runs/{rid}").json()["data"]
        _sleep_until(natural_end)
        later = c.get(f"/runs/{rid}").json()["data"]
    assert answer.status_code == 200
    assert answer.json() == {"data": {"runId": rid, "status": "cancelled"}}
    assert data["status"] == "cancelled" and data["startedAt"] is None
    assert data["completedAt"] is not None and data["errorMessage"] is None
    for o in data["outputs"]:
        assert o["status"] == "cancelled" and o["type"] == "pending" and o["value"] is None
    assert later == data  # nothing moved after the cancel
    assert sb.stats.outputs_produced[rid] == 0 == sb.outputs_produced(rid)
    assert sb.balance == balance  # it never started: nothing spent


def test_cancel_while_running_keeps_what_was_made_and_makes_nothing_more(
    running_sb: Sandbox,
) -> None:
    sb = running_sb
    spent = sb.stats.credits_spent
    with client(sb, "v1") as c:
        rid = start(c, sb, "v1", "Triptych", {"Prompt": "three doors"})["runId"]
        natural_end = time.time() + 0.2 + 2.0

        def first_done() -> bool:
            outs = c.get(f"/runs/{rid}").json()["data"]["outputs"]
            return outs[0]["status"] == "completed"

        until(first_done, every=0.005)
        answer = c.post(f"/runs/{rid}/cancel").json()["data"]
        data = c.get(f"/runs/{rid}").json()["data"]
        _sleep_until(natural_end)
        later = c.get(f"/runs/{rid}").json()["data"]
        statuses = [o["status"] for o in data["outputs"]]
        made = statuses.count("completed")
        first = httpx.get(data["outputs"][0]["value"], trust_env=False, timeout=60)
        cut = next(o for o in data["outputs"] if o["status"] == "cancelled")
        cut_file = httpx.get(
            f"{sb.base_url}/files/{rid}/{cut['id']}.png", trust_env=False, timeout=60
        )
    assert answer == {"runId": rid, "status": "cancelled"}
    assert data["status"] == "cancelled" and data["startedAt"] is not None
    assert 1 <= made < 3 and statuses == ["completed"] * made + ["cancelled"] * (3 - made)
    assert data["progress"]["completedOutputs"] == made
    assert later == data
    assert sb.outputs_produced(rid) == made  # no output after the cancel
    assert sb.stats.credits_spent - spent == 5 * made  # each made output; no pre-step here
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert cut_file.status_code == 404 and "cancelled" in cut_file.json()["error"]


def test_cancel_after_the_end_answers_the_status_and_changes_nothing(sandbox: Any) -> None:
    with client(sandbox, "v1") as c:
        ok = start(c, sandbox, "v1", "Text to Image", {"Prompt": "done already"})["runId"]
        done = finish(c, "v1", ok)
        bad = start(
            c, sandbox, "v1", "Upscaler 4x", {"Upload": f"{sandbox.base_url}/samples/tiny.png"}
        )
        failed = finish(c, "v1", bad["runId"])
        before = (sandbox.stats.cancel_requests, sandbox.stats.cancellations)
        answers = [c.post(f"/runs/{ok}/cancel") for _ in range(2)]
        on_failed = c.post(f"/runs/{bad['runId']}/cancel").json()["data"]
        after = c.get(f"/runs/{ok}").json()["data"]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["data"] for a in answers] == [{"runId": ok, "status": "completed"}] * 2
    assert on_failed == {"runId": bad["runId"], "status": "failed"}
    assert after == done and failed["status"] == "failed"
    assert sandbox.stats.cancel_requests == before[0] + 3
    assert sandbox.stats.cancellations == before[1]  # nothing was cancelled


def test_cancel_is_idempotent_and_api_runs_show_cancelled_too(queued_sb: Sandbox) -> None:
    sb = queued_sb
    with client(sb, "api") as api, client(sb, "v1") as v1:
        eids = [
            start(api, sb, "api", "Text to Image", {"Prompt": f"stop {i}"})["executionId"]
            for i in range(3)
        ]
        before = sb.stats.cancellations
        first = [v1.post(f"/runs/{e}/cancel").json()["data"]["status"] for e in eids]
        again = [v1.post(f"/runs/{e}/cancel").json()["data"]["status"] for e in eids]
        seen = [api.get(f"/executions/{e}").json()["data"] for e in eids]
    assert first == again == ["cancelled"] * 3
    assert sb.stats.cancellations == before + 3
    for data in seen:
        assert data["status"] == "cancelled" and data["executionId"] in eids
        assert {o["status"] for o in data["outputs"]} == {"cancelled"}


def test_a_cancelled_run_is_delivered_at_once_signed(queued_sb: Sandbox) -> None:
    sb = queued_sb
    receiver = Receiver()
    try:
        with client(sb, "v1") as c:
            r = c.post(
                f"/apps/{sb.app_id('Text to Image')}/runs",
                params={"webhook": receiver.url},
                json={"inputs": {"Prompt": "hooked"}},
            )
            rid = r.json()["data"]["runId"]
            natural_end = time.time() + (100 + 6) * 0.02
            c.post(f"/runs/{rid}/cancel")
            raw, headers = receiver.wait_for(1, timeout=30)[0]
            still_queued_then = time.time() < natural_end
    finally:
        receiver.close()
    ts = headers["x-lamina-webhook-timestamp"]
    jwk_key(sb.signing_jwk).verify(
        bytes.fromhex(headers["x-lamina-webhook-signature"]), ts.encode() + b"." + raw
    )
    data = json.loads(raw)["data"]
    assert headers["x-lamina-webhook-request-id"] == rid == data["runId"]
    assert data["status"] == "cancelled"
    assert [o["status"] for o in data["outputs"]] == ["cancelled"]
    assert still_queued_then  # delivered on the cancel, long before the run would have ended
