"""`make demo`: execute every demo notebook headlessly (nbclient) against the offline sandbox.

Writes the executed copies and their HTML (nbconvert) to build/demo/, prints a summary and exits
non-zero when a notebook fails. Importable: tests and the Binder check call `run_all`.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
OUT = REPO / "build" / "demo"
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
DATA_IMAGE = re.compile(r"""src=["']data:image/[a-z+]+;base64,""")
# The kernel's settings: a faster sandbox clock and the shortest poll interval the client allows.
IPYTHON_CONFIG = """\
# Written by scripts/run_notebooks.py for a headless demo run; not used by your own kernels.
c.LaminaMagics.sandbox_time_scale = {time_scale!r}
c.LaminaMagics.poll_interval = 1.0
"""


@dataclass
class NotebookRun:
    """What happened to one notebook: where its copies are, how long it took, what failed."""

    source: Path
    executed: Path
    html: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    images: int = 0
    cells: int = 0
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def kernel_env(home: Path, time_scale: float, extra: Mapping[str, str] | None = None) -> dict:
    """The kernel's environment: a private HOME/journal, no real key (so the sandbox is used)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMINA_", "JUPYTER_"))}
    share = home / ".local" / "share"
    ipythondir = home / ".ipython"
    profile = ipythondir / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_config.py").write_text(IPYTHON_CONFIG.format(time_scale=time_scale))
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(share),
        IPYTHONDIR=str(ipythondir),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(share / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(share / "jupyter" / "runtime"),
        LAMINA_JOURNAL=str(home / "journal.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def count_images(nb: Any) -> int:
    """Images embedded in the outputs: image/* bundles plus data:image <img> in HTML outputs."""
    total = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            total += sum(1 for mime in IMAGE_MIMES if mime in data)
            html = data.get("text/html", "")
            html = "".join(html) if isinstance(html, list) else html
            total += len(DATA_IMAGE.findall(html))
    return total


def first_image(nb: Any) -> bytes | None:
    """The first embedded PNG/JPEG, decoded (for checks that it is a real picture)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                if mime in output.get("data", {}):
                    return base64.b64decode(output["data"][mime])
    return None


def execute(
    source: Path, out_dir: Path, env: Mapping[str, str], *, timeout: float, html: bool = True
) -> NotebookRun:
    """Execute `source` in a fresh kernel (cwd: a scratch folder) and write the copies."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out_dir.mkdir(parents=True, exist_ok=True)
    run = NotebookRun(source, out_dir / source.name)
    nb = nbformat.read(source, as_version=4)
    workdir = out_dir / f"{source.stem}.files"  # the kernel's cwd: saved outputs land here
    shutil.rmtree(workdir, ignore_errors=True)  # each demo starts from nothing, like a clone
    workdir.mkdir()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    started = time.monotonic()
    # The kernel's own stderr (e.g. ipykernel's note that loopback TCP is unencrypted) goes to a
    # log beside the executed copy instead of cluttering the summary.
    kernel_log = (out_dir / f"{source.stem}.kernel.log").open("wb")
    try:
        client.execute(env=dict(env), stderr=kernel_log)
    except CellExecutionError as exc:
        run.error = _short_error(str(exc))
    except Exception as exc:  # a dead kernel or a timeout: report it, keep the partial copy
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        kernel_log.close()
    run.seconds = time.monotonic() - started
    run.cells = sum(1 for c in nb.cells if c.cell_type == "code")
    run.images = count_images(nb)
    run.stderr_lines = _stderr(nb)
    nbformat.write(nb, run.executed)
    if html:
        run.html = export_html(nb, run.executed.with_suffix(".html"))
    return run


def export_html(nb: Any, path: Path) -> Path:
    """The executed notebook as standalone HTML (JupyterLab template, images inline)."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    path.write_text(body, encoding="utf-8")
    return path


def _short_error(text: str, lines: int = 25) -> str:
    """The tail of nbclient's message: the failing cell's last traceback lines."""
    clean = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\n".join(clean.strip().splitlines()[-lines:])


def _stderr(nb: Any) -> list[str]:
    out: list[str] = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                out.extend(str(output.get("text", "")).splitlines())
    return out


def run_all(
    notebooks: Iterable[Path],
    out_dir: Path,
    *,
    time_scale: float = 0.1,
    timeout: float = 600,
    html: bool = True,
    env_extra: Mapping[str, str] | None = None,
) -> list[NotebookRun]:
    """Execute each notebook in its own kernel with a private HOME; return what happened."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="lamina-demo-") as tmp:
        for source in notebooks:
            home = Path(tmp) / source.stem
            env = kernel_env(home, time_scale, env_extra)
            runs.append(execute(source, out_dir, env, timeout=timeout, html=html))
    return runs


def summary(runs: Sequence[NotebookRun]) -> str:
    """A table a person reads at the end of `make demo`, failures spelled out below it."""
    rows = [f"{'notebook':<28} {'result':<7} {'cells':>5} {'images':>6} {'seconds':>8}"]
    for r in runs:
        rows.append(
            f"{r.source.name:<28} {'ok' if r.ok else 'FAILED':<7} {r.cells:>5} "
            f"{r.images:>6} {r.seconds:>8.1f}"
        )
    for r in runs:
        if not r.ok:
            rows += [
                "",
                f"--- {r.source.name} failed (executed copy: {r.executed}) ---",
                r.error or "",
            ]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (build/demo)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.1,
        help="sandbox clock factor: 0.1 runs the simulated jobs 10x faster",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML export")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if not notebooks:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 2
    print(
        f"Executing {len(notebooks)} notebooks against the sandbox "
        f"(time scale {args.time_scale}); output in {args.out}"
    )
    runs = run_all(
        notebooks, args.out, time_scale=args.time_scale, timeout=args.timeout, html=not args.no_html
    )
    print(summary(runs))
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
