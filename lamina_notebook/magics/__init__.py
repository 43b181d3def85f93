"""``%lamina`` / ``%%lamina``: the IPython front end.

:mod:`.magic` holds ``LaminaMagics`` (traits, the line magic, extension loading) and is the only
module that knows it; :mod:`.parse` turns a line into a Command; :mod:`.commands` holds one
handler per subcommand, called with ``(command, session, shell)``; :mod:`.display` shows a
bundle or an error and stores ``-o VAR``; :mod:`.progress` draws the blocking wait;
:mod:`.completion` offers Tab completions; :mod:`.help` holds the usage texts and
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
