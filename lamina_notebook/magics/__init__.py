"""``%lamina`` / ``%%lamina``: the IPython front end.

:mod:`.magic` holds ``LaminaMagics`` (traits, the line magic, extension loading), :mod:`.parse`
turns a line into a Command, :mod:`.completion` offers Tab completions, :mod:`.help` holds the
usage texts, :mod:`.commands` runs each subcommand, :mod:`.progress` draws blocking waits and
:mod:`.doctor` checks the environment.
"""

from __future__ import annotations

from .magic import LaminaMagics, load_ipython_extension, unload_ipython_extension

__all__ = ["LaminaMagics", "load_ipython_extension", "unload_ipython_extension"]
