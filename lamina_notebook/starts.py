"""Journaling run starts (helpers of :mod:`client`), before the caller hears of them.

A start whose answer was lost (the run MAY exist, and be billed, but its id is unknown) is
journaled under a local ``unconfirmed-...`` id that the error names; looking that id up later
says what it is instead of sending a request that can only 404.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .errors import LaminaError, UnconfirmedRunError
from .transport import MAY_HAVE_STARTED

if TYPE_CHECKING:  # pragma: no cover
    from .journal import Journal, JournalEntry
    from .models import App, Execution

__all__ = [
    "DEFAULT_JOURNAL",
    "journal_lost_start",
    "journal_started",
    "may_have_started",
    "open_journal",
    "refuse_unconfirmed",
]

log = logging.getLogger("lamina_notebook.client")

#: The client's ``journal=`` default: the journal at ``default_journal_path()``.
DEFAULT_JOURNAL: Any = object()

_CHECK = (
    "Open the app's executions (run history) in the Lamina app to see whether it ran, "
    "and start it again only if it is not there."
)


def open_journal(journal: Any) -> Journal | None:
    """The client's journal from its ``journal=`` argument (None: no journal)."""
    if journal is None:
        return None
    from .journal import Journal

    if journal is DEFAULT_JOURNAL:
        return Journal()
    return journal if isinstance(journal, Journal) else Journal(journal)


def journal_started(
    journal: Journal | None,
    execution: Execution,
    *,
    app: App,
    inputs: Mapping[str, Any],
    base_url: str,
    webhook: str | None,
) -> None:
    """Journal an accepted start; if that fails, warn loudly (the id must reach the user)."""
    if journal is None:
        return
    try:
        if webhook and execution.webhook_url is None:
            execution = replace(execution, webhook_url=webhook)
        journal.record_started(
            execution, app_id=app.app_id, app_name=app.name, inputs=inputs, base_url=base_url
        )
    except Exception as exc:  # e.g. a full disk
        message = (
            f"Execution {execution.execution_id} of {app.name} started but could "
            f"not be written to the run journal ({exc}). Note the id to resume it."
        )
        log.error(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def may_have_started(exc: BaseException) -> bool:
    """True for a run-start error after which the run may exist (the Sender's verdict, which
    it states as the MAY_HAVE_STARTED hint: 5xx, a dropped connection after sending, a read
    timeout, or an unreadable 2xx answer without a recoverable id)."""
    return isinstance(exc, LaminaError) and MAY_HAVE_STARTED in (exc.hint or "")


def journal_lost_start(
    journal: Journal | None,
    exc: LaminaError,
    *,
    app: App,
    inputs: Mapping[str, Any],
    base_url: str,
    webhook: str | None,
) -> str | None:
    """Journal the attempt as ``unconfirmed``; name its local id in ``exc``; return the id.

    Never raises: if the journal cannot be written, the error says so and the caller still
    gets the original error (with the app and inputs to note by hand).
    """
    if exc.journal_id is not None:  # already journaled (the same error seen twice)
        return exc.journal_id
    failure = None
    if journal is not None:
        try:
            exc.journal_id = journal.record_unconfirmed(
                app_id=app.app_id,
                app_name=app.name,
                inputs=inputs,
                base_url=base_url,
                error=exc.message,
                webhook_url=webhook,
            )
        except Exception as jexc:  # a full disk must not hide the original error
            failure = str(jexc)
            log.error("could not journal the unconfirmed start of %s: %s", app.name, jexc)
    if exc.journal_id is not None:
        exc.hint = (
            f"{MAY_HAVE_STARTED} %lamina history lists this attempt as "
            f"{exc.journal_id} (status unconfirmed)."
        )
    else:
        why = f"the run journal failed: {failure}" if failure else "there is no run journal"
        exc.hint = (
            f"{MAY_HAVE_STARTED} This attempt is not in %lamina history ({why}); note "
            f"the app ({app.name}) and the time."
        )
    return exc.journal_id


def refuse_unconfirmed(execution_id: str, journal: Journal | None) -> None:
    """Raise UnconfirmedRunError for a local ``unconfirmed-...`` id (no request is sent)."""
    from .journal import is_unconfirmed_id

    if not is_unconfirmed_id(execution_id):
        return
    entry = None
    if journal is not None:
        try:
            entry = journal.get(execution_id)
        except LaminaError:  # an unusable journal only costs the details
            entry = None
    raise UnconfirmedRunError(
        _describe(execution_id, entry), execution_id=execution_id, hint=_CHECK
    )


def _describe(execution_id: str, entry: JournalEntry | None) -> str:
    head = (
        f"{execution_id} is a local journal id, not one the Lamina service knows: the "
        "start of this run got no usable answer, so its real id was never received."
    )
    if entry is None:
        return head
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created_at))
    app = entry.app_name or entry.app_id or "the app"
    reason = f" The error was: {entry.error}" if entry.error else ""
    return f"{head} It was a run of {app} started at {when}.{reason}"
