"""Webhook gaps not covered by test_webhooks.py: timestamps ahead of the clock, byte-exact
replays, stale replays of once-valid deliveries, and replays of a real sandbox delivery.

Tampered bodies, wrong keys, bad hex, old timestamps and id mismatches are in test_webhooks.py.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lamina_notebook.models import Execution
from lamina_notebook.webhooks import WebhookReceiver


def _jwk(private: Ed25519PrivateKey) -> dict[str, str]:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": "k",
        "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode(),
    }


def _delivery(private: Ed25519PrivateKey, execution_id: str, ts: int) -> tuple[bytes, dict]:
    body = json.dumps(
        {"data": {"executionId": execution_id, "status": "completed", "outputs": []}}
    ).encode()
    return body, {
        "X-Lamina-Webhook-Signature": private.sign(f"{ts}.".encode() + body).hex(),
        "X-Lamina-Webhook-Timestamp": str(ts),
        "X-Lamina-Webhook-Request-Id": execution_id,
        "Content-Type": "application/json",
    }


def _wait_for(predicate: Any, what: str, timeout: float = 10.0) -> None:
    """Wait for ``predicate()``; fail the test naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout:g} s")
        time.sleep(0.01)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def receiver(key: Ed25519PrivateKey) -> Iterator[tuple[WebhookReceiver, list[Execution]]]:
    got: list[Execution] = []
    with WebhookReceiver([_jwk(key)]) as r:
        r.subscribe(got.append)
        yield r, got


@pytest.mark.parametrize(
    ("offset", "status"),
    [(330, 401), (3600, 401), (-330, 401), (-3600, 401), (270, 200), (-270, 200)],
)
def test_timestamp_window_both_ways_over_http(
    receiver: Any, key: Ed25519PrivateKey, offset: int, status: int
) -> None:
    r, got = receiver
    body, headers = _delivery(key, f"ex-{offset}", int(time.time()) + offset)
    reply = httpx.post(r.url, content=body, headers=headers)
    assert reply.status_code == status, reply.text
    assert len(got) == (1 if status == 200 else 0)
    if status == 401:
        assert "timestamp" in reply.text.lower() or "old" in reply.text.lower()


def test_a_byte_exact_replay_is_accepted_once(receiver: Any, key: Ed25519PrivateKey) -> None:
    r, got = receiver
    body, headers = _delivery(key, "ex-replay", int(time.time()))
    answers = [httpx.post(r.url, content=body, headers=headers).status_code for _ in range(5)]
    assert answers == [200] * 5  # a 2xx, so the service stops retrying
    assert [e.execution_id for e in got] == ["ex-replay"]
    assert (r.stats.accepted, r.stats.duplicates) == (1, 4)


def test_a_stale_replay_of_a_valid_delivery_is_rejected(key: Ed25519PrivateKey) -> None:
    """Captured once, replayed 10 minutes later to a fresh receiver (no dedupe memory)."""
    body, headers = _delivery(key, "ex-stale", int(time.time()) - 600)
    got: list[Execution] = []
    with WebhookReceiver([_jwk(key)]) as r:
        r.subscribe(got.append)
        reply = httpx.post(r.url, content=body, headers=headers)
    assert reply.status_code == 401 and got == []


def test_a_real_sandbox_delivery_is_accepted_once_and_a_forgery_is_not(sandbox: Any) -> None:
    got: list[Execution] = []
    with WebhookReceiver([sandbox.signing_jwk]) as r:
        r.subscribe(got.append)
        reply = httpx.post(
            f"{sandbox.base_url}/api/apps/{sandbox.app_id('Text to Image')}/executions",
            params={"webhook": r.url},
            json={"inputs": {"Prompt": "hooked"}},
            headers={"x-api-key": sandbox.api_key},
        )
        execution_id = reply.json()["data"]["executionId"]
        _wait_for(lambda: r.get(execution_id) is not None, "the sandbox's delivery", 30)
        accepted = r.get(execution_id)
        assert accepted is not None and accepted.is_terminal
        # A delivery for the same execution that Lamina did not sign is refused.
        raw = json.dumps(
            {"data": {"executionId": execution_id, "status": "completed", "outputs": []}}
        ).encode()
        forged = httpx.post(
            r.url,
            content=raw,
            headers={
                "X-Lamina-Webhook-Signature": "ab" * 64,
                "Content-Type": "application/json",
                "X-Lamina-Webhook-Timestamp": str(int(time.time())),
                "X-Lamina-Webhook-Request-Id": execution_id,
            },
        )
        assert forged.status_code == 401
        # r.get() has it once verified; the hand-off to subscribers follows (before the 200).
        _wait_for(lambda: got, "the sandbox's delivery reaching the subscriber")
    assert [e.execution_id for e in got] == [execution_id]
