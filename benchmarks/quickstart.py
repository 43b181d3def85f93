"""Figure 9: the saved ``notebooks/01-quickstart.ipynb`` after Run All, and whether every picture
in it is visible in nbconvert's HTML.

The demo notebook runs unchanged, headlessly (nbclient), in a fresh kernel with a private HOME
and journal, against one sandbox in its own process (``LAMINA_SANDBOX_URL``, which the
notebook's ``%lamina sandbox --if-no-key`` honours), so every arm draws the same pictures:

- the old way: the package as of ``OLD_COMMIT`` (the last commit before render kept one copy
  per image; ``embed_max_px`` 1024 then), extracted with ``git archive`` and put first on the
  kernel's ``PYTHONPATH``;
- today's code with ``embed_max_px = 1024`` (one copy per image, the old size);
- today's code at its defaults (one copy, 512 px).

Each executed notebook is saved with nbformat and converted with nbconvert's HTML exporter
(the ``lab`` template). "Visible" counts the ``<img>`` tags with a ``data:image`` source in
that HTML, beyond those of the same notebook with its outputs cleared; it must equal what the
outputs show (a ``data:image`` in an output's ``text/html``, which nbconvert prefers, or else
an ``image/*`` field). "Stored" counts every embedded copy in the .ipynb.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._harness import Figure, isolated_home
from .sandbox_child import sandbox_process

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01-quickstart.ipynb"
#: The parent of 1c8796e ("render: one copy per image (HTML card only) ..."): two copies per
#: image (an image/* field and a data: URI in the HTML card), embed_max_px 1024.
OLD_COMMIT = "6e1b36cf47d487d4e306fbe11152ec2229d57cc1"
TARGET_BYTES = 120_000
SCALE = 0.1  # the sandbox's clock, as `make demo` runs the notebooks
IMAGE_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp")
DATA_IMAGE = re.compile(r"""data:image/[a-z+]+;base64,([A-Za-z0-9+/=]*)""")
IMG_DATA = re.compile(r"""<img\b[^>]*\bsrc=["']data:image/""", re.IGNORECASE)
IPYTHON_CONFIG = "c.LaminaMagics.poll_interval = 1.0\n"


@contextlib.contextmanager
def old_code(commit: str = OLD_COMMIT) -> Iterator[Path | None]:
    """A folder holding ``lamina_notebook`` as of ``commit`` (None when git or the commit is
    not available, e.g. a source archive without history)."""
    try:
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "lamina_notebook"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="lamina-old-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(tmp, filter="data")
        yield Path(tmp)


def imported_from(env: dict[str, str]) -> str:
    """Where ``import lamina_notebook`` resolves with ``env`` (the kernel's interpreter)."""
    out = subprocess.run(
        [sys.executable, "-c", "import lamina_notebook; print(lamina_notebook.__file__)"],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def _html(output: dict[str, Any]) -> str:
    html = output.get("data", {}).get("text/html", "")
    return "".join(html) if isinstance(html, list) else str(html)


def count_images(nb: Any) -> dict[str, int]:
    """Pictures the outputs show (as nbconvert picks each output's richest form), embedded
    copies stored, and the bytes those copies take in the file (base64, as stored)."""
    shown = stored = payload = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = _html(output)
            in_html = DATA_IMAGE.findall(html)
            fields = [data[m] for m in IMAGE_MIMES if m in data]
            shown += len(in_html) if "text/html" in data else min(1, len(fields))
            stored += len(in_html) + len(fields)
            payload += sum(len(b) for b in in_html)
            payload += sum(len("".join(f) if isinstance(f, list) else f) for f in fields)
    return {"shown": shown, "stored": stored, "payload_bytes": payload}


def visible_in_html(nb: Any) -> int:
    """``<img>`` tags with data: sources in nbconvert's HTML, beyond the template's own."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    blank = copy.deepcopy(nb)
    for cell in blank.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    empty, _ = exporter.from_notebook_node(blank)
    return len(IMG_DATA.findall(body)) - len(IMG_DATA.findall(empty))


def execute(env: dict[str, str], folder: Path, name: str, config: str) -> dict[str, Any]:
    """Run the quickstart in a fresh kernel with ``env``; measure the saved copy."""
    import nbformat
    from nbclient import NotebookClient

    profile = Path(env["IPYTHONDIR"]) / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_config.py").write_text(IPYTHON_CONFIG + config)
    workdir = folder / f"{name}.files"
    workdir.mkdir(parents=True)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute(env=env)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()
    errors = [
        o.get("ename", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return {
        "bytes": path.stat().st_size,
        **count_images(nb),
        "visible": visible_in_html(nb),
        "errors": errors,
        "key_leaked": env.get("LAMINA_SANDBOX_KEY", "lma_sandbox") in text,
        "code_cells": sum(c.cell_type == "code" for c in nb.cells),
    }


def measure(quick: bool) -> dict[str, Any]:
    arms: dict[str, Any] = {}
    with (
        sandbox_process(time_scale=SCALE) as sb,
        tempfile.TemporaryDirectory(prefix="lamina-quickstart-") as tmp,
    ):
        folder = Path(tmp)

        def arm(name: str, config: str = "", pythonpath: Path | None = None) -> dict[str, Any]:
            with isolated_home() as env:
                env.update(LAMINA_SANDBOX_URL=sb.base_url, LAMINA_SANDBOX_KEY=sb.api_key)
                if pythonpath is not None:
                    env["PYTHONPATH"] = str(pythonpath)
                found = execute(env, folder, name, config)
                found["package"] = imported_from(env)
                return found

        arms["now"] = arm("now")
        if not quick:
            arms["now_1024"] = arm("now_1024", "c.LaminaMagics.embed_max_px = 1024\n")
            with old_code() as old:
                if old is not None:
                    arms["old"] = arm("old", pythonpath=old)
                    arms["old"]["commit"] = OLD_COMMIT
                    arms["old"]["from_old_code"] = arms["old"]["package"].startswith(str(old))
    return {"arms": arms, "notebook": NOTEBOOK.name, "scale": SCALE}


def run(quick: bool = False) -> Figure:
    found = measure(quick)
    arms = found["arms"]
    labels = {
        "old": f"old way (commit {OLD_COMMIT[:7]}: image field + HTML copy, 1024 px)",
        "now_1024": "today's code, embed_max_px=1024 (one copy)",
        "now": "today's defaults (one copy, 512 px)",
    }
    rows = [
        [
            labels[key],
            f"{a['bytes'] / 1000:.1f} KB",
            f"{a['payload_bytes'] / 1000:.1f} KB",
            a["stored"],
            f"{a['visible']}/{a['shown']}",
        ]
        for key in ("old", "now_1024", "now")
        if key in arms
        for a in [arms[key]]
    ]
    now = arms["now"]
    met = (
        now["bytes"] < TARGET_BYTES
        and now["visible"] == now["shown"] > 0
        and not now["errors"]
        and not now["key_leaked"]
    )
    notes = [
        f"{found['notebook']} ({now['code_cells']} code cells) executed unchanged with nbclient, "
        f"a fresh kernel and journal per row, one sandbox process for all rows (clock "
        f"{1 / found['scale']:.0f}x), saved with nbformat; HTML by nbconvert (lab template)",
        "visible = <img> tags with data: sources in the HTML beyond the template's; it must "
        "equal the pictures the outputs show",
        f"errors in outputs: {now['errors'] or 'none'}; the sandbox key is "
        + ("PRESENT (leak!)" if now["key_leaked"] else "absent")
        + " in the saved notebook",
    ]
    old = arms.get("old")
    if old is not None:
        source = "the extracted commit" if old["from_old_code"] else "TODAY'S tree (not old)"
        notes.append(
            f"old row: lamina_notebook imported from {source}; "
            f"today's defaults save {now['bytes'] / old['bytes']:.2f}x its size"
        )
    elif "now_1024" in arms:
        notes.append("old row skipped: git archive of the old commit was not available")
    return Figure(
        key="9",
        title="Saved 01-quickstart.ipynb after Run All: size and pictures visible in HTML",
        columns=[
            "stored",
            "saved .ipynb",
            "image data (base64)",
            "image copies",
            "visible in HTML / shown",
        ],
        rows=rows,
        target=f"< {TARGET_BYTES // 1000} KB, every picture visible in nbconvert's HTML",
        met=met,
        notes=notes,
        data=found,
    )
