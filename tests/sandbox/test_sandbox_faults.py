"""Rate limiting and every fault knob, each observed over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sandbox_v1_support import ended, until

from lamina_notebook.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.01, rate_limit=0, seed=7) as sandbox:
        yield sandbox


def client(sb: Sandbox) -> httpx.Client:
    return httpx.Client(
        base_url=sb.base_url + "/api", headers={"x-api-key": sb.api_key}, trust_env=False
    )


def test_rate_limit_answers_429_with_headers_and_envelope() -> None:
    with Sandbox(rate_limit=3, rate_window=60, time_scale=0.01) as sandbox, client(sandbox) as c:
        ok = [c.get("/apps") for _ in range(3)]
        limited = c.get("/apps")
        other_key = httpx.get(sandbox.base_url + "/api/apps", headers={"x-api-key": "lma_bad"})
    assert [r.headers["RateLimit-Remaining"] for r in ok] == ["2", "1", "0"]
    assert all(r.headers["RateLimit-Limit"] == "3" for r in ok)
    assert limited.status_code == 429
    body = limited.json()
    assert body["code"] == "RATE_LIMITED" and body["retryable"] is True
    retry_after = int(limited.headers["Retry-After"])
    assert 1 <= retry_after <= 60 and body["retryAfter"] == retry_after
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert int(limited.headers["RateLimit-Reset"]) == retry_after
    assert other_key.status_code == 401
    assert sandbox.stats.rate_limited == 1


def test_rate_limit_window_resets_and_can_be_switched_off() -> None:
    with Sandbox(rate_limit=1, rate_window=0.2, time_scale=0.01) as sandbox, client(sandbox) as c:
        assert c.get("/apps").status_code == 200
        assert c.get("/apps").status_code == 429
        until(lambda: c.get("/apps").status_code != 429, timeout=10, every=0.05)
        sandbox.configure(rate_limit=0)
        answers = [c.get("/apps") for _ in range(5)]
    assert all(r.status_code == 200 and "RateLimit-Limit" not in r.headers for r in answers)


def test_force_429_answers_the_next_n_requests(sb: Sandbox) -> None:
    sb.configure(force_429=2)
    with client(sb) as c:
        codes = [c.get("/apps").status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    assert sb.stats.faults["force_429"] == 2


def test_error_rate_answers_500_or_503_before_handling(sb: Sandbox) -> None:
    sb.configure(error_rate=1.0)
    with client(sb) as c:
        answers = [
            c.post(
                f"/apps/{sb.app_id('Text to Image')}/executions", json={"inputs": {"Prompt": "x"}}
            )
            for _ in range(8)
        ]
    assert {r.status_code for r in answers} <= {500, 503}
    for r in answers:
        assert r.json()["retryable"] is True
        assert r.json()["code"] in ("INTERNAL_ERROR", "RESOURCE_UNAVAILABLE")
    assert sb.stats.run_creations == 0  # before handling: nothing was created
    assert sum(v for k, v in sb.stats.faults.items() if k.startswith("error_")) == 8


def test_drop_rate_drops_after_the_execution_was_created(sb: Sandbox) -> None:
    sb.configure(drop_rate=1.0)
    with client(sb) as c, pytest.raises(httpx.RemoteProtocolError):
        c.post(f"/apps/{sb.app_id('Text to Image')}/executions", json={"inputs": {"Prompt": "x"}})
    assert sb.stats.run_creations == 1  # a blind retry would bill a second run
    assert sb.stats.faults["drop"] == 1
    sb.configure(drop_rate=0.0)
    with client(sb) as c:
        assert c.get("/apps").status_code == 200  # the server survived


def test_garbage_and_truncate_rates_break_2xx_bodies(sb: Sandbox) -> None:
    sb.configure(garbage_rate=1.0)
    with client(sb) as c:
        garbage = c.get("/apps")
        sb.configure(garbage_rate=0.0, truncate_rate=1.0)
        truncated = c.get("/apps")
        sb.configure(truncate_rate=0.0)
        not_found = c.get("/executions/nope")  # faults only touch 2xx answers
    assert garbage.status_code == 200 and garbage.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        truncated.json()
    assert truncated.text.startswith('{"data"')
    assert not_found.status_code == 404
    assert sb.stats.faults["garbage"] == 1 and sb.stats.faults["truncate"] == 1


def test_latency_and_fail_rate_knobs(sb: Sandbox) -> None:
    sb.configure(latency=0.01, fail_rate=1.0)
    with client(sb) as c:
        r = c.post(
            f"/apps/{sb.app_id('Text to Image')}/executions", json={"inputs": {"Prompt": "x"}}
        )
        assert r.status_code == 202
        d = ended(c, f"/executions/{r.json()['data']['executionId']}")
    assert d["status"] == "failed" and "fail_rate" in d["errorMessage"]
    assert sb.stats.faults["latency"] >= 2


def test_configure_rejects_unknown_or_invalid_knobs(sb: Sandbox) -> None:
    with pytest.raises(TypeError, match="unknown sandbox knob"):
        sb.configure(error_ratio=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        sb.configure(drop_rate=2)
    with pytest.raises(ValueError, match="time_scale"):
        Sandbox(time_scale=0)


def test_reset_stats(sb: Sandbox) -> None:
    with client(sb) as c:
        c.get("/apps")
    assert sb.stats.requests >= 1
    sb.reset_stats()
    assert sb.stats.requests == 0 and sb.stats.by_status == {}


def test_many_sandboxes_start_and_stop_cleanly() -> None:
    import threading

    before = threading.active_count()
    for _ in range(3):
        with Sandbox(rate_limit=0) as s:
            assert httpx.get(s.base_url + "/healthz").status_code == 200
        assert not s.running
    assert threading.active_count() <= before
    assert "stopped" in repr(s)


def test_output_ttl_expires_file_urls() -> None:
    with Sandbox(time_scale=0.01, rate_limit=0, output_ttl=0.05) as s, client(s) as c:
        r = c.post(
            f"/apps/{s.app_id('Text to Image')}/executions", json={"inputs": {"Prompt": "x"}}
        )
        eid = r.json()["data"]["executionId"]
        d = ended(c, f"/executions/{eid}")
        assert d["status"] == "completed", d
        f = until(lambda: (g := httpx.get(d["outputs"][0]["value"])).status_code != 200 and g)
    assert f.status_code == 404 and "expired" in f.json()["error"]
