"""Parse ``%lamina`` / ``%%lamina`` lines into a typed :class:`Command` (nothing runs here).

Lines are split with :mod:`shlex` (POSIX): ``"Aspect Ratio=16:9"`` and
``'Style=Disney / Pixar'`` are one token each. ``expand`` (the magics pass IPython's
``DollarFormatter`` over the user's namespace) is applied to each token *after* splitting, so
``Prompt={p}`` stays one value even when ``p`` holds spaces or quotes; that is why the magic is
decorated with ``@no_var_expand`` (IPython would otherwise expand before we split).

``resolve`` keeps Python objects whole: where a subcommand takes objects (an input of ``run``,
``estimate`` and ``grid``, the source of ``upload``), a value that is exactly ``{expr}`` and
evaluates to something other than a string or number (a PIL image, a ``Path``, a list of URLs)
is kept as that object instead of being formatted into text; strings and numbers expand as
before. The cell body of ``%%lamina run`` is taken literally. The option tables
(:data:`OPTIONS`) are public because Tab completion (:mod:`.completion`) reads the same
grammar; help texts live in :mod:`.help`.
"""

from __future__ import annotations

import difflib
import keyword
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import LaminaError
from ..render.html import quote_arg
from .help import SUBCOMMANDS, USAGE, usage

__all__ = [
    "HELP_FLAGS",
    "OPTIONS",
    "Command",
    "CommandError",
    "Option",
    "is_assignment",
    "is_object",
    "parse",
]


class CommandError(LaminaError):
    """A ``%lamina`` line that cannot be parsed; ``hint`` shows the usage line."""

    def __init__(self, message: str, sub: str | None = None, *, hint: str | None = None) -> None:
        self.subcommand = sub
        if hint is None:
            hint = (
                f"Usage: {usage(sub)}" if sub in USAGE else "Subcommands: " + ", ".join(SUBCOMMANDS)
            )
        super().__init__(message, hint=hint)


@dataclass(frozen=True)
class Command:
    """One parsed ``%lamina`` line. ``name`` is the subcommand; unused fields keep defaults.

    ``help`` is True for ``SUB --help`` (the front end prints ``usage(name, full=True)``);
    ``name == "help"`` with ``topic`` is ``%lamina help SUB``. ``inputs`` values are strings,
    or the objects a whole ``{expr}`` named (see the module docstring); ``source`` is what
    ``upload`` uploads (a path, or such an object).
    """

    name: str
    app: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    cell_param: str | None = None
    execution_id: str | None = None
    search: str | None = None
    limit: int | None = None
    offset: int | None = None
    output_var: str | None = None
    webhook: str | None = None
    wait: bool = True
    timeout: float | None = None
    folder: str | None = None
    save: bool = False
    stop: bool = False
    if_no_key: bool = False
    time_scale: float | None = None
    topic: str | None = None
    help: bool = False
    status: str | None = None
    since: str | None = None
    starred: bool = False
    reuse: bool = False
    fresh: bool = False
    raise_on_failure: bool | None = None
    x: str | None = None
    y: str | None = None
    z: str | None = None
    grid_id: str | None = None
    retry: bool = False
    yes: bool = False
    off: bool = False
    text: str | None = None
    path: str | None = None
    source: Any = None


class Option(NamedTuple):
    """How one option fills a :class:`Command` field.

    ``kind``: ``flag`` (sets True), ``false`` (sets False: ``--no-wait``, ``--no-raise``), or
    the type of the value that follows: ``int``/``float`` (positive), ``count`` (a whole number
    from 0), ``str`` (non-empty), ``ident`` (a variable name).
    """

    field: str
    kind: str

    @property
    def takes_value(self) -> bool:
        """True when the option is followed by a value (``--limit 5``), False for a switch."""
        return self.kind not in ("flag", "false")


@dataclass(frozen=True)
class Bound:
    """A token that named a Python object: ``Name={expr}`` (``name`` set) or a bare
    ``{expr}``; ``value`` is the object itself, kept whole."""

    name: str | None
    value: Any


_OUT = {"-o": Option("output_var", "ident"), "--output": Option("output_var", "ident")}
_REUSE = {
    "--reuse": Option("reuse", "flag"),
    "--fresh": Option("fresh", "flag"),
}
_FILTERS = {
    "--app": Option("app", "str"),
    "--status": Option("status", "str"),
    "--since": Option("since", "str"),
    "--starred": Option("starred", "flag"),
    "--limit": Option("limit", "int"),
}
#: Options per subcommand: flag -> Option. Every subcommand of ``help.USAGE`` has an entry.
OPTIONS: dict[str, dict[str, Option]] = {
    "login": {"--save": Option("save", "flag")},
    "sandbox": {
        "--stop": Option("stop", "flag"),
        "--if-no-key": Option("if_no_key", "flag"),
        "--time-scale": Option("time_scale", "float"),
    },
    "apps": {"--limit": Option("limit", "int"), **_OUT},
    "info": {},
    "run": {
        "--webhook": Option("webhook", "str"),
        "--no-wait": Option("wait", "false"),
        "--timeout": Option("timeout", "float"),
        "--param": Option("cell_param", "str"),
        "--no-raise": Option("raise_on_failure", "false"),
        **_REUSE,
        **_OUT,
    },
    "grid": {
        "--x": Option("x", "str"),
        "--y": Option("y", "str"),
        "--z": Option("z", "str"),
        "--fresh": Option("fresh", "flag"),
        "--yes": Option("yes", "flag"),
        "--no-wait": Option("wait", "false"),
        "--resume": Option("grid_id", "str"),
        "--retry-failed": Option("retry", "flag"),
        **_OUT,
    },
    "estimate": {**_OUT},
    "status": {},
    "resume": {"--no-raise": Option("raise_on_failure", "false"), **_OUT},
    "cancel": {},
    "upload": {**_OUT},
    "runs": {
        "--status": Option("status", "str"),
        "--app": Option("app", "str"),
        "--since": Option("since", "str"),
        "--limit": Option("limit", "int"),
        "--offset": Option("offset", "count"),
        **_OUT,
    },
    "history": {**_FILTERS, "--offset": Option("offset", "count"), **_OUT},
    "star": {"--off": Option("off", "flag")},
    "note": {},
    "export": {**_FILTERS},
    "save": {},
    "doctor": {},
    "widget": {**_OUT},
    "help": {},
}
# Positionals per subcommand: (field, how): "required", "optional", "words" (the rest, joined
# with spaces; may be none), "text" (the rest, joined; at least one token, which may be "").
# run, estimate and grid take APP and Name=value tokens instead; export takes QUERY... PATH.
_POSITIONALS: dict[str, tuple[tuple[str, str], ...]] = {
    "login": (),
    "sandbox": (),
    "apps": (("search", "words"),),
    "info": (("app", "required"),),
    "status": (("execution_id", "required"),),
    "resume": (("execution_id", "required"),),
    "cancel": (("execution_id", "required"),),
    "upload": (("source", "required"),),
    "runs": (),
    "history": (("search", "words"),),
    "star": (("execution_id", "required"),),
    "note": (("execution_id", "required"), ("text", "text")),
    "save": (("execution_id", "required"), ("folder", "optional")),
    "doctor": (),
    "widget": (("app", "required"),),
    "help": (("topic", "optional"),),
}
_WITH_INPUTS = ("run", "estimate", "grid")
#: Subcommands whose values may be Python objects (``Name={obj}``, ``upload {obj}``).
_TAKES_OBJECTS = (*_WITH_INPUTS, "upload")
#: Any of these after the subcommand asks for its help instead of running it.
HELP_FLAGS = ("--help", "-h", "-?")
# What a missing required positional must be, for the error that names the fix.
_POSITIONAL_NEEDS = {
    "app": "an app name or id (%lamina apps lists them)",
    "execution_id": "an execution id (%lamina history lists them; the first few characters "
    "are enough)",
    "source": "a file to upload: a path, or {variable} holding a PIL image, bytes or a Path",
    "text": 'the text of the note ("" removes the note)',
}
_WHOLE = re.compile(r"^\{([^{}]+)\}$")


def parse(
    line: str,
    cell: str | None = None,
    *,
    expand: Callable[[str], str] | None = None,
    resolve: Callable[[str], Any] | None = None,
) -> Command:
    """Parse a ``%lamina`` line (and the ``%%lamina`` cell body) into a :class:`Command`.

    Raises :class:`CommandError` naming the fix and the usage line. An empty line means
    ``help``. ``expand`` is applied to every token after the subcommand, after splitting;
    ``resolve(expr)`` evaluates a whole ``{expr}`` value where objects are taken.
    """
    tokens = _split(line)
    if not tokens:
        if cell is not None:
            raise CommandError("%%lamina needs a subcommand: %%lamina run APP --param NAME", "run")
        return Command("help")
    sub = _subcommand(tokens[0])
    words: list[str] = tokens[1:]
    if any(t in HELP_FLAGS for t in words):
        return Command(sub, help=True)
    if sub == "help" and cell is None and words and words[0] not in SUBCOMMANDS:
        raise CommandError(f"No help topic {words[0]!r}.", "help")
    rest: list[str | Bound] = list(words)
    if expand is not None or resolve is not None:
        objects = resolve if sub in _TAKES_OBJECTS else None
        rest = [_expand(expand, objects, t) for t in words]
    fields, positionals = _take_options(sub, rest)
    if sub in _WITH_INPUTS:
        _take_app_and_inputs(sub, positionals, fields, cell)
    elif cell is not None:
        raise CommandError(
            f"%%lamina {sub} takes no cell body; the cell form is only for run.", "run"
        )
    elif sub == "export":
        _export_args(positionals, fields)
    else:
        _assign_positionals(sub, positionals, fields)
    if "cell_param" in fields and cell is None:
        raise CommandError(
            "--param names the parameter the cell body fills; it only works in a %%lamina cell.",
            "run",
        )
    return Command(sub, **fields)


def is_object(value: Any) -> bool:
    """True for a value ``{expr}`` keeps as an object (not a string, number or None)."""
    return value is not None and not isinstance(value, (str, int, float, bool))


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise CommandError(
            f"Could not split the line ({exc}).",
            hint="Close every quote; for an apostrophe inside a value quote the whole token "
            'with double quotes ("Prompt=a cat\'s hat"), or put long text in a %%lamina cell.',
        ) from None


def _subcommand(word: str) -> str:
    if word in HELP_FLAGS:
        return "help"
    if word in OPTIONS:
        return word
    close = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    raise CommandError(f"Unknown subcommand {word!r}.{guess}")


def _expand(
    expand: Callable[[str], str] | None, resolve: Callable[[str], Any] | None, token: str
) -> str | Bound:
    """One token after expansion: a :class:`Bound` object where ``resolve`` keeps one, else
    the formatted text."""
    if resolve is not None:
        name, eq, value = token.partition("=")
        whole = _WHOLE.match(value if eq else token)
        if whole is not None and not token.startswith("-"):
            try:
                found = resolve(whole.group(1))
            except Exception:  # not an expression of the namespace: expand it as text
                return _expand_text(expand, token)
            label = _expand_text(expand, name).strip() if eq else None
            if is_object(found):
                return Bound(label, found)
            # a string or number: its text, as the formatter would give it (evaluated once)
            return f"{label}={found}" if eq else f"{found}"
    return _expand_text(expand, token)


def _expand_text(expand: Callable[[str], str] | None, token: str) -> str:
    if expand is None:
        return token
    try:
        return str(expand(token))
    except Exception as exc:  # a user's variable failed to format: say which token
        raise CommandError(
            f"Could not expand {token!r}: {exc}",
            hint="Check the {variable} or $variable names in the line.",
        ) from None


def _take_options(sub: str, tokens: list[str | Bound]) -> tuple[dict[str, Any], list[str | Bound]]:
    """Take the options out of ``tokens``: (their Command fields, the other tokens in order)."""
    specs = OPTIONS[sub]
    fields: dict[str, Any] = {}
    positionals: list[str | Bound] = []
    it = iter(tokens)
    only_positional = False
    for tok in it:
        if (
            only_positional
            or isinstance(tok, Bound)
            or not tok.startswith("-")
            or tok == "-"
            or is_assignment(tok)
        ):
            positionals.append(tok)
            continue
        if tok == "--":
            only_positional = True
            continue
        flag, has_eq, inline = tok.partition("=")
        if flag not in specs:
            raise CommandError(_unknown_option(sub, flag), sub)
        option = specs[flag]
        if not option.takes_value:
            if has_eq:
                raise CommandError(f"{flag} takes no value.", sub)
            fields[option.field] = option.kind == "flag"
            continue
        raw = inline if has_eq else next(it, None)
        if raw is None:
            raise CommandError(f"{flag} needs a value.", sub)
        if isinstance(raw, Bound):
            raise CommandError(f"{flag} needs text, not a Python object.", sub)
        fields[option.field] = _convert(sub, flag, option.kind, raw)
    return fields, positionals


def is_assignment(tok: str) -> bool:
    """True for a ``Name=value`` input, including ``-x=1`` (a dash-led token that is not an
    option with an inline value); ``run`` takes these after the app."""
    return "=" in tok and not tok.startswith("--") and tok.split("=", 1)[0] not in ("-o",)


def _unknown_option(sub: str, flag: str) -> str:
    known = sorted(OPTIONS[sub]) + list(HELP_FLAGS[:1])
    close = difflib.get_close_matches(flag, known, n=1)
    guess = f" Did you mean {close[0]}?" if close else ""
    listed = ", ".join(known)
    return f"Unknown option {flag} for {sub}.{guess} Options: {listed}."


def _convert(sub: str, flag: str, kind: str, raw: str) -> Any:
    if kind in ("int", "count"):
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < (0 if kind == "count" else 1):
            what = "a whole number from 0" if kind == "count" else "a positive whole number"
            raise CommandError(f"{flag} needs {what}, got {raw!r}.", sub)
        return value
    if kind == "float":
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if not number > 0 or number == float("inf"):
            raise CommandError(
                f"{flag} needs a positive number of seconds or a factor, got {raw!r}.", sub
            )
        return number
    if kind == "ident":
        if not raw.isidentifier() or keyword.iskeyword(raw):
            raise CommandError(
                f"{flag} needs a Python variable name, got {raw!r} "
                "(letters, digits and _; not starting with a digit).",
                sub,
            )
        return raw
    if not raw.strip():
        raise CommandError(f"{flag} needs a non-empty value.", sub)
    return raw


def _assign_positionals(sub: str, tokens: list[str | Bound], fields: dict[str, Any]) -> None:
    spec = _POSITIONALS[sub]
    takes_rest = bool(spec) and spec[-1][1] in ("words", "text")
    if len(tokens) > len(spec) and not takes_rest:
        extra = tokens[len(spec)]
        why = " Quote values with spaces." if spec else ""
        raise CommandError(f"Unexpected argument {_shown(extra)} for {sub}.{why}", sub)
    for i, (name, how) in enumerate(spec):
        if how in ("words", "text"):
            rest = [_text_of(sub, name, t) for t in tokens[i:]]
            if rest:
                fields[name] = " ".join(rest).strip() if how == "words" else " ".join(rest)
            elif how == "text":
                raise CommandError(f"{sub} needs {_POSITIONAL_NEEDS[name]}.", sub)
            if how == "words" and not fields.get(name):
                fields.pop(name, None)
            continue
        value = tokens[i] if i < len(tokens) else ""
        if isinstance(value, Bound):
            fields[name] = value.value
            continue
        if not value:
            if how == "required":
                raise CommandError(f"{sub} needs {_POSITIONAL_NEEDS[name]}.", sub)
            continue
        fields[name] = value


def _text_of(sub: str, name: str, token: str | Bound) -> str:
    if isinstance(token, Bound):
        raise CommandError(f"The {name} of {sub} is text, not a Python object.", sub)
    return token


def _shown(token: str | Bound) -> str:
    return repr(token) if isinstance(token, str) else f"{{{type(token.value).__name__} object}}"


def _export_args(tokens: list[str | Bound], fields: dict[str, Any]) -> None:
    """``export [GRID_ID | QUERY words] PATH``: the last token is the file."""
    texts = [_text_of("export", "query", t) for t in tokens]
    if not texts or not texts[-1].strip():
        raise CommandError(
            "export needs the file to write, last: %lamina export fox fox-runs.html", "export"
        )
    fields["path"] = texts[-1]
    query = " ".join(texts[:-1]).strip()
    if query:
        fields["search"] = query


def _take_app_and_inputs(
    sub: str, tokens: list[str | Bound], fields: dict[str, Any], cell: str | None
) -> None:
    """``APP Name=value ...`` plus, for run, the cell body as the ``--param`` value; a grid
    being resumed (``--resume ID``) takes nothing else."""
    if sub == "grid" and "grid_id" in fields:
        if tokens:
            raise CommandError(
                f"--resume picks the grid up as it was journaled; drop {_shown(tokens[0])}.",
                "grid",
            )
        return
    if cell is not None and sub != "run":
        raise CommandError(f"%%lamina {sub} takes no cell body; the cell form is only for run.")
    first = tokens[0] if tokens else None
    if not isinstance(first, str) or "=" in first:
        raise CommandError(
            f"{sub} needs the app first: %lamina {sub} APP Name=value ... (an app "
            "whose name contains '=' can be given by its id).",
            sub,
        )
    fields["app"] = first
    inputs: dict[str, Any] = {}
    for i, tok in enumerate(tokens[1:], start=1):
        if isinstance(tok, Bound):
            if tok.name is None:
                raise CommandError(
                    "A {variable} alone is not an input: give it a name, e.g. Upload={img}.", sub
                )
            name, value = tok.name, tok.value
        else:
            name, eq, value = tok.partition("=")
            name = name.strip()
            if not eq:
                previous = tokens[i - 1] if i > 1 else None
                before = previous if isinstance(previous, str) else None
                raise CommandError(_bare_token_message(tok, before), sub)
        if not name:
            raise CommandError(f"{_shown(tok)} has no parameter name before '='.", sub)
        if name in inputs:
            raise CommandError(f"Parameter {name!r} is given twice.", sub)
        inputs[name] = value
    if cell is not None:
        inputs.update(_cell_input(fields.get("cell_param"), cell, inputs))
    if sub == "grid" and not any(k in fields for k in ("x", "y", "z")):
        raise CommandError(
            "A grid needs at least one axis: --x Style (every option), --x "
            '"Style=Anime,Watercolor" or --y "Prompt=a fox|a lighthouse".',
            "grid",
        )
    fields["inputs"] = inputs


def _cell_input(param: str | None, cell: str, inputs: Mapping[str, Any]) -> dict[str, str]:
    if not param:
        raise CommandError(
            "Say which parameter the cell body fills: %%lamina run APP --param Prompt", "run"
        )
    if param in inputs:
        raise CommandError(
            f"{param!r} comes from the cell body; drop {param}=... from the line.", "run"
        )
    body = cell[:-2] if cell.endswith("\r\n") else cell[:-1] if cell.endswith("\n") else cell
    if not body.strip():
        raise CommandError(
            f"The cell is empty: write the {param} value in the cell body below the %%lamina line.",
            "run",
        )
    return {param: body}


def _bare_token_message(tok: str, previous: str | None) -> str:
    if previous and "=" in previous:
        return (
            f"Expected Name=value, got {tok!r}. If it belongs to the value before it, "
            f"quote the whole pair: {quote_arg(previous + ' ' + tok)}"
        )
    return (
        f"Expected Name=value, got {tok!r}. Give inputs as Name=value; quote names or "
        'values with spaces: "Aspect Ratio=16:9".'
    )
