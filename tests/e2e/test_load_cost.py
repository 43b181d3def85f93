"""``%load_ext lamina_notebook`` stays cheap: no httpx, client, loop thread or journal at load,
nor the parser or the renderer (the completion module registered at load imports them on the
first Tab).

Each check runs in a fresh interpreter, because this test process has long imported httpx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import json, sys, threading
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
sh.run_line_magic("load_ext", "lamina_notebook")
loaded = {"modules": sorted(m for m in ("httpx", "lamina_notebook.client",
                                        "lamina_notebook.magics.commands",
                                        "lamina_notebook.magics.parse",
                                        "lamina_notebook.render",
                                        "lamina_notebook.journal",
                                        "lamina_notebook.session.results")
                            if m in sys.modules),
          "threads": sorted(t.name for t in threading.enumerate())}
sh.run_line_magic("lamina", "help")
loaded["after_first_call"] = "lamina_notebook.magics.commands" in sys.modules
print("STATE", json.dumps(loaded))
"""


def _load(env_extra: dict[str, str], home: Path) -> tuple[dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMINA_")}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        IPYTHONDIR=str(home / "ipy"),
        LAMINA_JOURNAL=str(home / "journal.sqlite3"),
        **env_extra,
    )
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("STATE "))
    return json.loads(line[len("STATE ") :]), out


@pytest.mark.parametrize("where", ["none", "env", "file"])
def test_load_ext_builds_no_client_and_reads_the_key_from_config(
    tmp_path: Path, where: str
) -> None:
    extra: dict[str, str] = {}
    if where == "env":
        extra["LAMINA_API_KEY"] = "lma_from_env_0123456789"
    elif where == "file":
        (tmp_path / ".lamina").mkdir()
        (tmp_path / ".lamina" / "config.json").write_text(
            json.dumps({"credentials": {"apiKey": "lma_from_file_0123456789"}})
        )
        os.chmod(tmp_path / ".lamina" / "config.json", 0o600)
    state, out = _load(extra, tmp_path)
    assert state["modules"] == []  # nothing heavy imported by %load_ext
    assert not any(str(t).startswith("lamina") for t in state["threads"])  # type: ignore[union-attr]
    assert not (tmp_path / "journal.sqlite3").exists()
    assert state["after_first_call"] is True  # the subcommands arrive with the first %lamina
    assert ("No Lamina API key" in out) is (where == "none")
    assert "lma_from" not in out
