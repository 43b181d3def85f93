"""Knobs for testing clients against the live service's habits: the per-IP rate limit (shared by
keys and editions), the older plain-text 429, and a 3xx answer to run POSTs."""

from __future__ import annotations

import httpx
import pytest
from sandbox_v1_support import client

from lamina_notebook.sandbox import Sandbox

PLAIN = "Too many requests from this IP, please try again in a minute"


def from_ip(sb: Sandbox, ip: str, key: str) -> httpx.Client:
    """A client whose requests leave from ``ip`` (any 127.x address is loopback on Linux)."""
    return httpx.Client(
        base_url=sb.base_url,
        headers={"x-api-key": key},
        transport=httpx.HTTPTransport(local_address=ip),
        trust_env=False,
        timeout=30,
    )


def test_the_rate_limit_counts_per_ip_across_keys_and_editions() -> None:
    with Sandbox(time_scale=0.02, rate_limit=3, extra_keys=["lma_second"]) as sb:
        with (
            from_ip(sb, "127.0.0.1", sb.api_key) as one,
            from_ip(sb, "127.0.0.1", "lma_second") as two,
        ):
            first = one.get("/api/apps")
            second = two.get("/v1/apps")  # another key (a second kernel), another edition
            third = one.get("/v1/runs")
            limited = two.get("/api/apps")
        try:
            other = from_ip(sb, "127.0.0.2", sb.api_key)
            elsewhere = other.get("/v1/apps")
            other.close()
        except httpx.ConnectError:  # pragma: no cover - a system without 127.0.0.2
            pytest.skip("127.0.0.2 is not usable as a source address here")
    assert [r.headers["RateLimit-Remaining"] for r in (first, second, third)] == ["2", "1", "0"]
    assert limited.status_code == 429 and limited.json()["code"] == "RATE_LIMITED"
    assert "per IP" in limited.json()["error"]
    assert elsewhere.status_code == 200 and elsewhere.headers["RateLimit-Remaining"] == "2"
    assert sb.stats.rate_limited == 1


def test_plain_text_429_knob() -> None:
    with (
        Sandbox(time_scale=0.02, rate_limit=1, rate_limit_body="text") as sb,
        client(sb, "v1") as c,
    ):
        assert c.get("/apps").status_code == 200
        limited = c.get("/apps")
        sb.configure(rate_limit=0, force_429=1)
        forced = c.get("/apps")
        sb.configure(rate_limit_body="json", force_429=1)
        envelope = c.get("/apps")
    for r in (limited, forced):
        assert r.status_code == 429 and r.text == PLAIN
        assert r.headers["content-type"].startswith("text/plain")
        assert int(r.headers["Retry-After"]) >= 1
    assert envelope.status_code == 429 and envelope.json()["code"] == "RATE_LIMITED"
    with pytest.raises(ValueError, match="rate_limit_body"):
        Sandbox(rate_limit_body="html")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_knob_answers_run_posts_with_3xx_and_creates_nothing(status: int) -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, redirect_status=status) as sb:
        t2i = sb.app_id("Text to Image")
        with client(sb, "v1") as v1, client(sb, "api") as api:
            listed = v1.get("/apps")
            moved = v1.post(f"/apps/{t2i}/runs?webhook=http://127.0.0.1:9/x", json={"inputs": {}})
            moved_api = api.post(f"/apps/{t2i}/executions", json={"inputs": {"Prompt": "x"}})
            sb.configure(redirect_location="http://127.0.0.1:1/login")
            custom = v1.post(f"/apps/{t2i}/runs", json={"inputs": {"Prompt": "x"}})
            sb.configure(redirect_status=0)
            created = v1.post(f"/apps/{t2i}/runs", json={"inputs": {"Prompt": "x"}})
        assert listed.status_code == 200  # only run POSTs are redirected
        assert moved.status_code == status and moved_api.status_code == status
        assert moved.headers["location"] == (
            f"https://app.uselamina.ai/v1/apps/{t2i}/runs?webhook=http://127.0.0.1:9/x"
        )
        assert (
            moved_api.headers["location"] == f"https://app.uselamina.ai/api/apps/{t2i}/executions"
        )
        assert "Redirecting to https://app.uselamina.ai/v1/apps/" in moved.text
        assert custom.headers["location"] == "http://127.0.0.1:1/login"
        assert created.status_code == 202
        assert sb.stats.run_creations == 1 and sb.stats.run_requests == 1
        assert sb.stats.faults["redirect"] == 3 and sb.stats.by_status[status] == 3
    with pytest.raises(ValueError, match="redirect_status"):
        Sandbox(redirect_status=200)


def test_cli_flags_for_the_new_knobs() -> None:
    from lamina_notebook.sandbox.__main__ import parser

    args = parser().parse_args(
        ["--credits", "5", "--validation-details", "nested", "--rate-limit-body", "text"]
    )
    assert (args.credits, args.validation_details, args.rate_limit_body) == (5, "nested", "text")
    defaults = parser().parse_args([])
    assert (defaults.validation_details, defaults.rate_limit_body) == ("list", "json")
    with pytest.raises(SystemExit):
        parser().parse_args(["--validation-details", "tree"])
