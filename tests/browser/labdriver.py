"""A real JupyterLab server and a Playwright page that drives it like a person would.

Owns the process life cycle (free port, token, temp HOME, readiness, stop by PID) and the
JupyterLab 4 selectors, so browser tests read as user stories and the selectors live in one place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from notebook_runner import load_runner

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
# Console noise JupyterLab prints in an offline browser; any other error fails a test.
BENIGN_CONSOLE = (
    re.compile(r"Failed to load resource: the server responded with a status of 404"),
    re.compile(r"favicon"),
)
WIDGET_CONSOLE = re.compile(r"widget|jupyter-widgets|ipywidgets|comm|model", re.IGNORECASE)


def find_chromium() -> str | None:
    """Debian's Chromium binary (or $LAMINA_CHROMIUM), or None when not installed."""
    override = os.environ.get("LAMINA_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with HOME and every Jupyter location moved into `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMINA_", "JUPYTER_"))}
    share = home / ".local" / "share"
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(share),
        IPYTHONDIR=str(home / ".ipython"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(share / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(share / "jupyter" / "runtime"),
        LAMINA_JOURNAL=str(home / "journal.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    # The venv's bin first, so `jupyter`, the kernel and ffmpeg helpers come from the project.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra or {})
    return env


@dataclass
class JupyterLab:
    """`jupyter lab` on 127.0.0.1 with a token, a temp HOME and no news toast."""

    root_dir: Path
    home: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = 0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    # The server's base URL path ("/user/NAME/" on JupyterHub and Binder); "/" by default.
    base_path: str = "/"

    @property
    def base_url(self) -> str:
        """Origin plus base path, without a trailing "/" (paths are appended with one)."""
        return f"http://127.0.0.1:{self.port}{self.base_path.rstrip('/')}"

    def url(self, path: str) -> str:
        """`path` under the lab server, with the token (sets the auth cookie on first load)."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def start(self, timeout: float = 60.0) -> JupyterLab:
        """Start the server in its own session and wait until /api/status answers 200."""
        self.port = self.port or free_port()
        settings = self.home / "lab-user-settings"
        toast = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        toast.parent.mkdir(parents=True, exist_ok=True)
        toast.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        workspaces = self.home / "lab-workspaces"
        workspaces.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1",
            "--port", str(self.port), "--allow-root", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}", f"--LabApp.workspaces_dir={workspaces}",
            f"--LabApp.user_settings_dir={settings}", "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={self.base_path}",
        ]  # fmt: skip
        self.log_path = self.home / "jupyterlab.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            cmd, cwd=self.root_dir, env=isolated_env(self.home, self.env_extra),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            try:
                if httpx.get(self.url("api/status"), timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter lab not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call to the server's /api with the token."""
        headers = {"Authorization": f"token {self.token}"}
        url = f"{self.base_url}/api/{path}"
        return httpx.request(method, url, headers=headers, timeout=10, **kwargs)

    def shutdown_kernels(self) -> None:
        """Shut every running kernel down through the REST API (what the 'Shut Down' menu does)."""
        for kernel in self.api("GET", "kernels").json():
            self.api("DELETE", f"kernels/{kernel['id']}")

    def stop(self) -> None:
        """Stop kernels, then SIGTERM the server by its own PID (SIGKILL if it hangs)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        # The server may already be going down; SIGTERM stops its kernels too.
        with contextlib.suppress(httpx.HTTPError, ValueError):
            self.shutdown_kernels()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def notebook_url(lab: JupyterLab, relpath: str) -> str:
    """`relpath` in a fresh, empty workspace (no tabs restored from an earlier test)."""
    workspace = f"t{secrets.token_hex(6)}"
    return lab.url(f"lab/workspaces/{workspace}/tree/{quote(relpath)}?reset")


def sandbox_lab(make_lab: Any, sandbox: Any, root: Path, kernel_config: str) -> JupyterLab:
    """A lab in `root` whose kernels reach `sandbox` (its key and URL in their environment)."""
    env = {"LAMINA_API_KEY": sandbox.api_key, "LAMINA_BASE_URL": sandbox.base_url}
    lab: JupyterLab = make_lab(root, env, ipython_config=kernel_config)
    return lab


def journaled_notebooks(lab: JupyterLab, journal: Path) -> Callable[[str, list[str]], str]:
    """`make(name, cells)`: a notebook in `lab` whose first cell loads the extension with the
    journal at `journal` (a test's own) and imports LaminaApp, then `cells`."""

    def make(name: str, cells: list[str]) -> str:
        setup = (
            "%load_ext lamina_notebook\n"
            f"%config LaminaMagics.journal_path = {str(journal)!r}\n"
            "from lamina_notebook import LaminaApp"
        )
        return write_notebook(lab.root_dir / name, [setup, *cells])

    return make


def write_notebook(path: Path, cells: list[str]) -> str:
    """Write a notebook of code `cells` (Python 3 kernel) at `path`; its file name."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path.name


def run_demo_notebook(source: Path, out_dir: Path, time_scale: float = 0.02) -> Path:
    """Execute `source` like `make demo` does; the executed copy's path (fails if it failed)."""
    (run,) = load_runner().run_all([source], out_dir, time_scale=time_scale, html=False)
    if not run.ok:
        raise AssertionError(f"{source.name} failed in the demo runner:\n{run.error}")
    return Path(run.executed)
