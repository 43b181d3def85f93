"""Figure 6: sandbox capacity: 200 concurrent executions, then status requests 50 at a time.

The sandbox runs as its own process (``python -m lamina_notebook.sandbox``) so the load
generator does not share its interpreter. ``/healthz`` under the same concurrency is the
side-by-side floor of the HTTP stack (uvicorn + httpx on loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ._harness import Figure, isolated_home, median, ms, percentile

APP = "Text to Image"


@contextlib.contextmanager
def sandbox_process(env: dict[str, str], time_scale: float) -> Iterator[tuple[str, str, int]]:
    """Run the sandbox CLI on a free port; yields (base URL, key, pid); stops it by its pid."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lamina_notebook.sandbox",
            "--port",
            "0",
            "--rate-limit",
            "0",
            "--time-scale",
            str(time_scale),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = key = None
        for line in proc.stdout:
            m = re.search(r"running at (http://\S+)", line)
            url = m.group(1) if m else url
            m = re.search(r"API key: (\S+)", line)
            key = m.group(1) if m else key
            if url and key:
                break
        if not (url and key):
            raise RuntimeError("the sandbox process did not print its URL and key")
        yield url, key, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: Connections the server dropped under a GET, which was then sent again (counted, reported).
_dropped: list[str] = []


async def _timed(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    try:
        r = await http.request(method, url, **kw)
    except (httpx.ReadError, httpx.RemoteProtocolError) as exc:
        # A pooled connection closed by the server as it was reused (the keep-alive race):
        # a GET is safe to send again, as LaminaClient does; a POST is not and fails the figure.
        if method != "GET":
            raise
        _dropped.append(type(exc).__name__)
        r = await http.request(method, url, **kw)
    elapsed = time.perf_counter() - t
    r.raise_for_status()
    return elapsed, r.json() if r.headers.get("content-type", "").startswith(
        "application/json"
    ) else None


async def _load(base: str, key: str, runs: int, gets: int, concurrency: int) -> dict[str, Any]:
    _dropped.clear()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        headers={"x-api-key": key}, limits=limits, timeout=60, trust_env=False
    ) as http:
        apps = (await http.get(f"{base}/api/apps", params={"search": APP})).json()["data"]
        app_id = apps[0]["appId"]

        async def call(method: str, url: str, **kw: Any) -> tuple[float, Any]:
            async with slots:
                return await _timed(http, method, url, **kw)

        posts = await asyncio.gather(
            *(
                call(
                    "POST",
                    f"{base}/api/apps/{app_id}/executions",
                    json={"inputs": {"Prompt": f"capacity {i}"}},
                )
                for i in range(runs)
            )
        )
        ids = [body["data"]["executionId"] for _, body in posts]
        status = await asyncio.gather(
            *(call("GET", f"{base}/api/executions/{ids[i % runs]}") for i in range(gets))
        )
        health = await asyncio.gather(*(call("GET", f"{base}/healthz") for _ in range(gets)))
    in_flight = sum(body["data"]["status"] in ("queued", "running") for _, body in status[-runs:])
    return {
        "post": [t for t, _ in posts],
        "status": [t for t, _ in status],
        "healthz": [t for t, _ in health],
        "in_flight_at_end": in_flight,
        "dropped_connections": len(_dropped),
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _server_note(
    cpu0: float | None, cpu1: float | None, elapsed: float, requests: int, found: dict[str, Any]
) -> str:
    """Where the time goes: the sandbox's own CPU per request, and status vs /healthz."""
    ratio = median(found["status"]) / median(found["healthz"])
    vs = f"status p50 is {ratio:.2f}x the /healthz p50"
    if cpu0 is None or cpu1 is None:
        return f"{vs}; sandbox CPU time not available on this platform"
    busy = (cpu1 - cpu0) / elapsed
    who = (
        "so the sandbox mostly waits and the latency is queueing in the load generator"
        if busy < 0.6
        else "so the sandbox process itself is near saturation"
    )
    return (
        f"{vs}; the sandbox process used {cpu1 - cpu0:.1f} s of CPU in {elapsed:.1f} s "
        f"({(cpu1 - cpu0) / requests * 1000:.1f} ms per request, {busy:.0%} of one core), "
        f"{who}"
    )


def run(quick: bool = False) -> Figure:
    runs, gets, concurrency = (20, 100, 10) if quick else (200, 2000, 50)
    with isolated_home() as env, sandbox_process(env, time_scale=20.0) as (base, key, pid):
        t, cpu0 = time.perf_counter(), cpu_seconds(pid)
        found = asyncio.run(_load(base, key, runs, gets, concurrency))
        elapsed, cpu1 = time.perf_counter() - t, cpu_seconds(pid)
    server = _server_note(cpu0, cpu1, elapsed, runs + 2 * gets + 1, found)
    rows = [
        [
            name,
            len(found[k]),
            ms(median(found[k])),
            ms(percentile(found[k], 99)),
            f"{len(found[k]) / sum(found[k]) * concurrency:.0f}/s",
        ]
        for name, k in (
            (f"POST run ({runs} executions)", "post"),
            (f"GET status ({runs} executions in flight)", "status"),
            ("GET /healthz (stack floor)", "healthz"),
        )
    ]
    return Figure(
        key="6",
        title=f"Sandbox capacity: {runs} concurrent executions, {concurrency} requests in flight",
        columns=["request", "count", "p50", "p99", "throughput (approx.)"],
        rows=rows,
        target="reported (no target); all executions still in flight while measured",
        met=None,
        notes=[
            f"{found['in_flight_at_end']}/{runs} executions were still queued/running at the "
            f"last status round; total {elapsed:.1f} s; sandbox in its own process, "
            "load from one asyncio httpx client (its own overhead is in every latency, "
            "as /healthz shows); "
            f"{found['dropped_connections']} GET(s) met a connection the sandbox had closed "
            "(keep-alive) and were sent again, their time included",
            server,
        ],
        data={
            "runs": runs,
            "gets": gets,
            "concurrency": concurrency,
            **found,
            "server_cpu_seconds": None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
        },
    )
