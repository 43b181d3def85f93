"""Figure 5: ``%load_ext lamina_notebook`` relative to ``import ipywidgets`` alone.

Fresh interpreter per sample, the two arms interleaved. Both arms first import what a kernel
process already holds (``ipykernel.ipkernel``) and create an IPython ``InteractiveShell`` (not
timed), then time only their statement with ``perf_counter`` inside the process, so
interpreter start-up noise cancels out. A
``-X importtime`` run lists what the extension imports, heaviest first.
"""

from __future__ import annotations

import re
import subprocess
import sys

from ._harness import Figure, isolated_home, median, ms

_PRE = (
    "import sys, time\n"
    "import ipykernel.ipkernel  # what a kernel process has loaded before any cell\n"
    "from IPython.core.interactiveshell import InteractiveShell\n"
    "sh = InteractiveShell.instance()\n"
    "sys.stderr.write('--- measured ---\\n')\n"
    "t = time.perf_counter()\n"
)
ARMS = {
    "import ipywidgets": "import ipywidgets\n",
    "%load_ext lamina_notebook": "sh.run_line_magic('load_ext', 'lamina_notebook')\n",
}
_POST = "print('SECONDS', time.perf_counter() - t)\n"


def _sample(body: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PRE + body + _POST],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.findall(r"^SECONDS (\S+)$", out, re.M)
    if not found:
        raise RuntimeError(f"no timing in the sample's output: {out[-300:]!r}")
    return float(found[-1])


def heaviest_imports(env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """Top-level imports done by ``%load_ext`` (after the shell exists), by cumulative time."""
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            _PRE + ARMS["%load_ext lamina_notebook"] + _POST,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = proc.stderr.split("--- measured ---", 1)[-1].splitlines()
    found: list[tuple[str, float]] = []
    for line in lines:
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # direct imports of the measured statement
            found.append((m.group(3), int(m.group(1)) / 1e6))
    return sorted(found, key=lambda item: -item[1])[:top]


def run(quick: bool = False) -> Figure:
    samples = 3 if quick else 12
    times: dict[str, list[float]] = {name: [] for name in ARMS}
    with isolated_home() as env:
        for body in ARMS.values():  # warm the OS file cache; not counted
            _sample(body, env)
        for _ in range(samples):
            for name, body in ARMS.items():
                times[name].append(_sample(body, env))
        heavy = heaviest_imports(env)
    base = median(times["import ipywidgets"])
    ours = median(times["%load_ext lamina_notebook"])
    ratio = ours / base
    rows = [
        [
            name,
            len(values),
            ms(median(values)),
            ms(min(values)),
            ms(max(values)),
            f"{median(values) / base:.2f}x",
        ]
        for name, values in times.items()
    ]
    return Figure(
        key="5",
        title="Load time: %load_ext lamina_notebook vs import ipywidgets",
        columns=["statement", "samples", "median", "min", "max", "vs ipywidgets"],
        rows=rows,
        target="<= 1.2x import ipywidgets",
        met=ratio <= 1.2,
        notes=[
            "fresh interpreter per sample, arms interleaved; both arms import "
            "ipykernel.ipkernel and create an InteractiveShell before the clock starts (the "
            "state of a kernel before its first cell); only the statement is timed",
            "heaviest imports done by %load_ext (cumulative): "
            + ", ".join(f"{name} {ms(sec)}" for name, sec in heavy),
        ],
        data={"samples": times, "ratio": ratio, "heaviest_imports": heavy},
    )
