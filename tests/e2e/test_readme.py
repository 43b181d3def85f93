"""The README says what the product does: its Python example runs as written against the
sandbox, and its magics table names every subcommand the help knows."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from lamina_notebook.magics import help as command_help

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_the_magics_table_names_every_subcommand() -> None:
    table = _section("Magics")
    missing = [
        sub for sub in command_help.SUBCOMMANDS if sub != "help" and f"%lamina {sub}" not in table
    ]
    assert not missing, f"README's magics table lacks {missing}"
    traits = re.findall(r"`(\w+)`", table.split("Settings are traits", 1)[1])
    from lamina_notebook.magics import LaminaMagics

    unknown = [t for t in traits if t not in LaminaMagics.class_trait_names()]
    assert not unknown, f"README names settings LaminaMagics lacks: {unknown}"


def test_the_python_example_runs_as_written(
    sandbox_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = re.search(r"```python\n(.*?)```", _section("From Python"), re.S)
    assert code is not None
    source = code.group(1)
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (96, 64), (200, 120, 40)).save("me.jpg")
    body = "\n".join("    " + line for line in source.splitlines())
    scope: dict[str, Any] = {}
    exec(f"async def _example():\n{body}\n    return locals()", scope)
    found = asyncio.run(scope["_example"]())
    assert found["done"].status == "completed"
    assert found["price"].expected and found["price"].affordable
    manifest = tmp_path / "results" / "me-ghibli" / "manifest.json"
    assert manifest.is_file()
