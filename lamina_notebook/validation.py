"""Input validation against an app's parameters, before anything is sent (pure, no I/O).

Every problem is collected into one :class:`~lamina_notebook.errors.InputValidationError`, so
a user fixes them all in one go; its details read like the service's own 400 details.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import InputValidationError, Problem
from .models import App, Parameter

__all__ = ["MAX_BODY_BYTES", "InputValue", "ValidInputs", "quote", "validate_inputs"]

#: Request bodies above this are refused before sending. The contract names no limit; this is
#: the smallest common gateway cap (4.5 MB on serverless hosts, 1 MB by default in Next.js API
#: routes), so a prompt of megabytes fails here with a clear message instead of as an opaque 413.
MAX_BODY_BYTES = 1_000_000


def quote(text: str) -> str:
    """``text`` in double quotes for a message, readable as typed ("Höhe's Mode", not
    "H\\u00f6he's Mode"); quotes, backslashes and control characters stay escaped.

    """
    return json.dumps(text, ensure_ascii=False)


def _show(value: Any, limit: int = 60) -> str:
    """A short quoted rendering of a user value for messages (long values are cut)."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return quote(text) if isinstance(value, str) else text


def _suggest(word: str, choices: list[str]) -> str | None:
    """The closest choice: a case/space-insensitive match first, else difflib's best."""
    folded = " ".join(word.split()).lower()
    for choice in choices:
        if " ".join(choice.split()).lower() == folded:
            return choice
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=1)]
    return close[0] if close else None


def _did_you_mean(word: str, choices: list[str]) -> str:
    """``' (did you mean "X"?)'``, saying so when only spaces differ (``"Standard "``)."""
    guess = _suggest(word, choices)
    if guess is None:
        return ""
    note = ""
    if guess != word and guess.split() == word.split():
        if guess != guess.strip():
            note = ", with its space at the " + ("end" if guess.endswith(" ") else "start")
        else:
            note = ", spaced exactly like that"
    return f" (did you mean {quote(guess)}{note}?)"


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _check_value(param: Parameter, value: str) -> Problem | None:
    """The problem with one provided string value, or None when it is fine."""
    if param.type == "options" and param.options and value not in param.options:
        valid = ", ".join(quote(o) if o != o.strip() else o for o in param.options)
        extra = _did_you_mean(value, list(param.options))
        return Problem(param.name, f"invalid option {_show(value)}{extra}. Must be one of: {valid}")
    if param.type == "url" and not _is_http_url(value):
        return Problem(
            param.name,
            f"{_show(value)} is not an http(s) URL; give a publicly reachable https://... "
            "address (or upload a local file: %lamina upload PATH)",
        )
    if param.needs_value and not value.strip():
        return Problem(param.name, "is empty and has no default; give a value")
    return None


def _check_unknown(app: App, name: Any) -> Problem:
    names = [p.name for p in app.parameters or ()]
    keys = [p.key for p in app.parameters or () if p.key]
    if not isinstance(name, str):
        return Problem(
            None, f"{_show(name)}: input names must be strings (parameter names of {app.name})"
        )
    hint = _did_you_mean(name, names + keys).strip(" ()")
    hint = f"{hint} " if hint else ""
    takes = ", ".join(quote(n) if n != " ".join(n.split()) else n for n in names)
    return Problem(name, f"unknown input; {hint}{app.name} takes: {takes or 'no inputs'}")


def _check_type(param: Parameter, value: Any) -> Problem:
    if isinstance(value, (list, tuple)):
        return Problem(
            param.name,
            f"takes one value, got a list of {len(value)}; pass one "
            + ("label" if param.type == "options" else "string"),
        )
    example = quote(str(value)) if isinstance(value, (int, float)) else "a string"
    return Problem(
        param.name, f"must be a string, got {type(value).__name__} {_show(value)}; pass {example}"
    )


def _check_items(param: Parameter, value: Any) -> tuple[list[str], list[Problem]]:
    """The values of a ``multiple`` parameter (one string or a list of strings), checked."""
    items = [value] if isinstance(value, str) else list(value)
    problems: list[Problem] = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, str):
            problems.append(
                Problem(param.name, f"item {i} must be a string, got {type(item).__name__}")
            )
        elif (problem := _check_value(param, item)) is not None:
            problems.append(Problem(param.name, f"item {i}: {problem.message}"))
    if not items and param.needs_value:
        problems.append(Problem(param.name, "is an empty list and has no default; give a value"))
    return items, problems


#: A value the service takes: a string, or a list of strings for a ``multiple`` parameter.
InputValue = str | list[str]


class ValidInputs(Mapping[str, InputValue]):
    """Inputs that passed :func:`validate_inputs` for one app: read-only, tagged with the app.

    The client sends these without checking them again (validation happens once, on the
    way to the POST); a plain dict is validated by :meth:`LaminaClient.run` itself.
    """

    __slots__ = ("_values", "app_id")

    def __init__(self, app_id: str, values: Mapping[str, InputValue]) -> None:
        self.app_id = app_id
        self._values = {k: list(v) if isinstance(v, list) else v for k, v in values.items()}

    def __getitem__(self, key: str) -> InputValue:
        value = self._values[key]
        return list(value) if isinstance(value, list) else value  # no way to mutate ours

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ValidInputs({self._values!r})"

    def __eq__(self, other: object) -> bool:
        return dict(self._values) == other if isinstance(other, Mapping) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


def validate_inputs(
    app: App, inputs: Mapping[str, Any] | None, *, max_body_bytes: int | None = MAX_BODY_BYTES
) -> ValidInputs:
    """Check ``inputs`` against ``app.parameters`` and return what to send.

    Resolved as the service does (``lamina-api-v1.md``): an input's key names a parameter by
    its ``key``, then ``id``, then ``name`` (exact, case-sensitive) and is sent under the
    parameter's name; option values are one of the labels exactly; ``url`` values are
    http(s); text values are strings; a ``multiple`` parameter takes a list (one string is a
    list of one). A parameter without a saved default must be given (``required`` is not
    what decides). ``None`` (and ``""`` or ``[]`` where there is a default) means "not
    given", so the service applies the default.

    Raises
    ------
    InputValidationError
        Listing every problem (``problems``, each with its parameter); nothing was sent.
    """
    if app.parameters is None:
        raise ValueError("validate_inputs needs an App with parameters (use get_app, not list)")
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise InputValidationError(
            f"Inputs for {app.name} must be a dict of parameter name to value, "
            f"got {type(inputs).__name__}.",
            [],
            hint=f"%lamina info {app.name} shows the parameters.",
        )
    problems: list[Problem] = []
    clean: dict[str, InputValue] = {}
    given: dict[str, str] = {}  # parameter name -> the key it was given under
    for name, value in inputs.items():
        param = app.parameter(name) if isinstance(name, str) else None
        if param is None:
            problems.append(_check_unknown(app, name))
            continue
        if value is None:  # not given: the service applies the default
            continue
        if param.name in given:
            problems.append(
                Problem(
                    param.name,
                    f"given twice (as {quote(given[param.name])} and {quote(name)}); give it once",
                )
            )
            continue
        given[param.name] = name
        if value == "" and param.has_default:
            continue
        if param.multiple and isinstance(value, (str, list, tuple)):
            if not value and param.has_default:
                continue
            items, found = _check_items(param, value)
            problems += found
            if not found:
                clean[param.name] = items
        elif not isinstance(value, str):
            problems.append(_check_type(param, value))
        elif (problem := _check_value(param, value)) is not None:
            problems.append(problem)
        else:
            clean[param.name] = value
    for param in app.parameters:
        if param.needs_value and param.name not in clean and param.name not in given:
            problems.append(_missing(param))
    if not problems and max_body_bytes is not None:
        size = len(json.dumps({"inputs": clean}).encode("utf-8"))
        if size > max_body_bytes:
            problems.append(
                Problem(
                    None,
                    f"the inputs are {size:,} bytes; the limit is {max_body_bytes:,} "
                    "(put long text or media behind a URL)",
                )
            )
    if problems:
        raise InputValidationError(
            f"{len(problems)} problem(s) with the inputs for {app.name}; nothing was sent.",
            problems,
            hint=f"Fix them and run again; %lamina info {app.name} shows "
            "every parameter, its options and defaults.",
        )
    return ValidInputs(app.app_id, clean)


def _missing(param: Parameter) -> Problem:
    what = {"options": f"one of: {', '.join(param.options)}", "url": "an http(s) URL"}.get(
        param.type, "a text value"
    )
    return Problem(param.name, f"missing; it has no default, give {what}")
