"""Pure rendering: models and image bytes in, mimebundles, HTML and terminal text out.

No network, no kernel, no IPython/ipywidgets/Pillow. Every service string is escaped
(:func:`esc` for HTML, :func:`plain` for terminals) and only :func:`safe_url` URLs reach
``src``/``href``. Tables (apps, parameters, history, sweeps) live in ``_tables`` and are
re-exported here, so front ends import everything from ``lamina_notebook.render``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ..models import Execution, Media, Output
from .html import MAX_EMBED_BYTES, esc, fmt_duration, plain, quote_arg, safe_url, shorten
from .outputs import (
    MAX_TEXT_CHARS,
    bar_html,
    header_html,
    message_html,
    output_html,
)
from .styles import STYLE_TAG
from .tables import (
    UNCONFIRMED_NOTE,
    GridCell,
    app_info_html,
    app_info_text,
    apps_table_html,
    apps_table_text,
    comparison_grid_html,
    comparison_grid_text,
    history_html,
    history_text,
)

__all__ = [
    "MAX_EMBED_BYTES",
    "MAX_TEXT_CHARS",
    "UNCONFIRMED_NOTE",
    "GridCell",
    "Media",
    "app_info_html",
    "app_info_text",
    "apps_table_html",
    "apps_table_text",
    "comparison_grid_html",
    "comparison_grid_text",
    "error_html",
    "error_text",
    "esc",
    "execution_bundle",
    "execution_html",
    "execution_metadata",
    "execution_text",
    "history_html",
    "history_text",
    "output_html",
    "plain",
    "progress_html",
    "progress_text",
    "quote_arg",
    "safe_url",
]

# --------------------------------------------------------------------------- executions


def execution_bundle(
    execution: Execution,
    media: Mapping[str, Media] | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` pair for ``_repr_mimebundle_`` / ``IPython.display``.

    ``data`` has ``text/plain`` (terminals), ``text/html`` (a card with images embedded from
    ``media[output_id]``) and, when an embeddable PNG/JPEG is in ``media``, ``image/png`` or
    ``image/jpeg`` (base64) of the first one, so GitHub/nbviewer show a picture even when they
    sanitize the HTML away. ``metadata["lamina"]`` records app id/name, execution id, status
    and inputs, never a key.
    """
    data: dict[str, Any] = {
        "text/plain": execution_text(execution, inputs=inputs, title=title),
        "text/html": execution_html(execution, media, inputs=inputs, title=title),
    }
    first = _first_image(execution, media)
    if first is not None:
        mime, raw = first
        data[mime] = base64.b64encode(raw).decode("ascii")
    return data, execution_metadata(execution, inputs=inputs)


def execution_metadata(
    execution: Execution, *, inputs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``{"lamina": {...}}``: what a saved notebook records about the run (no secrets)."""
    return {
        "lamina": {
            "app_id": execution.app_id,
            "app_name": execution.app_name,
            "execution_id": execution.execution_id,
            "status": execution.status,
            "inputs": {str(k): _jsonable(v) for k, v in _inputs_of(execution, inputs).items()},
        }
    }


def execution_html(
    execution: Execution,
    media: Mapping[str, Media] | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> str:
    """A self-contained card: header with status badge, failure message, outputs, inputs."""
    media = media or {}
    parts = [STYLE_TAG, '<div class="lamina-card lamina-exec">', header_html(execution, title)]
    if execution.is_failed:
        reason = execution.error_message or _output_errors(execution) or "no reason given"
        parts.append(message_html(f"Run {execution.status}", [reason], None))
    if not execution.is_terminal:
        parts.append(bar_html(execution.fraction_done))
    if execution.outputs:
        parts.append('<div class="lamina-gallery">')
        parts.extend(output_html(o, media.get(o.id)) for o in execution.outputs)
        parts.append("</div>")
    elif execution.is_terminal:
        parts.append('<div class="lamina-muted">No outputs.</div>')
    parts.append(_inputs_html(_inputs_of(execution, inputs)))
    parts.append("</div>")
    return "".join(parts)


def execution_text(
    execution: Execution,
    *,
    inputs: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> str:
    """Readable summary for terminals: app, status, id, then each output's URL or text."""
    name = title or execution.app_name or execution.app_id or "Lamina execution"
    lines = [f"{plain(name)} · {plain(execution.status)} · {plain(execution.execution_id)}"]
    if execution.is_failed:
        reason = execution.error_message or _output_errors(execution) or "no reason given"
        lines.append(f"  error: {plain(reason)}")
    for out in execution.outputs:
        lines.append(f"  {plain(out.label)}: {_output_plain(out)}")
    given = _inputs_of(execution, inputs)
    if given:
        shown = ", ".join(f"{k}={shorten(v, 60)}" for k, v in given.items())
        lines.append(f"  inputs: {plain(shown)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- progress


def progress_text(execution: Execution, elapsed: float, eta: float | None = None) -> str:
    """One terminal line: ``Photo Stylizer  running  [####----]  1/3 outputs  4.2 s  ~6 s left``.

    ``eta`` is the estimated seconds left (from the journal's past durations), or None.
    """
    width = 12
    filled = round(execution.fraction_done * width)
    bar = "[" + "#" * filled + "-" * (width - filled) + "]"
    name = shorten(execution.app_name or execution.app_id or execution.execution_id, 40)
    parts = [plain(name), plain(execution.status), bar]
    total = execution.outputs_total
    if total:
        parts.append(f"{execution.outputs_done}/{total} outputs")
    parts.append(fmt_duration(elapsed))
    if eta is not None and not execution.is_terminal:
        parts.append(f"~{fmt_duration(max(0.0, eta))} left")
    return "  ".join(parts)


def progress_html(execution: Execution, elapsed: float, eta: float | None = None) -> str:
    """A compact live-progress card: the same facts as :func:`progress_text` plus a bar."""
    return (
        f'{STYLE_TAG}<div class="lamina-card lamina-progress">{header_html(execution, None)}'
        f"{bar_html(execution.fraction_done)}"
        f'<div class="lamina-muted">{esc(progress_text(execution, elapsed, eta))}</div></div>'
    )


# --------------------------------------------------------------------------- errors


def error_text(exc: BaseException) -> str:
    """A LaminaError (or any exception) as message, details and hint; never a traceback."""
    head, details, hint = _error_parts(exc)
    lines = [plain(head)]
    lines.extend(f"  - {plain(d)}" for d in details)
    if hint:
        lines.append(plain(hint))
    return "\n".join(lines)


def error_html(exc: BaseException) -> str:
    """The same as :func:`error_text`, as a styled, escaped message box."""
    head, details, hint = _error_parts(exc)
    return f'{STYLE_TAG}<div class="lamina-card">{message_html(head, details, hint)}</div>'


def _error_parts(exc: BaseException) -> tuple[str, list[str], str | None]:
    """(headline, details, hint) without the details/request id folded into the message."""
    from ..errors import APIError, LaminaError

    if isinstance(exc, APIError):
        head = exc.error
        if exc.status_code:
            head = f"{head} (HTTP {exc.status_code})"
        details = list(exc.details)
        if exc.request_id:
            details.append(f"request id: {exc.request_id}")
        return f"{type(exc).__name__}: {head}", details, exc.hint
    if isinstance(exc, LaminaError):
        return f"{type(exc).__name__}: {exc.message}", [], exc.hint
    return f"{type(exc).__name__}: {exc}", [], None


# --------------------------------------------------------------------------- pieces


def _inputs_html(inputs: Mapping[str, Any]) -> str:
    if not inputs:
        return ""
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(shorten(v, 500))}</td></tr>" for k, v in inputs.items()
    )
    return (
        f'<details class="lamina-inputs"><summary>Inputs ({len(inputs)})</summary>'
        f'<table class="lamina-table">{rows}</table></details>'
    )


def _output_plain(out: Output) -> str:
    if out.is_failed:
        return f"failed: {plain(out.error or out.status)}"
    if not out.is_completed:
        return f"{plain(out.status)}…"
    value = out.value or "(empty)"
    if out.kind == "text":
        text = shorten(value, MAX_TEXT_CHARS)
        return plain(text).replace("\n", "\n    ") if "\n" in text else plain(text)
    return plain(shorten(value, 200) if value.startswith("data:") else value)


def _output_errors(execution: Execution) -> str:
    return "; ".join(f"{o.label}: {o.error}" for o in execution.outputs if o.error)


def _first_image(
    execution: Execution, media: Mapping[str, Media] | None
) -> tuple[str, bytes] | None:
    """The first embeddable PNG/JPEG in output order (images first, then video posters)."""
    if not media:
        return None
    ranked = sorted(execution.outputs, key=lambda o: o.kind != "image")
    for out in ranked:
        item = media.get(out.id)
        if not item or not out.is_completed:
            continue
        raw, mime = item
        mime = (mime or "").split(";", 1)[0].strip().lower()
        if mime in ("image/png", "image/jpeg") and raw and len(raw) <= MAX_EMBED_BYTES:
            return mime, raw
    return None


def _inputs_of(execution: Execution, inputs: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if inputs is not None:
        return inputs
    raw = execution.raw.get("inputs") if execution.raw else None
    return raw if isinstance(raw, Mapping) else {}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
