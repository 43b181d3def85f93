"""Every endpoint, in each edition, recorded on the wire and checked against the contract pages.

The tables below restate the contract as data: ``../shared/lamina-api.md`` ("Endpoints", the
``/api`` edition) and ``../shared/lamina-api-v1.md`` ("Same resources, other paths and id field"
and "Endpoints only in /v1"). A client drives every endpoint once against the sandbox through a
recording transport; each exchange (method, path, query, body keys, status, answer keys) must
match its row, and every row must have been exercised. The wire transcript of one run in each
edition is printed for the log.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from client_support import Exchange, Recorder, fast_client
from PIL import Image

from lamina_notebook.client import LaminaClient
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.webhooks import WebhookReceiver

ID = r"[^/]+"


@dataclass(frozen=True)
class Row:
    """One line of a contract table: what a request may carry and what its answer holds."""

    call: str
    method: str
    path: str  # a regex over the URL path
    status: int
    query: frozenset[str] = frozenset()  # parameters it may have
    body: frozenset[str] = frozenset()  # top-level JSON keys it must have
    body_optional: frozenset[str] = frozenset()
    answer: frozenset[str] = frozenset({"data"})  # top-level keys the answer must have
    answer_optional: frozenset[str] = frozenset()
    data: frozenset[str] = frozenset()  # keys its "data" must have (the id field, ...)

    def matches(self, e: Exchange) -> bool:
        return e.method == self.method and re.fullmatch(self.path, e.path) is not None


def row(call: str, method: str, path: str, status: int = 200, **kw: Any) -> Row:
    return Row(call, method, path, status, **{k: frozenset(v) for k, v in kw.items()})


# ../shared/lamina-api.md, "Endpoints" (the seeds' /api edition)
API_TABLE = [
    row("list apps", "GET", "/api/apps", query={"search", "limit"}, data={"appId", "name"}),
    row("get app", "GET", f"/api/apps/{ID}", data={"appId", "name", "parameters"}),
    row(
        "run",
        "POST",
        f"/api/apps/{ID}/executions",
        202,
        query={"webhook"},
        body={"inputs"},
        data={"executionId", "status", "outputs"},
    ),
    row("get execution", "GET", f"/api/executions/{ID}", data={"executionId", "status"}),
    row("signing key", "GET", "/api/webhooks/signing-key", answer={"keys"}),
]

# ../shared/lamina-api-v1.md, "Same resources..." and "Endpoints only in /v1"
V1_TABLE = [
    row("list apps", "GET", "/v1/apps", query={"search", "limit"}, data={"appId", "name"}),
    row("get app", "GET", f"/v1/apps/{ID}", data={"appId", "name", "parameters", "outputs"}),
    row(
        "run",
        "POST",
        f"/v1/apps/{ID}/runs",
        202,
        query={"webhook"},
        body={"inputs"},
        body_optional={"outputs"},
        data={"runId", "status", "outputs"},
    ),
    row("get run", "GET", f"/v1/runs/{ID}", data={"runId", "status"}),
    row("signing key", "GET", "/v1/webhooks/signing-key", answer={"keys"}),
    row("cancel", "POST", f"/v1/runs/{ID}/cancel", data={"runId", "status"}),
    row("upload urls", "POST", "/v1/assets/upload-urls", body={"files"}, data={"uploads"}),
    row(
        "estimate",
        "POST",
        f"/v1/apps/{ID}/estimate",
        data={"appId", "estimatedCredits", "breakdown", "currentBalance", "affordable"},
    ),
    row(
        "list runs",
        "GET",
        "/v1/runs",
        query={"status", "appId", "limit", "offset", "since"},
        answer={"data", "pagination"},
        data={"runId", "status", "source", "createdAt"},
    ),
    row(
        "wait",
        "GET",
        f"/v1/runs/{ID}/wait",
        query={"timeout"},
        answer_optional={"timeout"},
        data={"runId", "status"},
    ),
    row("account", "GET", "/v1/account", data={"user", "workspace"}),
]
TABLES = {"api": API_TABLE, "v1": V1_TABLE}
PHOTO = "https://example.com/cat.jpg"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def every_endpoint(
    c: LaminaClient, edition: str, app_id: str, receiver: WebhookReceiver
) -> str:
    """One call of each endpoint the edition has; the id of the run it started."""
    await c.list_apps(search="Stylizer", limit=5)
    app = await c.get_app(app_id)
    run = await c.run(app, {"Upload": PHOTO}, webhook=receiver.url)
    await c.get_execution(run.execution_id)
    await c.wait(run)
    await c.signing_keys()
    if edition == "v1":
        await c.cancel(run)
        await c.upload(png(), filename="swatch.png")
        await c.estimate(app)
        await c.list_runs(status="completed", app=app, limit=5, offset=0, since=0.0)
        await c.account()
    return run.execution_id


@pytest.fixture(scope="module")
def wire() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:
        yield sb


@pytest.mark.parametrize("edition", ["api", "v1"])
def test_every_exchange_matches_its_contract_row(
    wire: Sandbox, edition: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = Recorder()
    app_id = wire.app_id("Photo Stylizer")

    async def main() -> str:
        async with fast_client(wire, api_edition=edition, transport=rec, journal=None) as c:
            with WebhookReceiver(keys=list) as receiver:
                return await every_endpoint(c, edition, app_id, receiver)

    run_id = asyncio.run(main())
    table = TABLES[edition]
    api = [e for e in rec.exchanges if e.path.startswith(("/api/", "/v1/"))]
    storage = [e for e in rec.exchanges if e not in api]
    used: set[str] = set()
    for e in api:
        found = [r for r in table if r.matches(e)]
        assert found, f"{e.line} is in no row of the {edition} contract"
        r = found[0]
        used.add(r.call)
        assert e.status == r.status, (r.call, e)
        assert set(e.query) <= r.query, (r.call, e.query)
        assert r.body <= set(e.body_keys) <= r.body | r.body_optional, (r.call, e.body_keys)
        assert r.answer <= set(e.answer_keys) <= r.answer | r.answer_optional, (r.call, e)
        assert r.data <= set(e.data_keys), (r.call, e.data_keys)
    assert used == {r.call for r in table}, f"rows never exercised: {set(map(str, table)) - used}"
    if edition == "v1":  # the presigned PUT: raw bytes, no API path
        assert [(e.method, e.body_keys, e.status) for e in storage] == [("PUT", ("<bytes>",), 200)]
    else:
        assert storage == []
    started = next(e for e in api if e.method == "POST")
    assert ("runId" in started.data_keys) == (edition == "v1")
    with capsys.disabled():
        print(f"\n[wire] one run, {edition} edition (webhook to a local receiver):")
        for e in [started] + [e for e in api if run_id in e.path]:
            print("   ", e.line)


def test_the_v1_edition_shows_exactly_its_run_paths(wire: Sandbox) -> None:
    """The issue's "done when": with api_edition="v1" the wire shows exactly
    POST /v1/apps/{id}/runs and GET /v1/runs/{id} for a run (polled, no long-poll)."""
    rec = Recorder()
    app_id = wire.app_id("Photo Stylizer")

    async def main() -> str:
        async with fast_client(
            wire, api_edition="v1", transport=rec, journal=None, max_long_polls=0
        ) as c:
            run = await c.run(app_id, {"Upload": PHOTO})
            await c.wait(run)
            return run.execution_id

    run_id = asyncio.run(main())
    run_lines = {f"{e.method} {e.path}" for e in rec.exchanges if e.path != f"/v1/apps/{app_id}"}
    assert run_lines == {f"POST /v1/apps/{app_id}/runs", f"GET /v1/runs/{run_id}"}
