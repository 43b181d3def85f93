"""Parse ``%lamina`` / ``%%lamina`` lines into a typed :class:`Command` (nothing runs here).

Lines are split with :mod:`shlex` (POSIX): ``"Aspect Ratio=16:9"`` and
``'Style=Disney / Pixar'`` are one token each. ``expand`` (the magics pass IPython's
``shell.var_expand``) is applied to each token *after* splitting, so ``Prompt={p}`` stays one
value even when ``p`` holds spaces or quotes; that is why the magic is decorated with
``@no_var_expand`` (IPython would otherwise expand before we split). The cell body of
``%%lamina run`` is taken literally. The option tables (:data:`OPTIONS`) are public because
Tab completion (:mod:`.completion`) reads the same grammar; help texts live in :mod:`.help`.
"""

from __future__ import annotations

import difflib
import keyword
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import LaminaError
from ..render.html import quote_arg
from .help import SUBCOMMANDS, USAGE, usage

__all__ = ["HELP_FLAGS", "OPTIONS", "Command", "CommandError", "Option", "is_assignment", "parse"]


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
    ``name == "help"`` with ``topic`` is ``%lamina help SUB``.
    """

    name: str
    app: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    cell_param: str | None = None
    execution_id: str | None = None
    search: str | None = None
    limit: int | None = None
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


class Option(NamedTuple):
    """How one option fills a :class:`Command` field.

    ``kind``: ``flag`` (sets True), ``nowait`` (sets ``wait`` False), or the type of the value
    that follows: ``int``/``float`` (positive), ``str`` (non-empty), ``ident`` (a variable name).
    """

    field: str
    kind: str

    @property
    def takes_value(self) -> bool:
        """True when the option is followed by a value (``--limit 5``), False for a switch."""
        return self.kind not in ("flag", "nowait")


_OUT = {"-o": Option("output_var", "ident"), "--output": Option("output_var", "ident")}
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
        "--no-wait": Option("wait", "nowait"),
        "--timeout": Option("timeout", "float"),
        "--param": Option("cell_param", "str"),
        **_OUT,
    },
    "status": {},
    "resume": {**_OUT},
    "history": {"--app": Option("app", "str"), "--limit": Option("limit", "int"), **_OUT},
    "save": {},
    "doctor": {},
    "widget": {**_OUT},
    "help": {},
}
# Positionals per subcommand: (field, required). ``run`` also takes Name=value tokens.
_POSITIONALS: dict[str, tuple[tuple[str, bool], ...]] = {
    "login": (),
    "sandbox": (),
    "apps": (("search", False),),
    "info": (("app", True),),
    "run": (("app", True),),
    "status": (("execution_id", True),),
    "resume": (("execution_id", True),),
    "history": (),
    "save": (("execution_id", True), ("folder", False)),
    "doctor": (),
    "widget": (("app", True),),
    "help": (("topic", False),),
}
#: Any of these after the subcommand asks for its help instead of running it.
HELP_FLAGS = ("--help", "-h", "-?")
# What a missing required positional must be, for the error that names the fix.
_POSITIONAL_NEEDS = {
    "app": "an app name or id (%lamina apps lists them)",
    "execution_id": "an execution id (%lamina history lists them)",
}


def parse(
    line: str, cell: str | None = None, *, expand: Callable[[str], str] | None = None
) -> Command:
    """Parse a ``%lamina`` line (and the ``%%lamina`` cell body) into a :class:`Command`.

    Raises :class:`CommandError` naming the fix and the usage line. An empty line means
    ``help``. ``expand`` is applied to every token after the subcommand, after splitting.
    """
    tokens = _split(line)
    if not tokens:
        if cell is not None:
            raise CommandError("%%lamina needs a subcommand: %%lamina run APP --param NAME", "run")
        return Command("help")
    sub = _subcommand(tokens[0])
    rest = tokens[1:]
    if any(t in HELP_FLAGS for t in rest):
        return Command(sub, help=True)
    if sub == "help" and cell is None and rest and rest[0] not in SUBCOMMANDS:
        raise CommandError(f"No help topic {rest[0]!r}.", "help")
    if expand is not None:
        rest = [_expand(expand, t) for t in rest]
    fields, positionals = _take_options(sub, rest)
    if sub == "run":
        _take_run_args(positionals, fields, cell)
    elif cell is not None:
        raise CommandError(
            f"%%lamina {sub} takes no cell body; the cell form is only for run.", "run"
        )
    else:
        _assign_positionals(sub, positionals, fields)
    if "cell_param" in fields and cell is None:
        raise CommandError(
            "--param names the parameter the cell body fills; it only works in a %%lamina cell.",
            "run",
        )
    return Command(sub, **fields)


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


def _expand(expand: Callable[[str], str], token: str) -> str:
    try:
        return str(expand(token))
    except Exception as exc:  # a user's variable failed to format: say which token
        raise CommandError(
            f"Could not expand {token!r}: {exc}",
            hint="Check the {variable} or $variable names in the line.",
        ) from None


def _take_options(sub: str, tokens: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Take the options out of ``tokens``: (their Command fields, the other tokens in order)."""
    specs = OPTIONS[sub]
    fields: dict[str, Any] = {}
    positionals: list[str] = []
    it = iter(tokens)
    only_positional = False
    for tok in it:
        if only_positional or not tok.startswith("-") or tok == "-" or is_assignment(tok):
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
    if kind == "int":
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise CommandError(f"{flag} needs a positive whole number, got {raw!r}.", sub)
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
    if not raw:
        raise CommandError(f"{flag} needs a non-empty value.", sub)
    return raw


def _assign_positionals(sub: str, tokens: list[str], fields: dict[str, Any]) -> None:
    spec = _POSITIONALS[sub]
    if len(tokens) > len(spec):
        extra = tokens[len(spec)]
        why = " Quote values with spaces." if spec else ""
        raise CommandError(f"Unexpected argument {extra!r} for {sub}.{why}", sub)
    for i, (name, required) in enumerate(spec):
        value = tokens[i] if i < len(tokens) else ""
        if not value:
            if required:
                raise CommandError(f"{sub} needs {_POSITIONAL_NEEDS[name]}.", sub)
            continue
        fields[name] = value


def _take_run_args(tokens: list[str], fields: dict[str, Any], cell: str | None) -> None:
    """``APP Name=value ...`` plus the cell body as the ``--param`` value."""
    if not tokens or "=" in tokens[0]:
        raise CommandError(
            "run needs the app first: %lamina run APP Name=value ... (an app "
            "whose name contains '=' can be given by its id).",
            "run",
        )
    fields["app"] = tokens[0]
    inputs: dict[str, str] = {}
    for i, tok in enumerate(tokens[1:], start=1):
        name, eq, value = tok.partition("=")
        name = name.strip()
        if not eq:
            raise CommandError(_bare_token_message(tok, tokens[i - 1] if i > 1 else None), "run")
        if not name:
            raise CommandError(f"{tok!r} has no parameter name before '='.", "run")
        if name in inputs:
            raise CommandError(f"Parameter {name!r} is given twice.", "run")
        inputs[name] = value
    if cell is not None:
        inputs.update(_cell_input(fields.get("cell_param"), cell, inputs))
    fields["inputs"] = inputs


def _cell_input(param: str | None, cell: str, inputs: Mapping[str, str]) -> dict[str, str]:
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
