"""The benchmarks still run: ``python -m benchmarks --quick`` at tiny sizes, in a subprocess.

No timing assertions (benchmarks are not tests): only that every figure ran, produced rows and
was written to the JSON record, and that no figure crashed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import FIGURES

pytestmark = [pytest.mark.slow, pytest.mark.kernel]

ROOT = Path(__file__).resolve().parents[2]


def test_every_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["machine"]["cpus"]
    assert [f["key"] for f in doc["figures"]] == list(FIGURES)
    for figure in doc["figures"]:
        assert not figure["title"].endswith("FAILED"), figure
        assert figure["rows"] and all(len(r) == len(figure["columns"]) for r in figure["rows"])
    for key in FIGURES:
        assert f"## {key}. " in proc.stdout
    assert "Machine:" in proc.stdout


def test_unknown_figure_names_the_choices() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "choose from 1, 2, 3, 4, 5, 6" in proc.stderr
