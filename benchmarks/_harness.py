"""Shared benchmark harness: the Figure record, percentiles, the machine description, the table,
build/bench.json, an isolated HOME for kernels and subprocesses, and a request-counting transport.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Where ``python -m benchmarks`` writes its JSON record (relative to the repository root).
DEFAULT_JSON = Path("build") / "bench.json"


@dataclass
class Figure:
    """One figure of the benchmark: a small table, its target and whether the target held.

    ``met`` is None when a figure has no pass/fail target (e.g. capacity is reported only).
    ``data`` keeps the raw numbers for build/bench.json.
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    target: str
    met: bool | None
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: 1/5/15-minute load averages when the figure started and ended (None: not available).
    load: dict[str, list[float] | None] = field(default_factory=dict)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> str:
    """Seconds as milliseconds for the table ("n/a" for nan)."""
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (runnable processes), None where unsupported.

    The machines here are shared: a load above the CPU count means other work competed for
    the cores while a figure ran.
    """
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _loads(values: list[float] | None) -> str:
    return "n/a" if values is None else "/".join(f"{v:.2f}" for v in values)


def machine() -> dict[str, Any]:
    """What the numbers were measured on: cores, CPU model, OS, Python and the load at start."""
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or "unknown",
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "os": f"{platform.system()} {platform.release()}",
        "load_average_at_start": load_average(),
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table (also valid Markdown) with padded columns."""
    text = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in text)) for i, h in enumerate(columns)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(columns, widths, strict=True))
    line += " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in text
    ]
    return "\n".join([line, rule, *body])


def verdict(met: bool | None) -> str:
    return {True: "MET", False: "MISSED", None: "reported"}[met]


def format_report(figures: Sequence[Figure], info: dict[str, Any], quick: bool) -> str:
    """The whole report: machine line, then each figure's title, table, target and notes."""
    head = (
        f"Machine: {info['cpus']} CPUs, {info['cpu_model']}, {info['os']}, "
        f"Python {info['python']}, load average (1/5/15 min) "
        f"{_loads(info.get('load_average_at_start'))} at start"
        + ("  [--quick: tiny sizes, numbers not meaningful]" if quick else "")
    )
    parts = [head]
    for fig in figures:
        parts.append(f"\n## {fig.key}. {fig.title}  ({fig.seconds:.0f} s)")
        parts.append(format_table(fig.columns, fig.rows))
        parts.append(f"Target: {fig.target} -> {verdict(fig.met)}")
        parts.extend(f"  - {note}" for note in fig.notes)
        if fig.load:
            parts.append(
                f"  - load average {_loads(fig.load.get('start'))} at start, "
                f"{_loads(fig.load.get('end'))} at end, on {info['cpus']} CPUs"
            )
    return "\n".join(parts)


def write_json(path: Path, figures: Sequence[Figure], info: dict[str, Any], quick: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"machine": info, "quick": quick, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


@contextlib.contextmanager
def isolated_home() -> Iterator[dict[str, str]]:
    """A temp HOME (and Jupyter/IPython/XDG dirs, journal) for kernels and subprocesses.

    Yields the environment to pass to them; the benchmark never touches the user's files and
    never uses their real Lamina key.
    """
    with tempfile.TemporaryDirectory(prefix="lamina-bench-") as tmp:
        home = Path(tmp)
        env = dict(os.environ)
        for var in ("LAMINA_API_KEY", "LAMINA_BASE_URL", "LAMINA_SANDBOX_URL"):
            env.pop(var, None)
        env.update(
            {
                "HOME": str(home),
                "XDG_DATA_HOME": str(home / ".local" / "share"),
                "IPYTHONDIR": str(home / ".ipython"),
                "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
                "JUPYTER_RUNTIME_DIR": str(home / ".local" / "share" / "jupyter" / "runtime"),
                "LAMINA_JOURNAL": str(home / "journal.sqlite3"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        yield env


@contextlib.contextmanager
def patched_environ(env: dict[str, str]) -> Iterator[None]:
    """Temporarily replace ``os.environ`` (kernel managers read it when spawning)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class CountingTransport(httpx.AsyncBaseTransport):
    """Wraps a real httpx transport and counts requests sent and answers by status.

    Not a mock: every request goes to the sandbox; this only observes what the client sent.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.sent = 0
        self.by_method: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        self.by_method[request.method] += 1
        response = await self.inner.handle_async_request(request)
        self.by_status[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
