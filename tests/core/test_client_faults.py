"""Retries under injected faults, proven by the sandbox's own counters: reads retry through 5xx,
429, drops and garbage; run creation is never resent once it may have reached the server.
Every test runs once per edition of the API (the ``edition`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from client_support import edition, fast_client  # noqa: F401 (edition: fixture)

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import (
    InvalidResponseError,
    LaminaError,
    RateLimitError,
    ServerError,
    TransportError,
    UnconfirmedRunError,
)
from lamina_notebook.models import App, Execution
from lamina_notebook.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("edition")

PHOTO = "https://example.com/cat.jpg"
FAULTS_OFF = {
    "error_rate": 0.0,
    "drop_rate": 0.0,
    "garbage_rate": 0.0,
    "truncate_rate": 0.0,
    "force_429": 0,
}


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0, seed=7) as sb:
        yield sb


@pytest.fixture
def faulty(faulty_server: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with faults off and fresh counters; faults are off again after."""
    faulty_server.configure(**FAULTS_OFF)
    faulty_server.reset_stats()
    yield faulty_server
    faulty_server.configure(**FAULTS_OFF)


async def stylizer(c: LaminaClient) -> App:
    return await c.resolve_app("Photo Stylizer")


def test_reads_retry_through_a_500_burst(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty, max_retries=12) as c:
            app = await stylizer(c)
            run = await c.run(app, {"Upload": PHOTO})
            faulty.configure(error_rate=0.5)
            for _ in range(10):
                assert await c.list_apps(limit=1)
            assert (await c.wait(run)).is_completed

    asyncio.run(main())
    faults = faulty.stats.faults
    assert faults["error_500"] + faults["error_503"] > 0


def test_reads_give_up_with_the_server_error_after_max_retries(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty, max_retries=2) as c:
            faulty.configure(error_rate=1.0)
            before = faulty.stats.requests
            with pytest.raises(ServerError) as info:
                await c.list_apps()
            assert faulty.stats.requests - before == 3
            assert info.value.status_code in (500, 503) and info.value.request_id
            assert "retried" in str(info.value)

    asyncio.run(main())


def test_run_creation_is_not_resent_after_a_5xx(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(error_rate=1.0)
            before = faulty.stats.requests
            with pytest.raises(ServerError) as info:
                await c.run(app, {"Upload": PHOTO})
            assert faulty.stats.requests - before == 1
            assert "MAY have been created" in str(info.value)
            assert "%lamina history" in str(info.value)

    asyncio.run(main())


def test_a_dropped_run_creation_is_not_resent(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(drop_rate=1.0)
            with pytest.raises(TransportError) as info:
                await c.run(app, {"Upload": PHOTO})
            assert info.value.sent is True
            assert "MAY have been created" in str(info.value)
            assert isinstance(info.value.__cause__, httpx.TransportError)

    asyncio.run(main())
    assert faulty.stats.faults["drop"] == 1
    assert faulty.stats.run_requests == 1 and faulty.stats.run_creations == 1


def test_a_429_on_run_creation_is_retried_after_retry_after(faulty: Sandbox) -> None:
    async def main() -> tuple[Execution, int]:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(force_429=1)
            run = await c.run(app, {"Upload": PHOTO})
            return await c.wait(run), c.budget.pauses

    final, pauses = asyncio.run(main())
    assert final.is_completed
    assert faulty.stats.faults["force_429"] == 1 and pauses == 1
    assert faulty.stats.run_requests == 1 and faulty.stats.run_creations == 1


def test_persistent_429_reaches_the_caller_with_retry_after(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty, max_retries=0) as c:
            faulty.configure(force_429=1)
            with pytest.raises(RateLimitError) as info:
                await c.list_apps()
            assert info.value.retry_after == 1.0
            assert "100 requests per minute" in str(info.value)

    asyncio.run(main())


def test_a_poll_retried_under_a_one_request_budget_does_not_wait_on_itself(
    faulty: Sandbox,
) -> None:
    """With room for one request per period, a poll whose GET fails (5xx) is retried: the
    retry needs the slot the poll itself took, so that slot must end with the failed try, not
    with the whole poll, or the retry would wait for itself forever."""

    async def main() -> Execution:
        async with fast_client(faulty, rate_limit=1, rate_period=0.05) as c:
            run = await c.run(await stylizer(c), {"Upload": PHOTO})
            faulty.configure(error_rate=1.0)  # the next polls get 500 or 503
            asyncio.get_running_loop().call_later(0.5, lambda: faulty.configure(error_rate=0.0))
            return await c.wait(run, timeout=20)

    assert asyncio.run(main()).is_completed
    assert faulty.stats.faults["error_500"] + faulty.stats.faults["error_503"] >= 2


def test_a_truncated_run_answer_keeps_the_execution_id(faulty: Sandbox) -> None:
    async def main() -> Execution:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(truncate_rate=1.0)
            run = await c.run(app, {"Upload": PHOTO})
            faulty.configure(truncate_rate=0.0)
            assert c.journal is not None and c.journal.get(run.execution_id) is not None
            return await c.wait(run)

    final = asyncio.run(main())
    assert final.is_completed and final.app_name == "Photo Stylizer"
    assert faulty.stats.run_creations == 1


def test_an_unreadable_run_answer_says_the_run_may_exist(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(garbage_rate=1.0)
            with pytest.raises(InvalidResponseError) as info:
                await c.run(app, {"Upload": PHOTO})
            assert "MAY have been created" in str(info.value)

    asyncio.run(main())
    assert faulty.stats.run_requests == 1 and faulty.stats.run_creations == 1


def test_reads_survive_drops_garbage_and_truncation(faulty: Sandbox) -> None:
    async def main() -> Execution:
        async with fast_client(faulty, max_retries=12) as c:
            run = await c.run(await stylizer(c), {"Upload": PHOTO})
            faulty.configure(drop_rate=0.25, garbage_rate=0.1, truncate_rate=0.1)
            for _ in range(5):
                assert (await c.get_execution(run.execution_id)).execution_id == run.execution_id
            return await c.wait(run)

    assert asyncio.run(main()).is_completed
    assert faulty.stats.faults["drop"] + faulty.stats.faults["garbage"] > 0


class FailFirstConnects(httpx.AsyncBaseTransport):
    """The real HTTP transport, except the first ``n`` requests fail to connect (never sent)."""

    def __init__(self, n: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.left = n
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.left > 0:
            self.left -= 1
            raise httpx.ConnectError("connection refused (test seam)", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_run_creation_is_retried_when_the_connection_failed_before_sending(faulty: Sandbox) -> None:
    async def main() -> None:
        seam = FailFirstConnects(0)
        async with fast_client(faulty, transport=seam) as c:
            app = await stylizer(c)
            seam.left, seam.attempts = 2, 0
            run = await c.run(app, {"Upload": PHOTO})
            assert seam.attempts == 3 and run.execution_id

    asyncio.run(main())
    assert faulty.stats.run_requests == 1 and faulty.stats.run_creations == 1


def test_a_closed_port_is_a_transport_error_that_was_not_sent(faulty: Sandbox) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens

    async def main() -> None:
        async with fast_client(faulty, journal=None) as real:
            app = await stylizer(real)
        async with LaminaClient(
            "lma_sandbox",
            f"http://127.0.0.1:{port}",
            max_retries=2,
            retry_backoff=0.01,
            journal=None,
        ) as c:
            with pytest.raises(TransportError) as info:
                await c.run(app, {"Upload": PHOTO})
            assert info.value.sent is False
            assert "Could not connect" in str(info.value)
            assert f"127.0.0.1:{port}" in str(info.value)

    asyncio.run(main())


def test_thirty_runs_under_mixed_faults_create_no_duplicates(
    faulty: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes: dict[str, int] = {"ok": 0, "may_exist": 0, "not_created": 0}

    async def one(c: LaminaClient, app: App) -> str | None:
        try:
            run = await c.run(app, {"Upload": PHOTO})
        except (TransportError, InvalidResponseError) as exc:
            assert "MAY have been created" in str(exc) or not getattr(exc, "sent", True)
            outcomes["may_exist"] += 1
            return None
        except ServerError:
            outcomes["not_created"] += 1  # the sandbox's 500/503 act before the handler
            return None
        outcomes["ok"] += 1
        return (await c.wait(run)).execution_id

    async def main() -> list[str | None]:
        async with fast_client(faulty, max_retries=12) as c:
            app = await stylizer(c)
            faulty.reset_stats()
            faulty.configure(
                error_rate=0.15, drop_rate=0.1, garbage_rate=0.05, truncate_rate=0.05, force_429=2
            )
            return await asyncio.gather(*(one(c, app) for _ in range(30)))

    ids = [i for i in asyncio.run(main()) if i]
    stats = faulty.stats
    assert len(ids) == len(set(ids)) == outcomes["ok"]
    assert stats.run_requests <= 30
    assert stats.run_creations == outcomes["ok"] + outcomes["may_exist"]
    with capsys.disabled():
        print(
            f"\n[faults] 30 runs: {outcomes}; sandbox: run_requests={stats.run_requests} "
            f"run_creations={stats.run_creations} requests={stats.requests} "
            f"faults={dict(stats.faults)}"
        )


def test_a_read_that_never_gets_an_answer_reaches_the_caller_as_a_lamina_error() -> None:
    """A server that takes the connection but never answers: each try times out, the read is
    retried, then the caller gets a TransportError it can catch as LaminaError (never a raw
    httpx exception), saying the request was sent and naming the host, without the key."""
    taken: list[socket.socket] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(0.05)
        port = server.getsockname()[1]
        stop = threading.Event()

        def take() -> None:  # accept and hold each connection, answering nothing
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    taken.append(server.accept()[0])

        holder = threading.Thread(target=take, daemon=True)
        holder.start()

        async def main() -> LaminaError:
            async with LaminaClient(
                "lma_never_shown",
                f"http://127.0.0.1:{port}",
                timeout=0.3,
                max_retries=2,
                retry_backoff=0.01,
                journal=None,
            ) as c:
                try:
                    await c.list_apps()
                except LaminaError as exc:
                    return exc
            raise AssertionError("a server that never answers gave list_apps() an answer")

        try:
            error = asyncio.run(main())
        finally:
            stop.set()
            holder.join(5)
            for conn in taken:
                conn.close()
    assert type(error) is TransportError and error.sent is True
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert "get an answer from" in str(error) and f"127.0.0.1:{port}" in str(error)
    assert "lma_never_shown" not in str(error) + repr(error)
    assert len(taken) == 3  # the first try and max_retries=2 more, each on a fresh connection


# -- an ambiguous run creation is journaled as "unconfirmed" before the error is raised ---------


@pytest.mark.parametrize(
    ("knob", "error_type"),
    [
        ("error_rate", ServerError),
        ("drop_rate", TransportError),
        ("garbage_rate", InvalidResponseError),
    ],
)
def test_an_ambiguous_run_creation_is_journaled_unconfirmed_and_never_polled(
    faulty: Sandbox, knob: str, error_type: type[LaminaError]
) -> None:
    async def main() -> LaminaError:
        async with fast_client(faulty) as c:
            app = await stylizer(c)
            faulty.configure(**{knob: 1.0})
            sent = faulty.stats.requests
            with pytest.raises(error_type) as info:
                await c.run(app, {"Upload": PHOTO, "Style": "Ghibli"})
            faulty.configure(**FAULTS_OFF)
            assert faulty.stats.requests - sent == 1  # one POST, never resent
            local_id = info.value.journal_id
            assert local_id is not None and local_id in str(info.value)
            assert "MAY have been created" in str(info.value)
            entry = c.journal.get(local_id) if c.journal is not None else None
            assert entry is not None and entry.is_unconfirmed and entry.status == "unconfirmed"
            assert dict(entry.inputs) == {"Upload": PHOTO, "Style": "Ghibli"}
            assert entry.app_name == "Photo Stylizer" and entry.base_url == faulty.base_url
            assert [e.execution_id for e in c.history(limit=1)] == [local_id]
            before = faulty.stats.requests
            for look in (c.resume, c.get_execution):
                with pytest.raises(UnconfirmedRunError) as refused:
                    await look(local_id)
                assert "local journal id" in str(refused.value)
                assert "Photo Stylizer" in str(refused.value)
                assert "Lamina app" in (refused.value.hint or "")
            assert faulty.stats.requests == before  # nothing to ask the service about
            return info.value

    assert type(asyncio.run(main())) is error_type


def test_a_refused_run_creation_is_not_journaled(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty) as c:
            private = await c.resolve_app("Acme Brand Kit")
            with pytest.raises(LaminaError) as info:
                await c.run(private, {"Prompt": "x"})
            assert info.value.journal_id is None and "MAY have" not in str(info.value)
            assert c.history() == []

    asyncio.run(main())


def test_without_a_journal_the_error_says_the_attempt_is_not_in_history(faulty: Sandbox) -> None:
    async def main() -> None:
        async with fast_client(faulty, journal=None) as c:
            app = await stylizer(c)
            faulty.configure(error_rate=1.0)
            with pytest.raises(ServerError) as info:
                await c.run(app, {"Upload": PHOTO})
            assert info.value.journal_id is None
            assert "not in %lamina history (there is no run journal)" in str(info.value)
            assert "MAY have been created" in str(info.value)

    asyncio.run(main())


def test_an_undecodable_run_answer_is_translated_and_journaled(tmp_path: object) -> None:
    """A 202 whose body cannot be decoded (broken gzip) means the POST arrived: the client must
    raise its own TransportError, not resend, and journal the attempt. A transport seam stands in
    for the service because no real server sends a broken gzip stream on purpose."""
    from lamina_notebook.journal import Journal

    app_id = "8d3c3a36-0000-4000-8000-00000000000a"
    posts: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(
                202, headers={"content-encoding": "gzip"}, content=b"\x1f\x8bnot really gzip"
            )
        detail = {
            "appId": app_id,
            "name": "Echo",
            "parameters": [
                {"id": "p", "name": "Prompt", "type": "text", "required": True, "default": None}
            ],
        }
        return httpx.Response(200, json={"data": detail})

    async def main() -> TransportError:
        async with LaminaClient(
            "lma_k",
            "https://lamina.test",
            rate_limit=0,
            journal=Journal(f"{tmp_path}/journal.sqlite3"),
            transport=httpx.MockTransport(service),
        ) as c:
            with pytest.raises(TransportError) as info:
                await c.run(app_id, {"Prompt": "hello"})
            entry = c.journal.get(info.value.journal_id or "") if c.journal else None
            assert entry is not None and entry.is_unconfirmed
            return info.value

    error = asyncio.run(main())
    assert len(posts) == 1 and error.sent
    assert "DecodingError" in str(error) and "MAY have been created" in str(error)


def test_a_huge_retry_after_pauses_the_budget_for_a_bounded_time() -> None:
    """An untrusted Retry-After of ~forever must not freeze every request of the client."""
    from lamina_notebook.transport import MAX_RETRY_PAUSE

    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "1e300"}, json={"error": "slow"})

    async def main() -> float:
        async with LaminaClient(
            "lma_k",
            "https://lamina.test",
            rate_limit=0,
            max_retries=0,
            journal=None,
            transport=httpx.MockTransport(service),
        ) as c:
            with pytest.raises(RateLimitError):
                await c.list_apps()
            return c.budget._paused_until - time.monotonic()

    paused_for = asyncio.run(main())
    assert 0 < paused_for <= MAX_RETRY_PAUSE
