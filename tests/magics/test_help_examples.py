"""Every example in every help text runs, as written, against the sandbox in a real shell.

The help texts are parsed (``help.examples``), in the order a reader meets them: the overview,
then each subcommand's ``--help``. The setup is what the overview says the examples assume (a
picture ``me.jpg`` in the notebook's folder, ``img`` a PIL image, ``url`` a picture's URL) and
the sandbox; an example may use what an earlier one of the same text stored with ``-o``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from magics_support import loaded_shell, run_cell, texts
from PIL import Image

from lamina_notebook.magics import help as command_help

TEXTS = {"overview": command_help.HELP} | {
    sub: command_help.usage(sub, full=True) for sub in command_help.SUBCOMMANDS
}
#: What an example must never say: a search that found nothing, a grid that did not start.
FAILURE_WORDS = ("No apps match", "Nothing was started", "Error:", "Traceback")


def test_the_examples_are_found() -> None:
    found = {name: command_help.examples(text) for name, text in TEXTS.items()}
    assert all(found.values()), [name for name, lines in found.items() if not lines]
    # the three that once failed are fixed: a search that finds, the right input, a real app
    every = [line for lines in found.values() for line, _ in lines]
    assert "apps portrait" not in every
    assert not any("Image=" in line for line in every)
    assert not any("Story Writer" in line for line in every)
    assert command_help.examples("Examples:\n  %lamina doctor   # a comment\n") == [
        ("doctor", None)
    ]


@pytest.fixture
def shell(
    sandbox_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    """A loaded shell in a notebook folder with me.jpg, img and url, and %lamina sandbox
    pointing at the test sandbox (LAMINA_SANDBOX_URL)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAMINA_SANDBOX_URL", sandbox_env.base_url)
    monkeypatch.setattr("getpass.getpass", lambda prompt: sandbox_env.api_key)  # %lamina login
    Image.new("RGB", (120, 90), (180, 60, 40)).save(tmp_path / "me.jpg")
    for ip in loaded_shell():
        ip.user_ns["img"] = Image.new("RGB", (96, 96), (30, 90, 200))
        ip.user_ns["url"] = f"{sandbox_env.base_url}/samples/portrait.png"
        with capture_output():
            ip.run_line_magic("config", "LaminaMagics.rate_limit = 10000")
        yield ip


@pytest.mark.parametrize("name", list(TEXTS))
def test_every_example_runs(shell: InteractiveShell, name: str) -> None:
    examples = command_help.examples(TEXTS[name])
    with capture_output():
        shell.run_line_magic("lamina", "sandbox")  # what "%lamina sandbox --stop" undid
    for line, cell in examples:
        source = f"%lamina {line}" if cell is None else f"%%lamina {line}\n{cell}"
        result, cap = run_cell(shell, source)
        shown = texts(cap) + "\n".join(texts(cap, "text/html").splitlines())
        assert result.error_in_exec is None, f"{name}: {source!r} failed:\n{texts(cap)}"
        for word in FAILURE_WORDS:
            assert word not in shown, f"{name}: {source!r} says {word!r}:\n{texts(cap)}"
