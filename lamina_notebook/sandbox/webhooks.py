"""Signed webhook delivery: the Ed25519 key pair, its JWK, and the retrying delivery tasks.

A delivery POSTs the polling JSON signed over ``"{timestamp}.{raw body}"`` (hex), retried after
5 s, 30 s and 2 min (times ``time_scale``), freshly signed each time. The body is in the edition
that created the run (``executionId`` for /api, ``runId`` for /v1); a cancelled run is delivered
when the cancel lands. Only loopback receivers are contacted unless ``allow_remote_urls`` is set;
others are recorded as refused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import ssl
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .fetch import is_loopback_url
from .state import ExecutionRecord, view
from .stats import Delivery, Settings, Stats

if TYPE_CHECKING:  # pragma: no cover
    from .runs import Runner

RETRY_DELAYS = (5.0, 30.0, 120.0)
TIMEOUT = 15.0
USER_ID = "usr_sandbox_0001"
log = logging.getLogger("lamina_notebook.sandbox")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    """The sandbox's Ed25519 key: generated, or loaded from (and created at) a PEM file."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._key = self._load(Path(path)) if path else Ed25519PrivateKey.generate()
        self.public_raw = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.kid = "sandbox-" + hashlib.sha256(self.public_raw).hexdigest()[:16]

    @staticmethod
    def _load(path: Path) -> Ed25519PrivateKey:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(
                    f"{path} holds no Ed25519 private key; delete it to make a new one"
                )
            return key
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        return key

    def jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url(self.public_raw),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }

    @property
    def spki_b64(self) -> str:
        """The public key as base64 DER/SPKI, the form the seed's Node.js sample takes."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def headers(self, body: bytes, request_id: str) -> dict[str, str]:
        """The four ``X-Lamina-Webhook-*`` headers for ``body``, signed now."""
        ts = str(int(time.time()))
        signature = self._key.sign(ts.encode() + b"." + body).hex()
        return {
            "Content-Type": "application/json",
            "X-Lamina-Webhook-Signature": signature,
            "X-Lamina-Webhook-Timestamp": ts,
            "X-Lamina-Webhook-Request-Id": request_id,
            "X-Lamina-Webhook-User-Id": USER_ID,
        }


class Deliverer:
    """Schedules one task per execution with a webhook, on the server's event loop."""

    def __init__(self, signer: Signer, settings: Settings, stats: Stats, runner: Runner) -> None:
        self.signer = signer
        self.settings = settings
        self.stats = stats
        self.runner = runner
        self._tasks: set[asyncio.Task[None]] = set()
        self._ssl: ssl.SSLContext | None = None

    def schedule(self, rec: ExecutionRecord) -> None:
        """Deliver ``rec`` when it becomes terminal (call from the server loop)."""
        if self._ssl is None:
            # An SSL context costs ~25 ms of CPU on the server loop: build it once, now, rather
            # than per delivery at completion time (a burst of completions would arrive late).
            self._ssl = httpx.create_ssl_context()
        task = asyncio.get_running_loop().create_task(self._deliver(rec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _deliver(self, rec: ExecutionRecord) -> None:
        url = rec.webhook or ""
        await self.runner.wait_terminal(rec, None)
        if not (self.settings.allow_remote_urls or is_loopback_url(url)):
            self.stats.add("webhooks_refused")
            self.stats.record_delivery(
                Delivery(
                    rec.id,
                    1,
                    url,
                    None,
                    "refused: the sandbox only delivers to loopback "
                    "hosts (allow_remote_urls=True to change)",
                    time.time(),
                )
            )
            return
        final = view(rec, at=max(time.time(), rec.completed_at + 0.001), edition=rec.edition)
        body = json.dumps({"data": final}).encode()
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS), 1):
            await asyncio.sleep(delay * self.settings.time_scale)
            if await self._attempt(rec, url, body, attempt):
                return

    async def _attempt(self, rec: ExecutionRecord, url: str, body: bytes, attempt: int) -> bool:
        # A scaled timeout keeps fast test clocks fast, with a floor so loopback never flakes.
        timeout = min(TIMEOUT, max(2.0, TIMEOUT * self.settings.time_scale))
        status: int | None = None
        error: str | None = None
        try:
            async with httpx.AsyncClient(
                timeout=timeout, trust_env=False, verify=self._ssl or True
            ) as client:
                resp = await client.post(
                    url, content=body, headers=self.signer.headers(body, rec.id)
                )
            status = resp.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        self.stats.record_delivery(Delivery(rec.id, attempt, url, status, error, time.time()))
        return status is not None and 200 <= status < 300


def public_info(signer: Signer) -> dict[str, Any]:
    """The signing-key endpoint's body (not wrapped in ``data``, as the contract says)."""
    return {"keys": [signer.jwk()]}
