"""Tab completion of ``%lamina`` lines: the pure :func:`complete` and the IPython matcher.

``%load_ext`` imports this module to register the matcher, so it stays cheap at import: the
grammar (:mod:`.parse`) and the quoting (:mod:`..render.html`) are imported on the first Tab.
The matcher never waits for the network: the app list and parameters come from the session's
cache, which a miss fills in the background, so the first Tab may offer only subcommands.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Parameter
    from ..session.session import Session
    from .parse import Option

__all__ = ["CachedAppParameters", "complete", "current_token", "ipython_matcher"]

_PREFIXES = ("%lamina", "%%lamina", "lamina")
_APP_SUBS = ("run", "info", "widget", "estimate", "grid")
_INPUT_SUBS = ("run", "estimate", "grid")
_PARAM_OPTIONS = ("--param", "--x", "--y", "--z")


def current_token(line_before_cursor: str) -> str:
    """The raw text of the token being typed (with its opening quote): what a completion of
    :func:`complete` replaces."""
    _, _, start = _scan_partial(line_before_cursor)
    return line_before_cursor[start:]


def complete(
    line_before_cursor: str,
    apps: Iterable[str],
    app_params: Mapping[str, Sequence[Parameter]],
) -> list[str]:
    """Completions for the token being typed, each a whole replacement token.

    Subcommands first; app names after ``run``/``info``/``widget``/``estimate``/``grid``/
    ``--app`` (quoted when needed); after the app of ``run``, ``estimate`` and ``grid``,
    parameter names not given yet as ``Name=`` (or ``"Aspect Ratio=`` with the quote left open
    for the value) and, after ``Name=``, the parameter's option labels; parameter names after
    ``--param`` and a grid's ``--x``/``--y``/``--z``. ``app_params`` maps an app name (or id)
    to its parameters.
    """
    from .help import SUBCOMMANDS
    from .parse import OPTIONS

    quote = _quote_arg()
    words, partial, _ = _scan_partial(line_before_cursor)
    if words and words[0] in _PREFIXES:
        words = words[1:]
    if not words:
        return _starting(SUBCOMMANDS, partial)
    sub = words[0]
    if sub not in OPTIONS:
        return []
    if sub == "help":
        return _starting(SUBCOMMANDS, partial) if len(words) == 1 else []
    positionals, pending_option = _positionals_of(OPTIONS[sub], words[1:])
    params = _params_for(app_params, positionals[0]) if positionals else ()
    if pending_option == "--app":
        return [quote(a) for a in _starting(apps, partial)]
    if pending_option in _PARAM_OPTIONS:
        return [quote(p.name) for p in params if _starts(p.name, partial)]
    if pending_option:
        return []
    if partial.startswith("-"):
        return _starting([*OPTIONS[sub], "--help"], partial)
    if sub in _APP_SUBS and not positionals:
        return [quote(a) for a in _starting(apps, partial)]
    if sub in _INPUT_SUBS:
        given = {w.partition("=")[0].strip() for w in positionals[1:]}
        return _complete_input(params, given, partial)
    return []


class CachedAppParameters(Mapping[str, Sequence["Parameter"]]):
    """App name/id -> parameters, read from the session's cache; a miss starts a background
    fetch and reads as missing (so :func:`complete` offers nothing rather than waiting)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __getitem__(self, key: str) -> Sequence[Parameter]:
        app = self.session.cached_app(key)
        if app is None or app.parameters is None:
            raise KeyError(key)
        return app.parameters

    def __iter__(self) -> Iterator[str]:
        return iter([a.name for a in self.session.cached_apps()])

    def __len__(self) -> int:
        return len(self.session.cached_apps())


def ipython_matcher(session: Session) -> Callable[[Any], dict[str, Any]]:
    """An IPython (matcher API v2) completer of ``%lamina`` lines for ``session``."""
    from IPython.core.completer import SimpleCompletion, completion_matcher

    @completion_matcher(identifier="lamina", priority=100, api_version=2)
    def lamina_matcher(context: Any) -> dict[str, Any]:
        text = context.text_until_cursor.lstrip()
        if not text.startswith(("%lamina ", "%%lamina ")):
            return {"completions": [], "suppress": False}
        with contextlib.suppress(Exception):  # no key yet, or offline: complete what we can
            session.refresh_apps()
        names = [a.name for a in session.cached_apps()]
        words = complete(text, names, CachedAppParameters(session))
        return {
            "completions": [SimpleCompletion(w, type="lamina") for w in words],
            "suppress": bool(words),
            "ordered": True,
            "matched_fragment": current_token(text),
        }

    return lamina_matcher


# -- helpers -------------------------------------------------------------------------------


def _quote_arg() -> Callable[[str], str]:
    """shlex-compatible quoting of one token (imported here, on the first Tab, not at load)."""
    from ..render.html import quote_arg

    return quote_arg


def _scan_partial(line: str) -> tuple[list[str], str, int]:
    """Split an unfinished line like shlex (POSIX) would.

    Returns (finished tokens, the unquoted text of the token being typed, where that token
    starts in ``line``). An open quote is fine: its text so far is the current token.
    """
    done: list[str] = []
    cur: list[str] = []
    start, in_token, quote, i = len(line), False, "", 0
    while i < len(line):
        ch = line[i]
        if not in_token and not ch.isspace():
            in_token, start, cur = True, i, []
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < len(line) and line[i + 1] in '"\\':
                i += 1
                cur.append(line[i])
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(line):
            i += 1
            cur.append(line[i])
        elif ch.isspace():
            if in_token:
                done.append("".join(cur))
                in_token, start = False, len(line)
        else:
            cur.append(ch)
        i += 1
    if not in_token:
        return done, "", len(line)
    return done, "".join(cur), start


def _positionals_of(
    options: Mapping[str, Option], words: list[str]
) -> tuple[list[str], str | None]:
    """(positional words, the option still waiting for its value or None)."""
    from .parse import is_assignment

    positionals: list[str] = []
    waiting: str | None = None
    for w in words:
        if waiting:
            waiting = None
        elif w in options and options[w].takes_value:
            waiting = w
        elif not w.startswith("-") or is_assignment(w):
            positionals.append(w)
    return positionals, waiting


def _complete_input(params: Sequence[Parameter], given: set[str], partial: str) -> list[str]:
    quote = _quote_arg()
    name, eq, value = partial.partition("=")
    if eq:
        param = next((p for p in params if p.name == name.strip()), None)
        labels = param.options if param else ()
        return [quote(f"{name}={o}") for o in labels if _starts(o, value)]
    names = [p.name for p in params if p.name not in given and _starts(p.name, partial)]
    return [_open_assignment(n) for n in names]


def _open_assignment(name: str) -> str:
    """``Name=``, or ``"Aspect Ratio=`` with the quote left open for the value to follow."""
    quoted = _quote_arg()(name + "=")
    if quoted.startswith('"') and quoted.endswith('"'):
        return quoted[:-1]
    return quoted


def _params_for(app_params: Mapping[str, Sequence[Parameter]], app: str) -> Sequence[Parameter]:
    # .get, not [] or .items(): a lazy mapping may lack parameters for apps it lists.
    exact = app_params.get(app)
    if exact is not None:
        return exact
    folded = app.casefold()
    for key in list(app_params):
        if key.casefold() == folded:
            return app_params.get(key) or ()
    return ()


def _starts(text: str, prefix: str) -> bool:
    return text.casefold().startswith(prefix.casefold())


def _starting(candidates: Iterable[str], prefix: str) -> list[str]:
    return list(dict.fromkeys(c for c in candidates if _starts(c, prefix)))
