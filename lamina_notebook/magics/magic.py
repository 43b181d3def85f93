"""``%lamina`` / ``%%lamina``: the IPython magic, its traitlets settings, loading and unloading.

Thin by design: :mod:`.parse` turns the line into a Command, :func:`.commands.dispatch` hands it
to the subcommand's handler with the session and the shell. A LaminaError fails the cell with
one short message and its fix (:func:`.display.brief`), so Run All stops at a mistake as it
would at any Python error; ``short_errors = False`` shows the full traceback instead. Tab
completion lives in :mod:`.completion`; ``%lamina?`` shows :data:`.help.HELP`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import textwrap
from typing import Any

from IPython.core.magic import (
    Magics,
    line_cell_magic,
    magics_class,
    needs_local_scope,
    no_var_expand,
)
from IPython.utils.text import DollarFormatter
from traitlets import Bool, Float, Int, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from ..errors import LaminaError
from ..session.session import Session, get_session, reset_session
from .help import HELP

# The parser, the renderer and the subcommands (which pull in the client, httpx and the results
# code) are imported on the first %lamina call, not at %load_ext: loading the extension must
# cost little more than importing ipywidgets. The completion module is imported at load (the
# matcher is registered then) and keeps its own heavy imports for the first Tab.

__all__ = ["LaminaMagics", "load_ipython_extension", "unload_ipython_extension"]

# trait name -> Settings field, for the traits that are plain settings.
_TRAIT_TO_SETTING = {
    "base_url": "base_url",
    "api_edition": "api_edition",
    "api_prefix": "api_prefix",
    "poll_interval": "poll_interval",
    "timeout": "timeout",
    "embed_max_px": "embed_max_px",
    "rate_limit": "rate_limit",
    "journal_path": "journal_path",
    "sandbox_time_scale": "sandbox_time_scale",
    "confirm_over": "confirm_over",
}

_NO_KEY_LINE = (
    "No Lamina API key: run %lamina login (or set LAMINA_API_KEY), "
    "or %lamina sandbox to try the offline sandbox."
)


@magics_class
class LaminaMagics(Magics, Configurable):
    """Run Lamina AI apps from IPython: ``%lamina apps``, ``%lamina run APP Name=value``...

    Settings are traits: ``%config LaminaMagics.poll_interval = 5`` or, in
    ``ipython_config.py``, ``c.LaminaMagics.poll_interval = 5``. ``%lamina?`` shows the
    overview of the subcommands (:data:`.help.HELP`).
    """

    api_key = Unicode(
        "",
        help="Lamina API key (lma_...). Write-only: it moves into the session at once and "
        "this trait reads back empty, so %config never shows it. Prefer %lamina login or "
        "LAMINA_API_KEY.",
    ).tag(config=True)
    base_url = Unicode(
        None,
        allow_none=True,
        help="Lamina API base URL (default: LAMINA_BASE_URL, else https://app.uselamina.ai).",
    ).tag(config=True)
    api_edition = Unicode(
        "",
        help="Edition of the Lamina API: 'auto' (the default: /v1 when the service has it, "
        "else /api; found once at the first request), 'v1' or 'api'. Empty: "
        "LAMINA_API_EDITION, else auto.",
    ).tag(config=True)
    api_prefix = Unicode(
        "",
        help="Path prefix of the API, only when it sits elsewhere (e.g. '/gateway/v1' behind "
        "a proxy); a prefix ending in /v1 means the v1 edition, any other the api one. "
        "Empty: from api_edition.",
    ).tag(config=True)
    poll_interval = Float(
        3.0,
        help="Seconds between status checks of a run (at least 1; Lamina asks for 3-15).",
    ).tag(config=True)
    timeout = Float(
        0.0,
        help="Seconds a blocking %lamina run waits before giving up (the run goes on and "
        "%lamina resume reattaches); 0 waits until it ends.",
    ).tag(config=True)
    embed_max_px = Int(
        512,
        help="Longest side, in pixels, of images embedded in the notebook (bigger ones "
        "are downscaled; the full-size URL stays linked). 512 reads well on GitHub and "
        "keeps a saved photo output near 90 KB.",
    ).tag(config=True)
    rate_limit = Int(
        90,
        help="Requests per minute the client allows itself (the service allows 100).",
    ).tag(config=True)
    journal_path = Unicode(
        None,
        allow_none=True,
        help="SQLite run journal (default: LAMINA_JOURNAL, else "
        "$XDG_DATA_HOME/lamina-notebook/journal.sqlite3).",
    ).tag(config=True)
    short_errors = Bool(
        True,
        help="A Lamina error fails the cell with one short message and its fix; False "
        "shows Python's full traceback instead (for debugging).",
    ).tag(config=True)
    raise_on_failure = Bool(
        True,
        help="A %lamina run (or resume) whose run fails or is cancelled shows its card, then "
        "fails the cell (RunFailed), so Run All stops there; False lets the cell succeed "
        "(the same as --no-raise on one line).",
    ).tag(config=True)
    confirm_over = Int(
        10,
        allow_none=True,
        help="A %lamina grid starting more new runs than this asks 'Start N runs? [y/N]' "
        "first (where nothing can answer, e.g. nbclient, it is refused: add --yes). Reused "
        "cells are free and not counted; a grid the balance cannot cover always asks. "
        "None: ask only then.",
    ).tag(config=True)
    sandbox_time_scale = Float(
        1.0,
        help="Clock factor of the embedded sandbox (%lamina sandbox): 0.1 runs 10x faster.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        # Set before Configurable.__init__: loading config fires the observers below.
        self.session = session or get_session()
        super().__init__(shell=shell, **kwargs)
        self._push_settings()

    # -- traits -> session ----------------------------------------------------------------
    @validate("poll_interval")
    def _floor_poll_interval(self, proposal: Any) -> float:
        return max(1.0, float(proposal["value"]))

    @validate("embed_max_px")
    def _positive_px(self, proposal: Any) -> int:
        return max(16, int(proposal["value"]))

    @validate("confirm_over")
    def _count(self, proposal: Any) -> int | None:
        value = proposal["value"]
        return None if value is None else max(0, int(value))

    @validate("rate_limit")
    def _positive_rate(self, proposal: Any) -> int:
        return max(1, int(proposal["value"]))

    @validate("api_edition")
    def _known_edition(self, proposal: Any) -> str:
        from ..editions import edition_setting

        value = str(proposal["value"] or "").strip()
        if not value:
            return ""
        try:
            return edition_setting(value)
        except LaminaError as exc:
            raise TraitError(str(exc)) from None

    @observe(*_TRAIT_TO_SETTING)
    def _setting_changed(self, change: Any) -> None:
        # Only the trait that changed: a %config of one setting leaves the others as the
        # session has them (also values set with get_session().configure(...)).
        if "session" in self.__dict__:
            self._push_settings(change["name"])

    @observe("api_key")
    def _key_given(self, change: Any) -> None:
        key = change["new"]
        if key and "session" in self.__dict__:
            self.session.set_api_key(key.strip(), "LaminaMagics.api_key")
            self.api_key = ""  # write-only: the value lives in the session, not in the trait

    def scrub_config(self, *_: Any) -> None:
        """Drop ``LaminaMagics.api_key`` from the Config objects ``%config`` merged it into.

        The key then lives only in the session (traitlets merges ``%config`` values after the
        observers ran, so this runs after each cell and before each ``%lamina``).
        """
        for config in (self.config, getattr(self.shell, "config", None)):
            if config is not None and "LaminaMagics" in config:
                config["LaminaMagics"].pop("api_key", None)

    def _push_settings(self, trait: str | None = None) -> None:
        """Copy the traits (or just ``trait``) into the session's settings; empty text and a
        timeout of 0 mean "not set" (None)."""
        traits = [trait] if trait is not None else list(_TRAIT_TO_SETTING)
        values = {_TRAIT_TO_SETTING[t]: getattr(self, t) for t in traits}
        for field in ("timeout", "base_url", "api_edition", "api_prefix", "journal_path"):
            if field in values:
                values[field] = values[field] or None
        self.session.configure(**values)
        if self.api_key:
            self._key_given({"new": self.api_key})

    # -- the magic ------------------------------------------------------------------------
    @no_var_expand
    @needs_local_scope
    @line_cell_magic
    def lamina(self, line: str, cell: str | None = None, local_ns: Any = None) -> Any:
        from .commands import dispatch
        from .display import Interrupted, brief
        from .parse import parse

        shell = self.shell
        if shell is None:  # pragma: no cover - IPython gives every registered magic its shell
            raise RuntimeError("%lamina runs inside IPython")
        self.scrub_config()
        namespace = {**shell.user_ns, **(local_ns or {})}
        formatter = DollarFormatter()

        def expand(token: str) -> str:
            # IPython's own $var/{expr} rules, per token, after shlex splitting; a token that
            # does not format (say "{not a var}") stays as typed, like IPython does.
            try:
                return formatter.vformat(token, args=[], kwargs=namespace)
            except Exception:
                return token

        def resolve(expr: str) -> Any:
            # A whole {expr} value: evaluated as IPython's formatter evaluates it, but the
            # object is kept (an image, a Path, a list) rather than formatted into text.
            return eval(expr, namespace)

        try:
            cmd = parse(line, cell, expand=expand, resolve=resolve)
            if cmd.raise_on_failure is None:
                cmd = dataclasses.replace(cmd, raise_on_failure=self.raise_on_failure)
            return dispatch(cmd, self.session, shell)
        except LaminaError as exc:
            if self.short_errors:
                brief(exc)
            raise
        except Interrupted as exc:
            if self.short_errors:
                raise
            raise KeyboardInterrupt(exc.message) from exc

    lamina.__doc__ = HELP


def _no_key_hint(magics: LaminaMagics) -> str | None:
    """What loading says: how to log in when there is no key; None when there is one, or when
    the loading cell picks a backend itself, or an external sandbox is configured."""
    if os.environ.get("LAMINA_SANDBOX_URL") and magics.session.sandbox is None:
        return None
    if _cell_chooses_backend(magics.shell):
        return None
    try:
        source = magics.session.key_source()
    except LaminaError:
        source = None
    return None if source else _NO_KEY_LINE


def _cell_chooses_backend(shell: Any) -> bool:
    """True when the cell loading the extension goes on to log in or start the sandbox, so
    the how-to-log-in hint would only contradict the next line's output."""
    try:
        cell = shell.history_manager.input_hist_raw[-1]
    except (AttributeError, IndexError):
        return False
    return any(f"%lamina {sub}" in cell for sub in ("sandbox", "login"))


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%lamina`` and its completer; say how to log in when there is no key."""
    from .completion import ipython_matcher

    magics = LaminaMagics(shell=ipython)
    ipython.register_magics(magics)
    matcher = ipython_matcher(magics.session)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers.append(matcher)
    ipython._lamina_extension = (magics, matcher)
    ipython.events.register("post_run_cell", magics.scrub_config)
    line = _no_key_hint(magics)
    if line:
        if getattr(ipython, "kernel", None) is None:  # a terminal: wrap between words
            width = shutil.get_terminal_size((100, 24)).columns
            line = textwrap.fill(line, max(20, width - 1), break_on_hyphens=False)
        print(line, file=sys.stdout)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the completer and configurable; stop the session's loop, client and sandbox."""
    magics, matcher = getattr(ipython, "_lamina_extension", (None, None))
    completer = getattr(ipython, "Completer", None)
    if completer is not None and matcher in completer.custom_matchers:
        completer.custom_matchers.remove(matcher)
    if magics is not None:
        magics.scrub_config()
        if magics in ipython.configurables:
            ipython.configurables.remove(magics)
        with contextlib.suppress(ValueError):
            ipython.events.unregister("post_run_cell", magics.scrub_config)
    ipython._lamina_extension = (None, None)
    reset_session()
