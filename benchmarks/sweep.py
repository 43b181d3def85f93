"""Figure 1: a 48-run sweep of a 20 s app under the service's 100 requests/minute, four clients.

(a) the seed's Python sample, once per input, sequentially; (b) a naive concurrent client that
polls every run every 3 s on its own; (c) LaminaClient polling; (d) LaminaClient + webhooks.
Time is compressed by ``scale``: server durations, the rate window, every poll interval and the
seed's 5 s sleep are all multiplied by it, so the ratios are those of the real service.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from ._harness import CountingTransport, Figure, median

APP = "Bench Sweep 20s"
APP_DEF: dict[str, Any] = {
    "name": APP,
    "description": "A 20 s app for the sweep benchmark.",
    "duration": 20.0,
    "parameters": [{"name": "Prompt", "type": "text"}],
    "outputs": [{"label": "Text", "type": "text", "text": "done"}],
}
RATE_LIMIT = 100  # the service's requests per minute
TERMINAL = ("completed", "failed", "cancelled")


@dataclass
class Arm:
    """One client's run of the sweep, in service seconds (wall time divided by the scale)."""

    name: str
    wall: float
    client_requests: int
    server_requests: int
    client_429: int
    server_429: int
    completed: int
    lower_bound: float

    @property
    def ratio(self) -> float:
        return self.wall / self.lower_bound


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _server_duration(finals: list[dict[str, Any]]) -> float:
    """Median seconds from creation to completion as the service reports them."""
    spans = [
        _iso(f["completedAt"]) - _iso(f["createdAt"])
        for f in finals
        if f.get("completedAt") and f.get("createdAt")
    ]
    return median(spans)


def _sandbox(scale: float) -> Any:
    from lamina_notebook.sandbox import Sandbox

    return Sandbox(
        time_scale=scale,
        rate_limit=RATE_LIMIT,
        rate_window=60.0 * scale,
        extra_apps=[APP_DEF],
        seed=7,
    )


def _lower_bound(duration: float, requests: int, scale: float) -> float:
    """max(run duration, minimum requests / rate), in service seconds."""
    return max(duration / scale, requests / RATE_LIMIT * 60.0)


def _arm(
    name: str,
    sb: Any,
    t0: float,
    finals: list[dict[str, Any]],
    counting: CountingTransport | None,
    client_429: int,
    client_requests: int,
    min_requests: int,
    scale: float,
) -> Arm:
    wall = time.perf_counter() - t0
    stats = sb.stats
    return Arm(
        name,
        wall / scale,
        client_requests,
        stats.requests,
        client_429,
        stats.by_status.get(429, 0),
        sum(f.get("status") == "completed" for f in finals),
        _lower_bound(_server_duration(finals), min_requests, scale),
    )


# -- (a) the seed's sample -------------------------------------------------------------------


def seed_flow(n: int, scale: float) -> Arm:
    """The seed's Python sample (requests-style, blocking), once per input, sequentially.

    The sample would crash on a 429 (``.json()["data"]``); here a 429 is counted and the same
    request is tried again after the sample's 5 s sleep, so the run can finish.
    """
    with _sandbox(scale) as sb:
        base, headers = sb.base_url + "/api", {"x-api-key": sb.api_key}
        app_id = sb.app_id(APP)
        finals: list[dict[str, Any]] = []
        sent = rejected = 0
        with httpx.Client(headers=headers, trust_env=False) as http:
            sb.reset_stats()
            t0 = time.perf_counter()
            for i in range(n):
                while True:
                    sent += 1
                    r = http.post(
                        f"{base}/apps/{app_id}/executions",
                        json={"inputs": {"Prompt": f"input {i}"}},
                    )
                    if r.status_code != 429:
                        break
                    rejected += 1
                    time.sleep(5 * scale)
                exec_id = r.json()["data"]["executionId"]
                while True:
                    sent += 1
                    r = http.get(f"{base}/executions/{exec_id}")
                    if r.status_code == 429:
                        rejected += 1
                    elif r.json()["data"]["status"] in TERMINAL:
                        finals.append(r.json()["data"])
                        break
                    time.sleep(5 * scale)
            return _arm(
                "(a) seed sample, sequential, 5 s sleep",
                sb,
                t0,
                finals,
                None,
                rejected,
                sent,
                2 * n,
                scale,
            )


# -- (b) a naive concurrent client -----------------------------------------------------------


async def _naive(n: int, scale: float) -> Arm:
    """Every run polls itself every 3 s with no shared budget; a 429 is counted and retried at
    the run's next 3 s tick (Retry-After is ignored, as replicate-style loops do)."""
    with _sandbox(scale) as sb:
        counting = CountingTransport()
        base, app_id = sb.base_url + "/api", sb.app_id(APP)
        async with httpx.AsyncClient(
            transport=counting, headers={"x-api-key": sb.api_key}, timeout=30
        ) as http:

            async def one(i: int) -> dict[str, Any]:
                while True:
                    r = await http.post(
                        f"{base}/apps/{app_id}/executions",
                        json={"inputs": {"Prompt": f"input {i}"}},
                    )
                    if r.status_code != 429:
                        break
                    await asyncio.sleep(3 * scale)
                exec_id = r.json()["data"]["executionId"]
                while True:
                    await asyncio.sleep(3 * scale)
                    r = await http.get(f"{base}/executions/{exec_id}")
                    if r.status_code == 200 and r.json()["data"]["status"] in TERMINAL:
                        return dict(r.json()["data"])

            sb.reset_stats()
            t0 = time.perf_counter()
            finals = list(await asyncio.gather(*(one(i) for i in range(n))))
        return _arm(
            "(b) naive concurrent, 3 s each",
            sb,
            t0,
            finals,
            counting,
            counting.by_status[429],
            counting.sent,
            2 * n,
            scale,
        )


# -- (c), (d) ours ---------------------------------------------------------------------------


async def _ours(n: int, scale: float, webhooks: bool) -> Arm:
    from lamina_notebook.client import LaminaClient
    from lamina_notebook.webhooks import WebhookReceiver

    with _sandbox(scale) as sb, tempfile.TemporaryDirectory() as tmp:
        counting = CountingTransport()
        client = LaminaClient(
            sb.api_key,
            sb.base_url,
            transport=counting,
            rate_period=60.0 * scale,
            poll_interval=3.0 * scale,
            min_poll_interval=1.0 * scale,
            retry_backoff=0.5 * scale,
            journal=Path(tmp) / "journal.sqlite3",
        )
        receiver = WebhookReceiver({"keys": [sb.signing_jwk]}) if webhooks else None
        try:
            if receiver is not None:
                receiver.start()
                client.use_webhooks(receiver)
            app = await client.resolve_app(APP)
            # Start the sweep in a fresh rate window, with the app lookup not counted.
            await asyncio.sleep(60.0 * scale)
            sb.reset_stats()
            before, before_429 = counting.sent, counting.by_status[429]

            async def one(i: int) -> dict[str, Any]:
                execution = await client.run(app, {"Prompt": f"input {i}"})
                return dict((await client.wait(execution)).raw)

            t0 = time.perf_counter()
            finals = list(await asyncio.gather(*(one(i) for i in range(n))))
            name = "(d) ours, webhooks" if webhooks else "(c) ours, polling"
            return _arm(
                name,
                sb,
                t0,
                finals,
                counting,
                counting.by_status[429] - before_429,
                counting.sent - before,
                n if webhooks else 2 * n,
                scale,
            )
        finally:
            await client.aclose()
            if receiver is not None:
                receiver.stop()


def run(quick: bool = False) -> Figure:
    n, scale = (6, 0.01) if quick else (48, 0.05)
    arms = [
        seed_flow(n, scale),
        asyncio.run(_naive(n, scale)),
        asyncio.run(_ours(n, scale, webhooks=False)),
        asyncio.run(_ours(n, scale, webhooks=True)),
    ]
    ours = arms[2:]
    met = all(
        a.client_429 == 0 and a.server_429 == 0 and a.ratio <= 1.25 and a.completed == n
        for a in ours
    )
    rows = [
        [
            a.name,
            f"{a.wall:.1f} s",
            a.client_requests,
            a.server_requests,
            f"{a.client_429}/{a.server_429}",
            f"{a.completed}/{n}",
            f"{a.lower_bound:.1f} s",
            f"{a.ratio:.2f}x",
        ]
        for a in arms
    ]
    return Figure(
        key="1",
        title=f"Sweep of {n} runs of a 20 s app under {RATE_LIMIT} requests/min",
        columns=[
            "client",
            "wall (service s)",
            "requests (client)",
            "requests (server)",
            "429s (client/server)",
            "completed",
            "lower bound",
            "wall / bound",
        ],
        rows=rows,
        target="ours: zero 429s and <= 1.25x the lower bound",
        met=met,
        notes=[
            f"time compressed {1 / scale:.0f}x (durations, rate window, intervals, sleeps); "
            "seconds shown are service seconds (wall / scale)",
            "lower bound = max(server time of one run incl. queue, minimum requests / "
            f"{RATE_LIMIT} per min); minimum requests = 2 per run polling (POST + one GET), "
            "1 per run with webhooks",
            "server requests of (c)/(d) exclude the app lookup (done before, in its own "
            "rate window)",
        ],
        data={"runs": n, "scale": scale, "arms": [dict(a.__dict__, ratio=a.ratio) for a in arms]},
    )
