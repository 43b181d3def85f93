"""``%lamina`` / ``%%lamina``: the IPython front end.

:mod:`.magic` holds ``LaminaMagics`` (traits, the line magic, extension loading), :mod:`.parse`
turns a line into a Command, :mod:`.completion` offers Tab completions, :mod:`.help` holds the
usage texts, :mod:`.commands` runs each subcommand, :mod:`.progress` draws blocking waits and
:mod:`.doctor` checks the environment. Names are imported on first use, so the parser can be
imported without IPython.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["LaminaMagics", "load_ipython_extension", "unload_ipython_extension"]

if TYPE_CHECKING:  # pragma: no cover
    from .magic import LaminaMagics, load_ipython_extension, unload_ipython_extension


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".magic", __name__), name)
