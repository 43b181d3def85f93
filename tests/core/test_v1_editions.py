"""The edition setting against the real sandbox: what each choice puts on the wire, what ``auto``
costs (measured, in both directions), the older ``api_prefix``, and the /v1 extras refusing on
the /api edition without a request.

An ``/api``-only service is the sandbox behind a transport that answers 404 under ``/v1``
(``client_support.Recorder(absent="/v1")``), as such a service would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from client_support import Recorder, fast_client

from lamina_notebook.client import LaminaClient
from lamina_notebook.editions import NotOfferedError, forget_found_editions
from lamina_notebook.errors import AuthenticationError, ConfigurationError
from lamina_notebook.sandbox import Sandbox

PHOTO = "https://example.com/cat.jpg"


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``auto`` remembers what it found per base URL for the process: start from nothing."""
    monkeypatch.delenv("LAMINA_API_EDITION", raising=False)
    forget_found_editions()
    yield
    forget_found_editions()


def paths(rec: Recorder) -> list[str]:
    return [f"{e.method} {e.path} {e.status}" for e in rec.exchanges]


# -- what auto costs ----------------------------------------------------------------------------


def test_auto_on_a_v1_service_costs_nothing_when_the_app_list_comes_first(sandbox: Any) -> None:
    app_id = sandbox.app_id("Photo Stylizer")

    async def main() -> None:
        rec = Recorder()
        async with fast_client(sandbox, transport=rec) as c:
            assert c.edition_name is None
            assert await c.list_apps()
            assert c.edition_name == "v1" and c.edition_probes == 0
            assert paths(rec) == ["GET /v1/apps 200"]  # the list itself was the probe
            await c.wait(await c.run(app_id, {"Upload": PHOTO}))
        assert all(e.path.startswith("/v1/") for e in rec.exchanges)

    asyncio.run(main())


def test_auto_on_a_v1_service_costs_one_get_before_a_first_run(sandbox: Any) -> None:
    """The first call is a run: auto finds the edition with a GET, never with the POST."""
    app_id = sandbox.app_id("Photo Stylizer")

    async def main() -> None:
        rec = Recorder()
        async with fast_client(sandbox, transport=rec) as c:
            await c.run(app_id, {"Upload": PHOTO})
            assert c.edition_probes == 1
        assert paths(rec) == [
            "GET /v1/apps 200",  # the probe: ?limit=1
            f"GET /v1/apps/{app_id} 200",
            f"POST /v1/apps/{app_id}/runs 202",
        ]
        assert rec.exchanges[0].query == {"limit": "1"}

    asyncio.run(main())


def test_auto_on_an_api_only_service_costs_one_404(sandbox: Any) -> None:
    app_id = sandbox.app_id("Photo Stylizer")

    async def main() -> None:
        listed = Recorder(absent="/v1")
        async with fast_client(sandbox, transport=listed) as c:
            assert [a.name for a in await c.list_apps(search="Stylizer")] == ["Photo Stylizer"]
            assert c.edition_name == "api" and c.edition_probes == 1
            run = await c.run(app_id, {"Upload": PHOTO})
            assert (await c.wait(run)).is_completed
        assert paths(listed)[:3] == [
            "GET /v1/apps 404",
            "GET /api/apps 200",
            f"GET /api/apps/{app_id} 200",
        ]
        assert sum(e.path.startswith("/v1/") for e in listed.exchanges) == 1

        first_run = Recorder(absent="/v1")
        async with fast_client(sandbox, transport=first_run) as c:
            await c.run(app_id, {"Upload": PHOTO})
        assert paths(first_run) == [
            "GET /v1/apps 404",
            f"GET /api/apps/{app_id} 200",
            f"POST /api/apps/{app_id}/executions 202",
        ]

    asyncio.run(main())


def test_auto_probes_once_per_base_url_for_the_whole_process() -> None:
    """A session replaces its client when settings change: the new one for the same service
    does not look again. Measured on the sandbox's own counters, per edition."""
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:

        async def first() -> None:
            async with fast_client(sb) as c:
                await c.run(sb.app_id("Photo Stylizer"), {"Upload": PHOTO})
                assert c.edition_probes == 1

        async def second() -> None:
            async with fast_client(sb) as c:
                before = sb.stats.requests
                assert c.edition_name == "v1"  # known before any request
                await c.get_app(sb.app_id("Text to Image"))
                assert sb.stats.requests - before == 1 and c.edition_probes == 0

        asyncio.run(first())
        asyncio.run(second())
        # the whole process: 1 probe + 2 detail GETs + 1 POST, nothing under /api
        assert sb.stats.requests_by_edition == {"v1": 4}
        print(f"\n[auto] process on a /v1 service: {dict(sb.stats.requests_by_edition)}")


def test_a_failed_probe_is_not_remembered(sandbox: Any) -> None:
    async def main() -> None:
        async with LaminaClient("lma_wrong", sandbox.base_url, journal=None) as c:
            with pytest.raises(AuthenticationError):
                await c.get_app(sandbox.app_id("Photo Stylizer"))
            assert c.edition_name is None  # a 401 says nothing about the edition

    asyncio.run(main())


# -- fixed editions and the older api_prefix ----------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "runs_path", "run_path"),
    [
        ({"api_edition": "v1"}, "/v1/apps/{app}/runs", "/v1/runs/{run}"),
        ({"api_edition": "api"}, "/api/apps/{app}/executions", "/api/executions/{run}"),
        ({"api_prefix": "/v1"}, "/v1/apps/{app}/runs", "/v1/runs/{run}"),
        ({"api_prefix": "/api"}, "/api/apps/{app}/executions", "/api/executions/{run}"),
    ],
)
def test_a_fixed_edition_puts_exactly_its_paths_on_the_wire(
    sandbox: Any, settings: dict[str, str], runs_path: str, run_path: str
) -> None:
    app_id = sandbox.app_id("Photo Stylizer")

    async def main() -> str:
        rec = Recorder()
        async with fast_client(sandbox, transport=rec, **settings) as c:
            assert c.edition_probes == 0 and c.edition_name is not None
            run = await c.run(app_id, {"Upload": PHOTO})
            await c.get_execution(run.execution_id)
            posts = [e.path for e in rec.exchanges if e.method == "POST"]
            gets = {e.path for e in rec.exchanges if e.method == "GET"}
            assert posts == [runs_path.format(app=app_id)]
            assert run_path.format(run=run.execution_id) in gets
            return run.execution_id

    asyncio.run(main())


def test_the_environment_variable_picks_the_edition(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_API_EDITION", "api")
    client = fast_client(sandbox)
    assert client.edition_name == "api" and client.api_prefix == "/api"
    monkeypatch.setenv("LAMINA_API_EDITION", "v2")
    with pytest.raises(ConfigurationError, match="LAMINA_API_EDITION='v2'"):
        fast_client(sandbox)


def test_a_prefix_and_an_edition_that_disagree_are_refused(sandbox: Any) -> None:
    with pytest.raises(ConfigurationError, match="names the v1 edition") as info:
        fast_client(sandbox, api_edition="api", api_prefix="/v1")
    assert "api_edition" in (info.value.hint or "")
    assert fast_client(sandbox, api_edition="v1", api_prefix="/v1").edition_name == "v1"


def test_a_base_url_ending_in_an_edition_prefix_is_not_doubled(sandbox: Any) -> None:
    for suffix in ("/api", "/v1", "/v1/"):
        c = LaminaClient(sandbox.api_key, sandbox.base_url + suffix, journal=None)
        assert c.base_url == sandbox.base_url


# -- the /v1 extras on the /api edition ---------------------------------------------------------


def test_the_v1_extras_refuse_on_the_api_edition_without_a_request(sandbox: Any) -> None:
    async def main() -> None:
        async with fast_client(sandbox, api_edition="api") as c:
            before = sandbox.stats.requests
            calls = {
                "Cancelling a run": c.cancel("some-run"),
                "Uploading a file": c.upload(b"\x89PNG\r\n\x1a\n" + bytes(64)),
                "Estimating a run's cost": c.estimate("Photo Stylizer"),
                "Listing runs": c.list_runs(),
                "Reading the account": c.account(),
            }
            for what, call in calls.items():
                with pytest.raises(NotOfferedError) as info:
                    await call
                assert what in str(info.value)
                assert "not offered by the /api edition" in str(info.value)
                assert "LAMINA_API_EDITION=v1" in (info.value.hint or "")
            assert sandbox.stats.requests == before

    asyncio.run(main())


def test_auto_on_an_api_only_service_says_the_extras_are_not_offered(sandbox: Any) -> None:
    async def main() -> None:
        async with fast_client(sandbox, transport=Recorder(absent="/v1")) as c:
            with pytest.raises(NotOfferedError, match="Cancelling a run"):
                await c.cancel("some-run")
            assert c.edition_name == "api"

    asyncio.run(main())
