"""Inputs typed on a ``%lamina`` line, made ready for the service.

What the line allows beyond ``Name=text``, for the app's parameters:

- a local file for a ``url`` parameter: ``Upload=@./me.jpg`` (relative to the notebook's
  folder, the kernel's working directory; ``@@`` starts a value with a literal ``@``), or an
  object from ``Upload={img}``: a PIL image, bytes, a numpy array or a ``Path``. Each is
  uploaded with ``client.upload`` (once per content) and its asset URL sent instead;
- several values for a ``multiple`` parameter as a JSON list,
  ``"Reference Images=[\\"@a.jpg\\", \\"https://...\\"]"``, or a Python list from ``{urls}``;
- ``variant=N``: which sample of these inputs to ask for (unless the app has a parameter
  called ``variant``).

Everything that can be checked without the network is checked first (files exist, the other
inputs validate with a stand-in URL), so a mistake costs no upload and no request.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputValidationError, Problem
from .parse import CommandError, is_object

if TYPE_CHECKING:  # pragma: no cover
    from ..models import App, Parameter
    from ..session.session import Session
    from ..validation import ValidInputs

__all__ = ["VARIANT", "Upload", "prepare", "resolve_app", "split_variant", "stand_in"]

#: The input name that picks a sample of the same inputs (``variant=2``).
VARIANT = "variant"
#: What a file to upload stands for while the other inputs are validated (never sent).
_STAND_IN = "https://upload.invalid/"


class Upload:
    """A value to upload before it is sent: a local path (from ``@PATH``) or an object."""

    def __init__(self, source: Any, shown: str) -> None:
        self.source = source
        self.shown = shown  # how the user gave it, for messages

    def __repr__(self) -> str:
        return f"Upload({self.shown})"


def resolve_app(session: Session, name_or_id: str) -> App:
    """The app with its parameters (and cached in the session, for Tab completion)."""
    app: App = session.run(session.client.resolve_app(name_or_id))
    session.remember_app(app)
    return app


def _rejoin_names(app: App, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` with a parameter whose own name holds ``=`` put back together: the line's
    ``A=b=c`` was split at the first ``=``, though the app's parameter is called ``A=b``."""
    names = [n for p in app.parameters or () for n in (p.name, p.key) if n and "=" in n]
    if not names:
        return dict(inputs)
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if app.parameter(key) is None and isinstance(value, str):
            whole = f"{key}={value}"
            name = next((n for n in names if whole.startswith(n + "=")), None)
            if name is not None:
                key, value = name, whole[len(name) + 1 :]
        out[key] = value
    return out


def split_variant(app: App, inputs: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """``inputs`` without ``variant=N``, and N (None when not given). An app with a parameter
    of that name keeps it as an input. A parameter named with ``=`` is matched whole."""
    rest = _rejoin_names(app, inputs)
    if VARIANT not in rest or app.parameter(VARIANT) is not None:
        return rest, None
    raw = rest.pop(VARIANT)
    try:
        number = int(str(raw).strip())
    except ValueError:
        number = -1
    if number < 0:
        raise CommandError(
            f"variant needs a whole number from 0 (the sample to ask for), got {raw!r}.", "run"
        )
    return rest, number


def _as_list(param: Parameter, value: Any) -> Any:
    """A ``multiple`` parameter's JSON list text as a list (other values as they are)."""
    if not isinstance(value, str) or not value.lstrip().startswith("["):
        return list(value) if isinstance(value, tuple) else value
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InputValidationError(
            f"{param.name} takes several values, but {value[:60]!r} is not a JSON list.",
            [Problem(param.name, f"not a JSON list ({exc.msg} at character {exc.pos})")],
            hint=f'Write the list as JSON inside one quoted pair: "{param.name}=[\\"https://'
            f'a.example/1.jpg\\", \\"@me.jpg\\"]", or pass a Python list: "{param.name}={{urls}}".',
        ) from None
    if not isinstance(items, list):
        raise InputValidationError(
            f"{param.name} takes several values as a JSON list, got {type(items).__name__}.",
            [Problem(param.name, "not a JSON list")],
        )
    return items


def _upload_of(param: Parameter, value: Any, cwd: Path) -> Any:
    """One value of a url parameter: an :class:`Upload` for ``@PATH`` or an object, the
    literal for ``@@...``, else the value as it is."""
    if isinstance(value, str):
        if value.startswith("@@"):
            return value[1:]
        if value.startswith("@"):
            typed = value[1:].strip()
            if not typed:
                raise InputValidationError(
                    f"{param.name}=@ names no file.",
                    [Problem(param.name, "@ must be followed by a path, e.g. @me.jpg")],
                )
            path = Path(typed).expanduser()
            full = path if path.is_absolute() else cwd / path
            if not full.is_file():
                raise InputValidationError(
                    f"No file {typed!r} to upload for {param.name}; nothing was sent.",
                    [Problem(param.name, f"no file {str(full)!r}")],
                    hint="A path after @ is relative to the notebook's folder "
                    f"({cwd}); a value starting with @ itself is written @@.",
                )
            return Upload(full, typed)
        return value
    if is_object(value) and not isinstance(value, (list, tuple, dict)):
        return Upload(value, f"{{{type(value).__name__} object}}")
    return value


def _uploads(app: App, inputs: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    """Inputs with JSON lists read and url values to upload marked as :class:`Upload`."""
    marked: dict[str, Any] = {}
    for name, value in inputs.items():
        param = app.parameter(name) if isinstance(name, str) else None
        if param is None:
            marked[name] = value
            continue
        if param.multiple:
            value = _as_list(param, value)
        if param.type == "url":
            if isinstance(value, (list, tuple)):
                value = [_upload_of(param, v, cwd) for v in value]
            else:
                value = _upload_of(param, value, cwd)
        marked[name] = value
    return marked


def _each(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _replace(inputs: Mapping[str, Any], swap: Any) -> dict[str, Any]:
    """``inputs`` with every :class:`Upload` (also inside lists) replaced by ``swap(upload)``."""
    out: dict[str, Any] = {}
    for name, value in inputs.items():
        if isinstance(value, list):
            out[name] = [swap(v) if isinstance(v, Upload) else v for v in value]
        else:
            out[name] = swap(value) if isinstance(value, Upload) else value
    return out


def stand_in(app: App, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """``inputs`` as they validate without uploading anything: files to upload stand in as
    a placeholder URL (for checks and estimates, never sent as a run's input)."""
    marked = _uploads(app, inputs, Path(os.getcwd()))
    return _replace(marked, lambda u: _STAND_IN + "file")


def prepare(
    session: Session, app: App, inputs: Mapping[str, Any], *, validate: bool = True
) -> ValidInputs | dict[str, Any]:
    """The inputs to send: files uploaded (once per content), JSON lists read, and (with
    ``validate``) validated once, so the client sends them as they are.

    Every problem that needs no network is raised before the first upload: a missing file,
    a malformed list, any other input's problem (checked with stand-in URLs). Without
    ``validate`` (a grid's fixed inputs, which the grid's plan validates per cell) the
    uploaded inputs come back as a dict.
    """
    marked = _uploads(app, inputs, Path(os.getcwd()))
    client = session.client
    pending = [u for v in marked.values() for u in _each(v) if isinstance(u, Upload)]
    if validate and pending:
        client.validate_inputs(app, _replace(marked, lambda u: _STAND_IN + "file"))
    urls: dict[int, str] = {}
    for item in pending:
        urls[id(item)] = session.run(client.upload(item.source))
    ready = _replace(marked, lambda u: urls[id(u)])
    return client.validate_inputs(app, ready) if validate else ready
