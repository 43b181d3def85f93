"""`make lab`'s working copies: the demo notebooks copied to build/lab/, so the tracked ones in
notebooks/ stay clean (no outputs, no execution counts) however the copies are run and saved.

A missing copy is made from notebooks/. A copy nobody edited since it was made follows notebooks/
when that changes (after a `git pull`). An edited copy is never overwritten: when its notebook
changed in notebooks/ meanwhile, a note says so. `--reset` (`make lab-reset`) makes fresh copies
on purpose and moves each edited one aside to build/lab/previous/<time>/ first, so nothing is lost.
Other files in build/lab/ (your own notebooks, saved results) are left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "notebooks"
LAB = REPO / "build" / "lab"
#: Which source content each copy was made from (sha256), to tell an edited copy from a stale one.
MANIFEST = ".lamina-lab.json"
PREVIOUS = "previous"


@dataclass
class Prepared:
    """What happened to each notebook, by file name, for the summary and for tests."""

    created: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # kept, but notebooks/ has a newer version
    moved: dict[str, Path] = field(default_factory=dict)  # --reset: edited copy -> where it went


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(lab: Path = LAB, source: Path = SOURCE, *, reset: bool = False) -> Prepared:
    """Bring the working copies in `lab` up to date with `source` without losing an edit."""
    notebooks = sorted(source.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks in {source}")
    lab.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(lab)
    done = Prepared()
    aside_dir: Path | None = None  # one folder per reset, never one an earlier reset used
    for original in notebooks:
        name = original.name
        copy = lab / name
        wanted = digest(original)
        made_from = manifest.get(name)  # None: a copy of unknown origin (treated as edited)
        if not copy.exists():
            _copy(original, copy)
            done.created.append(name)
        elif digest(copy) == wanted:
            done.kept.append(name)
        elif reset:
            aside_dir = aside_dir or _new_folder(lab / PREVIOUS)
            aside = aside_dir / name
            os.replace(copy, aside)
            _copy(original, copy)
            done.moved[name] = aside
        elif made_from is not None and digest(copy) == made_from:  # unedited: follow notebooks/
            _copy(original, copy)
            done.refreshed.append(name)
        else:  # edited: never overwritten
            done.kept.append(name)
            if made_from != wanted:
                done.stale.append(name)
            continue
        manifest[name] = wanted
    _write_manifest(lab, manifest)
    return done


def summary(done: Prepared, lab: Path) -> str:
    """Lines a person reads before JupyterLab starts (nothing when nothing happened)."""
    shown = _shown(lab)
    lines = [f"{shown}/{n}: new copy of notebooks/{n}" for n in done.created]
    lines += [f"{shown}/{n}: updated from notebooks/{n}" for n in done.refreshed]
    lines += [
        f"{shown}/{n}: yours is kept; notebooks/{n} has changed since "
        "(`make lab-reset` takes the new one and moves yours aside)"
        for n in done.stale
    ]
    lines += [
        f"{shown}/{n}: fresh copy; your edited one is in {_shown(p)}" for n, p in done.moved.items()
    ]
    return "\n".join(lines)


def _new_folder(parent: Path) -> Path:
    """A new folder named by the time (with -2, -3... when that name is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        folder = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"no free folder name under {parent}")


def _copy(original: Path, copy: Path) -> None:
    """Write atomically: an interrupted copy never leaves half a notebook behind."""
    fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=f".{copy.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(original, tmp)
        os.replace(tmp, copy)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_manifest(lab: Path) -> dict[str, str]:
    try:
        data = json.loads((lab / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_manifest(lab: Path, manifest: dict[str, str]) -> None:
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    (lab / MANIFEST).write_text(text, encoding="utf-8")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=LAB, help="working copies (build/lab)")
    parser.add_argument("--source", type=Path, default=SOURCE, help="tracked notebooks")
    parser.add_argument(
        "--reset", action="store_true", help="fresh copies; edited ones moved to previous/"
    )
    args = parser.parse_args(argv)
    done = prepare(args.dir, args.source, reset=args.reset)
    text = summary(done, args.dir)
    if text:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
