"""Static copies of a ``LaminaApp`` for places without widget state: text repr and HTML snapshot.

The snapshot is a plain display output under the widget (updated by display id), so a saved
notebook, nbconvert, GitHub or a kernel-less JupyterLab still shows the results. A scoped CSS
rule hides it while the live widget is rendered in the same output area (no duplicate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..render import (
    comparison_grid_html,
    comparison_grid_text,
    execution_html,
    execution_text,
)
from ..render.html import esc, plain, shorten
from ..render.styles import STYLE_TAG

if TYPE_CHECKING:  # pragma: no cover
    from ..models import App
    from .runs import WidgetRun
    from .sweep import Sweep

__all__ = ["MAX_SNAPSHOT_RUNS", "Snapshot", "inputs_html", "snapshot_bundle", "widget_text"]

#: Finished runs copied into the snapshot (newest first); thumbnails keep each one small.
MAX_SNAPSHOT_RUNS = 6


def widget_text(app: App, values: Mapping[str, str], runs: Sequence[WidgetRun]) -> str:
    """The readable text repr: app, current inputs, and each run's status and outputs."""
    lines = [f"LaminaApp: {plain(app.name)}"]
    if app.description:
        lines.append(f"  {plain(shorten(app.description, 200))}")
    for p in app.parameters or ():
        shown = values.get(p.name, f"(default: {p.default})" if p.has_default else "(not set)")
        lines.append(f"  {plain(p.name)} = {plain(shorten(shown, 80))}")
    finished = [r for r in runs if r.result is not None]
    flying = sum(1 for r in runs if r.watching)
    lines.append(f"Runs: {len(runs)} ({len(finished)} finished, {flying} in flight)")
    for run in finished[-MAX_SNAPSHOT_RUNS:][::-1]:
        assert run.result is not None
        lines.append(execution_text(run.result.execution, inputs=run.inputs))
    return "\n".join(lines)


def inputs_html(app: App, values: Mapping[str, str]) -> str:
    """The app's parameters with their current values, as a static table."""
    rows = "".join(
        f"<tr><th>{esc(p.name)}</th><td>{esc(shorten(values.get(p.name, ''), 300))}</td>"
        f'<td class="lamina-muted">{esc(p.type)}</td></tr>'
        for p in app.parameters or ()
    )
    return f'<table class="lamina-table">{rows}</table>' if rows else ""


def _hide_rule(uid: str) -> str:
    # Where the live widget renders (JupyterLab, Notebook 7, Voila), its view carries the class
    # lamina-live-UID; the snapshot in the same output area is then redundant and hidden.
    # Without the <style> (GitHub) or without the widget (no state), the snapshot shows.
    return (
        f"<style>.jp-OutputArea:has(.lamina-live-{uid}) .lamina-snap-{uid},"
        f"div.output:has(.lamina-live-{uid}) .lamina-snap-{uid}{{display:none}}</style>"
    )


def _sweep_html(sweep: Sweep) -> str:
    cells = sweep.cells()
    return comparison_grid_html(cells, col_name=sweep.param) if cells else ""


def snapshot_bundle(
    uid: str, app: App, runs: Sequence[WidgetRun], sweeps: Sequence[Sweep]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` of the static results snapshot (no key, thumbnails only)."""
    finished = [r for r in runs if r.result is not None]
    latest_sweep = next((s for s in reversed(sweeps) if any(r.result for r in s.runs)), None)
    in_sweep = {id(r) for r in latest_sweep.runs} if latest_sweep is not None else set()
    cards = [r for r in finished if id(r) not in in_sweep][-MAX_SNAPSHOT_RUNS:][::-1]
    parts = [
        _hide_rule(uid),
        f'<div class="lamina-snap-{uid}">',
        STYLE_TAG,
        f'<div class="lamina-muted">{esc(app.name)}: results of the widget above '
        f"(static copy for saved notebooks)</div>",
    ]
    text = [f"LaminaApp {plain(app.name)}: {len(finished)} finished run(s)"]
    if latest_sweep is not None:
        parts.append(_sweep_html(latest_sweep))
        text.append(comparison_grid_text(latest_sweep.cells()))
    for run in cards:
        assert run.result is not None
        parts.append(execution_html(run.result.execution, run.thumbs, inputs=run.inputs))
        text.append(execution_text(run.result.execution, inputs=run.inputs))
    if not finished:
        parts.append('<div class="lamina-muted">No finished runs yet.</div>')
    parts.append("</div>")
    metadata = {
        "lamina": {
            "widget": uid,
            "app_id": app.app_id,
            "app_name": app.name,
            "executions": [r.result.execution.execution_id for r in finished if r.result],
        }
    }
    return {"text/plain": "\n".join(text), "text/html": "".join(parts)}, metadata


class Snapshot:
    """A static, self-contained copy of a widget's results (text/plain + text/html)."""

    def __init__(self, data: dict[str, Any], metadata: dict[str, Any]) -> None:
        self.data = data
        self.metadata = metadata

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.data, self.metadata

    def __repr__(self) -> str:
        return str(self.data.get("text/plain", "<Snapshot>"))
