"""Tests for webhook verification and the receiver: every check, key forms, dedupe, end to end."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lamina_notebook.errors import ConfigurationError, WebhookVerificationError
from lamina_notebook.models import Execution
from lamina_notebook.webhooks import WebhookReceiver, load_public_keys, verify_webhook

NOW = 1_800_000_000


def jwk(private: Ed25519PrivateKey, kid: str = "k1") -> dict[str, str]:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


def der_b64(private: Ed25519PrivateKey) -> str:
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def body_for(execution_id: str = "ex-1", status: str = "completed") -> bytes:
    data = {
        "executionId": execution_id,
        "status": status,
        "workflowId": "wf",
        "outputs": [
            {
                "id": "o1",
                "label": "Image",
                "type": "image",
                "status": "completed",
                "value": "https://cdn.example/a.png",
            }
        ],
    }
    return json.dumps({"data": data}).encode()


def signed(
    private: Ed25519PrivateKey, body: bytes, *, ts: int = NOW, request_id: str = "ex-1"
) -> dict[str, str]:
    signature = private.sign(f"{ts}.".encode() + body).hex()
    return {
        "X-Lamina-Webhook-Signature": signature,
        "X-Lamina-Webhook-Timestamp": str(ts),
        "X-Lamina-Webhook-Request-Id": request_id,
        "X-Lamina-Webhook-User-Id": "user-1",
        "Content-Type": "application/json",
    }


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


# -- verify_webhook -----------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["jwk", "jwks", "der", "pem", "raw", "list", "object"])
def test_every_key_form_verifies(key: Ed25519PrivateKey, form: str) -> None:
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keys: Any = {
        "jwk": jwk(key),
        "jwks": {"keys": [jwk(key)]},
        "der": der_b64(key),
        "pem": pem,
        "raw": raw,
        "list": [der_b64(key)],
        "object": key.public_key(),
    }[form]
    body = body_for()
    data = verify_webhook(body, signed(key, body), keys, now=NOW)
    assert data["executionId"] == "ex-1" and data["status"] == "completed"


def test_any_key_of_several_and_lowercase_headers(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    body = body_for()
    headers = {k.lower(): v for k, v in signed(key, body).items()}
    keys = {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB"}, jwk(other_key, "old"), jwk(key)]}
    assert verify_webhook(body, headers, keys, now=NOW)["executionId"] == "ex-1"


def test_timestamp_window_edges(key: Ed25519PrivateKey) -> None:
    body = body_for()
    verify_webhook(body, signed(key, body, ts=NOW - 300), [jwk(key)], now=NOW)
    verify_webhook(body, signed(key, body, ts=NOW + 300), [jwk(key)], now=NOW)
    with pytest.raises(WebhookVerificationError, match="301 s old"):
        verify_webhook(body, signed(key, body, ts=NOW - 301), [jwk(key)], now=NOW)
    with pytest.raises(WebhookVerificationError, match="in the future"):
        verify_webhook(body, signed(key, body, ts=NOW + 1000), [jwk(key)], now=NOW)
    verify_webhook(body, signed(key, body, ts=NOW - 1000), [jwk(key)], now=NOW, tolerance=2000)


def test_defaults_to_the_real_clock(key: Ed25519PrivateKey) -> None:
    body = body_for()
    verify_webhook(body, signed(key, body, ts=int(time.time())), [jwk(key)])
    with pytest.raises(WebhookVerificationError, match="old"):
        verify_webhook(body, signed(key, body, ts=int(time.time()) - 3600), [jwk(key)])


def _tamper(
    case: str, key: Ed25519PrivateKey, other: Ed25519PrivateKey
) -> tuple[bytes, dict[str, str]]:
    body = body_for()
    headers = signed(key, body)
    if case == "missing signature":
        del headers["X-Lamina-Webhook-Signature"]
    elif case == "missing request id":
        del headers["X-Lamina-Webhook-Request-Id"]
    elif case == "timestamp not integer":
        headers["X-Lamina-Webhook-Timestamp"] = "soon"
    elif case == "bad hex":
        headers["X-Lamina-Webhook-Signature"] = "zz" * 64
    elif case == "short signature":
        headers["X-Lamina-Webhook-Signature"] = "ab" * 10
    elif case == "tampered body":
        body = body.replace(b"completed", b"failed", 1)
    elif case == "wrong key":
        headers = signed(other, body)
    elif case == "signed other timestamp":
        headers["X-Lamina-Webhook-Timestamp"] = str(NOW + 1)
    elif case == "request id mismatch":
        headers = signed(key, body, request_id="ex-2")
    elif case == "not json":
        body = b"<html>"
        headers = signed(key, body)
    elif case == "no data":
        body = b'{"executionId": "ex-1"}'
        headers = signed(key, body)
    return body, headers


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing signature", "missing header X-Lamina-Webhook-Signature"),
        ("missing request id", "missing header X-Lamina-Webhook-Request-Id"),
        ("timestamp not integer", "not an integer"),
        ("bad hex", "not hex"),
        ("short signature", "holds 10 bytes"),
        ("tampered body", "signature does not match"),
        ("wrong key", "signature does not match"),
        ("signed other timestamp", "signature does not match"),
        ("request id mismatch", "differs from data.executionId"),
        ("not json", "not JSON"),
        ("no data", 'no "data" object'),
    ],
)
def test_each_failure_names_its_reason(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey, case: str, reason: str
) -> None:
    body, headers = _tamper(case, key, other_key)
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(body, headers, [jwk(key)], now=NOW)
    assert reason in str(info.value)
    assert "signing-key" in str(info.value)  # the hint says where keys come from


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ([], "no Ed25519 key"),
        ({"keys": [{"kty": "RSA"}]}, "no Ed25519 key"),
        ("not base64 !!", "cannot read"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "holds 3 bytes"),
        (42, "unsupported key"),
    ],
)
def test_unusable_keys_are_reported(keys: Any, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        load_public_keys(keys)


# -- receiver -----------------------------------------------------------------------------------


@pytest.fixture
def receiver(key: Ed25519PrivateKey) -> Iterator[WebhookReceiver]:
    with WebhookReceiver([jwk(key)]) as r:
        yield r


def post(receiver: WebhookReceiver, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(receiver.url, content=body, headers=headers, timeout=10)


def test_receiver_accepts_once_and_ignores_duplicates(
    receiver: WebhookReceiver, key: Ed25519PrivateKey
) -> None:
    got: list[Execution] = []
    receiver.subscribe(got.append)
    body = body_for()
    now = int(time.time())
    first = post(receiver, body, signed(key, body, ts=now))
    # A retry is freshly signed with a new timestamp but the same request id.
    again = post(receiver, body, signed(key, body, ts=now + 1))
    assert (first.status_code, again.status_code) == (200, 200)
    assert "duplicate" in again.text
    assert [e.execution_id for e in got] == ["ex-1"]
    assert got[0].is_completed and got[0].outputs[0].value == "https://cdn.example/a.png"
    assert receiver.get("ex-1") == got[0]
    assert (receiver.stats.accepted, receiver.stats.duplicates) == (1, 1)


def test_receiver_rejects_forgeries_with_4xx(
    receiver: WebhookReceiver, key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    got: list[Execution] = []
    receiver.subscribe(got.append)
    now = int(time.time())
    body = body_for("ex-9")
    cases = [
        (body.replace(b"completed", b"failed", 1), signed(key, body, ts=now, request_id="ex-9")),
        (body, signed(other_key, body, ts=now, request_id="ex-9")),
        (body, signed(key, body, ts=now - 3600, request_id="ex-9")),
        (body, signed(key, body, ts=now, request_id="ex-8")),
        (body, {"Content-Type": "application/json"}),
    ]
    statuses = [post(receiver, b, h).status_code for b, h in cases]
    assert statuses == [401, 401, 401, 400, 400]
    assert got == [] and receiver.get("ex-9") is None
    assert receiver.stats.rejected == 5 and receiver.stats.accepted == 0
    # The genuine delivery still goes through after the forgeries.
    assert post(receiver, body, signed(key, body, ts=now, request_id="ex-9")).status_code == 200
    assert [e.execution_id for e in got] == ["ex-9"]


def test_receiver_http_edges(key: Ed25519PrivateKey) -> None:
    with WebhookReceiver([jwk(key)], max_body=1000, path="hook") as receiver:
        assert receiver.url.endswith("/hook")
        base = receiver.url.rsplit("/", 1)[0]
        assert httpx.get(receiver.url).status_code == 200
        assert httpx.post(base + "/elsewhere", content=b"{}").status_code == 404
        assert httpx.post(receiver.url, content=b"x" * 5000).status_code == 413
        chunked = httpx.post(receiver.url, content=iter([b"{}"]))
        assert chunked.status_code == 411


def test_subscriber_errors_do_not_break_the_receiver(
    receiver: WebhookReceiver, key: Ed25519PrivateKey
) -> None:
    def broken(execution: Execution) -> None:
        raise RuntimeError("subscriber bug")

    got: list[Execution] = []
    receiver.subscribe(broken)
    unsubscribe = receiver.subscribe(got.append)
    now = int(time.time())
    for n in (1, 2):
        body = body_for(f"e{n}")
        assert post(receiver, body, signed(key, body, ts=now, request_id=f"e{n}")).is_success
        unsubscribe()
    assert [e.execution_id for e in got] == ["e1"]
    assert receiver.stats.callback_errors == 2


def test_a_200_means_every_subscriber_has_the_delivery(
    receiver: WebhookReceiver, key: Ed25519PrivateKey
) -> None:
    """The answer waits for the hand-off, so the sender's 200 acknowledges a delivery that the
    subscribers hold (nothing is lost between the answer and the hand-off)."""
    finished: list[str] = []

    def slow(execution: Execution) -> None:
        time.sleep(0.3)
        finished.append(execution.execution_id)

    receiver.subscribe(slow)
    body = body_for("slow")
    answer = post(receiver, body, signed(key, body, ts=int(time.time()), request_id="slow"))
    assert answer.status_code == 200 and answer.text == "ok"
    assert finished == ["slow"]


def test_a_retry_during_a_slow_hand_off_is_a_duplicate_not_a_second_call(
    receiver: WebhookReceiver, key: Ed25519PrivateKey
) -> None:
    """A subscriber slower than the sender's timeout gets a resend; it is answered at once as a
    duplicate while the first delivery still waits for its hand-off."""
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    answers: list[httpx.Response] = []

    def slow(execution: Execution) -> None:
        calls.append(execution.execution_id)
        entered.set()
        release.wait(10)

    receiver.subscribe(slow)
    body = body_for("held")
    now = int(time.time())
    first = threading.Thread(
        target=lambda: answers.append(
            post(receiver, body, signed(key, body, ts=now, request_id="held"))
        )
    )
    first.start()
    try:
        assert entered.wait(10), "the subscriber was never called"
        retry = post(receiver, body, signed(key, body, ts=now + 5, request_id="held"))
        assert retry.status_code == 200 and "duplicate" in retry.text
        assert answers == []  # the first delivery is answered only after its hand-off
    finally:
        release.set()
        first.join(10)
    assert [a.status_code for a in answers] == [200] and answers[0].text == "ok"
    assert calls == ["held"]


def test_dedupe_memory_is_bounded(key: Ed25519PrivateKey) -> None:
    with WebhookReceiver([jwk(key)], remember=2) as receiver:
        now = int(time.time())
        for eid in ("a", "b", "c"):
            body = body_for(eid)
            post(receiver, body, signed(key, body, ts=now, request_id=eid))
        assert receiver.get("a") is None and receiver.get("c") is not None


def test_lazy_keys_are_fetched_once_and_refreshed_on_rotation(
    key: Ed25519PrivateKey, other_key: Ed25519PrivateKey
) -> None:
    current = {"keys": [jwk(key)]}
    calls: list[float] = []

    def fetch() -> dict[str, Any]:
        calls.append(time.monotonic())
        return current

    with WebhookReceiver(fetch, key_refresh_interval=0) as receiver:
        assert calls == []  # nothing fetched before the first delivery
        now = int(time.time())
        body = body_for("r1")
        assert post(receiver, body, signed(key, body, ts=now, request_id="r1")).is_success
        assert len(calls) == 1
        current = {"keys": [jwk(other_key, "k2")]}  # the service rotated its key
        body = body_for("r2")
        assert post(receiver, body, signed(other_key, body, ts=now, request_id="r2")).is_success
        assert len(calls) == 2 and receiver.stats.key_refreshes == 2


def test_key_refresh_is_rate_limited(key: Ed25519PrivateKey, other_key: Ed25519PrivateKey) -> None:
    """Forged deliveries must not turn the receiver into a key-endpoint hammer."""
    calls: list[int] = []

    def fetch() -> list[dict[str, str]]:
        calls.append(1)
        return [jwk(key)]

    with WebhookReceiver(fetch, key_refresh_interval=3600) as receiver:
        now = int(time.time())
        for n in range(3):
            body = body_for(f"f{n}")
            resp = post(receiver, body, signed(other_key, body, ts=now, request_id=f"f{n}"))
            assert resp.status_code == 401
        assert len(calls) == 1


def test_key_fetch_failure_answers_503_so_lamina_retries(key: Ed25519PrivateKey) -> None:
    def fetch() -> list[Any]:
        raise OSError("signing-key endpoint unreachable")

    with WebhookReceiver(fetch) as receiver:
        body = body_for()
        assert post(receiver, body, signed(key, body, ts=int(time.time()))).status_code == 503
        assert receiver.stats.last_rejection == "signing keys unavailable"


def test_receiver_lifecycle_errors(key: Ed25519PrivateKey) -> None:
    receiver = WebhookReceiver([jwk(key)])
    with pytest.raises(ConfigurationError, match="start"):
        _ = receiver.url
    assert (
        WebhookReceiver([jwk(key)], public_url="https://tunnel.example/h").url
        == "https://tunnel.example/h"
    )
    with receiver:
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(ConfigurationError, match="another port"):
            WebhookReceiver([jwk(key)], port=port).start()
        assert receiver.start() is receiver  # idempotent
    assert not receiver.running
    receiver.stop()
    with pytest.raises(WebhookVerificationError):
        WebhookReceiver("garbage!!")  # bad keys fail at construction, not on delivery


def test_concurrent_retries_deliver_once(receiver: WebhookReceiver, key: Ed25519PrivateKey) -> None:
    got: list[Execution] = []
    receiver.subscribe(got.append)
    body = body_for("race")
    now = int(time.time())
    results: list[int] = []

    def send(offset: int) -> None:
        results.append(
            post(receiver, body, signed(key, body, ts=now + offset, request_id="race")).status_code
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 8
    assert len(got) == 1 and receiver.stats.duplicates == 7


# -- end to end against the sandbox -------------------------------------------------------------


def start_run(sandbox: Any, webhook: str, app: str = "Text to Image") -> str:
    """Start a run over plain HTTP with ``?webhook=``; returns the execution id."""
    resp = httpx.post(
        f"{sandbox.base_url}/api/apps/{sandbox.app_id(app)}/executions",
        params={"webhook": webhook},
        json={"inputs": {"Prompt": "a lighthouse"}},
        headers={"x-api-key": sandbox.api_key},
        timeout=10,
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["data"]["webhookUrl"] == webhook
    return str(resp.json()["data"]["executionId"])


def deliveries_for(sandbox: Any, execution_id: str, count: int) -> list[Any]:
    """The sandbox's delivery attempts for one execution, once ``count`` of them happened."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [d for d in sandbox.stats.deliveries if d.execution_id == execution_id]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"sandbox made fewer than {count} deliveries for {execution_id}")


def fetch_signing_keys(sandbox: Any) -> dict[str, Any]:
    resp = httpx.get(
        f"{sandbox.base_url}/api/webhooks/signing-key",
        headers={"x-api-key": sandbox.api_key},
        timeout=10,
    )
    resp.raise_for_status()
    return dict(resp.json())


def test_sandbox_delivery_is_verified_with_the_published_jwk(sandbox: Any) -> None:
    done = threading.Event()
    got: list[Execution] = []

    def on_delivery(execution: Execution) -> None:
        got.append(execution)
        done.set()

    with WebhookReceiver(lambda: fetch_signing_keys(sandbox)) as receiver:
        receiver.subscribe(on_delivery)
        execution_id = start_run(sandbox, receiver.url)
        assert done.wait(20), f"no delivery accepted; stats {receiver.stats}"
        attempts = deliveries_for(sandbox, execution_id, 1)
    assert [(d.attempt, d.status) for d in attempts] == [(1, 200)]
    assert [e.execution_id for e in got] == [execution_id]
    assert got[0].is_completed and got[0].outputs[0].value
    polled = httpx.get(
        f"{sandbox.base_url}/api/executions/{execution_id}", headers={"x-api-key": sandbox.api_key}
    ).json()["data"]
    assert got[0].outputs[0].value == polled["outputs"][0]["value"]
    assert (receiver.stats.accepted, receiver.stats.rejected) == (1, 0)


def test_sandbox_delivery_verifies_with_the_spki_form(sandbox: Any) -> None:
    done = threading.Event()
    with WebhookReceiver([sandbox.public_key_spki_b64]) as receiver:
        receiver.subscribe(lambda e: done.set())
        execution_id = start_run(sandbox, receiver.url)
        assert done.wait(20), f"no delivery accepted; stats {receiver.stats}"
    assert receiver.get(execution_id) is not None


def test_sandbox_retries_after_a_503_and_is_accepted_once(sandbox: Any) -> None:
    """The first attempt finds the key endpoint down (503); the freshly signed retry passes."""
    calls: list[int] = []

    def flaky_keys() -> dict[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("signing-key endpoint unreachable")
        return fetch_signing_keys(sandbox)

    got: list[Execution] = []
    with WebhookReceiver(flaky_keys) as receiver:
        receiver.subscribe(got.append)
        execution_id = start_run(sandbox, receiver.url)
        attempts = deliveries_for(sandbox, execution_id, 2)
    assert [(d.attempt, d.status) for d in attempts] == [(1, 503), (2, 200)]
    assert [e.execution_id for e in got] == [execution_id]


def test_sandbox_delivery_with_the_wrong_key_is_refused(
    sandbox: Any, other_key: Ed25519PrivateKey
) -> None:
    with WebhookReceiver([jwk(other_key)]) as receiver:
        got: list[Execution] = []
        receiver.subscribe(got.append)
        execution_id = start_run(sandbox, receiver.url)
        first = deliveries_for(sandbox, execution_id, 1)[0]
    assert first.status == 401 and got == []
    assert receiver.stats.accepted == 0 and receiver.stats.rejected >= 1
    assert "signature does not match" in (receiver.stats.last_rejection or "")
