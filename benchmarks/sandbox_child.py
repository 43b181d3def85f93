"""A sandbox in its own process for the benchmarks, with its counters readable from the parent.

``%lamina sandbox`` runs the sandbox as a child process (``sandbox.SandboxProcess``) so that its
drawing never holds the kernel's GIL. The benchmarks need the same placement plus two things the
``lamina-sandbox`` command line does not offer: a compressed rate window (``rate_window``) and
the server's counters (``Stats.snapshot``: requests, 429s, run creations). So this module runs
``Sandbox(**kwargs)`` in a child and talks to it over its stdin/stdout:

- the child prints ``READY <base_url> <api_key>`` once it serves;
- a line ``stats`` on its stdin -> one line of JSON with the counters;
- end of stdin (the parent closed it, or died) -> the child stops.

``with sandbox_process(time_scale=0.5, rate_limit=100, rate_window=30.0) as sb:`` gives
``sb.base_url``, ``sb.api_key`` and ``sb.stats()``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]


class ChildSandbox:
    """The parent's handle on a sandbox child: its URL, key and counters."""

    def __init__(self, proc: subprocess.Popen[str], base_url: str, api_key: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self.api_key = api_key
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stats(self) -> dict[str, Any]:
        """The child's ``Stats.snapshot()`` right now (by_status keys as strings)."""
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            stdin.write("stats\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError("the sandbox child ended before answering")
        return dict(json.loads(line))


@contextlib.contextmanager
def sandbox_process(**kwargs: Any) -> Iterator[ChildSandbox]:
    """Run ``Sandbox(**kwargs)`` in a child process for the duration of the block."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.sandbox_child", json.dumps(kwargs)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        if len(first) != 3 or first[0] != "READY":
            raise RuntimeError(f"the sandbox child did not start (it said {first!r})")
        yield ChildSandbox(proc, first[1], first[2])
    finally:
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def serve(kwargs: dict[str, Any], stdin: IO[str], stdout: IO[str]) -> None:
    """The child's side: start the sandbox, answer ``stats`` lines until stdin ends."""
    from lamina_notebook.sandbox import Sandbox

    with Sandbox(**kwargs) as sb:
        stdout.write(f"READY {sb.base_url} {sb.api_key}\n")
        stdout.flush()
        for line in stdin:
            if line.strip() == "stats":
                stdout.write(json.dumps(sb.stats.snapshot()) + "\n")
                stdout.flush()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]), sys.stdin, sys.stdout)
