"""The ``%lamina`` subcommands: one handler per subcommand, called as ``handler(cmd, session,
shell)``.

A handler gets the parsed :class:`~.parse.Command`, the :class:`~..session.session.Session`
(client, loop, settings, sandbox) and the IPython shell (only for ``-o VAR``), calls the core,
and shows or returns the result. It never sees ``LaminaMagics``: the magic parses the line and
calls :func:`dispatch`, and a raised LaminaError fails the cell with a short message (or a
traceback, per ``short_errors``). A new subcommand is a usage line and help text in
:mod:`.help`, its options and positionals in :mod:`.parse` and a handler in :data:`HANDLERS`.
Runs and apps live here; grids in :mod:`.grid`, the journal's history, stars, notes and
exports in :mod:`.history`, the /v1-only calls (cancel, upload, estimate, runs) in
:mod:`.service`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render
from ..errors import ConfigurationError, LaminaError, RunFailed, TransportError
from ..session.results import Result, RunHandle, launch, resume
from .display import show_bundle, store_output
from .grid import run_grid
from .help import HELP, usage
from .history import find_run_id, note_run, show_history, star_run, write_export
from .inputs import prepare, resolve_app, split_variant
from .parse import CommandError
from .progress import interrupted, say, terminal_width, wait_with_progress, warm_proxy
from .service import cancel_run, estimate_run, list_runs, upload_file

if TYPE_CHECKING:  # pragma: no cover
    from IPython.core.interactiveshell import InteractiveShell

    from ..models import App
    from ..session.session import Session
    from .parse import Command

__all__ = [
    "APPS_SCAN",
    "HANDLERS",
    "SANDBOX_NOTE",
    "Handler",
    "app_matches",
    "dispatch",
]

#: A subcommand's handler: (the parsed command, the session, the shell) -> the cell's value.
Handler = Callable[["Command", "Session", "InteractiveShell"], Any]

#: What ``%lamina sandbox`` says: what it is, then how to leave it (two short lines).
SANDBOX_NOTE = (
    "Using the Lamina sandbox at {url} (simulated, nothing billed).\n"
    "To use the real Lamina service again: %lamina sandbox --stop"
)
#: How many apps ``%lamina apps WORDS`` reads to match words itself (the service's maximum
#: page); the service's own search is asked too, for apps beyond these.
APPS_SCAN = 100

#: The one sentence that says how to let Run All carry on past a failed run.
NO_RAISE_HINT = (
    "The cell stops here so Run All does too; --no-raise (or %config "
    "LaminaMagics.raise_on_failure = False) lets a failed run pass."
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
        say(
            f"Using the Lamina service at {session.client.base_url} "
            f"(key from {source}); runs are real and billed."
        )
        return
    state = session.start_sandbox(cmd.time_scale)
    print(SANDBOX_NOTE.format(url=state.base_url))


# -- apps and info ------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Lower-case words without accents ("Légende" -> "legende")."""
    folded = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(bare.casefold())


def _stems(word: str) -> tuple[str, ...]:
    """What a query word may start: itself, and without a plural ``s`` or a final ``e``
    when 4 letters remain ("styles", "style" -> "styl" finds "stylizer")."""
    if len(word) > 4 and word[-1] in "se":
        return (word, word[:-1])
    return (word,)


def app_matches(app: App, query: str) -> bool:
    """True when every word of ``query`` starts a word of the app's name or description,
    in any order, ignoring case and accents; a trailing ``s``/``e`` of a query word is
    optional ("photo style" matches "Photo Stylizer")."""
    words = set(_words(f"{app.name} {app.description or ''}"))
    return all(any(w.startswith(stem) for w in words for stem in _stems(q)) for q in _words(query))


def _search_apps(session: Session, query: str) -> list[App]:
    """Apps matching ``query`` (:func:`app_matches`) among the first :data:`APPS_SCAN`,
    then those the service's own search adds."""
    client = session.client

    async def both() -> tuple[list[App], list[App]]:
        every = await client.list_apps(limit=APPS_SCAN)
        try:
            theirs = await client.list_apps(search=query)
        except LaminaError:  # our own match stands without the service's
            theirs = []
        return every, theirs

    every, theirs = session.run(both())
    found = [a for a in every if app_matches(a, query)]
    seen = {a.app_id for a in found} | {a.app_id for a in every}
    found += [a for a in theirs if a.app_id not in seen]
    return found


def list_apps(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina apps [WORDS]``: a table of apps; a full list also fills the completion cache."""
    if cmd.search:
        apps = _search_apps(session, cmd.search)
        if cmd.limit:
            apps = apps[: cmd.limit]
    else:
        apps = session.run(session.client.list_apps(limit=cmd.limit))
        if not cmd.limit:
            session.remember_apps(apps)
    show_bundle(
        {"text/plain": render.apps_table_text(apps), "text/html": render.apps_table_html(apps)}
    )
    store_output(shell, cmd.output_var, apps)


def show_app(cmd: Command, session: Session, shell: InteractiveShell) -> None:
    """``%lamina info APP``: the app's parameters (the text fits the terminal's width)."""
    app = resolve_app(session, cmd.app or "")
    show_bundle(
        {
            "text/plain": render.app_info_text(app, width=terminal_width()),
            "text/html": render.app_info_html(app),
        }
    )


def open_widget(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina widget APP``: a LaminaApp for the app (the cell's value displays it)."""
    from ..widget.app import LaminaApp

    widget = LaminaApp(resolve_app(session, cmd.app or ""))
    store_output(shell, cmd.output_var, widget)
    return widget


# -- runs ---------------------------------------------------------------------------------


def run_app(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina run APP Name=value ...``: validate (no request if wrong), upload local files,
    start one run (or reuse one), wait with progress. A failed run fails the cell after its
    card is shown; ``--no-wait`` returns the handle at once."""
    app = resolve_app(session, cmd.app or "")
    raw, variant = split_variant(app, cmd.inputs)
    if cmd.fresh and variant is not None:
        raise CommandError(
            "--fresh asks for the next sample and variant=N for sample N; give one of them.",
            "run",
        )
    inputs = prepare(session, app, raw)
    timeout = cmd.timeout or session.settings.timeout
    warm_proxy(session)
    handle, was_interrupted = launch(
        session,
        app,
        inputs,
        webhook=cmd.webhook,
        timeout=timeout if cmd.wait else None,
        reuse=cmd.reuse,
        variant=variant,
        fresh=cmd.fresh,
    )
    store_output(shell, cmd.output_var, handle)
    if was_interrupted:
        raise interrupted(session, handle.execution_id)
    if handle.reused:
        say(
            f"Reused the journaled run {render.short_id(handle.execution_id)} "
            "(same app and inputs; nothing was sent). --fresh runs a new sample."
        )
    if not cmd.wait:
        return handle
    return _finished(cmd, shell, wait_with_progress(handle))


def _finished(cmd: Command, shell: InteractiveShell, result: Result) -> Result:
    """The Result as the cell's value; a failed run shows its card, then fails the cell
    (unless ``--no-raise``)."""
    store_output(shell, cmd.output_var, result)
    if result.execution.is_failed and cmd.raise_on_failure is not False:
        data, metadata = result._repr_mimebundle_()
        show_bundle(data, metadata)
        raise RunFailed(result.execution, hint=NO_RAISE_HINT)
    return result


def resume_run(cmd: Command, session: Session, shell: InteractiveShell) -> Any:
    """``%lamina resume ID``: reattach to an execution (also an earlier kernel's) and wait."""
    warm_proxy(session)
    execution_id = find_run_id(session, cmd.execution_id or "")
    handle: RunHandle = resume(session, execution_id, timeout=session.settings.timeout)
    store_output(shell, cmd.output_var, handle)
    return _finished(cmd, shell, wait_with_progress(handle))


def show_status(cmd: Command, session: Session, shell: InteractiveShell) -> Result:
    """``%lamina status ID``: the execution now, with its media; the journal's last known
    state when the service cannot be reached."""
    from ..session.media import fetch_media

    client = session.client
    execution_id = find_run_id(session, cmd.execution_id or "")
    try:
        execution = session.run(client.resume(execution_id))
    except TransportError as exc:
        entry = client.journal.get(execution_id) if client.journal is not None else None
        if entry is None:
            raise
        say(f"The service is unreachable ({exc.message}); showing the journal's last known state.")
        return Result(entry.to_execution(), {}, entry.inputs, session=session)
    entry = client.journal.get(execution_id) if client.journal is not None else None
    inputs = dict(entry.inputs) if entry is not None else {}
    if entry is not None:
        execution = execution.with_app(entry.app_id, entry.app_name)
    media = session.run(fetch_media(client, execution, session.settings.embed_max_px))
    return Result(execution, media, inputs, session=session)


def save_outputs(cmd: Command, session: Session, shell: InteractiveShell) -> Path:
    """``%lamina save ID [FOLDER]``: download the outputs and a manifest; list the files."""
    client = session.client
    execution = session.run(client.resume(find_run_id(session, cmd.execution_id or "")))
    folder = Path(cmd.folder or f"lamina-{execution.execution_id}")
    manifest: Path = session.run(client.save(execution, folder))
    print(f"Saved to {manifest.parent} (manifest: {manifest}):")
    for name in _manifest_files(manifest):
        print(f"  {name}")
    return manifest


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
    "grid": run_grid,
    "estimate": estimate_run,
    "status": show_status,
    "resume": resume_run,
    "cancel": cancel_run,
    "upload": upload_file,
    "runs": list_runs,
    "history": show_history,
    "star": star_run,
    "note": note_run,
    "export": write_export,
    "save": save_outputs,
    "doctor": check_environment,
    "widget": open_widget,
    "help": show_help,
}


def _manifest_files(manifest: Path) -> list[str]:
    """The output files a manifest lists (none when it cannot be read)."""
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(o.get("file")) for o in doc.get("outputs", []) if o.get("file")]
