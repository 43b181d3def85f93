"""Pure rendering: models and image bytes in, mimebundles, HTML and terminal text out.

No network, no kernel, no IPython/ipywidgets/Pillow. Every service string is escaped
(:func:`esc` for HTML, :func:`plain` for terminals) and only :func:`safe_url` URLs reach
``src``/``href``. Tables (apps, parameters, history, sweeps) live in ``tables`` and are
re-exported here, so front ends import everything from ``lamina_notebook.render``.

**One copy per image in a saved notebook.** :func:`execution_bundle` returns ``text/plain``
and ``text/html`` only; each image is embedded once, as a ``data:`` URI inside the HTML card,
at the size of the caller's media (the session's ``embed_max_px``; about 512 px reads well on
GitHub, whose notebook view drops the stylesheet and shows an image at its natural width),
linked to the full-size URL ("full size ↗"). A separate ``image/jpeg`` part is not added:

- JupyterLab renders the richest mime type it has a renderer for, by rank (``text/html`` 50
  before ``image/*`` 90, ``packages/rendermime/src/factories.ts``), and HTML is "safe", so it
  wins in untrusted notebooks too, where the sanitizer checks URL schemes only on
  ``href``/``cite`` and keeps ``data:`` image sources (``packages/apputils/src/sanitizer.ts``);
- nbconvert (and nbviewer, which runs it) picks the first of ``display_data_priority``,
  ``text/html`` before ``image/png``/``image/jpeg``;
- GitHub's notebook view removes ``<style>``, scripts and ``<video>`` and keeps ``<img>``
  with a ``data:`` source in HTML outputs (reported in activeviam/atoti-notebooks#425 and
  karolzak/ipyplot#14; GitHub's renderer is closed, so this is observed, not documented).

So an ``image/jpeg`` beside the HTML was never shown by any of them and only doubled the file
(a 2048 px photograph: 432 KB per output at 1024 px twice; 78 KB at 512 px once, measured in
``tests/render/test_render.py``). Text-only front ends (terminal IPython) read ``text/plain``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Execution, Media, Output
from .html import (
    MAX_EMBED_BYTES,
    MAX_VIDEO_EMBED_BYTES,
    esc,
    fmt_duration,
    plain,
    quote_arg,
    safe_url,
    short_id,
    shorten,
)
from .outputs import (
    MAX_TEXT_CHARS,
    bar_html,
    expired_hint,
    header_html,
    message_html,
    output_html,
)
from .styles import STYLE_TAG
from .tables import (
    HISTORY_PAGE,
    UNCONFIRMED_NOTE,
    GridCell,
    StoredMediaLike,
    app_info_html,
    app_info_text,
    apps_table_html,
    apps_table_text,
    comparison_grid_html,
    comparison_grid_text,
    history_html,
    history_text,
    input_diff,
    rerun_line,
    widget_value_line,
)

__all__ = [
    "HISTORY_PAGE",
    "MAX_EMBED_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_VIDEO_EMBED_BYTES",
    "UNCONFIRMED_NOTE",
    "GridCell",
    "Media",
    "StoredMediaLike",
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
    "expired_hint",
    "history_html",
    "history_text",
    "input_diff",
    "output_html",
    "plain",
    "progress_html",
    "progress_text",
    "quote_arg",
    "rerun_line",
    "safe_url",
    "short_id",
    "widget_value_line",
]

# --------------------------------------------------------------------------- executions


def execution_bundle(
    execution: Execution,
    media: Mapping[str, Media] | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    title: str | None = None,
    videos: Mapping[str, bytes] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` pair for ``_repr_mimebundle_`` / ``IPython.display``.

    ``data`` has ``text/plain`` (terminals) and ``text/html``: a card with each image embedded
    once from ``media[output_id]`` (see the module docstring for why there is no separate
    ``image/*`` part) and each short video from ``videos[output_id]`` (MP4/WebM bytes up to
    ``MAX_VIDEO_EMBED_BYTES``). ``metadata["lamina"]`` records app id/name, execution id,
    status and inputs, never a key.
    """
    data: dict[str, Any] = {
        "text/plain": execution_text(execution, inputs=inputs, title=title),
        "text/html": execution_html(execution, media, inputs=inputs, title=title, videos=videos),
    }
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
    videos: Mapping[str, bytes] | None = None,
) -> str:
    """A self-contained card: header with status badge, failure message, outputs, inputs.

    A failed run says why once, full width: the service's message and any other output errors
    in one box; its failed outputs are not repeated as tiles.
    """
    media = media or {}
    videos = videos or {}
    parts = [STYLE_TAG, '<div class="lamina-card lamina-exec">', header_html(execution, title)]
    shown = list(execution.outputs)
    if execution.is_failed:
        parts.append(message_html(f"Run {execution.status}", _failure_reasons(execution), None))
        shown = [o for o in shown if not o.is_failed]
    if not execution.is_terminal:
        parts.append(bar_html(execution.fraction_done))
    if shown:
        parts.append('<div class="lamina-gallery">')
        parts.extend(
            output_html(
                o, media.get(o.id), video=videos.get(o.id), execution_id=execution.execution_id
            )
            for o in shown
        )
        parts.append("</div>")
    elif execution.is_terminal and not execution.is_failed:
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
    """Readable summary for terminals: app, status, id, then each output's URL or text.

    A failed run's reasons are printed once (``error:`` lines); its failed outputs are not
    repeated below them.
    """
    name = title or execution.app_name or execution.app_id or "Lamina execution"
    lines = [f"{plain(name)} · {plain(execution.status)} · {plain(execution.execution_id)}"]
    outputs = list(execution.outputs)
    if execution.is_failed:
        lines.extend(f"  error: {plain(reason)}" for reason in _failure_reasons(execution))
        outputs = [o for o in outputs if not o.is_failed]
    for out in outputs:
        lines.append(f"  {plain(out.label)}: {_output_plain(out)}")
    given = _inputs_of(execution, inputs)
    if given:
        shown = ", ".join(f"{k}={shorten(v, 60)}" for k, v in given.items())
        lines.append(f"  inputs: {plain(shown)}")
    return "\n".join(lines)


def _failure_reasons(execution: Execution) -> list[str]:
    """The service's message, then the errors of failed outputs that say something else."""
    reasons: list[str] = []
    if execution.error_message:
        reasons.append(execution.error_message)
    for out in execution.outputs:
        if not out.is_failed:
            continue
        error = out.error or out.status
        if any(error == r or error in r for r in reasons):
            continue
        reasons.append(f"{out.label}: {error}")
    return reasons or ["no reason given"]


# --------------------------------------------------------------------------- progress


_TEXT_BAR_CHARS = 12


def progress_text(execution: Execution, elapsed: float, eta: float | None = None) -> str:
    """One terminal line: ``Photo Stylizer  running  [####----]  1/3 outputs  4.2 s  ~6 s left``.

    ``eta`` is the estimated seconds left (from the journal's past durations), or None.
    """
    filled = round(execution.fraction_done * _TEXT_BAR_CHARS)
    bar = "[" + "#" * filled + "-" * (_TEXT_BAR_CHARS - filled) + "]"
    name = shorten(execution.app_name or execution.app_id or execution.execution_id, 40)
    parts = [plain(name), plain(execution.status), bar, *_progress_facts(execution, elapsed, eta)]
    return "  ".join(parts)


def progress_html(execution: Execution, elapsed: float, eta: float | None = None) -> str:
    """A compact live-progress card: heading, the one graphical bar, then the facts.

    The facts line has no text bar (that is ``text/plain``'s); it starts with the percentage,
    so the progress still reads where a sanitizer dropped the bar's styling.
    """
    facts = _progress_facts(execution, elapsed, eta)
    if not execution.is_terminal:
        facts.insert(0, f"{round(execution.fraction_done * 100)} %")
    return (
        f'{STYLE_TAG}<div class="lamina-card lamina-progress">{header_html(execution, None)}'
        f"{bar_html(execution.fraction_done)}"
        f'<div class="lamina-muted">{esc(" · ".join(facts))}</div></div>'
    )


def _progress_facts(execution: Execution, elapsed: float, eta: float | None) -> list[str]:
    """``1/3 outputs``, elapsed time, ``~6 s left`` (while running and estimated)."""
    facts = []
    total = execution.outputs_total
    if total:
        facts.append(f"{execution.outputs_done}/{total} outputs")
    facts.append(fmt_duration(elapsed))
    if eta is not None and not execution.is_terminal:
        facts.append(f"~{fmt_duration(max(0.0, eta))} left")
    return facts


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


def _inputs_of(execution: Execution, inputs: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if inputs is not None:
        return inputs
    raw = execution.raw.get("inputs") if execution.raw else None
    return raw if isinstance(raw, Mapping) else {}


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
