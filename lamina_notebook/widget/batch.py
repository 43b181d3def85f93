"""The price of a batch (a sweep or a grid) before anything is sent, and the confirmation step.

A :class:`BatchPrice` plans the batch with :func:`lamina_notebook.grids.plan` (every value
validated, identical completed runs in the journal reused, repeats run once), shows at once how
many new runs it starts and how many are reused, then, where the edition offers estimates, the
credits and the balance (worked out on the loop; a newer edit supersedes an older estimate).
Starting asks first when the batch would start more new runs than the session's
``confirm_over`` setting (the same one as ``%config LaminaMagics.confirm_over``), or when the
balance cannot cover it: a message and a "Start N runs" button.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..errors import InputValidationError
from ..render.html import esc
from ..render.styles import ERROR_STYLE, MUTED_STYLE
from ..session.grids import Cost, estimate_cost
from .ui import first_line

if TYPE_CHECKING:  # pragma: no cover
    from ..grids import GridPlan
    from ..session.session import Session
    from .ui import UI

__all__ = [
    "BatchParts",
    "BatchPrice",
    "credits_text",
    "needs_confirmation",
    "price",
    "price_text",
]

#: Seconds after the last change before the credits are estimated (requests cost budget).
ESTIMATE_DEBOUNCE = 0.4


def needs_confirmation(cost: Cost, threshold: int | float | None) -> bool:
    """Ask before starting: more new runs than ``threshold`` (the ``confirm_over`` setting),
    or a balance that cannot cover the batch. Nothing to start never asks."""
    if cost.runs == 0:
        return False
    if cost.affordable is False:
        return True
    return threshold is not None and cost.runs > threshold


def credits_text(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def price_text(cost: Cost, *, estimating: bool = False) -> str:
    """``6 new runs · 2 reused (no charge) · about 60 credits of a balance of 1,000``."""
    bits = [f"{cost.runs} new run{'s' * (cost.runs != 1)}"]
    if cost.reused:
        bits.append(f"{cost.reused} reused from earlier runs (no charge)")
    if cost.duplicates:
        bits.append(f"{cost.duplicates} repeat{'s' * (cost.duplicates != 1)} run once")
    if cost.expected is not None:
        text = f"about {credits_text(cost.expected)} credits"
        if cost.balance is not None:
            text += f" of a balance of {credits_text(cost.balance)}"
        if cost.affordable is False:
            text += ": NOT affordable"
        bits.append(text)
        if cost.saved:
            bits.append(f"reuse saves about {credits_text(cost.saved)} credits")
    elif estimating:
        bits.append("estimating credits…")
    return " · ".join(bits)


@dataclass(frozen=True)
class BatchParts:
    """The price line and the confirmation step of a batch (see :attr:`LaminaApp.parts`)."""

    #: Run count, reuse, credits and balance (before anything is sent).
    price: W.HTML
    #: Why the batch cannot be planned ("" when it can).
    problems: W.HTML
    #: Shown when the batch needs a confirmation: the message and its two buttons.
    confirm: W.HBox
    confirm_note: W.HTML
    confirm_button: W.Button
    back_button: W.Button


class BatchPrice:
    """Plans a batch, shows its price, and starts it (asking first above the threshold).

    ``make_plan()`` builds the plan from the panel's current choices (raises
    InputValidationError/ValueError/TypeError with what to fix; ``make_plan(client=...)``
    plans with that client, see :meth:`refresh`); ``start(plan, cost)`` starts it. Call
    :meth:`refresh` after every change of the choices.
    """

    def __init__(
        self,
        session: Session,
        ui: UI,
        make_plan: Callable[..., GridPlan],
        start: Callable[[GridPlan, Cost], Any],
        what: str = "batch",
    ) -> None:
        self.session = session
        self.ui = ui
        self.make_plan = make_plan
        self.start = start
        self.what = what
        self.price = W.HTML("")
        self.price.add_class("lamina-price")
        self.problems = W.HTML("")
        self.problems.add_class("lamina-batch-problems")
        self.confirm_note = W.HTML("")
        self.confirm_button = W.Button(
            description="Start", icon="check", button_style="warning", layout=W.Layout(width="auto")
        )
        self.confirm_button.add_class("lamina-confirm-button")
        self.back_button = W.Button(description="Back", layout=W.Layout(width="auto"))
        self.back_button.add_class("lamina-back-button")
        self.confirm = W.HBox(
            [self.confirm_note, self.confirm_button, self.back_button],
            layout=W.Layout(display="none", align_items="center", flex_flow="row wrap"),
        )
        self.confirm.add_class("lamina-confirm")
        self.confirm_button.on_click(ui.guard(self.confirm_button, self._confirmed))
        self.back_button.on_click(ui.guard(self.back_button, self.cancel_confirmation))
        self.cost: Cost | None = None
        self._gen = 0
        self._pending: GridPlan | None = None
        #: Problems show once the user changed a choice or pressed the batch's Run button.
        self.touched = False

    @property
    def parts(self) -> BatchParts:
        return BatchParts(
            self.price,
            self.problems,
            self.confirm,
            self.confirm_note,
            self.confirm_button,
            self.back_button,
        )

    @property
    def threshold(self) -> int | float | None:
        return getattr(self.session.settings, "confirm_over", None)

    # -- the price ------------------------------------------------------------------------
    def refresh(self, client: Any = None) -> GridPlan | None:
        """Plan the current choices: the run count at once, the credits in the background.

        ``client``: plan and price with this one (through the UI port on the loop thread,
        which must not ask the session for its client); None: the session's (main thread).
        """
        self._gen += 1
        gen = self._gen
        self.cost = None
        self.cancel_confirmation()
        try:
            plan = self.make_plan() if client is None else self.make_plan(client=client)
        except (InputValidationError, ValueError, TypeError) as exc:
            self.price.value = ""
            self._show_problems(exc)
            return None
        self.problems.value = ""
        local = _local_cost(plan)
        self.price.value = self._line(price_text(local, estimating=bool(plan.cells)))
        if not plan.cells:
            self.cost = local
            return plan
        if client is None:
            client = self.session.client  # taken here: the loop thread must not build it
        self.session.runtime.submit(self._estimate(client, plan, gen))
        return plan

    async def _estimate(self, client: Any, plan: GridPlan, gen: int) -> None:
        await asyncio.sleep(ESTIMATE_DEBOUNCE)
        if gen != self._gen:
            return
        try:
            cost = await price(client, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the price stays a run count
            cost = _local_cost(plan, basis=f"No credit estimate: {first_line(exc)}")
        self.ui.apply(self._priced, gen, cost)

    def _priced(self, gen: int, cost: Cost) -> None:
        if gen != self._gen:
            return
        self.cost = cost
        self.price.value = self._line(price_text(cost), title=cost.basis)

    def _line(self, text: str, *, title: str = "") -> str:
        """The price line, tied to the button it prices (``Run sweep: 6 new runs · …``)."""
        return _html(f"Run {self.what}: {text}", title=title)

    def _show_problems(self, exc: BaseException) -> None:
        if not self.touched:
            self.problems.value = ""
            return
        if isinstance(exc, InputValidationError) and exc.problems:
            lines = [p.text for p in exc.problems]
        else:
            lines = [first_line(exc)]
        items = "".join(f"<div>{esc(line)}</div>" for line in lines[:8])
        more = f"<div>… and {len(lines) - 8} more</div>" if len(lines) > 8 else ""
        self.problems.value = f'<div style="{ERROR_STYLE}">{items}{more}</div>'

    # -- starting -------------------------------------------------------------------------
    def request(self) -> Any:
        """The batch's Run button: plan (problems show under the choices, nothing is sent),
        price, then start, or show the confirmation step when the threshold says so."""
        self.touched = True
        try:
            plan = self.make_plan()
        except (InputValidationError, ValueError, TypeError) as exc:
            self._show_problems(exc)  # one message, under the choices; nothing sent
            return None
        self.problems.value = ""
        cost = self.cost if self.cost is not None and self.cost.cells == len(plan.cells) else None
        if cost is None or cost.runs != plan.runs:
            cost = self.session.run(price(self.session.client, plan))
            self.cost = cost
            self.price.value = self._line(price_text(cost), title=cost.basis)
        if needs_confirmation(cost, self.threshold):
            self._ask(plan, cost)
            return None
        return self.start(plan, cost)

    def _ask(self, plan: GridPlan, cost: Cost) -> None:
        self._pending = plan
        n = cost.runs
        why = (
            "the balance cannot cover it"
            if cost.affordable is False
            else f"more than confirm_over = {self.threshold} new runs"
        )
        credits = (
            f", about {credits_text(cost.expected)} credits" if cost.expected is not None else ""
        )
        self.confirm_note.value = _html(
            f"This {self.what} starts {n} new run{'s' * (n != 1)}{credits} ({why}). Start it?",
            strong=True,
        )
        self.confirm_button.description = f"Start {n} run{'s' * (n != 1)}"
        self.confirm.layout.display = ""

    def _confirmed(self) -> None:
        plan = self._pending
        if plan is None:
            return
        fresh = self.make_plan()
        self.cancel_confirmation()
        if fresh.runs != plan.runs:  # the choices changed meanwhile: ask about these
            cost = self.session.run(price(self.session.client, fresh))
            self._ask(fresh, cost)
            return
        self.start(fresh, self.cost or _local_cost(fresh))

    def cancel_confirmation(self) -> None:
        self._pending = None
        self.confirm.layout.display = "none"


async def price(client: Any, plan: GridPlan) -> Cost:
    """The batch's :class:`Cost` (``session.grids.estimate_cost``); when every cell is reused
    (nothing to start) one estimate still prices a run, so the saving can be said."""
    if plan.runs or not (plan.reused or plan.duplicates):
        return await estimate_cost(client, plan)
    from ..editions import NotOfferedError
    from ..errors import LaminaError

    local = _local_cost(plan, basis="Nothing to start: every cell is answered already.")
    try:
        one = await client.estimate(plan.app, plan.cells[0].inputs)
    except (NotOfferedError, LaminaError):
        return local
    if one.expected is None:
        return local
    repeats = local.reused + local.duplicates
    return replace(
        local,
        expected=0.0,
        balance=float(one.balance) if one.balance is not None else None,
        affordable=True,
        per_run=float(one.expected),
        saved=float(one.expected) * repeats,
    )


def _local_cost(plan: GridPlan, basis: str = "") -> Cost:
    """What the plan alone says (no request): the run count and the reuse."""
    return Cost(
        cells=len(plan.cells),
        runs=plan.runs,
        reused=len(plan.reused),
        duplicates=len(plan.duplicates),
        kept=len(plan.kept),
        basis=basis or f"{plan.runs} new run(s); credits not estimated yet.",
    )


def _html(text: str, *, title: str = "", strong: bool = False) -> str:
    attr = f' title="{esc(title)}"' if title else ""
    inner = f"<b>{esc(text)}</b>" if strong else esc(text)
    return f'<span style="{MUTED_STYLE if not strong else ""}"{attr}>{inner}</span>'
