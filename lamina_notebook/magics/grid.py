"""``%lamina grid``: an X/Y/Z plot of an app's parameters, priced and confirmed before the
first run, filled in live, ending with the static grid (what a saved notebook keeps).

The core plans (every cell validated, identical journaled runs reused), the session runs the
cells on its loop under the rate budget and journals the grid as one object; this module only
reads the line, shows the price, asks when the grid is large, and waits. ``--resume ID`` picks
a journaled grid up (also an earlier kernel's) and starts only the cells that never started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import LaminaError
from .display import show_bundle, store_output
from .history import find_grid_id
from .inputs import prepare, resolve_app, split_variant, stand_in
from .parse import CommandError
from .progress import wait_grid, warm_proxy

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ..session.grids import Cost, GridRun
    from ..session.session import Session
    from .parse import Command

__all__ = ["NotConfirmed", "confirm", "needs_confirmation", "run_grid"]

_YES = ("y", "yes")


class NotConfirmed(LaminaError):
    """A large grid (more new runs than ``confirm_over``) where nobody can answer "Start N
    runs? [y/N]" (nbclient, papermill, a script): nothing was started."""


def needs_confirmation(runs: int, affordable: bool | None, threshold: int | None) -> bool:
    """Ask first when the grid starts more than ``threshold`` new runs, or when the balance
    cannot cover it (``threshold`` None: only then)."""
    if runs <= 0:
        return False
    if affordable is False:
        return True
    return threshold is not None and runs > threshold


def _question(runs: int, cost: Cost | None) -> str:
    price = ""
    if cost is not None and cost.expected is not None:
        price = f" (~{cost.expected:,.0f} credits"
        if cost.affordable is False and cost.balance is not None:
            price += f"; the balance is {cost.balance:,.0f}"
        price += ")"
    return f"Start {runs} run{'s' if runs != 1 else ''}{price}? [y/N] "


def confirm(runs: int, cost: Cost | None, threshold: int | None, yes: bool) -> bool:
    """True when the grid may start: small enough, ``--yes``, or the user answered y.

    The question is an ``input()``: a stdin prompt in a kernel whose front end offers one
    (JupyterLab), the terminal in IPython. Where no one can answer (nbclient runs kernels
    without stdin; a script's stdin is closed) it raises :class:`NotConfirmed` naming
    ``--yes`` and ``confirm_over``, rather than waiting or guessing.
    """
    affordable = cost.affordable if cost is not None else None
    if yes or not needs_confirmation(runs, affordable, threshold):
        return True
    from IPython.core.error import StdinNotImplementedError

    question = _question(runs, cost)
    try:
        answer = input(question)
    except (StdinNotImplementedError, EOFError, OSError) as exc:
        if not isinstance(exc, StdinNotImplementedError):
            print()  # the question was printed; the message goes on a line of its own
        why = (
            "the balance cannot cover it"
            if affordable is False
            else f"that is more than LaminaMagics.confirm_over ({threshold})"
        )
        raise NotConfirmed(
            f"Not started: this grid would start {runs} new runs and {why}, but nothing "
            "here can answer the question (no input, e.g. nbclient or a script).",
            hint="Add --yes to the %lamina grid line to start it anyway, or raise the "
            f"threshold: %config LaminaMagics.confirm_over = {max(runs, threshold or 0)}",
        ) from None
    if answer.strip().lower() in _YES:
        return True
    print("Nothing was started.")
    return False


def run_grid(cmd: Command, session: Session, shell: InteractiveShell) -> GridRun | None:
    """``%lamina grid APP --x AXIS [--y AXIS] [--z AXIS] [inputs]`` or ``--resume ID``."""
    from ..grids import GridSpec, parse_axis, plan
    from ..session.grids import grid_cost, start_grid

    warm_proxy(session)
    if cmd.grid_id:
        return _resume(cmd, session, shell)
    if cmd.retry:
        raise CommandError("--retry-failed goes with --resume ID (a grid that ran).", "grid")
    app = resolve_app(session, cmd.app or "")
    raw, variant = split_variant(app, cmd.inputs)
    if cmd.fresh and variant is not None:
        raise CommandError(
            "--fresh asks for new samples and variant=N for sample N; give one of them.", "grid"
        )
    if not cmd.x:
        raise CommandError("A grid needs --x (its columns); --y adds rows and --z panels.", "grid")
    axes = {role: parse_axis(text, app) for role in "xyz" if (text := getattr(cmd, role))}
    client = session.client

    def planned(fixed: dict[str, Any]) -> Any:
        spec = GridSpec(app.app_id, app.name, axes["x"], axes.get("y"), axes.get("z"), fixed)
        return plan(
            spec,
            app,
            client.journal,
            base_url=client.base_url,
            reuse=not cmd.fresh,
            variant=variant or 0,
        )

    planned(stand_in(app, raw))  # every cell checked before anything is uploaded or sent
    fixed = dict(prepare(session, app, raw, validate=False)) if raw else {}
    grid = planned(fixed)
    cost = grid_cost(session, grid)
    show_bundle(cost._repr_mimebundle_())
    if not confirm(grid.runs, cost, session.settings.confirm_over, cmd.yes):
        return None
    run = start_grid(session, grid, estimate=False)
    run.cost = cost
    return _follow(cmd, session, shell, run)


def _resume(cmd: Command, session: Session, shell: InteractiveShell) -> GridRun | None:
    """``--resume ID [--retry-failed]``: redraw from the journal, watch running cells, ask
    before starting the missing (or failed) ones when there are many, then start them."""
    from ..session.grids import grid_cost, resume_grid

    grid_id = find_grid_id(session, cmd.grid_id or "")
    run = resume_grid(session, grid_id, run_missing=False)
    if run.error is not None:  # the service could not be reached: the journal's picture
        store_output(shell, cmd.output_var, run)
        print(f"Drawn from the journal only; nothing was started ({run.error}).")
        return run
    missing = run.plan.runs
    failed = [c for c in run.cells if c.is_failed] if cmd.retry else []
    cost = grid_cost(session, run.plan) if missing else None
    if cost is not None:
        show_bundle(cost._repr_mimebundle_())
    if missing + len(failed) and not confirm(
        missing + len(failed), cost, session.settings.confirm_over, cmd.yes
    ):
        run.stop()
        store_output(shell, cmd.output_var, run)
        return run
    if missing:
        run.cost = cost
        run.start(run_cells=True)
    if failed:
        run.retry_failed()
    return _follow(cmd, session, shell, run)


def _follow(cmd: Command, session: Session, shell: InteractiveShell, run: GridRun) -> GridRun:
    """Store ``-o VAR``; wait (live drawing) unless ``--no-wait``; the grid is the value."""
    store_output(shell, cmd.output_var, run)
    if cmd.wait:
        wait_grid(run, session)
    return run
