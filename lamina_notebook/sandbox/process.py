"""The sandbox in a child process, for notebooks: its work never competes with the kernel.

An in-process :class:`~.server.Sandbox` draws its pictures (Pillow) and encodes its videos in
the kernel's own interpreter, so while a grid fills, the kernel's main thread waits for the
GIL behind them (a cell answered up to 200 ms late, measured with a 6x4 grid; 43 ms with the
sandbox in its own process). ``%lamina sandbox`` therefore runs ``lamina-sandbox`` as a child
process on a free loopback port. The child exits with its parent (``--exit-with-parent``), so a
killed kernel leaves no server behind.
"""

from __future__ import annotations

import atexit
import os
import re
import subprocess
import sys
import threading
import time
import weakref
from typing import IO

from .server import DEFAULT_KEY

__all__ = ["SandboxProcess"]

_READY = re.compile(r"Lamina sandbox running at (http://[\w.:\[\]]+)")
#: Processes still running at interpreter exit are stopped then.
_RUNNING: weakref.WeakSet[SandboxProcess] = weakref.WeakSet()


class SandboxProcess:
    """``lamina-sandbox --port 0`` as a child of this process; the interface of a started
    :class:`~.server.Sandbox` that front ends use (``base_url``, ``port``, ``api_key``,
    ``running``, ``start``, ``stop``, a context manager).

    Parameters
    ----------
    time_scale, rate_limit, api_key
        As for ``lamina-sandbox`` (durations multiplied; requests per minute per IP).
    ready_timeout
        Seconds to wait for the child to serve before giving up with its output.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        rate_limit: int = 100,
        api_key: str = DEFAULT_KEY,
        ready_timeout: float = 60.0,
    ) -> None:
        self.time_scale = time_scale
        self.rate_limit = rate_limit
        self.api_key = api_key
        self.ready_timeout = ready_timeout
        self.base_url = ""
        self.port = 0
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []

    def __repr__(self) -> str:
        where = self.base_url or "not started"
        return f"<SandboxProcess {where} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> SandboxProcess:
        """Spawn the child and return once it serves (its first line names the URL)."""
        if self.running:
            return self
        command = [
            sys.executable,
            "-m",
            "lamina_notebook.sandbox",
            "--port",
            "0",
            "--time-scale",
            repr(self.time_scale),
            "--rate-limit",
            str(self.rate_limit),
            "--api-key",
            self.api_key,
            "--exit-with-parent",
            str(os.getpid()),
        ]
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._proc = proc
        found = threading.Event()
        assert proc.stdout is not None
        threading.Thread(
            target=self._read, args=(proc.stdout, found), name="lamina-sandbox-output", daemon=True
        ).start()
        deadline = time.monotonic() + self.ready_timeout
        while not found.wait(0.05):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = "".join(self._lines[-20:]).strip() or "(no output)"
                raise RuntimeError(f"the sandbox process did not start: {output}")
        _RUNNING.add(self)
        return self

    def _read(self, stream: IO[str], found: threading.Event) -> None:
        """Read the child's output (kept short) and note its URL; runs until the child ends."""
        for line in stream:
            if not found.is_set():
                match = _READY.search(line)
                if match:
                    self.base_url = match.group(1).rstrip("/")
                    self.port = int(self.base_url.rsplit(":", 1)[1])
                    found.set()
            self._lines.append(line)
            del self._lines[:-50]

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the child to stop (SIGTERM), kill it if it does not, and wait for it."""
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@atexit.register
def _stop_all() -> None:
    for sandbox in list(_RUNNING):
        sandbox.stop(timeout=2.0)


def watch_parent(parent_pid: int, stop: threading.Event, every: float = 0.5) -> threading.Thread:
    """Set ``stop`` once ``parent_pid`` is gone (this process is then re-parented)."""

    def loop() -> None:
        while not stop.wait(every):
            if os.getppid() != parent_pid:
                stop.set()

    thread = threading.Thread(target=loop, name="lamina-sandbox-parent", daemon=True)
    thread.start()
    return thread
