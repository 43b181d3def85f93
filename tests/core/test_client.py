"""LaminaClient against the real sandbox over loopback: endpoints, names, validation, runs,
waiting, resuming, the journal, webhooks, and the key never leaking.

Every test runs twice, once per edition of the API (``/api`` and ``/v1``, the ``edition``
fixture). Faults and retries are in ``test_client_faults.py``; the rate budget and poller in
``test_scheduling.py``; what only ``/v1`` offers in ``test_v1_*.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from client_support import edition, fast_client, is_run_post  # noqa: F401 (edition: fixture)

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import (
    AppNotFoundError,
    AuthenticationError,
    ConfigurationError,
    ExecutionFailed,
    InputValidationError,
    InvalidResponseError,
    LaminaError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WaitTimeout,
)
from lamina_notebook.journal import Journal
from lamina_notebook.models import Execution
from lamina_notebook.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("edition")

T = TypeVar("T")
PHOTO = "https://example.com/cat.jpg"
UNREACHABLE = "http://127.0.0.1:9/missing.png"  # the sandbox cannot read it: the run fails


def use(sb: Any, body: Callable[[LaminaClient], Awaitable[T]], **kw: Any) -> T:
    """Run ``body(client)`` on a fresh loop with a fresh client, closed afterwards."""

    async def main() -> T:
        async with fast_client(sb, **kw) as client:
            return await body(client)

    return asyncio.run(main())


# -- apps ---------------------------------------------------------------------------------------


def test_list_apps_search_and_limit(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        apps = await c.list_apps()
        assert [a.name for a in apps] == sandbox.app_names
        assert all(a.parameters is None for a in apps)
        found = await c.list_apps(search="catalog")
        assert found[0].name == "Catalog Studio"
        assert len(await c.list_apps(limit=2)) == 2
        with pytest.raises(ConfigurationError, match="positive integer"):
            await c.list_apps(limit=0)

    use(sandbox, body)


def test_get_app_has_parameters_and_is_cached(sandbox: Any) -> None:
    app_id = sandbox.app_id("Photo Stylizer")

    async def body(c: LaminaClient) -> None:
        app = await c.get_app(app_id)
        assert app.name == "Photo Stylizer" and app.app_id == app_id
        assert [p.name for p in app.parameters or ()] == ["Upload", "Style", "Aspect Ratio"]
        before = sandbox.stats.requests
        assert await c.get_app(app_id) is app
        assert sandbox.stats.requests == before

    use(sandbox, body)


def test_resolve_app_by_name_id_or_app(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        by_name = await c.resolve_app("photo STYLIZER")
        assert by_name.app_id == sandbox.app_id("Photo Stylizer")
        assert await c.resolve_app(by_name.app_id) is by_name
        listed = (await c.list_apps(search="Upscaler"))[0]
        assert (await c.resolve_app(listed)).parameters is not None

    use(sandbox, body)


def test_a_resolved_name_costs_no_request_the_second_time(sandbox: Any) -> None:
    """`info APP` then `run APP`: the run sends the POST and nothing else."""

    async def body(c: LaminaClient) -> None:
        first = await c.resolve_app("Photo Stylizer")
        before = sandbox.stats.snapshot()
        assert await c.resolve_app("Photo Stylizer") is first
        assert await c.resolve_app("  photo STYLIZER ") is first  # the same name, as typed
        assert sandbox.stats.requests == before["requests"]
        await c.run("Photo Stylizer", {"Upload": PHOTO})
        assert sandbox.stats.requests - before["requests"] == 1
        assert sandbox.stats.run_requests - before["run_requests"] == 1
        with pytest.raises(AppNotFoundError):  # a miss is not cached: the app may appear later
            await c.resolve_app("Photo Stylizr")
        sent = sandbox.stats.requests
        with pytest.raises(AppNotFoundError):
            await c.resolve_app("Photo Stylizr")
        assert sandbox.stats.requests > sent

    use(sandbox, body)


def test_run_trusts_the_app_and_inputs_it_resolved_and_validated(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The magic's path: an App with parameters and the ValidInputs that validate_inputs gave
    go out as the POST alone: no second resolve (even on a client with empty caches), no
    second validation. A plain dict is still checked."""
    import lamina_notebook.client as client_module

    checks: list[object] = []
    real_check = client_module.validate_inputs

    def counted(*args: Any, **kw: Any) -> Any:
        checks.append(args[1])
        return real_check(*args, **kw)

    monkeypatch.setattr(client_module, "validate_inputs", counted)

    async def main() -> None:
        async with fast_client(sandbox) as resolver:
            app = await resolver.resolve_app("Photo Stylizer")
        async with fast_client(sandbox) as c:  # nothing cached: a resolve would cost a GET
            clean = c.validate_inputs(app, {"Upload": PHOTO})
            assert len(checks) == 1
            before = sandbox.stats.snapshot()
            run = await c.run(app, clean)
            assert sandbox.stats.requests - before["requests"] == 1
            assert sandbox.stats.run_requests - before["run_requests"] == 1
            assert len(checks) == 1 and run.app_name == "Photo Stylizer"
            await c.run(app, dict(clean))
            assert len(checks) == 2

    asyncio.run(main())


def test_unknown_name_lists_close_candidates(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        with pytest.raises(AppNotFoundError) as info:
            await c.resolve_app("Photo Stylizr")
        assert "Photo Stylizer" in info.value.candidates
        assert "%lamina apps" in str(info.value)
        with pytest.raises(AppNotFoundError, match="No app with id"):
            await c.resolve_app("00000000-0000-4000-8000-000000000000")

    use(sandbox, body)


def test_several_apps_with_one_name_is_an_error_listing_them() -> None:
    twins = [
        {
            "name": "Twin",
            "appId": f"00000000-0000-4000-8000-00000000000{i}",
            "parameters": [{"name": "Prompt", "type": "text"}],
        }
        for i in (1, 2)
    ]
    with Sandbox(time_scale=0.02, rate_limit=0, extra_apps=twins) as sb:

        async def body(c: LaminaClient) -> None:
            with pytest.raises(AppNotFoundError) as info:
                await c.resolve_app("twin")
            assert len(info.value.candidates) == 2
            assert all("(00000000-0000-4000-8000-" in c for c in info.value.candidates)
            assert "app id" in str(info.value)

        use(sb, body)


# -- runs ---------------------------------------------------------------------------------------


def test_run_is_journaled_before_it_returns_then_completes(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> tuple[Execution, Execution]:
        started = await c.run("Photo Stylizer", {"Upload": PHOTO, "Style": "Ghibli"})
        assert c.journal is not None
        entry = c.journal.get(started.execution_id)
        assert entry is not None and entry.app_name == "Photo Stylizer"
        assert entry.inputs == {"Upload": PHOTO, "Style": "Ghibli"}
        assert entry.base_url == sandbox.base_url
        return started, await c.wait(started, check=True)

    started, done = use(sandbox, body)
    assert started.status == "queued"
    assert started.app_name == done.app_name == "Photo Stylizer"
    assert done.app_id == sandbox.app_id("Photo Stylizer")
    assert done.is_completed and done.outputs[0].is_completed
    assert done.outputs[0].value and done.outputs[0].value.startswith(sandbox.base_url)
    entry = Journal().get(done.execution_id)
    assert entry is not None and entry.status == "completed" and entry.completed_at


def test_invalid_inputs_send_nothing(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        await c.resolve_app("Photo Stylizer")
        before = sandbox.stats.run_requests
        with pytest.raises(InputValidationError) as info:
            await c.run("Photo Stylizer", {"Upload": "javascript:alert(1)", "Stlye": "Ghibli"})
        assert len(info.value.details) == 2
        with pytest.raises(InputValidationError, match="webhook"):
            await c.run("Photo Stylizer", {"Upload": PHOTO}, webhook="ftp://hooks.example/x")
        assert sandbox.stats.run_requests == before

    use(sandbox, body)


def test_service_side_validation_error_carries_details(sandbox: Any) -> None:
    # Skip the client's own check to prove the service's 400 is read properly.
    async def body(c: LaminaClient) -> None:
        app = await c.resolve_app("Photo Stylizer")
        c.validate_inputs = lambda app, inputs: dict(inputs or {})  # type: ignore[method-assign]
        with pytest.raises(ValidationError) as info:
            await c.run(app, {"Upload": PHOTO, "Style": "Mars"})
        err = info.value
        assert err.status_code == 400 and err.request_id and err.request_id.startswith("req_")
        assert any("Mars" in d for d in err.details)
        assert "request id: req_" in str(err)

    use(sandbox, body)


def test_failed_run_raises_execution_failed_only_when_checked(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        run = await c.run("Photo Stylizer", {"Upload": UNREACHABLE})
        final = await c.wait(run.execution_id)
        assert final.status == "failed" and final.error_message
        with pytest.raises(ExecutionFailed) as info:
            await c.wait(run.execution_id, check=True)
        assert info.value.execution.execution_id == run.execution_id
        assert run.execution_id in str(info.value)

    use(sandbox, body)


def test_watch_yields_each_change_and_on_update_sees_them(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> list[str]:
        run = await c.run("Catalog Studio", {"Upload": PHOTO})
        seen: list[str] = []
        final = await c.wait(run, on_update=lambda e: seen.append(e.status))
        assert final.status == "completed" and seen[-1] == "completed"
        return seen

    statuses = use(sandbox, body)
    assert statuses[0] == "queued"
    assert statuses == sorted(statuses, key=["queued", "running", "completed"].index)


def test_errors_from_the_service_map_to_the_tree(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        with pytest.raises(NotFoundError) as info:
            await c.get_execution("no-such-execution")
        assert info.value.status_code == 404
        with pytest.raises(PermissionDeniedError):
            await c.run("Acme Brand Kit", {"Prompt": "logo"})

    use(sandbox, body)


def test_wrong_key_is_an_authentication_error_without_the_key(sandbox: Any) -> None:
    async def main() -> None:
        async with LaminaClient("lma_wrong_secret", sandbox.base_url) as c:
            with pytest.raises(AuthenticationError) as info:
                await c.list_apps()
        assert "lma_wrong_secret" not in str(info.value) + repr(info.value)
        assert "LAMINA_API_KEY" in str(info.value)

    asyncio.run(main())


def test_missing_key_names_the_fix(isolated_home: Path) -> None:
    async def main() -> None:
        async with LaminaClient(base_url="http://127.0.0.1:9", journal=None) as c:
            assert c.key_source is None
            with pytest.raises(ConfigurationError, match="%lamina login"):
                await c.list_apps()

    asyncio.run(main())


def test_key_and_base_url_from_the_environment(sandbox_env: Any) -> None:
    async def main() -> None:
        async with LaminaClient(journal=None) as c:
            assert c.key_source == "LAMINA_API_KEY" and c.base_url == sandbox_env.base_url
            assert await c.list_apps(limit=1)

    asyncio.run(main())


# -- waiting, stopping, resuming ----------------------------------------------------------------


def test_timeout_raises_wait_timeout_and_the_run_goes_on(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        run = await c.run("Image to Video", {"Upload": PHOTO})
        with pytest.raises(WaitTimeout) as info:
            await c.wait(run, timeout=0.0)
        assert info.value.execution_id == run.execution_id
        assert "%lamina resume" in str(info.value)
        assert c._poller.active == 0
        assert (await c.wait(run.execution_id)).is_terminal

    use(sandbox, body)


def test_cancelling_a_wait_stops_watching_only(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        run = await c.run("Image to Video", {"Upload": PHOTO})
        waiter = asyncio.ensure_future(c.wait(run))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert c._poller.active == 0
        resumed = await c.resume(run.execution_id)
        assert resumed.app_name == "Image to Video"
        assert (await c.wait(resumed)).is_terminal

    use(sandbox, body)


def test_breaking_out_of_watch_unregisters(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        run = await c.run("Image to Video", {"Upload": PHOTO})
        async with contextlib.aclosing(c.watch(run)) as states:
            async for state in states:
                assert state.status == "queued"
                break
        assert c._poller.active == 0

    use(sandbox, body)


def test_several_waiters_share_one_poll(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        run = await c.run("Photo Stylizer", {"Upload": PHOTO})
        a, b = await asyncio.gather(c.wait(run.execution_id), c.wait(run.execution_id))
        assert a.status == b.status == "completed"
        assert c._poller.active == 0

    use(sandbox, body)


def test_poll_interval_has_a_floor() -> None:
    c = LaminaClient("lma_x", "http://127.0.0.1:9", journal=None)
    assert c._interval(None) == 3.0
    assert c._interval(0.2) == 1.0
    assert c._interval(10) == 10


def test_second_process_resumes_from_the_journal(sandbox: Any, isolated_home: Path) -> None:
    async def body(c: LaminaClient) -> str:
        run = await c.run("Image to Video", {"Upload": PHOTO, "Motion": "Orbit"})
        return run.execution_id

    execution_id = use(sandbox, body)
    script = (
        "import asyncio, json, sys\n"
        "from lamina_notebook.client import LaminaClient\n"
        "async def main():\n"
        "    async with LaminaClient(min_poll_interval=0.01, poll_interval=0.05) as c:\n"
        "        e = await c.resume(sys.argv[1])\n"
        "        e = await c.wait(e)\n"
        "        print(json.dumps([e.execution_id, e.status, e.app_name,"
        " c.history()[0].inputs]))\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "LAMINA_API_KEY": sandbox.api_key, "LAMINA_BASE_URL": sandbox.base_url}
    out = subprocess.run(
        [sys.executable, "-c", script, execution_id],
        env=env,
        timeout=60,
        capture_output=True,
        text=True,
        check=True,
    )
    got_id, status, app_name, inputs = json.loads(out.stdout)
    assert (got_id, status, app_name) == (execution_id, "completed", "Image to Video")
    assert inputs == {"Upload": PHOTO, "Motion": "Orbit"}
    assert sandbox.api_key not in out.stdout + out.stderr


# -- webhooks -----------------------------------------------------------------------------------


def test_webhook_delivery_completes_the_wait(sandbox: Any) -> None:
    from lamina_notebook.webhooks import WebhookReceiver

    async def body(c: LaminaClient) -> None:
        receiver = WebhookReceiver(keys=await c.signing_keys()).start()
        try:
            c.use_webhooks(receiver)
            run = await c.run("Photo Stylizer", {"Upload": PHOTO})
            assert run.webhook_url == receiver.url
            # Polling is 10x the interval (50 s) as a safety net, so only the webhook can
            # finish this wait before the timeout.
            final = await c.wait(run, timeout=30)
            assert final.is_completed and final.app_name == "Photo Stylizer"
            assert receiver.stats.accepted >= 1
            entry = c.journal.get(run.execution_id) if c.journal else None
            assert entry is not None and entry.status == "completed"
            assert entry.webhook_url == receiver.url
        finally:
            c.use_webhooks(None)
            receiver.stop()

    use(sandbox, body, poll_interval=5.0)


class HeldRunReplies(httpx.AsyncBaseTransport):
    """Real HTTP, but a run POST's reply is handed to the client only after ``hold`` returns:
    the service has answered (and may have delivered the webhook), the client has not read it.
    """

    def __init__(self, hold: Callable[[], Awaitable[None]]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.hold = hold

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if is_run_post(request):
            await self.hold()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_webhook_that_beats_the_run_reply_still_names_the_app(sandbox: Any) -> None:
    """The delivery reaches the client before the POST's reply is read: wait() still returns
    the execution tagged with its app, and the journal row has the app and the final state."""
    import threading

    from lamina_notebook.webhooks import WebhookReceiver

    handed = threading.Event()  # set by a subscriber called after the client's own

    async def hold_until_the_delivery_is_handed_over() -> None:
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, handed.wait, 20):
            pytest.fail("the sandbox's webhook delivery never reached the receiver (20 s)")
        # The client's hand-off (call_soon_threadsafe) was queued before ``handed`` was set,
        # so it has run on this loop by the time this coroutine resumes.

    async def main() -> None:
        seam = HeldRunReplies(hold_until_the_delivery_is_handed_over)
        async with fast_client(sandbox, transport=seam, poll_interval=5.0) as c:
            receiver = WebhookReceiver(keys=await c.signing_keys()).start()
            try:
                c.use_webhooks(receiver)
                receiver.subscribe(lambda execution: handed.set())
                run = await c.run("Photo Stylizer", {"Upload": PHOTO})
                assert handed.is_set() and run.status == "queued"
                final = await c.wait(run, timeout=30)  # polling is 50 s away: the webhook's
                assert final.is_completed
                assert (final.app_id, final.app_name) == (run.app_id, "Photo Stylizer")
                entry = c.journal.get(run.execution_id) if c.journal else None
                assert entry is not None and entry.status == "completed"
                assert entry.app_name == "Photo Stylizer" and entry.inputs == {"Upload": PHOTO}
            finally:
                c.use_webhooks(None)
                receiver.stop()

    asyncio.run(main())


# -- downloads ----------------------------------------------------------------------------------


def test_fetch_bytes_sends_the_key_only_to_the_api_host(sandbox: Any) -> None:
    seen: list[httpx.Request] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"})

    async def main() -> None:
        async with LaminaClient(
            sandbox.api_key, sandbox.base_url, journal=None, transport=httpx.MockTransport(cdn)
        ) as c:
            data, mime = await c.fetch_bytes("https://cdn.example/out.png")
            assert (data, mime) == (b"\x89PNG", "image/png")
            await c.fetch_bytes(sandbox.base_url + "/files/x.png")
            with pytest.raises(LaminaError, match="larger than 2 bytes"):
                await c.fetch_bytes("https://cdn.example/big.png", max_bytes=2)

    asyncio.run(main())
    assert "x-api-key" not in seen[0].headers
    assert seen[1].headers["x-api-key"] == sandbox.api_key


def test_save_downloads_every_output_with_a_manifest(sandbox: Any, tmp_path: Path) -> None:
    async def body(c: LaminaClient) -> Path:
        run = await c.run("Catalog Studio", {"Upload": PHOTO})
        return await c.save(await c.wait(run, check=True), tmp_path / "shots")

    manifest_path = use(sandbox, body)
    manifest = json.loads(manifest_path.read_text())
    assert manifest_path.parent == tmp_path / "shots"
    assert len(manifest["outputs"]) == 2
    files = sorted(p.name for p in manifest_path.parent.iterdir() if p.suffix == ".png")
    assert len(files) == 2


def test_expired_output_url_names_the_fix(sandbox: Any) -> None:
    async def body(c: LaminaClient) -> None:
        with pytest.raises(NotFoundError) as info:
            await c.fetch_bytes(sandbox.base_url + "/files/nope/nothing.png")
        assert "expire" in str(info.value) and "%lamina resume" in str(info.value)

    use(sandbox, body)


# -- the key never leaks; one client, one loop --------------------------------------------------


def test_the_key_never_appears_in_reprs_logs_errors_or_the_journal(
    sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key = sandbox.api_key
    texts: list[str] = []

    async def body(c: LaminaClient) -> None:
        texts.extend([repr(c), str(vars(c)), repr(c._http), repr(c.budget)])
        run = await c.run("Photo Stylizer", {"Upload": PHOTO})
        await c.wait(run)
        for call in (c.get_execution("nope"), c.run("Photo Stylizer", {"Upload": "x"})):
            with pytest.raises(LaminaError) as info:
                await call
            texts.extend([str(info.value), repr(info.value)])

    with caplog.at_level(logging.DEBUG):
        use(sandbox, body)
    texts.append(caplog.text)
    assert caplog.text  # httpx and the client did log requests
    journal_bytes = Journal().path.read_bytes()
    assert key.encode() not in journal_bytes
    for text in texts:
        assert key not in text


def test_a_client_serves_one_event_loop(sandbox: Any) -> None:
    client = fast_client(sandbox, journal=None)
    asyncio.run(client.list_apps(limit=1))
    with pytest.raises(LaminaError, match="another event loop"):
        asyncio.run(client.list_apps(limit=1))


def test_closed_client_refuses_work(sandbox: Any) -> None:
    async def main() -> None:
        c = fast_client(sandbox, journal=None)
        await c.aclose()
        await c.aclose()  # idempotent
        assert c.closed
        with pytest.raises(LaminaError, match="closed"):
            await c.list_apps()

    asyncio.run(main())


def test_history_without_a_journal_is_empty() -> None:
    c = LaminaClient("lma_x", "http://127.0.0.1:9", journal=None)
    assert c.history() == [] and c.journal is None
    assert repr(c) == "LaminaClient(base_url='http://127.0.0.1:9', key_source='argument')"


def test_wrong_envelopes_are_invalid_responses_and_headers_are_set() -> None:
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/apps"):  # either edition
            return httpx.Response(200, json={"apps": []})
        return httpx.Response(200, json={"data": {"keys": "none"}})

    async def main() -> None:
        async with LaminaClient(
            "lma_k",
            "https://lamina.test",
            journal=None,
            rate_limit=0,
            transport=httpx.MockTransport(service),
        ) as c:
            with pytest.raises(InvalidResponseError, match="envelope"):
                await c.list_apps()
            with pytest.raises(InvalidResponseError, match="no list of keys"):
                await c.signing_keys()

    asyncio.run(main())
    assert seen[0].headers["x-api-key"] == "lma_k"
    assert seen[0].headers["user-agent"].startswith("lamina-notebook/")
    assert "lma_k" not in str(seen[0].url)


def test_a_run_sent_with_a_held_token_takes_no_other_and_refunds_it_when_refused(
    sandbox: Any,
) -> None:
    """``run(token_held=True)`` sends with the caller's token (a grid marks its cell
    "starting" only once its POST can go at once) and gives it back if nothing is sent."""

    async def main() -> None:
        async with fast_client(sandbox, rate_limit=10, rate_period=60.0) as client:
            app = await client.resolve_app("Text to Image")
            before = client.budget.acquired
            await client.budget.acquire()
            assert client.budget.available == 10 - 1 - before
            execution = await client.run(app, {"Prompt": "a fox"}, token_held=True)
            assert execution.execution_id
            assert client.budget.acquired == before + 1  # the POST used the held token
            await client.budget.acquire()
            free = client.budget.available
            with pytest.raises(InputValidationError):
                await client.run(app, {"Prompt": "a fox", "Style": "Mars"}, token_held=True)
            assert client.budget.available == free + 1  # refunded: nothing was sent

    asyncio.run(main())
