"""RunHandle.cancel(): the run is cancelled at the service (the sandbox's counters prove it) and
the handle shows it; a reused handle sends nothing; the /api edition says it cannot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lamina_notebook.editions import NotOfferedError
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.results import launch

SHOOT = "Model Photoshoot"  # three outputs
SHOOT_INPUTS = {"Garment": "https://example.com/shirt.jpg", "Background": "white studio"}


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """A tenth of real time, runs queued for 50 server seconds: five real ones to cancel in."""
    with Sandbox(time_scale=0.1, rate_limit=0, queue_seconds=50.0) as sb:
        yield sb


def make_session(sb: Sandbox, edition: str) -> Session:
    return Session(
        Settings(
            api_key=sb.api_key,
            base_url=sb.base_url,
            api_edition=edition,
            poll_interval=0.05,
            min_poll_interval=0.05,
        )
    )


def test_cancel_stops_the_run_at_the_service_and_ends_the_handle(slow: Sandbox) -> None:
    session = make_session(slow, "v1")
    try:
        handle, _ = launch(session, SHOOT, SHOOT_INPUTS)
        assert handle.status == "queued"
        cancels = slow.stats.cancellations
        state = handle.cancel()
        assert state.status == "cancelled" and handle.status == "cancelled"
        result = handle.result(timeout=10)  # the watch ends with the cancelled state at once
        assert result.status == "cancelled" and result.media == {}
        assert slow.stats.cancellations == cancels + 1
        assert slow.outputs_produced(handle.execution_id) == 0  # nothing produced or billed
        journal = session.client.journal
        assert journal is not None
        assert journal.get(handle.execution_id).status == "cancelled"  # type: ignore[union-attr]
        requests = slow.stats.requests
        assert handle.cancel().status == "cancelled"  # a finished handle sends nothing
        assert slow.stats.requests == requests
    finally:
        session.close()


def test_a_stopped_handle_can_still_be_cancelled(slow: Sandbox) -> None:
    session = make_session(slow, "v1")
    try:
        handle, _ = launch(session, SHOOT, SHOOT_INPUTS)
        handle.stop()
        assert handle.stopped
        assert handle.cancel().status == "cancelled"
        assert handle.status == "cancelled"
        assert slow.outputs_produced(handle.execution_id) == 0
        assert handle.result(timeout=10).status == "cancelled"  # watching again ends at once
    finally:
        session.close()


def test_the_api_edition_says_cancel_is_not_offered(slow: Sandbox) -> None:
    session = make_session(slow, "api")
    try:
        handle, _ = launch(session, SHOOT, SHOOT_INPUTS)
        with pytest.raises(NotOfferedError) as info:
            handle.cancel()
        assert "v1" in str(info.value)
        handle.stop()
    finally:
        session.close()
