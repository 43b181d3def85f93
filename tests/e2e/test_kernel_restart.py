"""Kernel restart: runs started with ``--no-wait`` survive a SIGKILLed kernel; a new kernel finds
them all in ``%lamina history`` and ``%lamina resume`` brings each to completed with outputs.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.journal import Journal
from lamina_notebook.sandbox import Sandbox

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

# At time_scale 0.02 these runs take 12 s of wall time: long enough to kill the kernel mid-poll.
DURATIONS = {"Text to Image": 600.0, "Product Copywriter": 600.0}
STARTS = [
    '%lamina run "Text to Image" "Prompt=survives a kernel crash" --no-wait -o h0',
    '%lamina run "Product Copywriter" "Product=a sturdy ceramic coffee mug" --no-wait -o h1',
    '%lamina run "Text to Image" "Prompt=second image, same crash" Style=Anime --no-wait -o h2',
]
FAST_POLL = (
    "from lamina_notebook.session import get_session\n"
    "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)"
)


class Kernel:
    """A real ipykernel (jupyter_client) and a blocking client that collects each cell's output."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env=env, cwd=str(cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 120) -> list[dict[str, Any]]:
        """Execute ``code``; returns the iopub contents (streams, displays, results, errors)."""
        got: list[dict[str, Any]] = []

        def hook(msg: dict[str, Any]) -> None:
            kind = msg["msg_type"]
            if kind in ("stream", "display_data", "execute_result", "error", "update_display_data"):
                got.append({"type": kind, **msg["content"]})

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        assert reply["content"]["status"] == "ok", (code, got)
        assert not [g for g in got if g["type"] == "error"], (code, got)
        return got

    def kill(self) -> None:
        """SIGKILL: no atexit, no finally, no chance to finish anything."""
        pid = self.km.provisioner.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while self.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not self.km.is_alive()
        self.close()

    def close(self) -> None:
        self.kc.stop_channels()
        if self.km.is_alive():
            self.km.shutdown_kernel(now=True)
        self.km.cleanup_resources()


def text(outputs: list[dict[str, Any]]) -> str:
    parts = [
        o.get("text", "") if o["type"] == "stream" else o.get("data", {}).get("text/plain", "")
        for o in outputs
    ]
    return "\n".join(parts)


@pytest.fixture
def sandbox_for_restart() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0, durations=DURATIONS) as sb:
        yield sb


def _env(sb: Sandbox) -> dict[str, str]:
    return {**os.environ, "LAMINA_API_KEY": sb.api_key, "LAMINA_BASE_URL": sb.base_url}


def _start_and_crash(sb: Sandbox, tmp_path: Path) -> list[str]:
    first = Kernel(_env(sb), tmp_path)
    try:
        first.run("%load_ext lamina_notebook")
        first.run(FAST_POLL)
        for line in STARTS:
            first.run(line)
        ids = text(first.run("print(h0.execution_id, h1.execution_id, h2.execution_id)"))
        polls_before = sb.stats.by_status[200]
        deadline = time.monotonic() + 10
        while sb.stats.by_status[200] < polls_before + 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the kernel is polling its three runs in the background
        assert sb.stats.by_status[200] >= polls_before + 3, "the kernel never polled"
        assert all(sb.completed_at(i) > time.time() for i in ids.split()), "runs already done"
    except BaseException:
        first.close()
        raise
    first.kill()
    return ids.split()


def test_runs_survive_a_killed_kernel_and_resume_in_a_new_one(
    sandbox_for_restart: Sandbox, tmp_path: Path
) -> None:
    sb = sandbox_for_restart
    ids = _start_and_crash(sb, tmp_path)
    assert len(set(ids)) == 3 and sb.stats.run_creations == 3
    # Journaled before control returned: the dead kernel's journal already lists all three.
    with Journal(os.environ["LAMINA_JOURNAL"]) as journal:
        assert all(journal.get(i) is not None for i in ids)

    second = Kernel(_env(sb), tmp_path)
    try:
        second.run("%load_ext lamina_notebook")
        second.run(FAST_POLL)
        shown_history = second.run("%lamina history")
        history = text(shown_history)
        html = "".join(o.get("data", {}).get("text/html", "") for o in shown_history)
        # the text shows short ids (8 characters), the HTML the full ids on hover
        assert all(i[:8] in history for i in ids), history
        assert all(f'title="{i}"' in html for i in ids), html[:2000]
        for n, execution_id in enumerate(ids):
            shown = second.run(f"%lamina resume {execution_id} -o r{n}")
            results = [o for o in shown if o["type"] == "execute_result"]
            assert len(results) == 1, shown
            assert results[0]["metadata"]["lamina"]["status"] == "completed"
            assert execution_id in results[0]["data"]["text/plain"]
        summary = text(
            second.run(
                "print([(r.status, len(r.outputs), all(o.value for o in r.outputs)) "
                "for r in (r0, r1, r2)])"
            )
        )
        assert summary.strip() == (
            "[('completed', 1, True), ('completed', 2, True), ('completed', 1, True)]"
        )
        assert "completed" in text(second.run("%lamina history"))
    finally:
        second.close()
    assert sb.stats.run_creations == 3  # resuming never started anything again
    with Journal(os.environ["LAMINA_JOURNAL"]) as journal:
        entries = [journal.get(i) for i in ids]
    assert all(e is not None and e.status == "completed" and e.outputs for e in entries)
