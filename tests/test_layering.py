"""Layering, checked in fresh interpreters: the core imports no Jupyter, Pillow or server module,
and the sandbox imports nothing from the client side of the package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lamina_notebook

PACKAGE = Path(lamina_notebook.__file__).parent
CORE = [
    "errors",
    "models",
    "config",
    "validation",
    "scheduling",
    "client",
    "journal",
    "webhooks",
    "files",
]
FORBIDDEN = [
    "IPython",
    "ipywidgets",
    "ipykernel",
    "traitlets",
    "PIL",
    "starlette",
    "uvicorn",
    "nbformat",
    "nbclient",
]


def loaded_after(code: str) -> list[str]:
    """Top-level module names in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_core_modules_exist() -> None:
    missing = [m for m in CORE if not (PACKAGE / f"{m}.py").exists()]
    # files.py is written in parallel; every other core module must be here.
    assert set(missing) <= {"files"}, missing


def test_the_core_imports_no_jupyter_pillow_or_server_module() -> None:
    present = [m for m in CORE if (PACKAGE / f"{m}.py").exists()]
    modules = loaded_after("\n".join(f"import lamina_notebook.{m}" for m in present))
    assert "httpx" in modules and "lamina_notebook.client" in modules
    leaked = sorted({m.split(".")[0] for m in modules} & set(FORBIDDEN))
    assert leaked == [], f"the core pulled in {leaked}"


def test_a_client_can_be_built_without_jupyter() -> None:
    code = (
        "from lamina_notebook.client import LaminaClient\n"
        "c = LaminaClient('lma_x', 'http://127.0.0.1:9', journal=None)\n"
        "assert 'lma_x' not in repr(c)"
    )
    modules = loaded_after(code)
    assert not {m.split(".")[0] for m in modules} & set(FORBIDDEN)


def test_the_sandbox_imports_nothing_from_the_client_side() -> None:
    modules = loaded_after("import lamina_notebook.sandbox")
    ours = [m for m in modules if m.startswith("lamina_notebook.")]
    assert ours and all(m.startswith("lamina_notebook.sandbox") for m in ours), ours
