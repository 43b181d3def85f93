"""The sandbox as a child process (what ``%lamina sandbox`` uses): serves, stops, and never
outlives the process that started it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from lamina_notebook.sandbox import SandboxProcess
from lamina_notebook.session import Session, Settings


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_closed(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not port_open(port):
            return True
        time.sleep(0.1)
    return False


def test_it_serves_both_editions_from_another_process_and_stops() -> None:
    with SandboxProcess(time_scale=0.05) as sb:
        assert sb.running and sb.pid not in (None, os.getpid())
        headers = {"x-api-key": sb.api_key}
        for prefix in ("/api", "/v1"):
            reply = httpx.get(f"{sb.base_url}{prefix}/apps", headers=headers, timeout=10)
            assert reply.status_code == 200 and reply.json()["data"], prefix
        port = sb.port
    assert not sb.running and wait_closed(port, 5)


def test_a_child_that_cannot_start_says_why() -> None:
    with pytest.raises(RuntimeError, match="time-scale must be > 0"):
        SandboxProcess(time_scale=-1).start()


def test_the_child_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    """A SIGKILLed kernel leaves no sandbox behind (no atexit ran in it)."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, time
            from lamina_notebook.sandbox import SandboxProcess
            sb = SandboxProcess(time_scale=0.05).start()
            print(json.dumps({"port": sb.port, "pid": sb.pid}), flush=True)
            time.sleep(120)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = json.loads(parent.stdout.readline())
        assert port_open(child["port"])
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_closed(child["port"], 10), "the sandbox outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_session_runs_its_sandbox_in_a_child_process_by_default() -> None:
    session = Session(Settings(sandbox_time_scale=0.05))
    try:
        state = session.start_sandbox()
        assert isinstance(state.embedded, SandboxProcess) and state.embedded.running
        apps = session.run(session.client.list_apps())
        assert any(a.name == "Text to Image" for a in apps)
        port = state.embedded.port
    finally:
        session.close()
    assert wait_closed(port, 5)
