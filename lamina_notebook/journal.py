"""The run journal: every started execution in a local SQLite file, so nothing paid for is lost.

Rows are written before the client returns a run to its caller and updated on each status change;
``history`` and ``get`` read them back, so a later process can resume a run by its id. A start
whose answer was lost (the run may exist and be billed, its id is unknown) is recorded too, as
an ``unconfirmed`` row under a local id.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigurationError
from .models import TERMINAL_STATUSES, Execution, Output

__all__ = [
    "SCHEMA_VERSION",
    "UNCONFIRMED",
    "UNCONFIRMED_PREFIX",
    "Journal",
    "JournalEntry",
    "default_journal_path",
    "is_unconfirmed_id",
]

#: Bumped when the table layout changes; a newer file is refused rather than misread, an older
#: one is migrated in place (1 -> 2: the ``confirmed`` column).
SCHEMA_VERSION = 2

#: Status of a start whose answer was lost: the run may exist at the service, its id is unknown.
UNCONFIRMED = "unconfirmed"
#: Prefix of the local ids of such rows (the service's ids are UUIDs, so they never clash).
UNCONFIRMED_PREFIX = "unconfirmed-"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS executions (
    execution_id TEXT PRIMARY KEY,
    app_id       TEXT,
    app_name     TEXT,
    inputs       TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL,
    outputs      TEXT NOT NULL DEFAULT '[]',
    error        TEXT,
    webhook_url  TEXT,
    base_url     TEXT,
    payload      TEXT NOT NULL DEFAULT '{}',
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    completed_at REAL,
    confirmed    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS executions_created ON executions (created_at);
CREATE INDEX IF NOT EXISTS executions_app ON executions (app_id);
"""

# How far along a status is; an update never moves a row backwards (a stale poll answer that
# arrives after a webhook must not turn "completed" back into "running").
_OLD_RANK = (
    "(CASE WHEN status IN ('completed','failed','cancelled') THEN 2 "
    "WHEN status = 'running' THEN 1 ELSE 0 END)"
)

_COLUMNS = (
    "execution_id, app_id, app_name, inputs, status, outputs, error, webhook_url, base_url, "
    "payload, created_at, updated_at, completed_at, confirmed"
)


def is_unconfirmed_id(execution_id: str) -> bool:
    """True for the local id of an unconfirmed start (never an id the service knows)."""
    return isinstance(execution_id, str) and execution_id.startswith(UNCONFIRMED_PREFIX)


def default_journal_path() -> Path:
    """``$LAMINA_JOURNAL``, else ``$XDG_DATA_HOME/lamina-notebook/journal.sqlite3``.

    ``XDG_DATA_HOME`` falls back to ``~/.local/share`` as the XDG spec says.
    """
    explicit = os.environ.get("LAMINA_JOURNAL")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "lamina-notebook" / "journal.sqlite3"


@dataclass(frozen=True)
class JournalEntry:
    """One journaled execution; times are unix epoch seconds.

    ``confirmed`` is False for a start whose answer was lost: ``execution_id`` is then a local
    id (``unconfirmed-...``), ``status`` is ``"unconfirmed"`` and ``error`` says what failed.
    """

    execution_id: str
    app_id: str | None
    app_name: str | None
    inputs: Mapping[str, Any]
    status: str
    outputs: tuple[Mapping[str, Any], ...]
    error: str | None
    webhook_url: str | None
    base_url: str | None
    created_at: float
    updated_at: float
    completed_at: float | None
    payload: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    confirmed: bool = True

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_unconfirmed(self) -> bool:
        """True when the service never confirmed this start (its real id is unknown)."""
        return not self.confirmed

    @property
    def duration(self) -> float | None:
        """Seconds from creation to completion, once terminal."""
        if self.completed_at is None:
            return None
        return max(0.0, self.completed_at - self.created_at)

    def to_execution(self) -> Execution:
        """Rebuild the last known :class:`Execution` (what ``resume`` shows before it polls)."""
        data = dict(self.payload)
        data.update(
            executionId=self.execution_id,
            status=self.status,
            outputs=[dict(o) for o in self.outputs],
        )
        if self.error and not data.get("errorMessage"):
            data["errorMessage"] = self.error
        if self.webhook_url and not data.get("webhookUrl"):
            data["webhookUrl"] = self.webhook_url
        data.setdefault("createdAt", self.created_at)
        if self.completed_at is not None:
            data.setdefault("completedAt", self.completed_at)
        return Execution.from_json(data).with_app(self.app_id, self.app_name)

    @classmethod
    def _from_row(cls, row: sqlite3.Row) -> JournalEntry:
        outputs = _loads(row["outputs"], [])
        return cls(
            execution_id=row["execution_id"],
            app_id=row["app_id"],
            app_name=row["app_name"],
            inputs=_loads(row["inputs"], {}),
            status=row["status"],
            outputs=tuple(o for o in outputs if isinstance(o, Mapping)),
            error=row["error"],
            webhook_url=row["webhook_url"],
            base_url=row["base_url"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            completed_at=row["completed_at"],
            payload=_loads(row["payload"], {}),
            confirmed=bool(row["confirmed"]),
        )


class Journal:
    """A SQLite journal of executions, safe for several threads and several processes.

    One connection per process guarded by a lock (the front end writes from its loop thread and
    reads from the main thread); WAL mode plus ``busy_timeout`` lets two kernels write the same
    file; every write is one short ``BEGIN IMMEDIATE`` transaction.

    Parameters
    ----------
    path
        The database file; None means :func:`default_journal_path`. Parent directories are
        created with mode 0700 and the file with 0600 (inputs may be private).
    busy_timeout
        Seconds a write waits for another process's lock before giving up.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, busy_timeout: float = 30.0
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else default_journal_path()
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    # -- connection ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """Open (or reopen after a fork) the connection and make sure the schema exists."""
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._ensure_schema(conn)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._unusable(exc) from exc
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        """Create the tables, or migrate an older file in place (one transaction)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise ConfigurationError(
                    f"The run journal {self.path} was written by a newer lamina-notebook "
                    f"(schema {version}, this version reads {SCHEMA_VERSION}).",
                    hint="Upgrade lamina-notebook, or set LAMINA_JOURNAL to another file.",
                )
            for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                conn.execute(statement)
            _migrate(conn)
            if version is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif version < SCHEMA_VERSION:
                conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _unusable(self, exc: Exception) -> ConfigurationError:
        if "locked" in str(exc) or "busy" in str(exc):
            hint = (
                f"Another process held the journal lock for over {self.busy_timeout:g} s; "
                "retry, or give this notebook its own file with LAMINA_JOURNAL."
            )
        else:
            hint = (
                "Move the file aside (it may be damaged or not a journal), or set "
                "LAMINA_JOURNAL to another path."
            )
        return ConfigurationError(f"The run journal {self.path} cannot be used: {exc}.", hint=hint)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction: the lock serializes threads, SQLite serializes processes."""
        with self._lock:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise self._unusable(exc) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError):
                    raise self._unusable(exc) from exc
                raise

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            conn = self._connect()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._unusable(exc) from exc

    def close(self) -> None:
        """Close the connection; the next call reopens it."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def record_started(
        self,
        execution: Execution,
        *,
        app_id: str | None,
        app_name: str | None,
        inputs: Mapping[str, Any],
        base_url: str | None,
    ) -> None:
        """Record a run the service accepted. Idempotent: a second call never adds a row.

        App and inputs fill in a row that ``record_update`` created first; the status follows
        the usual never-backwards rule.
        """
        now = time.time()
        created = _epoch(execution.created_at) or now
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO executions (execution_id, app_id, app_name, inputs, "
                "status, base_url, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    execution.execution_id,
                    app_id,
                    app_name,
                    _dumps(dict(inputs)),
                    execution.status,
                    _safe_base_url(base_url),
                    created,
                    now,
                ),
            )
            conn.execute(
                "UPDATE executions SET app_id = coalesce(app_id, ?), "
                "app_name = coalesce(app_name, ?), base_url = coalesce(base_url, ?), "
                "inputs = CASE WHEN inputs = '{}' THEN ? ELSE inputs END "
                "WHERE execution_id = ?",
                (
                    app_id,
                    app_name,
                    _safe_base_url(base_url),
                    _dumps(dict(inputs)),
                    execution.execution_id,
                ),
            )
            self._apply(conn, execution, now)

    def record_unconfirmed(
        self,
        *,
        app_id: str | None,
        app_name: str | None,
        inputs: Mapping[str, Any],
        base_url: str | None,
        error: str,
        webhook_url: str | None = None,
    ) -> str:
        """Record a start whose answer was lost (the run may exist); returns its local id.

        The row has status ``"unconfirmed"``, so ``history`` shows what may have been billed;
        no later update ever touches it (the service does not know the local id).
        """
        local_id = f"{UNCONFIRMED_PREFIX}{uuid.uuid4()}"
        now = time.time()
        payload = {"executionId": local_id, "status": UNCONFIRMED, "errorMessage": error}
        with self._write() as conn:
            conn.execute(
                "INSERT INTO executions (execution_id, app_id, app_name, inputs, status, error, "
                "webhook_url, base_url, payload, created_at, updated_at, confirmed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    local_id,
                    app_id,
                    app_name,
                    _dumps(dict(inputs)),
                    UNCONFIRMED,
                    error,
                    webhook_url,
                    _safe_base_url(base_url),
                    _dumps(payload),
                    now,
                    now,
                ),
            )
        return local_id

    def record_update(self, execution: Execution) -> None:
        """Store the latest state of a run (inserting it if this journal never saw it start).

        A terminal row keeps its status: only a newer answer with the same terminal status (for
        instance fresh output URLs) replaces its outputs.
        """
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO executions (execution_id, app_id, app_name, status, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    execution.execution_id,
                    execution.app_id,
                    execution.app_name,
                    execution.status,
                    _epoch(execution.created_at) or now,
                    now,
                ),
            )
            self._apply(conn, execution, now)

    def _apply(self, conn: sqlite3.Connection, execution: Execution, now: float) -> None:
        payload = _payload(execution)
        completed = None
        if execution.is_terminal:
            completed = _epoch(execution.completed_at) or now
        rank = _rank(execution.status)
        conn.execute(
            f"UPDATE executions SET status = ?, outputs = ?, error = ?, "
            f"webhook_url = coalesce(?, webhook_url), payload = ?, updated_at = ?, "
            f"completed_at = coalesce(completed_at, ?) "
            f"WHERE execution_id = ? AND (? > {_OLD_RANK} "
            f"OR (? = {_OLD_RANK} AND ({_OLD_RANK} < 2 OR status = ?)))",
            (
                execution.status,
                _dumps(payload["outputs"]),
                _error_text(execution),
                execution.webhook_url,
                _dumps(payload),
                now,
                completed,
                execution.execution_id,
                rank,
                rank,
                execution.status,
            ),
        )
        conn.execute(
            "UPDATE executions SET app_id = coalesce(app_id, ?), app_name = coalesce(app_name, ?) "
            "WHERE execution_id = ?",
            (execution.app_id, execution.app_name, execution.execution_id),
        )

    # -- reads --------------------------------------------------------------------------------

    def get(self, execution_id: str) -> JournalEntry | None:
        """The entry for one execution id, or None."""
        rows = self._read(
            f"SELECT {_COLUMNS} FROM executions WHERE execution_id = ?", (execution_id,)
        )
        return JournalEntry._from_row(rows[0]) if rows else None

    def history(self, app: str | None = None, limit: int | None = None) -> list[JournalEntry]:
        """Entries newest first; ``app`` matches an app id or an app name (case-insensitive)."""
        sql = f"SELECT {_COLUMNS} FROM executions"
        params: list[Any] = []
        if app:
            sql += " WHERE app_id = ? OR lower(app_name) = lower(?)"
            params += [app, app]
        sql += " ORDER BY created_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        return [JournalEntry._from_row(r) for r in self._read(sql, tuple(params))]

    def durations(self, app_id: str, limit: int = 20) -> list[float]:
        """Seconds from start to finish of the app's latest completed runs (for ETAs)."""
        rows = self._read(
            "SELECT completed_at - created_at FROM executions WHERE app_id = ? "
            "AND status = 'completed' AND completed_at IS NOT NULL "
            "ORDER BY completed_at DESC LIMIT ?",
            (app_id, max(0, int(limit))),
        )
        return [float(r[0]) for r in rows if r[0] is not None and r[0] >= 0]

    def typical_duration(self, app_id: str, limit: int = 20) -> float | None:
        """Median of :meth:`durations` (seconds), the basis of every ETA; None without data."""
        durations = self.durations(app_id, limit)
        return statistics.median(durations) if durations else None

    def __len__(self) -> int:
        return int(self._read("SELECT count(*) FROM executions")[0][0])


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older table layout up to this version's (idempotent, inside the caller's
    transaction): schema 1 had no ``confirmed`` column; its rows were all confirmed."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(executions)").fetchall()}
    if "confirmed" not in columns:
        conn.execute("ALTER TABLE executions ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1")


def _rank(status: str) -> int:
    """The Python twin of ``_OLD_RANK``: 0 queued/unknown, 1 running, 2 terminal."""
    if status in TERMINAL_STATUSES:
        return 2
    return 1 if status == "running" else 0


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str | None, fallback: Any) -> Any:
    try:
        value = json.loads(text) if text else fallback
    except ValueError:
        return fallback
    return value if isinstance(value, type(fallback)) else fallback


def _safe_base_url(url: str | None) -> str | None:
    """The base URL without any user:password@ part or query (nothing secret is stored)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _output_json(output: Output) -> dict[str, Any]:
    data = dict(output.raw)
    data.update(
        id=output.id,
        label=output.label,
        type=output.type,
        value=output.value,
        status=output.status,
        error=output.error,
    )
    if output.mime_type:
        data["mimeType"] = output.mime_type
    return data


def _payload(execution: Execution) -> dict[str, Any]:
    """The execution in the API's JSON shape (its raw payload, brought up to date)."""
    data = dict(execution.raw)
    data.update(
        executionId=execution.execution_id,
        status=execution.status,
        outputs=[_output_json(o) for o in execution.outputs],
        errorMessage=execution.error_message,
    )
    for key, value in (
        ("workflowId", execution.workflow_id),
        ("workflowName", execution.workflow_name),
        ("webhookUrl", execution.webhook_url),
        ("createdAt", execution.created_at),
        ("startedAt", execution.started_at),
        ("completedAt", execution.completed_at),
    ):
        if value is not None and data.get(key) is None:
            data[key] = value.isoformat() if isinstance(value, datetime) else value
    return data


def _error_text(execution: Execution) -> str | None:
    if execution.error_message:
        return execution.error_message
    errors = [f"{o.label}: {o.error}" for o in execution.outputs if o.error]
    return "; ".join(errors) or None
