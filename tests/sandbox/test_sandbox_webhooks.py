"""Signed webhook deliveries, verified here with only the published key (JWK and SPKI forms)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from lamina_notebook.sandbox import Sandbox


class Receiver:
    """A real HTTP server on 127.0.0.1 that records deliveries and answers ``statuses`` in turn."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.statuses = list(statuses or [])
        self.got = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.got:
                    outer.deliveries.append((raw, {k.lower(): v for k, v in self.headers.items()}))
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.got.notify_all()
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/lamina-callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 30) -> list[tuple[bytes, dict[str, str]]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.deliveries) >= n, timeout), self.deliveries
            return list(self.deliveries)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def jwk_key(jwk: dict[str, str]) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(raw: bytes, headers: dict[str, str], key: Ed25519PublicKey) -> dict[str, Any]:
    """What a receiver does: timestamp window, signature over "{ts}.{body}", request id."""
    ts = headers["x-lamina-webhook-timestamp"]
    if abs(time.time() - int(ts)) > 300:
        raise ValueError("stale timestamp")
    key.verify(bytes.fromhex(headers["x-lamina-webhook-signature"]), ts.encode() + b"." + raw)
    data: dict[str, Any] = json.loads(raw)["data"]
    if data["executionId"] != headers["x-lamina-webhook-request-id"]:
        raise ValueError("request id mismatch")
    return data


def run_with_hook(
    sb: Any, hook: str, app: str = "Text to Image", inputs: dict[str, str] | None = None
) -> str:
    with httpx.Client(trust_env=False) as c:
        r = c.post(
            f"{sb.base_url}/api/apps/{sb.app_id(app)}/executions",
            params={"webhook": hook},
            headers={"x-api-key": sb.api_key},
            json={"inputs": inputs or {"Prompt": "a lighthouse"}},
        )
    assert r.status_code == 202, r.text
    return str(r.json()["data"]["executionId"])


def test_delivery_verifies_with_published_jwk_and_spki(sandbox: Any, receiver: Receiver) -> None:
    with httpx.Client(trust_env=False) as c:
        keys = c.get(
            f"{sandbox.base_url}/api/webhooks/signing-key", headers={"x-api-key": sandbox.api_key}
        ).json()["keys"]
    assert keys[0]["kty"] == "OKP" and keys[0]["alg"] == "EdDSA" and keys[0]["use"] == "sig"
    execution_id = run_with_hook(sandbox, receiver.url)
    raw, headers = receiver.wait_for(1)[0]
    assert headers["content-type"] == "application/json"
    assert headers["x-lamina-webhook-user-id"]
    data = verify(raw, headers, jwk_key(keys[0]))
    assert data["executionId"] == execution_id and data["status"] == "completed"
    assert data["outputs"][0]["status"] == "completed"
    spki = load_der_public_key(base64.b64decode(sandbox.public_key_spki_b64))
    assert isinstance(spki, Ed25519PublicKey)
    assert verify(raw, headers, spki) == data
    with httpx.Client(trust_env=False) as c:
        polled = c.get(
            f"{sandbox.base_url}/api/executions/{execution_id}",
            headers={"x-api-key": sandbox.api_key},
        ).json()["data"]
    assert polled["outputs"] == data["outputs"] and polled["completedAt"] == data["completedAt"]
    assert sandbox.api_key not in raw.decode() and sandbox.api_key not in str(headers)


def test_tampered_delivery_is_rejected(sandbox: Any, receiver: Receiver) -> None:
    run_with_hook(sandbox, receiver.url)
    raw, headers = receiver.wait_for(1)[0]
    key = jwk_key(sandbox.signing_jwk)
    verify(raw, headers, key)
    with pytest.raises(InvalidSignature):
        verify(raw.replace(b"completed", b"COMPLETED", 1), headers, key)
    with pytest.raises(InvalidSignature):
        verify(raw, {**headers, "x-lamina-webhook-timestamp": str(int(time.time()) - 1)}, key)
    with pytest.raises(InvalidSignature):
        verify(raw, headers, Ed25519PublicKey.from_public_bytes(bytes(32)))
    old = str(int(time.time()) - 301)
    with pytest.raises(ValueError, match="stale"):
        verify(raw, {**headers, "x-lamina-webhook-timestamp": old}, key)


def test_failed_execution_is_delivered_too(sandbox: Any, receiver: Receiver) -> None:
    run_with_hook(
        sandbox, receiver.url, "Upscaler 4x", {"Upload": f"{sandbox.base_url}/samples/tiny.png"}
    )
    raw, headers = receiver.wait_for(1)[0]
    data = verify(raw, headers, jwk_key(sandbox.signing_jwk))
    assert data["status"] == "failed" and data["errorMessage"]


def test_non_2xx_is_retried_three_times_freshly_signed() -> None:
    receiver = Receiver(statuses=[500, 503, 404, 200])
    try:
        with Sandbox(time_scale=0.01, rate_limit=0) as sb:
            execution_id = run_with_hook(sb, receiver.url)
            got = receiver.wait_for(4)
            key = jwk_key(sb.signing_jwk)
            for raw, headers in got:
                verify(raw, headers, key)
            while len(sb.stats.deliveries) < 4:
                time.sleep(0.01)
            attempts = [
                (d.attempt, d.status) for d in sb.stats.deliveries if d.execution_id == execution_id
            ]
    finally:
        receiver.close()
    assert attempts == [(1, 500), (2, 503), (3, 404), (4, 200)]
    assert len({h["x-lamina-webhook-signature"] for _, h in got}) >= 1
    assert all(h["x-lamina-webhook-request-id"] == execution_id for _, h in got)


def test_gives_up_after_three_retries_and_refuses_remote_hosts() -> None:
    receiver = Receiver(statuses=[500] * 10)
    try:
        with Sandbox(time_scale=0.01, rate_limit=0) as sb:
            failing = run_with_hook(sb, receiver.url)
            remote = run_with_hook(sb, "https://your-server.com/cb")
            receiver.wait_for(4)
            while sb.pending_deliveries:
                time.sleep(0.01)
            deliveries = sb.stats.deliveries
            refused = sb.stats.webhooks_refused
    finally:
        receiver.close()
    assert len(receiver.deliveries) == 4
    assert [d.status for d in deliveries if d.execution_id == failing] == [500] * 4
    remote_attempts = [d for d in deliveries if d.execution_id == remote]
    assert refused == 1 and remote_attempts[0].status is None
    assert "loopback" in (remote_attempts[0].error or "")


def test_signing_key_is_loaded_from_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    with Sandbox(signing_key_path=path, rate_limit=0) as first:
        jwk = first.signing_jwk
    assert path.stat().st_mode & 0o777 == 0o600
    with Sandbox(signing_key_path=path, rate_limit=0) as second:
        assert second.signing_jwk == jwk
    with Sandbox(rate_limit=0) as other:
        assert other.signing_jwk["x"] != jwk["x"]
