"""Load scripts/run_notebooks.py (the `make demo` runner) as a module, once, for any test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

RUNNER = Path(__file__).resolve().parents[2] / "scripts" / "run_notebooks.py"


def load_runner() -> ModuleType:
    """The runner module (scripts/ is not a package, so it is loaded from its path)."""
    if "run_notebooks" in sys.modules:
        return sys.modules["run_notebooks"]
    spec = importlib.util.spec_from_file_location("run_notebooks", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebooks"] = module
    spec.loader.exec_module(module)
    return module
