"""The calls only the service's /v1 edition offers: ``%lamina cancel``, ``upload``,
``estimate`` and ``runs``.

On the /api edition the client raises ``NotOfferedError`` before sending anything, and its
message ("... is not offered by this edition of the service") fails the cell like any other
mistake. The small tables here are escaped with render's helpers.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .. import render
from ..render.html import short_id, shorten
from ..render.styles import STYLE_TAG
from .display import show_bundle, store_output
from .history import find_run_id, parse_since
from .inputs import resolve_app, split_variant, stand_in

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ..models import Estimate, Execution, RunPage
    from ..session.session import Session
    from .parse import Command

__all__ = [
    "cancel_run",
    "estimate_html",
    "estimate_run",
    "estimate_text",
    "list_runs",
    "runs_html",
    "runs_text",
    "upload_file",
]


# -- cancel -------------------------------------------------------------------------------


def cancel_run(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina cancel ID``: cancel the run at the service and say what state it is in now
    (a watch of it in this kernel ends with that state)."""
    execution_id = find_run_id(session, cmd.execution_id or "")
    journal = session.client.journal
    before = journal.get(execution_id) if journal is not None else None
    ended = before is not None and before.is_terminal  # as this machine last saw it
    state: Execution = session.run(session.client.cancel(execution_id))
    made = sum(1 for o in state.outputs if o.is_completed)
    done = f"{made} of {state.outputs_total} outputs were made"
    name = state.app_name or _journaled_app(session, execution_id) or "the app"
    if state.status == "cancelled" and not ended:
        print(f"Cancelled run {execution_id} of {render.plain(name)}: {done}; it bills no more.")
    else:
        print(
            f"Run {execution_id} of {render.plain(name)} had already ended "
            f"({render.plain(state.status)}; {done}): nothing to cancel."
        )


def _journaled_app(session: Session, execution_id: str) -> str | None:
    journal = session.client.journal
    entry = journal.get(execution_id) if journal is not None else None
    return (entry.app_name or entry.app_id) if entry is not None else None


# -- upload -------------------------------------------------------------------------------


def upload_file(cmd: Command, session: Session, shell: InteractiveShell) -> str:
    """``%lamina upload PATH|{obj}``: upload it (once per content) and give its asset URL."""
    source = cmd.source
    url: str = session.run(session.client.upload(source))
    store_output(shell, cmd.output_var, url)
    what = source if isinstance(source, str) else f"the {type(source).__name__}"
    print(f"Uploaded {render.plain(str(what))}; pass this URL to url inputs:")
    return url


# -- estimate -----------------------------------------------------------------------------


def estimate_run(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina estimate APP [inputs]``: the expected credits of one run and the balance.
    Inputs are checked first; files named with ``@`` are not uploaded for this."""
    app = resolve_app(session, cmd.app or "")
    raw, _ = split_variant(app, cmd.inputs)
    inputs = stand_in(app, raw) if raw else None
    estimate: Estimate = session.run(session.client.estimate(app, inputs))
    show_bundle({"text/plain": estimate_text(estimate), "text/html": estimate_html(estimate)})
    store_output(shell, cmd.output_var, estimate)


def _credits(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def estimate_lines(estimate: Estimate) -> list[str]:
    """The estimate as sentences: credits per run (and the range), the balance."""
    name = estimate.name or estimate.app_id
    spread = ""
    low, high = estimate.minimum, estimate.maximum
    if low is not None and high is not None and (low, high) != (estimate.expected,) * 2:
        spread = f" ({_credits(low)} to {_credits(high)})"
    lines = [f"{name}: about {_credits(estimate.expected)} credits per run{spread}."]
    if estimate.balance is not None:
        verdict = {True: "affordable", False: "NOT affordable", None: "affordability unknown"}
        lines.append(
            f"Balance: {_credits(estimate.balance)} credits; one run is "
            f"{verdict[estimate.affordable]}."
        )
    return lines


def estimate_text(estimate: Estimate) -> str:
    return render.plain("\n".join(estimate_lines(estimate)))


def estimate_html(estimate: Estimate) -> str:
    first, *rest = estimate_lines(estimate)
    cls = "lamina-error" if estimate.affordable is False else "lamina-muted"
    more = "".join(f'<div class="{cls}">{render.esc(line)}</div>' for line in rest)
    return (
        f'{STYLE_TAG}<div class="lamina-card lamina-estimate"><div class="lamina-head">'
        f'<strong class="lamina-title">{render.esc(first)}</strong></div>{more}</div>'
    )


# -- runs ---------------------------------------------------------------------------------


def list_runs(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina runs [filters]``: the service's own list of runs (also those started in the
    web app or elsewhere), newest first."""
    client = session.client
    since = parse_since(cmd.since, "runs")
    page: RunPage = session.run(
        client.list_runs(
            status=cmd.status,
            app=cmd.app,
            limit=cmd.limit or 25,
            offset=cmd.offset or 0,
            since=since,
        )
    )
    names = _app_names(session, page, cmd.app)
    show_bundle({"text/plain": runs_text(page, names), "text/html": runs_html(page, names)})
    store_output(shell, cmd.output_var, page)


def _app_names(session: Session, page: RunPage, app: str | None) -> dict[str, str]:
    """Run id -> app name: the journal's for runs this machine started, the ``--app`` filter's
    for the others (no request beyond the app lookup the filter already made)."""
    journal = session.client.journal
    named: dict[str, str] = {}
    for r in page.runs:
        entry = journal.get(r.run_id) if journal is not None else None
        if entry is not None and (entry.app_name or entry.app_id):
            named[r.run_id] = entry.app_name or entry.app_id or ""
    if app and len(named) < len(page.runs):
        found = session.cached_app(app)
        name = found.name if found is not None else app
        named.update({r.run_id: name for r in page.runs if r.run_id not in named})
    return named


def _when(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _rows(page: RunPage, names: dict[str, str]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in page.runs:
        app = names.get(r.run_id) or (
            f"workflow {short_id(r.workflow_id)}" if r.workflow_id else ""
        )
        rows.append(
            (
                _when(r.created_at),
                app,
                r.status,
                r.source or "",
                r.run_id,
                shorten(r.error_message or "", 80),
            )
        )
    return rows


_HEADERS = ("Started", "App", "Status", "Source", "Run id", "Error")


def _paging(page: RunPage) -> str:
    shown = len(page.runs)
    if not shown:
        return f"No runs (of {page.total})."
    span = f"Runs {page.offset + 1}-{page.offset + shown} of {page.total}"
    if page.has_more:
        span += f"; next: --offset {page.offset + shown}"
    return span + "."


def runs_text(page: RunPage, names: dict[str, str]) -> str:
    rows = _rows(page, names)
    if not rows:
        return _paging(page)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = (render.plain(c).ljust(w) for c, w in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    lines.append(_paging(page))
    return "\n".join(lines)


def runs_html(page: RunPage, names: dict[str, str]) -> str:
    rows = _rows(page, names)
    head = "".join(f"<th style='text-align:left'>{render.esc(h)}</th>" for h in _HEADERS)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='text-align:left'>{_cell(i, c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    table = (
        f'<table class="lamina-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        if rows
        else ""
    )
    return (
        f'{STYLE_TAG}<div class="lamina-card lamina-runs">{table}'
        f'<div class="lamina-muted">{render.esc(_paging(page))}</div></div>'
    )


def _cell(index: int, value: str) -> str:
    if index == 4:  # the id: whole, on one line, copyable
        return f'<code class="lamina-code" style="white-space:nowrap">{render.esc(value)}</code>'
    return render.esc(value)
