"""Static copies of a ``LaminaApp`` for places without widget state: text repr and HTML snapshot.

The snapshot is a plain display output under the widget (updated by display id), so a saved
notebook, nbconvert, GitHub or a kernel-less JupyterLab still shows the results: the inputs of
the last run, the latest grid and sweep, and the newest runs' outputs (thumbnails embedded,
short videos embedded so they play with no kernel and no service). It never shows a stale copy
of the form: the widget's own fallback says "interactive form: run the cell to use it".

Two scoped CSS rules (in trusted notebooks, where JupyterLab keeps ``<style>``): the snapshot
hides itself while the live widget is rendered in the same output area (no duplicate), and in a
notebook reopened without widget state (JupyterLab saves none by default) the widget view's
"Error displaying widget: model not found" in that output area is hidden, so the snapshot is
what shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..render import execution_html, execution_text
from ..render.html import esc, plain, shorten
from ..render.styles import STYLE_TAG
from .gallery import inputs_line

if TYPE_CHECKING:  # pragma: no cover
    from ..models import App
    from ..session.grids import GridRun
    from .runs import WidgetRun
    from .sweep import Sweep

__all__ = [
    "FORM_FALLBACK",
    "MAX_SNAPSHOT_RUNS",
    "Snapshot",
    "form_fallback_html",
    "hide_rules",
    "snapshot_bundle",
    "widget_text",
]

#: Finished runs copied into the snapshot (newest first); thumbnails keep each one small.
MAX_SNAPSHOT_RUNS = 6
#: What the widget's own output says where the live form cannot be shown.
FORM_FALLBACK = "interactive form: run the cell to use it"


def widget_text(app: App, values: Mapping[str, Any], runs: Sequence[WidgetRun]) -> str:
    """The readable text repr: app, current inputs, and each run's status and outputs."""
    lines = [f"LaminaApp: {plain(app.name)}"]
    if app.description:
        lines.append(f"  {plain(shorten(app.description, 200))}")
    for p in app.parameters or ():
        value = values.get(p.name)
        if isinstance(value, list):
            value = ", ".join(value)
        shown = (
            value
            if value is not None
            else (f"(default: {p.default})" if p.has_default else "(not set)")
        )
        lines.append(f"  {plain(p.name)} = {plain(shorten(shown, 80))}")
    finished = [r for r in runs if r.result is not None]
    flying = sum(1 for r in runs if r.watching)
    lines.append(f"Runs: {len(runs)} ({len(finished)} finished, {flying} in flight)")
    for run in finished[-MAX_SNAPSHOT_RUNS:][::-1]:
        assert run.result is not None
        lines.append(execution_text(run.result.execution, inputs=run.inputs))
    return "\n".join(lines)


def form_fallback_html(app: App) -> str:
    """The widget's own ``text/html``: where the live form cannot be drawn (nbconvert, GitHub,
    a notebook without widget state) it says what it is, never a stale copy of its inputs."""
    return (
        f'{STYLE_TAG}<div class="lamina-card lamina-form-fallback">'
        f'<strong class="lamina-title">{esc(app.name)}</strong> '
        f'<span class="lamina-muted">— {esc(FORM_FALLBACK)}; its results are below.</span></div>'
    )


def hide_rules(uid: str) -> str:
    """The two scoped rules of the module docstring (``:has`` scopes them to this output)."""
    snap = f".lamina-snap-{uid}"
    return (
        "<style>"
        # The live widget (JupyterLab, Notebook 7, Voila) carries the class lamina-live-UID:
        # the snapshot in the same output area is then redundant.
        f".jp-OutputArea:has(.lamina-live-{uid}) {snap},"
        f"div.output:has(.lamina-live-{uid}) {snap}{{display:none}}"
        # ipywidgets' renderer marks a view it cannot build (no state: "model not found") with
        # the class jupyter-widgets on the output node itself; a live view never has it there.
        f".jp-OutputArea:has({snap}) > .jp-OutputArea-child:has(> .jp-OutputArea-output"
        ".jupyter-widgets){display:none}"
        "</style>"
    )


def snapshot_bundle(
    uid: str,
    app: App,
    runs: Sequence[WidgetRun],
    sweeps: Sequence[Sweep],
    grid: GridRun | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` of the static results snapshot (no key, thumbnails only)."""
    finished = [r for r in runs if r.result is not None]
    latest_sweep = next((s for s in reversed(sweeps) if any(r.result for r in s.runs)), None)
    in_sweep = {id(r) for r in latest_sweep.runs} if latest_sweep is not None else set()
    cards = [r for r in finished if id(r) not in in_sweep][-MAX_SNAPSHOT_RUNS:][::-1]
    parts = [
        hide_rules(uid),
        f'<div class="lamina-snap-{uid} lamina-snapshot">',
        STYLE_TAG,
        f'<div class="lamina-muted">{esc(app.name)}: results of the widget above '
        "(a static copy for saved notebooks)</div>",
    ]
    text = [f"LaminaApp {plain(app.name)}: {len(finished)} finished run(s)"]
    last = runs[-1] if runs else None
    if last is not None:
        line = inputs_line(last.inputs, list(last.inputs), limit=200) or "(defaults)"
        parts.append(
            f'<div class="lamina-last-inputs"><strong>Inputs of the last run:</strong> '
            f"{esc(line)}</div>"
        )
        text.append(f"Inputs of the last run: {plain(line)}")
    if grid is not None:
        bundle = grid._repr_mimebundle_()
        parts.append(str(bundle.get("text/html", "")))
        text.append(str(bundle.get("text/plain", "")))
    if latest_sweep is not None:
        parts.append(latest_sweep.static_html())
        text.append(str(latest_sweep._repr_mimebundle_().get("text/plain", "")))
    for run in cards:
        assert run.result is not None
        execution = run.shown or run.result.execution
        title = f"{run.title} (reused: no new run)" if run.reused else run.title
        parts.append(
            execution_html(execution, run.thumbs, inputs=run.inputs, title=title, videos=run.videos)
        )
        text.append(execution_text(run.result.execution, inputs=run.inputs, title=title))
    if not finished and grid is None:
        parts.append('<div class="lamina-muted">No finished runs yet.</div>')
    parts.append("</div>")
    metadata = {
        "lamina": {
            "widget": uid,
            "app_id": app.app_id,
            "app_name": app.name,
            "executions": [r.result.execution.execution_id for r in finished if r.result],
            "grid": grid.grid_id if grid is not None else None,
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
