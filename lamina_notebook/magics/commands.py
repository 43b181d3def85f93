"""The ``%lamina`` subcommands: each takes a parsed Command, calls the core, shows the result.

Kept apart from ``magics`` (traits, parsing, completion) so each stays readable; runs and their
progress display live in ``_magic_runs``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import render
from ..errors import ConfigurationError, TransportError, stopped_watching
from ..session.results import has_kernel, launch, resume
from . import parse as command
from .progress import wait_and_show

__all__ = ["Commands"]

if TYPE_CHECKING:  # pragma: no cover
    from ..models import App
    from .magic import LaminaMagics
    from .parse import Command

SIMULATED_NOTE = (
    "Using the Lamina sandbox at {url}: results are simulated (generated "
    "placeholders, nothing is billed). %lamina sandbox --stop goes back."
)


class Commands:
    """One method per subcommand; ``dispatch`` picks it. Errors propagate as LaminaError."""

    def __init__(self, magics: LaminaMagics) -> None:
        self.magics = magics

    @property
    def session(self) -> Any:
        return self.magics.session

    def dispatch(self, cmd: Command) -> Any:
        if cmd.help:
            print(command.usage(cmd.name, full=True))
            return None
        return getattr(self, "do_" + cmd.name)(cmd)

    # -- help, login, sandbox -------------------------------------------------------------
    def do_help(self, cmd: Command) -> None:
        print(command.usage(cmd.topic, full=True) if cmd.topic else command.HELP)

    def do_login(self, cmd: Command) -> None:
        import getpass

        from ..config import _check_key, save_credentials

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
        key = _check_key(key, "the key entered")
        self.session.set_api_key(key, "%lamina login")
        where = "in memory for this kernel"
        if cmd.save:
            path = save_credentials(key, self.session.settings.base_url)
            where = f"and saved to {path} (mode 0600)"
        print(f"Key accepted {where}.")

    def do_sandbox(self, cmd: Command) -> None:
        if cmd.stop:
            if self.session.stop_sandbox():
                print("Sandbox stopped; back to the configured Lamina service.")
            else:
                print("No sandbox was running.")
            return
        source = self.session.key_source() if cmd.if_no_key else None
        if source and source != "sandbox" and self.session.sandbox is None:
            print(
                f"Using the Lamina service at {self.session.client.base_url} "
                f"(key from {source}); runs are real and billed."
            )
            return
        state = self.session.start_sandbox(cmd.time_scale)
        print(SIMULATED_NOTE.format(url=state.base_url))

    # -- apps and info --------------------------------------------------------------------
    def do_apps(self, cmd: Command) -> None:
        client = self.session.client
        apps = self.session.run(client.list_apps(search=cmd.search, limit=cmd.limit))
        if not cmd.search and not cmd.limit:
            self.session.remember_apps(apps)
        self.magics.show(
            {"text/plain": render.apps_table_text(apps), "text/html": render.apps_table_html(apps)}
        )
        self.magics.store(cmd.output_var, apps)

    def resolve(self, name_or_id: str) -> App:
        """The app with its parameters (cached in the session for completion)."""
        client = self.session.client
        app = self.session.run(client.resolve_app(name_or_id))
        self.session.remember_app(app)
        return app

    def do_info(self, cmd: Command) -> None:
        app = self.resolve(cmd.app or "")
        self.magics.show(
            {"text/plain": render.app_info_text(app), "text/html": render.app_info_html(app)}
        )

    def do_widget(self, cmd: Command) -> Any:
        from ..widget.app import LaminaApp

        widget = LaminaApp(self.resolve(cmd.app or ""))
        self.magics.store(cmd.output_var, widget)
        return widget

    # -- runs -----------------------------------------------------------------------------
    def do_run(self, cmd: Command) -> Any:
        app = self.resolve(cmd.app or "")
        inputs = self.session.client.validate_inputs(app, cmd.inputs)  # no request if wrong
        timeout = cmd.timeout or self.session.settings.timeout
        handle, interrupted = launch(
            self.session,
            app,
            inputs,
            webhook=cmd.webhook,
            timeout=None if not cmd.wait else timeout,
        )
        if interrupted or not cmd.wait:
            if interrupted:
                print(stopped_watching(handle.execution_id))
            self.magics.store(cmd.output_var, handle)
            return handle
        value = wait_and_show(handle)
        self.magics.store(cmd.output_var, value)
        return value

    def do_resume(self, cmd: Command) -> Any:
        handle = resume(self.session, cmd.execution_id or "", timeout=self.session.settings.timeout)
        value = wait_and_show(handle)
        self.magics.store(cmd.output_var, value)
        return value

    def do_status(self, cmd: Command) -> Any:
        from ..session.media import fetch_media
        from ..session.results import Result

        client = self.session.client
        execution_id = cmd.execution_id or ""
        try:
            execution = self.session.run(client.resume(execution_id))
        except TransportError as exc:
            entry = client.journal.get(execution_id) if client.journal is not None else None
            if entry is None:
                raise
            print(
                f"The service is unreachable ({exc.message}); showing the journal's last "
                f"known state."
            )
            return Result(entry.to_execution(), {}, entry.inputs, session=self.session)
        entry = client.journal.get(execution_id) if client.journal is not None else None
        inputs = dict(entry.inputs) if entry is not None else {}
        media = self.session.run(fetch_media(client, execution, self.session.settings.embed_max_px))
        return Result(execution, media, inputs, session=self.session)

    def do_save(self, cmd: Command) -> Path:
        client = self.session.client
        execution = self.session.run(client.resume(cmd.execution_id or ""))
        folder = Path(cmd.folder or f"lamina-{execution.execution_id}")
        manifest = self.session.run(client.save(execution, folder))
        print(f"Saved to {manifest.parent} (manifest: {manifest}):")
        for name in _manifest_files(manifest):
            print(f"  {name}")
        return manifest

    # -- history and doctor ---------------------------------------------------------------
    def do_history(self, cmd: Command) -> Any:
        from .progress import history_thumbnails

        client = self.session.client
        entries = client.history(app=cmd.app, limit=cmd.limit or 20)
        thumbs = history_thumbnails(self.session, entries) if has_kernel() else {}
        self.magics.show(
            {
                "text/plain": render.history_text(entries),
                "text/html": render.history_html(entries, thumbs),
            }
        )
        if cmd.output_var:
            self.magics.store(cmd.output_var, _as_frame(entries))

    def do_doctor(self, cmd: Command) -> None:
        from .doctor import doctor_bundle

        self.magics.show(doctor_bundle(self.session))


def _manifest_files(manifest: Path) -> list[str]:
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    files = [str(o.get("file")) for o in doc.get("outputs", []) if o.get("file")]
    return files


def _as_frame(entries: list[Any]) -> Any:
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
