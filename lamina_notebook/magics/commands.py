"""The ``%lamina`` subcommands: one handler per subcommand, called as ``handler(cmd, session,
shell)``.

A handler gets the parsed :class:`~.parse.Command`, the :class:`~..session.session.Session`
(client, loop, settings, sandbox) and the IPython shell (only for ``-o VAR``), calls the core,
and shows or returns the result. It never sees ``LaminaMagics``: the magic parses the line and
calls :func:`dispatch`, and turns a raised LaminaError into one message (or a traceback, per
``short_errors``). A new subcommand is a usage line and help text in :mod:`.help`, its options
and positionals in :mod:`.parse` and a handler in :data:`HANDLERS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render
from ..errors import ConfigurationError, TransportError, stopped_watching
from ..session.results import Result, has_kernel, launch, resume
from .display import show_bundle, store_output
from .help import HELP, usage
from .progress import wait_with_progress

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ..journal import JournalEntry
    from ..models import App, Media
    from ..session.session import Session
    from .parse import Command

__all__ = ["HANDLERS", "SIMULATED_NOTE", "Handler", "dispatch", "fetch_history_thumbnails"]

#: A subcommand's handler: (the parsed command, the session, the shell) -> the cell's value.
Handler = Callable[["Command", "Session", "InteractiveShell"], Any]

SIMULATED_NOTE = (
    "Using the Lamina sandbox at {url}: results are simulated (generated "
    "placeholders, nothing is billed). %lamina sandbox --stop goes back."
)


def dispatch(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """Run ``cmd`` (``SUB --help`` prints the subcommand's help). Errors propagate as
    LaminaError; the return value becomes the cell's value (``_``)."""
    if cmd.help:
        print(usage(cmd.name, full=True))
        return None
    return HANDLERS[cmd.name](cmd, session, shell)


# -- help, login, sandbox -----------------------------------------------------------------


def show_help(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina help [SUB]``: the overview, or one subcommand's full help."""
    print(usage(cmd.topic, full=True) if cmd.topic else HELP)


def login(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina login [--save]``: read the key without echo; keep it in the session."""
    import getpass

    from ..config import check_key, save_credentials

    try:
        key = getpass.getpass("Lamina API key (input hidden): ").strip()
    except (EOFError, KeyboardInterrupt):
        print("Login cancelled; the key was not changed.")
        return
    if not key:
        raise ConfigurationError(
            "No key entered; nothing changed.",
            hint="Copy the key (lma_...) from your Lamina workspace "
            "settings and run %lamina login again.",
        )
    key = check_key(key, "the key entered")
    session.set_api_key(key, "%lamina login")
    where = "in memory for this kernel"
    if cmd.save:
        path = save_credentials(key, session.settings.base_url)
        where = f"and saved to {path} (mode 0600)"
    print(f"Key accepted {where}.")


def use_sandbox(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina sandbox``: point the session at the sandbox (``--stop``: back again)."""
    if cmd.stop:
        if session.stop_sandbox():
            print("Sandbox stopped; back to the configured Lamina service.")
        else:
            print("No sandbox was running.")
        return
    source = session.key_source() if cmd.if_no_key else None
    if source and source != "sandbox" and session.sandbox is None:
        print(
            f"Using the Lamina service at {session.client.base_url} "
            f"(key from {source}); runs are real and billed."
        )
        return
    state = session.start_sandbox(cmd.time_scale)
    print(SIMULATED_NOTE.format(url=state.base_url))


# -- apps and info ------------------------------------------------------------------------


def list_apps(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina apps [SEARCH]``: a table of apps; a full list also fills the completion cache."""
    apps = session.run(session.client.list_apps(search=cmd.search, limit=cmd.limit))
    if not cmd.search and not cmd.limit:
        session.remember_apps(apps)
    show_bundle(
        {"text/plain": render.apps_table_text(apps), "text/html": render.apps_table_html(apps)}
    )
    store_output(shell, cmd.output_var, apps)


def resolve_app(session: Session, name_or_id: str) -> App:
    """The app with its parameters (and cached in the session, for Tab completion)."""
    app: App = session.run(session.client.resolve_app(name_or_id))
    session.remember_app(app)
    return app


def show_app(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina info APP``: the app's parameters."""
    app = resolve_app(session, cmd.app or "")
    show_bundle({"text/plain": render.app_info_text(app), "text/html": render.app_info_html(app)})


def open_widget(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina widget APP``: a LaminaApp for the app (the cell's value displays it)."""
    from ..widget.app import LaminaApp

    widget = LaminaApp(resolve_app(session, cmd.app or ""))
    store_output(shell, cmd.output_var, widget)
    return widget


# -- runs ---------------------------------------------------------------------------------


def run_app(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina run APP Name=value ...``: validate (no request if wrong), start one run, wait
    with progress; ``--no-wait`` returns the handle at once."""
    app = resolve_app(session, cmd.app or "")
    inputs = session.client.validate_inputs(app, cmd.inputs)
    timeout = cmd.timeout or session.settings.timeout
    handle, interrupted = launch(
        session, app, inputs, webhook=cmd.webhook, timeout=timeout if cmd.wait else None
    )
    if interrupted or not cmd.wait:
        if interrupted:
            print(stopped_watching(handle.execution_id))
        store_output(shell, cmd.output_var, handle)
        return handle
    value = wait_with_progress(handle)
    store_output(shell, cmd.output_var, value)
    return value


def resume_run(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina resume ID``: reattach to an execution (also an earlier kernel's) and wait."""
    handle = resume(session, cmd.execution_id or "", timeout=session.settings.timeout)
    value = wait_with_progress(handle)
    store_output(shell, cmd.output_var, value)
    return value


def show_status(cmd: Command, session: Session, shell: InteractiveShell) -> Result:
    """``%lamina status ID``: the execution now, with its media; the journal's last known
    state when the service cannot be reached."""
    from ..session.media import fetch_media

    client = session.client
    execution_id = cmd.execution_id or ""
    try:
        execution = session.run(client.resume(execution_id))
    except TransportError as exc:
        entry = client.journal.get(execution_id) if client.journal is not None else None
        if entry is None:
            raise
        print(
            f"The service is unreachable ({exc.message}); showing the journal's last known state."
        )
        return Result(entry.to_execution(), {}, entry.inputs, session=session)
    entry = client.journal.get(execution_id) if client.journal is not None else None
    inputs = dict(entry.inputs) if entry is not None else {}
    media = session.run(fetch_media(client, execution, session.settings.embed_max_px))
    return Result(execution, media, inputs, session=session)


def save_outputs(cmd: Command, session: Session, shell: InteractiveShell) -> Path:
    """``%lamina save ID [FOLDER]``: download the outputs and a manifest; list the files."""
    client = session.client
    execution = session.run(client.resume(cmd.execution_id or ""))
    folder = Path(cmd.folder or f"lamina-{execution.execution_id}")
    manifest: Path = session.run(client.save(execution, folder))
    print(f"Saved to {manifest.parent} (manifest: {manifest}):")
    for name in _manifest_files(manifest):
        print(f"  {name}")
    return manifest


# -- history and doctor -------------------------------------------------------------------


def show_history(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina history``: the journal's executions, newest first (thumbnails in a kernel)."""
    entries = session.client.history(app=cmd.app, limit=cmd.limit or 20)
    thumbs = fetch_history_thumbnails(session, entries) if has_kernel() else {}
    show_bundle(
        {
            "text/plain": render.history_text(entries),
            "text/html": render.history_html(entries, thumbs),
        }
    )
    if cmd.output_var:
        store_output(shell, cmd.output_var, _history_as_frame(entries))


def check_environment(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina doctor``: versions, key source (never the key), reachability, journal."""
    from .doctor import doctor_bundle

    show_bundle(doctor_bundle(session))


#: Subcommand name -> its handler; every subcommand of :data:`.help.SUBCOMMANDS` has one.
HANDLERS: dict[str, Handler] = {
    "login": login,
    "sandbox": use_sandbox,
    "apps": list_apps,
    "info": show_app,
    "run": run_app,
    "status": show_status,
    "resume": resume_run,
    "history": show_history,
    "save": save_outputs,
    "doctor": check_environment,
    "widget": open_widget,
    "help": show_help,
}


def fetch_history_thumbnails(session: Session, entries: Sequence[JournalEntry]) -> dict[str, Media]:
    """execution id -> a ``HISTORY_THUMB_PX`` thumbnail of its first completed image/video
    output (best effort: an output that cannot be fetched just has no thumbnail)."""
    from ..session.media import HISTORY_THUMB_PX, fetch_media

    client = session.client
    targets = []
    for entry in entries:
        execution = entry.to_execution()
        first = next(
            (
                o
                for o in execution.outputs
                if o.is_completed and o.value and o.kind in ("image", "video")
            ),
            None,
        )
        if first is not None:
            targets.append((execution, first))

    async def fetch_all() -> dict[str, Media]:
        import asyncio

        found = await asyncio.gather(
            *(fetch_media(client, e, HISTORY_THUMB_PX, outputs=[o]) for e, o in targets),
            return_exceptions=True,
        )
        thumbs: dict[str, Media] = {}
        for (execution, output), media in zip(targets, found, strict=True):
            if isinstance(media, dict) and output.id in media:
                thumbs[execution.execution_id] = media[output.id]
        return thumbs

    return session.run(fetch_all()) if targets else {}


def _manifest_files(manifest: Path) -> list[str]:
    """The output files a manifest lists (none when it cannot be read)."""
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(o.get("file")) for o in doc.get("outputs", []) if o.get("file")]


def _history_as_frame(entries: list[JournalEntry]) -> Any:
    """A pandas DataFrame of journal rows when pandas is installed, else the entries list."""
    try:
        import pandas as pd
    except ImportError:
        return entries
    rows = [
        {
            "execution_id": e.execution_id,
            "app": e.app_name or e.app_id,
            "status": e.status,
            "created_at": pd.to_datetime(e.created_at, unit="s", utc=True)
            if e.created_at
            else None,
            "completed_at": (
                pd.to_datetime(e.completed_at, unit="s", utc=True) if e.completed_at else None
            ),
            "inputs": dict(e.inputs or {}),
            "urls": [o.get("value") for o in e.outputs or [] if o.get("status") == "completed"],
            "error": e.error,
        }
        for e in entries
    ]
    return pd.DataFrame(rows)
