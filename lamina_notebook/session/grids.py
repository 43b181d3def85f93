"""Running grids: the price before the first request, the cells filled under the rate budget on
the session's loop thread, the grid journaled as one object, resume after a restart.

``grid_cost(session, plan)`` says what a :class:`~lamina_notebook.grids.GridPlan` will cost
(runs, reuse, credits where the edition estimates them). ``start_grid(session, plan)`` returns a
:class:`GridRun` at once; its cells fill in on the loop thread (``on_cell(cell)`` callbacks for
live views), and the kernel stays free. Each cell's run id is journaled before anything else
happens after its POST answers, and a cell whose POST is on its way is marked in the grid's
record first, so a kernel killed at any moment loses nothing paid for: ``resume_grid`` redraws the
grid from the journal (thumbnails included, offline), watches cells still running, and starts only
the cells that never started. A cell whose start is unconfirmed (its answer was lost) is never
started again without being asked: ``retry_unconfirmed()``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LaminaError
from ..grids import (
    REJECTED,
    STARTING,
    UNCONFIRMED,
    WAITING,
    Cell,
    CellState,
    GridPlan,
    GridSpec,
    cell_key,
    plan,
)
from .media import STORED_THUMB_PX, fetch_outputs
from .runtime import wait_future

if TYPE_CHECKING:  # pragma: no cover
    from ..client import LaminaClient
    from ..journal import Journal, JournalEntry, StoredMedia
    from ..models import App, Estimate, Execution, Media
    from .session import Session

__all__ = [
    "GRID_THUMB_PX",
    "MAX_ESTIMATES",
    "Cost",
    "GridRun",
    "estimate_cost",
    "grid_cost",
    "resume_grid",
    "start_grid",
]

log = logging.getLogger(__name__)

#: Longest side of a grid cell's thumbnail: the journal's stored thumbnail, made at completion.
GRID_THUMB_PX = STORED_THUMB_PX
#: A grid whose cells' prices differ is estimated cell by cell, at most this many requests
#: (the rest at the average): estimates spend the same rate budget as runs.
MAX_ESTIMATES = 24
#: How often a live display of a filling grid is redrawn at most (seconds).
REDRAW_EVERY = 0.5
#: A run created more than this before its cell was marked "starting" is not that cell's
#: (the marker is written just before the POST; this covers clock differences).
ORPHAN_SLACK = 2.0

CellListener = Callable[[CellState], Any]


# --------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    """What a grid will cost before anything is started.

    ``runs`` new runs; ``reused`` cells answered by completed runs in the journal, ``duplicates``
    cells that repeat another cell's inputs, ``kept`` cells the grid already has (none of those
    send anything). Credits (``expected``, ``minimum``, ``maximum``, ``balance``,
    ``affordable``, ``saved`` by reuse) are None where the edition offers no estimate; ``basis``
    says in a sentence how the numbers were reached. Renders itself (text and HTML).
    """

    cells: int
    runs: int
    reused: int = 0
    duplicates: int = 0
    kept: int = 0
    expected: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    balance: float | None = None
    affordable: bool | None = None
    saved: float | None = None
    per_run: float | None = None
    basis: str = ""

    def needs_confirmation(self, threshold: float | None) -> bool:
        """True when a front end should ask before starting: the grid cannot be afforded, or
        it would spend more than ``threshold`` credits (the most it may cost), or, where no
        estimate is offered, start more than ``threshold`` runs. ``None``: only when
        unaffordable."""
        if self.runs == 0:
            return False
        if self.affordable is False:
            return True
        if threshold is None:
            return False
        most = self.maximum if self.maximum is not None else self.expected
        if most is not None:
            return most > threshold
        return self.runs > threshold

    def __str__(self) -> str:
        from ..render.grids import cost_text

        return cost_text(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..render.grids import cost_html, cost_text

        return {"text/plain": cost_text(self), "text/html": cost_html(self)}


async def estimate_cost(client: LaminaClient, grid: GridPlan) -> Cost:
    """The :class:`Cost` of ``grid`` (on the client's loop).

    One estimate request for the first cell to run and one for the last; when they agree the
    price does not depend on the varied inputs and the grid costs that times the run count,
    otherwise each cell is estimated (up to :data:`MAX_ESTIMATES` requests, the rest at their
    average). Without an estimate endpoint (the /api edition) the price is the run count.
    """
    from ..editions import NotOfferedError

    base = Cost(
        cells=len(grid.cells),
        runs=grid.runs,
        reused=len(grid.reused),
        duplicates=len(grid.duplicates),
        kept=len(grid.kept),
    )
    todo = grid.to_run
    if not todo:
        return replace(base, basis="Nothing to start: every cell is answered already.")
    try:
        first = await client.estimate(grid.app, todo[0].inputs)
        last = await client.estimate(grid.app, todo[-1].inputs) if len(todo) > 1 else first
    except NotOfferedError:
        return replace(
            base,
            basis=f"This edition of the service gives no credit estimate: the price is "
            f"{grid.runs} run(s).",
        )
    except LaminaError as exc:
        return replace(
            base, basis=f"No credit estimate ({exc.message}); the price is {grid.runs} run(s)."
        )
    if first.expected is None:
        return replace(
            base, basis=f"The estimate gave no credits; the price is {grid.runs} run(s)."
        )
    if (first.expected, first.minimum, first.maximum) == (
        last.expected,
        last.minimum,
        last.maximum,
    ):
        sampled = [first]
        remaining = len(todo) - 1
        basis = (
            f"One run estimated at {first.expected} credits (the first and last cells cost the "
            f"same, so the varied inputs do not change the price), times {len(todo)} run(s)."
        )
    else:
        middle = todo[1:-1][: MAX_ESTIMATES - 2]
        sampled = [first, *[await client.estimate(grid.app, c.inputs) for c in middle], last]
        remaining = len(todo) - len(sampled)
        basis = "Estimated cell by cell (the varied inputs change the price)" + (
            f"; {remaining} cell(s) beyond {MAX_ESTIMATES} at the average." if remaining else "."
        )
    per_cell = _spread(sampled, remaining)
    expected, low, high = per_cell
    balance = last.balance if last.balance is not None else first.balance
    affordable: bool | None = None
    if balance is not None:
        affordable = expected <= balance and first.affordable is not False
        if affordable and high is not None and high > balance:
            basis += " At its maximum it would exceed the balance."
    per_run = expected / len(todo)
    repeats = base.reused + base.duplicates
    return replace(
        base,
        expected=expected,
        minimum=low,
        maximum=high,
        balance=float(balance) if balance is not None else None,
        affordable=affordable,
        saved=per_run * repeats if repeats else None,
        per_run=per_run,
        basis=basis,
    )


def _spread(
    sampled: Sequence[Estimate], remaining: int
) -> tuple[float, float | None, float | None]:
    """(expected, minimum, maximum) of the sampled cells plus ``remaining`` more cells at
    the sample's average (minimum/maximum None when an estimate lacks them)."""
    totals: list[float | None] = []
    for values in (
        [p.expected for p in sampled],
        [p.minimum for p in sampled],
        [p.maximum for p in sampled],
    ):
        if any(v is None for v in values):
            totals.append(None)
            continue
        known = [float(v or 0) for v in values]
        totals.append(sum(known) + remaining * sum(known) / len(known))
    expected, low, high = totals
    return expected or 0.0, low, high


def grid_cost(session: Session, grid: GridPlan) -> Cost:
    """:func:`estimate_cost` from the main thread (blocks for the estimate requests)."""
    client = session.client
    return session.run(estimate_cost(client, grid))


# --------------------------------------------------------------------------- the run


def start_grid(
    session: Session,
    grid: GridPlan,
    *,
    estimate: bool = True,
    on_cell: CellListener | None = None,
    max_in_flight: int | None = None,
) -> GridRun:
    """Start filling ``grid`` and return its :class:`GridRun` at once.

    The missing cells start on the session's loop thread under the client's rate budget
    (``max_in_flight`` caps how many runs are under way at once; default: as many as the
    budget lets out). With ``estimate`` the price is worked out first (``GridRun.cost``).
    ``on_cell(cell)`` is called in the loop thread with each cell's new state.
    """
    run = GridRun(session, grid, max_in_flight=max_in_flight)
    if on_cell is not None:
        run.on_cell(on_cell)
    run.start(estimate=estimate)
    return run


class GridRun:
    """A grid being filled (or filled): its cells' states, live and journaled.

    ``cells`` lists every cell's :class:`~lamina_notebook.grids.CellState` (panel by panel,
    row by row); ``wait()`` blocks until every cell is done, ``await run`` awaits it from
    another loop; ``retry_failed()``, ``retry_unconfirmed()`` and ``extend(x=..., y=...)``
    start more cells in the same grid; ``export(path)`` writes one self-contained HTML page.
    Displays itself as a static grid with embedded thumbnails (``_repr_mimebundle_``).
    Methods are called from the main thread; ``on_cell`` listeners run in the loop thread.
    """

    def __init__(
        self,
        session: Session,
        grid: GridPlan,
        *,
        max_in_flight: int | None = None,
        states: Mapping[str, CellState] | None = None,
        starting: Mapping[str, float] | None = None,
    ) -> None:
        self.session = session
        self.plan = grid
        self.grid_id = grid.grid_id
        self.spec: GridSpec = grid.spec
        self.app: App = grid.app
        self.cost: Cost | None = None
        self.error: BaseException | None = None
        self.max_in_flight = max_in_flight
        self._client: LaminaClient = session.client
        self._journal: Journal | None = self._client.journal
        self._lock = threading.RLock()
        self._states: dict[str, CellState] = dict(states or {})
        for cell in grid.cells:
            if cell.key not in self._states:
                self._states[cell.key] = CellState(
                    cell.key, cell.x, cell.y, cell.z, cell.label, dict(cell.inputs)
                )
        self._starting: dict[str, float] = dict(starting or {})
        self._futures: list[concurrent.futures.Future[None]] = []
        self._listeners: list[CellListener] = []
        self._semaphore: asyncio.Semaphore | None = None
        self._display_id: str | None = None
        self._redraw_due = False

    # -- state ------------------------------------------------------------------------------
    @property
    def cells(self) -> list[CellState]:
        """Every cell's latest state, panel by panel, row by row, column by column."""
        with self._lock:
            states = dict(self._states)
        order = [cell_key(x, y, z) for *_, x, y, z in self.spec.positions()]
        return [states[k] for k in order if k in states]

    def cell(self, x: str, y: str | None = None, z: str | None = None) -> CellState:
        """The state of the cell at those axis values."""
        with self._lock:
            return self._states[cell_key(x, y, z)]

    def counts(self) -> dict[str, int]:
        """Cells completed, reused, failed, unconfirmed, running and waiting."""
        from ..render.grids import grid_counts

        return grid_counts(self.cells)

    def done(self) -> bool:
        """True when nothing is being started or watched any more."""
        with self._lock:
            return all(f.done() for f in self._futures)

    def on_cell(self, callback: CellListener) -> None:
        """Call ``callback(cell_state)`` in the loop thread after each change of a cell."""
        self._listeners.append(callback)

    def __repr__(self) -> str:
        n = self.counts()
        return (
            f"<GridRun {self.grid_id} {self.spec.app_name}: {n['cells']} cells, "
            f"{n['completed']} completed ({n['reused']} reused), {n['failed']} failed>"
        )

    def _set(self, key: str, **changes: Any) -> CellState:
        """Replace a cell's state (loop thread) and tell the listeners."""
        with self._lock:
            state = replace(self._states[key], **changes)
            self._states[key] = state
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # a broken listener must not stop the grid
                log.exception("on_cell listener failed")
        self._schedule_redraw()
        return state

    # -- starting ---------------------------------------------------------------------------
    def start(
        self, *, estimate: bool = False, watch: Iterable[str] = (), run_cells: bool = True
    ) -> GridRun:
        """Start the plan's missing cells (unless ``run_cells`` is False) and watch the cells
        in ``watch`` (keys of cells whose runs are still going)."""
        job = self._drive(
            self.plan,
            estimate=estimate,
            watch=list(watch),
            run_cells=run_cells,
            fresh=not self.plan.reuse,
        )
        self._submit(job)
        return self

    def _submit(self, coro: Any) -> None:
        future = self.session.runtime.submit(coro)
        with self._lock:
            self._futures.append(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: concurrent.futures.Future[None]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self.error = exc
            log.warning("grid %s stopped: %s", self.grid_id, exc)
        self._schedule_redraw(final=True)

    async def _drive(
        self,
        grid: GridPlan,
        *,
        estimate: bool = False,
        watch: Sequence[str] = (),
        run_cells: bool = True,
        fresh: bool = False,
    ) -> None:
        """Price (optionally), journal the grid, fill reused cells, start and watch the rest.

        ``fresh``: new runs take the next free variant number of their request (reuse off).
        """
        if estimate:
            self.cost = await estimate_cost(self._client, grid)
        self._save()
        ids = {key: self._states[key].execution_id for key in watch}
        jobs = [self._watch(key, execution_id) for key, execution_id in ids.items() if execution_id]
        if run_cells:
            followers: dict[str, list[str]] = {}
            for cell in grid.cells:
                if cell.action == "same" and cell.same_as is not None:
                    followers.setdefault(cell.same_as, []).append(cell.key)
            for cell in grid.cells:
                if cell.action == "reuse" and cell.reuse_of is not None:
                    jobs.append(self._reuse(cell.key, cell.reuse_of, followers.get(cell.key, [])))
                elif cell.action == "run":
                    jobs.append(self._run_cell(grid, cell, followers.get(cell.key, []), fresh))
                elif cell.action == "keep" and cell.key in followers:
                    jobs.append(self._follow(cell.key, followers[cell.key]))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    def _gate_semaphore(self) -> asyncio.Semaphore | None:
        if self.max_in_flight is None:
            return None
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(max(1, int(self.max_in_flight)))
        return self._semaphore

    async def _run_cell(
        self, grid: GridPlan, cell: Cell, followers: list[str], fresh: bool
    ) -> None:
        semaphore = self._gate_semaphore()
        async with semaphore if semaphore is not None else contextlib.nullcontext():
            await self._run_cell_now(grid, cell, followers, fresh)

    async def _run_cell_now(
        self, grid: GridPlan, cell: Cell, followers: list[str], fresh: bool
    ) -> None:
        client = self._client
        # Take the POST's own budget token first, so the cell is marked "starting" only when
        # its POST goes out at once (a crash then means "may exist", never "waited in a
        # queue"); client.run sends with that token, or refunds it if nothing is sent.
        await client.budget.acquire()
        try:
            variant = self._variant_for(grid, cell, fresh)
            self._mark_starting(cell.key)
        except BaseException:
            client.budget.refund()
            raise
        keys = [cell.key, *followers]
        for key in keys:
            self._set(key, status=STARTING, error=None, reused=key != cell.key, thumb=None)
        try:
            execution = await client.run(grid.app, cell.inputs, token_held=True)
        except LaminaError as exc:
            journal_id = exc.journal_id
            if journal_id is not None:  # the run MAY exist: journaled as unconfirmed
                for key in keys:
                    self._record_cell(key, journal_id, reused=key != cell.key)
            self._unmark(cell.key)
            status = UNCONFIRMED if journal_id is not None else REJECTED
            for key in keys:
                self._set(key, status=status, execution_id=journal_id, error=_message(exc))
            return
        execution_id = execution.execution_id
        for key in keys:  # the grid's record first, before anything else happens
            self._record_cell(key, execution_id, reused=key != cell.key)
        self._unmark(cell.key)
        if variant and self._journal is not None:
            with contextlib.suppress(LaminaError):
                self._journal.set_variant(execution_id, variant)
        for key in keys:
            self._set(key, status=execution.status, execution_id=execution_id, execution=execution)
        await self._watch(cell.key, execution_id, execution, followers)

    def _variant_for(self, grid: GridPlan, cell: Cell, fresh: bool) -> int:
        """The variant a new run of ``cell`` is journaled as: the plan's, or (reuse off) the
        next free sample number of that request, so it never passes for the plain run."""
        if not fresh or self._journal is None:
            return grid.variant
        try:
            return self._journal.next_variant(grid.app.app_id, cell.inputs, base_url=grid.base_url)
        except LaminaError:
            return grid.variant

    async def _watch(
        self,
        key: str,
        execution_id: str,
        initial: Execution | None = None,
        followers: Sequence[str] = (),
    ) -> None:
        """Follow a run to its end, then show its thumbnail (stored in the journal)."""
        keys = [key, *followers]

        def update(state: Execution) -> None:
            for k in keys:
                self._set(k, status=state.status, execution=state)

        try:
            final = await self._client.wait(initial or execution_id, on_update=update)
        except LaminaError as exc:
            for k in keys:
                self._set(k, error=f"stopped watching: {_message(exc)}")
            return
        thumb = await self._thumbnail(final)
        error = final.error_message if final.is_failed else None
        if final.is_failed and error is None:
            error = "; ".join(f"{o.label}: {o.error}" for o in final.outputs if o.error) or None
        for k in keys:
            self._set(k, status=final.status, execution=final, thumb=thumb, error=error)

    async def _reuse(self, key: str, execution_id: str, followers: Sequence[str] = ()) -> None:
        """Fill a cell (and its repeats) from a completed run in the journal: no request,
        unless the run has no stored thumbnail yet."""
        entry = self._journal.get(execution_id) if self._journal is not None else None
        execution = entry.to_execution() if entry is not None else None
        for k in (key, *followers):
            self._record_cell(k, execution_id, reused=True)
            self._set(
                k, status="completed", execution_id=execution_id, execution=execution, reused=True
            )
        if execution is not None:
            thumb = await self._thumbnail(execution)
            for k in (key, *followers):
                self._set(k, thumb=thumb)

    async def _follow(self, leader: str, keys: list[str]) -> None:
        """Cells repeating the inputs of a cell the grid already has show that cell's run."""
        source = self._states[leader]
        if source.execution_id is None or source.status == UNCONFIRMED:
            for key in keys:
                self._set(key, status=source.status, error=source.error, reused=True)
            return
        for key in keys:
            self._record_cell(key, source.execution_id, reused=True)
            self._set(
                key,
                status=source.status,
                execution_id=source.execution_id,
                execution=source.execution,
                thumb=source.thumb,
                error=source.error,
                reused=True,
            )
        if source.execution is None or not source.execution.is_terminal:
            await self._watch(keys[0], source.execution_id, followers=keys[1:])

    async def _thumbnail(self, execution: Execution) -> Media | None:
        """The first output's thumbnail: the journal's, else made once (as every run's is:
        :func:`~.media.fetch_outputs`) and stored, so a later kernel draws it offline."""
        if not execution.is_completed:
            return None
        stored = self._stored_thumb(execution.execution_id)
        if stored is not None:
            return stored
        try:
            fetched = await fetch_outputs(
                self._client, execution, STORED_THUMB_PX, video_max_bytes=0
            )
        except Exception:  # no thumbnail is no reason to fail a cell
            return None
        if self._journal is not None and fetched.stored:
            try:
                await asyncio.to_thread(
                    self._journal.record_media, execution.execution_id, fetched.stored
                )
            except (LaminaError, ValueError) as exc:
                log.warning("could not store thumbnails of %s: %s", execution.execution_id, exc)
        return next((m.thumbnail for m in fetched.stored if m.thumbnail), None)

    def _stored_thumb(self, execution_id: str) -> Media | None:
        if self._journal is None:
            return None
        try:
            stored = self._journal.media([execution_id]).get(execution_id, {})
        except LaminaError:
            return None
        return next((m.thumbnail for m in stored.values() if m.thumbnail), None)

    # -- the journal ------------------------------------------------------------------------
    def _record(self) -> dict[str, Any]:
        return {
            **self.spec.to_json(),
            "run": {
                "base_url": self.plan.base_url,
                "reuse": self.plan.reuse,
                "variant": self.plan.variant,
                "starting": dict(self._starting),
            },
        }

    def _save(self) -> None:
        if self._journal is not None:
            self._journal.save_grid(self.grid_id, self.spec.app_id, self._record())

    def _record_cell(self, key: str, execution_id: str, *, reused: bool) -> None:
        if self._journal is not None:
            self._journal.record_grid_cell(self.grid_id, key, execution_id, reused=reused)

    def _mark_starting(self, key: str) -> None:
        """Note in the grid's record that this cell's POST is about to go (journaled first)."""
        self._starting[key] = time.time()
        self._save()

    def _unmark(self, key: str) -> None:
        if self._starting.pop(key, None) is not None:
            self._save()

    # -- more cells -------------------------------------------------------------------------
    def retry_failed(self) -> GridRun:
        """Run the failed, cancelled and refused cells again (new runs; the rest untouched)."""
        return self._rerun([c.key for c in self.cells if c.is_failed])

    def retry_unconfirmed(self) -> GridRun:
        """Settle the cells whose start is unconfirmed: where the edition lists runs (/v1) and
        exactly one matching run turns up, the cell takes it (nothing new is started);
        the others are started again, though their first run MAY exist and be billed."""
        keys = [c.key for c in self.cells if c.status == UNCONFIRMED]
        if keys:
            self._submit(self._settle(keys, rerun=True))
        return self

    async def _settle(self, keys: Sequence[str], *, rerun: bool) -> None:
        """Look for the runs of unconfirmed starts (journaled with a local id) at the service;
        a found run fills its cell; with ``rerun`` the rest start again."""
        left = []
        for key in keys:
            if not await self._match(key):
                left.append(key)
        if rerun and left:
            await self._drive(self._replan(left), fresh=not self.plan.reuse)

    async def _match(self, key: str) -> bool:
        from ..editions import NotOfferedError
        from ..journal import is_unconfirmed_id

        local_id = self._states[key].execution_id
        if local_id is None or not is_unconfirmed_id(local_id):
            return False
        try:
            found = await self._client.match_unconfirmed(local_id)
        except NotOfferedError:
            return False
        except LaminaError as exc:
            log.info("could not look for the run of %s: %s", local_id, exc)
            return False
        if found is None:
            return False
        self._record_cell(key, found.execution_id, reused=False)
        self._set(key, status=found.status, execution_id=found.execution_id, execution=found)
        await self._watch(key, found.execution_id, found)
        return True

    def _rerun(self, keys: list[str]) -> GridRun:
        if not keys:
            return self
        self._submit(self._drive(self._replan(keys), fresh=not self.plan.reuse))
        return self

    def _replan(self, keys: Sequence[str]) -> GridPlan:
        """A plan that starts ``keys`` again (validated anew) and keeps every other cell;
        the cells are shown as waiting from now on."""
        wanted = set(keys)
        known = {c.key: c.execution_id or "-" for c in self.cells if c.key not in wanted}
        again = plan(
            self.spec,
            self.app,
            self._journal,
            base_url=self.plan.base_url,
            reuse=False,
            variant=self.plan.variant,
            grid_id=self.grid_id,
            known=known,
        )
        with self._lock:
            for key in keys:
                self._starting.pop(key, None)
                self._states[key] = replace(
                    self._states[key],
                    status=WAITING,
                    error=None,
                    execution_id=None,
                    execution=None,
                    thumb=None,
                    reused=False,
                )
        return again

    def extend(
        self,
        x: Iterable[str] | None = None,
        y: Iterable[str] | None = None,
        z: Iterable[str] | None = None,
    ) -> GridRun:
        """Add values to the axes (a row, a column, a panel) and run only the new cells.

        The new cells are validated first (InputValidationError, nothing sent); reuse works as
        in the original plan.
        """
        spec = self.spec.extended(x=x, y=y, z=z)
        known = {c.key: c.execution_id or "-" for c in self.cells}
        grown = plan(
            spec,
            self.app,
            self._journal,
            base_url=self.plan.base_url,
            reuse=self.plan.reuse,
            variant=self.plan.variant,
            grid_id=self.grid_id,
            known=known,
        )
        with self._lock:
            self.spec = grown.spec
            self.plan = grown
            for cell in grown.cells:
                if cell.key not in self._states:
                    self._states[cell.key] = CellState(
                        cell.key, cell.x, cell.y, cell.z, cell.label, dict(cell.inputs)
                    )
        self._submit(self._drive(grown, fresh=not self.plan.reuse))
        return self

    # -- waiting ----------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> GridRun:
        """Block until every cell is done (``timeout`` limits this call only; the grid goes on).

        Ctrl-C stops waiting and watching; runs go on at the service and
        ``resume_grid(session, grid_id)`` picks the grid up again.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                break

            def tick() -> None:
                self._redraw()
                if deadline is not None and time.monotonic() > deadline:
                    raise concurrent.futures.TimeoutError(
                        f"grid {self.grid_id} still filling; it goes on (wait() again later)"
                    )

            try:
                wait_future(pending[0], on_tick=tick, tick=0.2)
            except KeyboardInterrupt:
                self.stop()
                raise
        self._redraw()
        return self

    def __await__(self) -> Generator[Any, None, GridRun]:
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return self
            yield from asyncio.wrap_future(pending[0]).__await__()

    def stop(self) -> None:
        """Stop starting and watching cells; runs already started go on at the service."""
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    # -- output -----------------------------------------------------------------------------
    def _notes(self) -> list[str]:
        notes = []
        n = self.counts()
        if n["reused"]:
            saved = ""
            if self.cost is not None and self.cost.per_run:
                saved = f", about {self.cost.per_run * n['reused']:,.0f} credits saved"
            notes.append(f"{n['reused']} cell(s) reused from earlier runs{saved}.")
        if self.error is not None:
            notes.append(f"The grid stopped: {_message(self.error)}")
        notes.append(
            f"Resume after a restart: %lamina grid --resume {self.grid_id} "
            f"(Python: resume_grid(session, {self.grid_id!r}))."
        )
        return notes

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..render.grids import grid_html, grid_text

        cells = self.cells
        return {
            "text/plain": grid_text(self.spec, cells, grid_id=self.grid_id),
            "text/html": grid_html(
                self.spec, cells, grid_id=self.grid_id, notes=self._notes(), url_map=self._url_map()
            ),
        }

    def _url_map(self) -> Callable[[str], str] | None:
        try:
            from .proxy import display_url
        except ImportError:  # pragma: no cover - the proxy module ships with the session
            return None
        session = self.session
        return lambda url: display_url(url, session)

    def display(self, live: bool | None = None) -> None:
        """Show the grid; with ``live`` (default: in a kernel) it redraws in place as cells
        fill (at most every :data:`REDRAW_EVERY` s), ending with the finished grid."""
        from IPython.display import display

        from .results import has_kernel

        self._display_id = self._display_id or uuid.uuid4().hex
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
        if not (has_kernel() if live is None else live):
            self._display_id = None

    def _ipython_display_(self) -> None:
        self.display()

    def _schedule_redraw(self, final: bool = False) -> None:
        """Redraw the live display soon (coalesced), or now for the final state."""
        if self._display_id is None:
            return
        if final:
            self._redraw()
            return
        if self._redraw_due:
            return
        self._redraw_due = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._redraw()
            return
        loop.call_later(REDRAW_EVERY, self._redraw)

    def _redraw(self) -> None:
        self._redraw_due = False
        if self._display_id is None:
            return
        from IPython.display import update_display

        with contextlib.suppress(Exception):  # a closed front end must not stop the grid
            update_display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)

    def export(self, path: str | Path, *, full: bool = False, title: str | None = None) -> Path:
        """Write the grid as one self-contained HTML page (pictures embedded, the legend and
        the manifest); ``full`` fetches each cell's full-size image through the client and
        embeds that instead of the thumbnail. Returns the path."""
        from ..render.export import export_html

        cells = self.cells
        images: dict[str, Media] = {}
        if full:
            images = self.session.run(self._full_images(cells))
        generated = time.strftime("%Y-%m-%d %H:%M")
        html = export_html(
            self.spec, cells, grid_id=self.grid_id, title=title, images=images, generated=generated
        )
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        return target

    async def _full_images(self, cells: Sequence[CellState]) -> dict[str, Media]:
        from ..render.export import MAX_PAGE_IMAGE_BYTES

        async def one(cell: CellState) -> tuple[str, Media] | None:
            ex = cell.execution
            out = (
                next(
                    (o for o in ex.outputs if o.is_completed and o.kind == "image" and o.value),
                    None,
                )
                if ex is not None
                else None
            )
            if out is None or out.value is None:
                return None
            try:
                data, ctype = await self._client.fetch_bytes(out.value, MAX_PAGE_IMAGE_BYTES)
            except LaminaError:
                return None
            mime = (ctype or out.mime_type or "image/png").split(";", 1)[0].strip()
            return cell.key, (data, mime)

        found = await asyncio.gather(*(one(c) for c in cells if c.status == "completed"))
        return dict(f for f in found if f is not None)


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, LaminaError) else f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- resume


def resume_grid(
    session: Session,
    grid_id: str,
    *,
    run_missing: bool = True,
    on_cell: CellListener | None = None,
    max_in_flight: int | None = None,
) -> GridRun:
    """A grid from the journal (another kernel's too): drawn at once from local data, its
    running cells watched, and (``run_missing``) only the cells that never started started.

    A cell whose start was on its way when the kernel died, and for which no journaled run
    turns up, is shown as unconfirmed and left alone: ``retry_unconfirmed()`` starts it.
    When the service cannot be reached to look the app up, the grid is still drawn from the
    journal (``run.error`` says why nothing was started). Raises LaminaError when the grid is
    not in the journal.
    """
    client = session.client
    journal = client.journal
    if journal is None:
        raise LaminaError(
            "This session has no run journal, so it has no grids to resume.",
            hint="Set LAMINA_JOURNAL (or leave the default journal on) and start the grid again.",
        )
    record = journal.grid(grid_id)
    if record is None:
        recent = ", ".join(g.grid_id for g in journal.grids(limit=5)) or "none yet"
        raise LaminaError(
            f"No grid {grid_id} in the run journal {journal.path}.",
            hint=f"Recent grids: {recent}.",
        )
    spec = GridSpec.from_json(record.spec)
    info = record.spec.get("run")
    info = info if isinstance(info, Mapping) else {}
    base_url = info.get("base_url", client.base_url)
    starting = {str(k): float(v) for k, v in dict(info.get("starting") or {}).items()}
    mapped = journal.grid_cells(grid_id)
    try:
        app = session.run(client.resolve_app(spec.app_id))
    except LaminaError as exc:  # offline: draw what the journal has, start nothing
        grid = _offline_plan(spec, grid_id, base_url, mapped, starting)
        states, _ = _states_from_journal(journal, grid, mapped, set(starting) - set(mapped))
        run = GridRun(session, grid, max_in_flight=max_in_flight, states=states)
        run.error = exc
        return run
    for key, execution_id in _adopt_orphans(journal, spec, app, mapped, starting).items():
        journal.record_grid_cell(grid_id, key, execution_id, reused=False)
        mapped[key] = (execution_id, False)
    unconfirmed = {k for k in starting if k not in mapped}
    known = {k: v[0] for k, v in mapped.items()}
    known.update({k: "-" for k in unconfirmed})
    grid = plan(
        spec,
        app,
        journal,
        base_url=base_url,
        reuse=bool(info.get("reuse", True)),
        variant=int(info.get("variant", 0) or 0),
        grid_id=grid_id,
        known=known,
    )
    states, watch = _states_from_journal(journal, grid, mapped, unconfirmed)
    run = GridRun(
        session,
        grid,
        max_in_flight=max_in_flight,
        states=states,
        starting={k: starting[k] for k in unconfirmed},
    )
    if on_cell is not None:
        run.on_cell(on_cell)
    run.start(watch=watch, run_cells=run_missing)
    lost = [c.key for c in run.cells if c.status == UNCONFIRMED and c.execution_id]
    if lost:  # a read: the service's list of runs may show what the lost answers created
        run._submit(run._settle(lost, rerun=False))
    return run


def _offline_plan(
    spec: GridSpec,
    grid_id: str,
    base_url: str | None,
    mapped: Mapping[str, tuple[str, bool]],
    starting: Mapping[str, float],
) -> GridPlan:
    """A plan to draw a grid from the journal alone (the app could not be looked up): every
    cell in place, none validated or runnable."""
    from ..models import App
    from ..validation import ValidInputs

    app = App(spec.app_id, spec.app_name, parameters=())
    cells = tuple(
        Cell(
            key=cell_key(x, y, z),
            x=x,
            y=y,
            z=z,
            ix=ix,
            iy=iy,
            iz=iz,
            inputs=ValidInputs(spec.app_id, {}),
            inputs_key="",
            label=spec.cell_label(x, y, z),
            existing=mapped[cell_key(x, y, z)][0] if cell_key(x, y, z) in mapped else "-",
        )
        for ix, iy, iz, x, y, z in spec.positions()
    )
    return GridPlan(spec, app, grid_id, cells, base_url)


def _adopt_orphans(
    journal: Journal,
    spec: GridSpec,
    app: App,
    mapped: Mapping[str, tuple[str, bool]],
    starting: Mapping[str, float],
) -> dict[str, str]:
    """Runs journaled for cells marked "starting" but never recorded in the grid (the kernel
    died between the run's answer and the grid's record, or the start finished in the
    background after a stop): found by app, inputs and time."""
    from ..journal import inputs_key

    waiting = {k: t for k, t in starting.items() if k not in mapped}
    if not waiting:
        return {}
    try:
        probe = plan(spec, app, None, base_url=None, reuse=False, grid_id="probe")
    except LaminaError:
        return {}
    wanted = {c.key: inputs_key(app.app_id, c.inputs) for c in probe.cells if c.key in waiting}
    taken = {v[0] for v in mapped.values()}
    since = min(waiting.values()) - ORPHAN_SLACK
    entries, _total = journal.query(app=app.app_id, since=since, limit=1000)
    adopted: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: e.created_at):
        if entry.execution_id in taken or not entry.confirmed:
            continue
        key = inputs_key(app.app_id, entry.inputs)
        for cell, cell_input_key in wanted.items():
            marked = waiting[cell]
            if (
                cell not in adopted
                and cell_input_key == key
                and entry.created_at >= marked - ORPHAN_SLACK
            ):
                adopted[cell] = entry.execution_id
                taken.add(entry.execution_id)
                break
    return adopted


def _states_from_journal(
    journal: Journal,
    grid: GridPlan,
    mapped: Mapping[str, tuple[str, bool]],
    unconfirmed: set[str],
) -> tuple[dict[str, CellState], list[str]]:
    """Every cell as the journal knows it (thumbnails from stored media: no network), and the
    keys of cells whose runs are still going (to be watched)."""
    stored = journal.media([v[0] for v in mapped.values()])
    states: dict[str, CellState] = {}
    watch: list[str] = []
    for cell in grid.cells:
        state = CellState(cell.key, cell.x, cell.y, cell.z, cell.label, dict(cell.inputs))
        if cell.key in mapped:
            execution_id, reused = mapped[cell.key]
            entry = journal.get(execution_id)
            state = _state_from_entry(state, execution_id, reused, entry, stored.get(execution_id))
            if entry is not None and entry.confirmed and not entry.is_terminal:
                watch.append(cell.key)
        elif cell.key in unconfirmed:
            state = replace(
                state,
                status=UNCONFIRMED,
                error="the kernel stopped while this cell's start was on its way: the run MAY "
                "exist (and be billed); check the app's runs, then retry_unconfirmed()",
            )
        states[cell.key] = state
    return states, watch


def _state_from_entry(
    state: CellState,
    execution_id: str,
    reused: bool,
    entry: JournalEntry | None,
    stored: Mapping[str, StoredMedia] | None,
) -> CellState:
    """A cell's state from its journal row and stored media."""
    if entry is None:
        return replace(
            state,
            status=UNCONFIRMED,
            execution_id=execution_id,
            reused=reused,
            error=f"run {execution_id} is not in this journal",
        )
    if not entry.confirmed:
        return replace(
            state, status=UNCONFIRMED, execution_id=execution_id, error=entry.error, reused=reused
        )
    thumb = next((m.thumbnail for m in (stored or {}).values() if m.thumbnail), None)
    execution = entry.to_execution()
    return replace(
        state,
        status=entry.status,
        execution_id=execution_id,
        execution=execution,
        reused=reused,
        thumb=thumb,
        error=entry.error if execution.is_failed else None,
    )
