"""How the service reads a run's body: input resolution, value checks, output subsets, webhooks.

An input key is matched against a parameter's ``key``, then its ``id``, then its ``name`` (exact,
case-sensitive); a value is needed exactly when the parameter has no default (``""``, ``[]``,
``0`` and ``false`` are defaults); option values must equal a label exactly; url values are
http(s); ``multiple`` parameters take a JSON array; text values are strings. Every problem is
collected, so one answer names them all, in both of the documented ``details`` forms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import AppDef, ParamDef


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request. ``text`` is the ``details`` line of the list form;
    ``field``/``error``/``allowed``/``got`` feed the nested form's ``details.errors[]``."""

    field: str
    error: str  # unknown_parameter | missing_no_default | invalid_option | invalid_type | ...
    text: str
    allowed: list[str] | None = None
    got: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "error": self.error,
            "message": self.text,
            "allowed": self.allowed,
            "got": self.got,
        }


def details(problems: list[Problem], code: str, message: str, form: str) -> Any:
    """``details`` of an error answer: a list of strings (``form="list"``) or the nested object
    ``{"code", "message", "details": {"errors": [...]}}`` (``form="nested"``)."""
    if form == "nested":
        return {
            "code": code,
            "message": message,
            "details": {"errors": [p.to_json() for p in problems]},
        }
    return [p.text for p in problems]


def _q(text: str) -> str:
    """A name or value quoted as the details lines quote it."""
    return f'"{text}"'


def _show_options(options: tuple[str, ...]) -> str:
    """Labels joined by ", "; quoted as JSON when a label has edge spaces or a comma, so
    ``"Standard "`` is visibly not ``"Standard"``."""
    if any(o != o.strip() or "," in o for o in options):
        return ", ".join(json.dumps(o) for o in options)
    return ", ".join(options)


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _field(p: ParamDef) -> str:
    """What the nested form calls a parameter: its key, else its name (as the CLI does)."""
    return p.key or p.name


def _unknown(app: AppDef, given: str) -> Problem:
    known = [p.name for p in app.params]
    hint = ""
    close = [k for k in known if k.lower() == given.lower()]
    if close:
        hint = f' (names are case-sensitive: did you mean "{close[0]}"?)'
    else:
        spaced = [k for k in known if _squash(k) == _squash(given)]
        keyed = [p.key for p in app.params if p.key and p.key.lower() == given.lower()]
        if spaced:
            hint = f' (names must match exactly, spaces included: did you mean "{spaced[0]}"?)'
        elif keyed:
            hint = f' (keys are case-sensitive: did you mean "{keyed[0]}"?)'
    return Problem(
        given,
        "unknown_parameter",
        f"{_q(given)}: unknown parameter{hint}. Known parameters: " + ", ".join(known),
        got=given,
    )


def resolve_inputs(app: AppDef, inputs: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Inputs keyed by parameter name, defaults filled in, and every problem found."""
    if not isinstance(inputs, Mapping):
        return {}, [
            Problem(
                "inputs",
                "invalid_type",
                '"inputs" must be an object keyed by parameter name, e.g. {"inputs": {...}}',
            )
        ]
    by_key = {p.key: p for p in app.params if p.key}
    by_id = {p.id: p for p in app.params if p.id}
    by_name = {p.name: p for p in app.params}
    problems: list[Problem] = []
    supplied: dict[str, tuple[str, Any]] = {}
    for raw_key, value in inputs.items():
        given = str(raw_key)
        p = by_key.get(given) or by_id.get(given) or by_name.get(given)
        if p is None:
            problems.append(_unknown(app, given))
        elif p.name in supplied:
            first = supplied[p.name][0]
            problems.append(
                Problem(
                    _field(p),
                    "duplicate_parameter",
                    f"{_q(given)}: names the same parameter as {_q(first)} ({_q(p.name)}); "
                    "send it once",
                    got=value,
                )
            )
        else:
            supplied[p.name] = (given, value)
    clean: dict[str, Any] = {}
    for p in app.params:
        value = supplied.get(p.name, ("", None))[1]
        if value is None:
            if p.must_supply:
                problems.append(
                    Problem(
                        _field(p),
                        "missing_no_default",
                        f"{_q(p.name)}: missing; this parameter has no default",
                    )
                )
            else:
                clean[p.name] = list(p.default) if isinstance(p.default, tuple) else p.default
            continue
        found = check_value(p, value)
        if found:
            problems.extend(found)
        else:
            clean[p.name] = [value] if p.multiple and not isinstance(value, list) else value
    return clean, problems


def check_value(p: ParamDef, value: Any) -> list[Problem]:
    """The problems with one supplied value (empty when it is acceptable)."""
    if not p.multiple:
        if isinstance(value, list):
            return [
                Problem(
                    _field(p),
                    "invalid_type",
                    f"{_q(p.name)}: takes one value, got a list of {len(value)} "
                    '(only "multiple" parameters take a list)',
                    got=value,
                )
            ]
        one = _check_one(p, p.name, value)
        return [one] if one else []
    items = value if isinstance(value, list) else [value]  # a lone URL is a list of one
    if not items and p.must_supply:
        return [
            Problem(
                _field(p),
                "missing_no_default",
                f"{_q(p.name)}: needs at least one value; this parameter has no default",
                got=value,
            )
        ]
    if len(items) > p.max_items:
        return [
            Problem(
                _field(p),
                "invalid_value",
                f"{_q(p.name)}: takes at most {p.max_items} values, got {len(items)}",
                got=len(items),
            )
        ]
    found = [_check_one(p, f"{p.name}[{i}]", item) for i, item in enumerate(items)]
    return [f for f in found if f]


def _check_one(p: ParamDef, label: str, value: Any) -> Problem | None:
    field = _field(p)
    if not isinstance(value, str):
        text = f"{_q(label)}: must be a string, got {type(value).__name__} {value!r}"[:300]
        return Problem(field, "invalid_type", text, got=value)
    if p.type == "options" and p.options is not None and value not in p.options:
        near = [o for o in p.options if _squash(o) == _squash(value)]
        hint = ""
        if near:
            hint = (
                f" (did you mean {json.dumps(near[0])}? labels must match exactly, "
                "spaces and case included)"
            )
        return Problem(
            field,
            "invalid_option",
            f"{_q(label)}: invalid option {_q(value)}{hint}. Must be one of: "
            + _show_options(p.options),
            allowed=list(p.options),
            got=value,
        )
    if p.type == "url" and not value.lower().startswith(("http://", "https://")):
        return Problem(
            field,
            "invalid_media",
            f'{_q(label)}: must be an http(s) URL, got "{value[:200]}"',
            got=value[:200],
        )
    if p.type == "text" and not value.strip() and p.must_supply:
        return Problem(field, "invalid_value", f"{_q(label)}: must not be empty", got=value)
    return None


def select_outputs(app: AppDef, raw: Any) -> tuple[tuple[int, ...] | None, list[Problem]]:
    """The ``/v1`` body's optional ``outputs``: labels (case-insensitive) -> output indexes.

    ``None`` (absent) selects every output; a label shared by several outputs selects them all.
    """
    if raw is None:
        return None, []
    labels = ", ".join(dict.fromkeys(o.label for o in app.outputs))
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        return None, [
            Problem(
                "outputs",
                "invalid_type",
                f'"outputs": must be a list of output labels, e.g. ["{app.outputs[0].label}"]',
                allowed=list(dict.fromkeys(o.label for o in app.outputs)),
                got=raw,
            )
        ]
    if not raw:
        return None, [
            Problem(
                "outputs",
                "invalid_value",
                '"outputs": is empty; name at least one output, or leave "outputs" out for all. '
                f"Outputs: {labels}",
                got=raw,
            )
        ]
    wanted = {x.strip().casefold() for x in raw}
    known = {o.label.strip().casefold() for o in app.outputs}
    unknown = [x for x in raw if x.strip().casefold() not in known]
    if unknown:
        return None, [
            Problem(
                "outputs",
                "unknown_output",
                f'"outputs": no output labelled {_q(x)}. Outputs: {labels}',
                allowed=list(dict.fromkeys(o.label for o in app.outputs)),
                got=x,
            )
            for x in unknown
        ]
    chosen = tuple(i for i, o in enumerate(app.outputs) if o.label.strip().casefold() in wanted)
    return chosen, []


def check_webhook(url: str | None) -> Problem | None:
    """The problem with a webhook URL, or None when it is acceptable (or absent)."""
    if url is None:
        return None
    if not url.lower().startswith(("http://", "https://")) or len(url) < 9:
        return Problem(
            "webhook",
            "invalid_url",
            f'webhook: must be an http or https URL, got "{url[:200]}"',
            got=url[:200],
        )
    return None
