"""``python -m benchmarks``: run every figure, print the table, write build/bench.json.

``--quick`` runs each figure at a tiny size (the smoke test uses it; its numbers mean nothing);
``--only 1,5`` picks figures. A figure that crashes is reported as such and the rest still run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from ._harness import DEFAULT_JSON, Figure, format_report, load_average, machine, write_json

#: Figure number -> module, in the issue's order.
FIGURES = {
    "1": "sweep",
    "2": "detection",
    "3": "responsiveness",
    "4": "weight",
    "5": "load_time",
    "6": "capacity",
    "7": "history",
    "8": "grid",
    "9": "quickstart",
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes: checks that every benchmark still runs (numbers mean nothing)",
    )
    p.add_argument(
        "--only",
        default="",
        help=f"comma-separated figure numbers to run (default: all of {','.join(FIGURES)})",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write the JSON record (default {DEFAULT_JSON})",
    )
    return p


def _run_one(key: str, quick: bool) -> Figure:
    module = importlib.import_module(f"{__package__}.{FIGURES[key]}")
    load = load_average()
    start = time.perf_counter()
    try:
        figure: Figure = module.run(quick=quick)
    except Exception as exc:  # one broken figure must not hide the others
        figure = Figure(
            key=key,
            title=f"{FIGURES[key]} FAILED",
            columns=["error"],
            rows=[[f"{type(exc).__name__}: {exc}"[:300]]],
            target="-",
            met=False,
            notes=traceback.format_exc().splitlines()[-6:],
        )
    figure.seconds = time.perf_counter() - start
    figure.load = {"start": load, "end": load_average()}
    print(
        f"figure {key} ({FIGURES[key]}) done in {figure.seconds:.0f} s", file=sys.stderr, flush=True
    )
    return figure


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    keys = [k.strip() for k in args.only.split(",") if k.strip()] or list(FIGURES)
    unknown = [k for k in keys if k not in FIGURES]
    if unknown:
        parser().error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    info = machine()
    figures = [_run_one(key, args.quick) for key in keys]
    print(format_report(figures, info, args.quick))
    write_json(args.json, figures, info, args.quick)
    print(f"\nwrote {args.json}")
    failed = [f.key for f in figures if f.title.endswith("FAILED")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
