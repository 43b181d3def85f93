"""session/proxy.py: sandbox URLs through a Jupyter server's jupyter-server-proxy.

Real parts: the sandbox, a real `jupyter server` process with jupyter-server-proxy (and one with
the extension turned off), the server's own runtime file and token, bytes fetched through it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lamina_notebook.errors import ConfigurationError
from lamina_notebook.models import Execution, Output
from lamina_notebook.session import Session, Settings
from lamina_notebook.session.proxy import (
    HUB_ENV,
    OVERRIDE_ENV,
    PARENT_ENV,
    display_execution,
    display_url,
    proxy_route,
)
from lamina_notebook.session.results import launch


@pytest.fixture(autouse=True)
def no_server_around(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever started pytest (a Jupyter terminal, a hub) must not decide these tests."""
    for var in (OVERRIDE_ENV, HUB_ENV, PARENT_ENV):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def session(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A session pointed at the test sandbox the way `%lamina sandbox` points it."""
    monkeypatch.setenv("LAMINA_SANDBOX_URL", sandbox.base_url)
    s = Session(Settings(poll_interval=0.05, min_poll_interval=0.05))
    s.start_sandbox()
    yield s
    s.close()


def test_without_a_jupyter_server_every_url_stays_as_it_is(session: Session, sandbox: Any) -> None:
    url = f"{sandbox.base_url}/files/run-1/out-1.mp4"
    assert proxy_route(session) is None
    assert display_url(url, session) == url


def test_the_setting_routes_only_the_sandbox_urls(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OVERRIDE_ENV, "/user/me")  # the trailing slash is added
    port = sandbox.port
    via = f"/user/me/proxy/{port}"
    cases = {
        f"http://127.0.0.1:{port}/files/r1/o1.mp4": f"{via}/files/r1/o1.mp4",
        f"http://localhost:{port}/samples/portrait.png": f"{via}/samples/portrait.png",
        f"http://127.0.0.1:{port}/assets/a1/x.png?sig=abc&exp=1#t=2": (
            f"{via}/assets/a1/x.png?sig=abc&exp=1#t=2"
        ),
        f"http://127.0.0.1:{port}": f"{via}/",
    }
    for url, expected in cases.items():
        assert display_url(url, session) == expected
    untouched = [
        "https://cdn.uselamina.ai/outputs/o1.png",  # the real service's URLs
        f"https://127.0.0.1:{port}/files/r1/o1.png",  # not what the sandbox serves
        f"http://127.0.0.1:{port + 1}/files/r1/o1.png",  # another server on this machine
        f"http://10.1.2.3:{port}/files/r1/o1.png",
        f"http://user:pw@127.0.0.1:{port}/files/r1/o1.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "/files/r1/o1.png",
        "",
        # Paths a browser would normalize out of proxy/PORT/ into the Jupyter server itself.
        f"http://127.0.0.1:{port}/files/../../../api/contents",
        f"http://127.0.0.1:{port}/files/%2e%2E/%2e%2e/api/contents",
        f"http://127.0.0.1:{port}/files\\..\\..\\api",
        f"http://127.0.0.1:{port}/files/a b.png",
    ]
    for url in untouched:
        assert display_url(url, session) == url, url
    route = proxy_route(session)
    assert route is not None and route.source == OVERRIDE_ENV


def test_the_setting_takes_a_whole_url_or_turns_routing_off(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{sandbox.base_url}/files/r1/o1.png"
    monkeypatch.setenv(OVERRIDE_ENV, "https://hub.example.org/user/me/")
    assert display_url(url, session) == (
        f"https://hub.example.org/user/me/proxy/{sandbox.port}/files/r1/o1.png"
    )
    monkeypatch.setenv(HUB_ENV, "/user/visitor/")
    monkeypatch.setenv(OVERRIDE_ENV, "off")  # beats the hub
    assert display_url(url, session) == url


@pytest.mark.parametrize(
    "value", ["user/me/", "//evil.example/", "javascript:alert(1)", "/user/../api/", "/a?b=1"]
)
def test_a_malformed_setting_is_an_error_that_names_the_fix(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(OVERRIDE_ENV, value)
    with pytest.raises(ConfigurationError) as info:
        display_url(f"{sandbox.base_url}/files/r1/o1.png", session)
    message = str(info.value)
    assert OVERRIDE_ENV in message and "'/user/me/'" in message and "'off'" in message


def test_without_a_loopback_sandbox_nothing_is_routed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OVERRIDE_ENV, "/")
    plain = Session(Settings())
    try:
        assert display_url("http://127.0.0.1:8765/files/r/o.png", plain) == (
            "http://127.0.0.1:8765/files/r/o.png"
        )
    finally:
        plain.close()
    monkeypatch.setenv("LAMINA_SANDBOX_URL", "http://192.0.2.7:8765")  # elsewhere: no proxy reach
    remote = Session(Settings())
    try:
        remote.start_sandbox()
        assert display_url("http://192.0.2.7:8765/files/r/o.png", remote).startswith("http://")
        assert proxy_route(remote) is None
    finally:
        remote.close()


def test_an_embedded_sandbox_is_routed_by_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMINA_SANDBOX_URL", raising=False)
    monkeypatch.setenv(OVERRIDE_ENV, "/")
    s = Session(Settings())
    try:
        state = s.start_sandbox(time_scale=0.05)
        assert state.embedded is not None
        port = state.embedded.port
        assert display_url(f"{state.base_url}/files/r/o.png", s) == f"/proxy/{port}/files/r/o.png"
    finally:
        s.close()


def test_binder_is_recognized_by_the_hub_prefix_when_the_proxy_is_installed(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"{sandbox.base_url}/files/r1/o1.mp4"
    monkeypatch.setenv(HUB_ENV, "/user/lamina-notebook-abc123/")
    assert display_url(url, session) == (
        f"/user/lamina-notebook-abc123/proxy/{sandbox.port}/files/r1/o1.mp4"
    )
    route = proxy_route(session)
    assert route is not None and route.source == HUB_ENV
    # A hub without jupyter-server-proxy has no /proxy/ route: leave the URL alone.
    monkeypatch.setitem(sys.modules, "jupyter_server_proxy", None)  # "not installed"
    monkeypatch.setenv(HUB_ENV, "/user/someone-else/")
    assert display_url(url, session) == url


def test_display_execution_routes_media_outputs_and_leaves_text(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = sandbox.base_url
    execution = Execution(
        "exec-1",
        "completed",
        outputs=(
            Output("o1", "Image", "image", f"{base}/files/exec-1/o1.png", "completed"),
            Output("o2", "Clip", "video", f"{base}/files/exec-1/o2.mp4", "completed"),
            Output("o3", "Caption", "text", f"see {base}/files/x", "completed"),
            Output("o4", "Later", "video", None, "running"),
        ),
    )
    assert display_execution(execution, session) is execution  # nothing to route yet
    monkeypatch.setenv(OVERRIDE_ENV, "/user/me/")
    shown = display_execution(execution, session)
    assert [o.value for o in shown.outputs] == [
        f"/user/me/proxy/{sandbox.port}/files/exec-1/o1.png",
        f"/user/me/proxy/{sandbox.port}/files/exec-1/o2.mp4",
        f"see {base}/files/x",
        None,
    ]
    assert execution.outputs[0].value == f"{base}/files/exec-1/o1.png", "the original is kept"


# -- a real Jupyter server with jupyter-server-proxy --------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JupyterServer:
    """`python -m jupyter_server` on loopback with a token, its runtime file in this test's HOME."""

    def __init__(self, base_url: str, *, proxy: bool = True) -> None:
        self.base_url = base_url
        self.port = _free_port()
        self.token = secrets.token_hex(12)
        cmd = [
            sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
            "--ip", "127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.base_url={base_url}",
        ]  # fmt: skip
        if not proxy:
            cmd.append("--ServerApp.jpserver_extensions=jupyter_server_proxy=False")
        self.runtime_dir = Path(os.environ["JUPYTER_RUNTIME_DIR"])
        self.log = Path(os.environ["HOME"]) / f"jupyter-server-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=os.environ["HOME"], stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.info_file = self.runtime_dir / f"jpserver-{self.process.pid}.json"
        self._wait_ready()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter server exited:\n{self.log.read_text()[-3000:]}")
            try:
                status = httpx.get(
                    self.url(f"{self.base_url}api/status"), params={"token": self.token}, timeout=2
                ).status_code
            except httpx.TransportError:
                status = 0
            if status == 200 and self.info_file.exists():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter server not ready:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def jupyter_server() -> Iterator[Callable[..., JupyterServer]]:
    started: list[JupyterServer] = []

    def start(base_url: str = "/", *, proxy: bool = True) -> JupyterServer:
        server = JupyterServer(base_url, proxy=proxy)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_the_server_that_started_the_kernel_serves_the_sandbox_video_through_its_proxy(
    session: Session, sandbox: Any, jupyter_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kernel under `jupyter lab` sees: JPY_PARENT_PID names the server; its runtime file
    gives base URL and token; the bytes through /proxy/PORT/ are the sandbox's own, ranges too."""
    pytest.importorskip("imageio_ffmpeg")
    server = jupyter_server("/user/local/")
    monkeypatch.setenv(PARENT_ENV, str(server.process.pid))  # as jupyter_client sets it

    handle, _ = launch(
        session, "Image to Video", {"Upload": f"{sandbox.base_url}/samples/portrait.png"}
    )
    result = handle.result(timeout=60)
    assert result.is_completed, result.error_message
    video_url = next(o.value for o in result.outputs if o.kind == "video")
    assert video_url is not None and video_url.startswith(f"{sandbox.base_url}/files/")

    shown = display_url(video_url, session)
    assert shown == f"/user/local/proxy/{sandbox.port}{video_url.removeprefix(sandbox.base_url)}"
    route = proxy_route(session)
    assert route is not None and route.source == str(server.info_file)

    direct = httpx.get(video_url)
    auth = {"Authorization": f"token {server.token}"}
    proxied = httpx.get(server.url(shown), headers=auth)
    assert proxied.status_code == 200 and proxied.headers["content-type"] == "video/mp4"
    assert proxied.content == direct.content and direct.content[4:8] == b"ftyp"
    part = httpx.get(server.url(shown), headers={**auth, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == direct.content[100:200]  # seeking works
    # Without the page's login the server refuses: the proxy is no open door to the sandbox.
    assert httpx.get(server.url(shown)).status_code in (302, 403)


def test_a_server_without_the_proxy_extension_leaves_urls_alone(
    session: Session, sandbox: Any, jupyter_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime file alone is not enough: the probe through proxy/PORT/ must reach us."""
    server = jupyter_server("/", proxy=False)
    monkeypatch.setenv(PARENT_ENV, str(server.process.pid))
    url = f"{sandbox.base_url}/samples/portrait.png"
    assert json.loads(server.info_file.read_text())["base_url"] == "/"
    assert display_url(url, session) == url
    assert proxy_route(session) is None


def test_a_parent_that_is_no_jupyter_server_leaves_urls_alone(
    session: Session, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nbclient, VS Code or a terminal also start kernels; they write no jpserver file."""
    monkeypatch.setenv(PARENT_ENV, str(os.getpid()))
    url = f"{sandbox.base_url}/samples/portrait.png"
    assert display_url(url, session) == url
    monkeypatch.setenv(PARENT_ENV, "not-a-pid")
    assert display_url(url, session) == url
