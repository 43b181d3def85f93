"""The run journal: every started execution in a local SQLite file, so nothing paid for is lost.

Rows are written before the client returns a run to its caller and updated on each status change;
``history``, ``query`` and ``get`` read them back, so a later process can resume a run by its id.
A start whose answer was lost (the run may exist and be billed, its id is unknown) is recorded
too, as an ``unconfirmed`` row under a local id. Beside the runs it keeps what must survive the
service's expiring URLs and the kernel: each output's kind, size and a small thumbnail
(:class:`StoredMedia`), stars and notes, grids and their cells, and uploaded assets by hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import statistics
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigurationError, LaminaError
from .models import TERMINAL_STATUSES, Execution, Media, Output

__all__ = [
    "ASSET_MARGIN",
    "MAX_THUMB_BYTES",
    "SCHEMA_VERSION",
    "THUMB_MIME",
    "UNCONFIRMED",
    "UNCONFIRMED_PREFIX",
    "GridRecord",
    "Journal",
    "JournalEntry",
    "StoredMedia",
    "default_journal_path",
    "inputs_key",
    "is_unconfirmed_id",
]

#: Bumped when the table layout changes; a newer file is refused rather than misread, an older
#: one is migrated in place (1 -> 2: the ``confirmed`` column; 2 -> 3: inputs keys, variants,
#: stars, notes, stored media, grids, assets).
SCHEMA_VERSION = 3

#: Status of a start whose answer was lost: the run may exist at the service, its id is unknown.
UNCONFIRMED = "unconfirmed"
#: Prefix of the local ids of such rows (the service's ids are UUIDs, so they never clash).
UNCONFIRMED_PREFIX = "unconfirmed-"

#: Stored thumbnails are always JPEG (transparent pictures are flattened onto white).
THUMB_MIME = "image/jpeg"
#: A stored thumbnail larger than this is refused: 1 000 runs must stay a few MB.
MAX_THUMB_BYTES = 64 * 1024
#: An asset whose upload expires within this many seconds counts as expired: a run started
#: with it needs time to fetch it.
ASSET_MARGIN = 120.0

# Tables first (an older file already has ``executions``: CREATE ... IF NOT EXISTS leaves it
# alone and ``_migrate`` adds its new columns), indexes after the migration.
_TABLES = """
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
    confirmed    INTEGER NOT NULL DEFAULT 1,
    inputs_key   TEXT,
    variant      INTEGER NOT NULL DEFAULT 0,
    starred      INTEGER NOT NULL DEFAULT 0,
    note         TEXT
);
CREATE TABLE IF NOT EXISTS media (
    execution_id TEXT NOT NULL,
    output_id    TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    kind         TEXT NOT NULL,
    mime         TEXT,
    thumb        BLOB,
    byte_size    INTEGER,
    width        INTEGER,
    height       INTEGER,
    duration     REAL,
    PRIMARY KEY (execution_id, output_id)
);
CREATE TABLE IF NOT EXISTS grids (
    grid_id    TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL,
    spec       TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS grid_cells (
    grid_id      TEXT NOT NULL,
    cell_key     TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    reused       INTEGER NOT NULL DEFAULT 0,
    updated_at   REAL NOT NULL,
    PRIMARY KEY (grid_id, cell_key)
);
CREATE TABLE IF NOT EXISTS assets (
    sha256     TEXT NOT NULL,
    base_url   TEXT NOT NULL,
    asset_url  TEXT NOT NULL,
    expires_at REAL,
    created_at REAL NOT NULL,
    PRIMARY KEY (sha256, base_url)
)
"""

_INDEXES = """
CREATE INDEX IF NOT EXISTS executions_created ON executions (created_at);
CREATE INDEX IF NOT EXISTS executions_app ON executions (app_id);
CREATE INDEX IF NOT EXISTS executions_app_created ON executions (app_id, created_at);
CREATE INDEX IF NOT EXISTS executions_inputs_key ON executions (inputs_key, variant);
CREATE INDEX IF NOT EXISTS grids_updated ON grids (updated_at)
"""

# How far along a status is; an update never moves a row backwards (a stale poll answer that
# arrives after a webhook must not turn "completed" back into "running").
_OLD_RANK = (
    "(CASE WHEN status IN ('completed','failed','cancelled') THEN 2 "
    "WHEN status = 'running' THEN 1 ELSE 0 END)"
)

_FIELDS = (
    "execution_id",
    "app_id",
    "app_name",
    "inputs",
    "status",
    "outputs",
    "error",
    "webhook_url",
    "base_url",
    "payload",
    "created_at",
    "updated_at",
    "completed_at",
    "confirmed",
    "variant",
    "starred",
    "note",
)
_COLUMNS = ", ".join(_FIELDS)
_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"
# SQLite's default limit on "?" parameters in one statement is 999 on older builds.
_CHUNK = 500


def _columns(alias: str) -> str:
    """The entry columns of table alias ``alias`` (for joins)."""
    return ", ".join(f"{alias}.{name}" for name in _FIELDS)


def inputs_key(app_id: str, inputs: Mapping[str, Any], variant: int = 0) -> str:
    """The identity of a run's request: sha256 of canonical JSON of app, inputs and variant.

    The same key for the same inputs in any order (keys sorted, lists kept in order, values
    that are not JSON as their ``str``, as the journal stores them). Pass inputs after
    validation (:class:`~lamina_notebook.validation.ValidInputs`): they are named and
    spelled as the service resolves them, so two spellings of one request share a key.
    Variant 0 leaves the variant out, so the key of a plain run never changes meaning.
    """
    doc: dict[str, Any] = {"app": app_id, "inputs": dict(inputs)}
    if variant:
        doc["variant"] = int(variant)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    ``variant`` numbers deliberate new samples of the same request (0: a plain run);
    ``starred`` and ``note`` are the user's marks (``Journal.set_star``/``set_note``).
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
    variant: int = 0
    starred: bool = False
    note: str | None = None

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
            variant=int(row["variant"] or 0),
            starred=bool(row["starred"]),
            note=row["note"],
        )


@dataclass(frozen=True)
class StoredMedia:
    """What the journal keeps of one output, so it can be shown when its URL is dead.

    ``kind`` is the output's kind (image, video, audio, url), ``mime`` the output's own type
    (not the thumbnail's), ``byte_size`` its size in bytes and ``width``/``height`` its pixel
    size when known, ``duration`` seconds for a video. ``thumb`` is a small JPEG
    (:data:`THUMB_MIME`; a video's poster frame), None when the output could not be fetched.
    """

    output_id: str
    kind: str
    mime: str | None = None
    thumb: bytes | None = field(default=None, repr=False)
    byte_size: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None

    @property
    def thumbnail(self) -> Media | None:
        """``(thumb, "image/jpeg")`` for render's ``Media`` slots, or None without a thumbnail."""
        return (self.thumb, THUMB_MIME) if self.thumb else None


@dataclass(frozen=True)
class GridRecord:
    """A grid as journaled: its id, app, the spec that rebuilds it, and when it was saved."""

    grid_id: str
    app_id: str
    spec: Mapping[str, Any]
    created_at: float
    updated_at: float


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
            conn.create_function("lamina_matches", 3, _matches, deterministic=True)
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
            for statement in _statements(_TABLES):
                conn.execute(statement)
            _migrate(conn)
            for statement in _statements(_INDEXES):
                conn.execute(statement)
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
        key = inputs_key(app_id, inputs) if app_id else None
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO executions (execution_id, app_id, app_name, inputs, "
                "status, base_url, created_at, updated_at, inputs_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    execution.execution_id,
                    app_id,
                    app_name,
                    _dumps(dict(inputs)),
                    execution.status,
                    _safe_base_url(base_url),
                    created,
                    now,
                    key,
                ),
            )
            conn.execute(
                "UPDATE executions SET app_id = coalesce(app_id, ?), "
                "app_name = coalesce(app_name, ?), base_url = coalesce(base_url, ?), "
                "inputs_key = CASE WHEN inputs = '{}' OR inputs_key IS NULL THEN ? "
                "ELSE inputs_key END, "
                "inputs = CASE WHEN inputs = '{}' THEN ? ELSE inputs END "
                "WHERE execution_id = ?",
                (
                    app_id,
                    app_name,
                    _safe_base_url(base_url),
                    key,
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
                "webhook_url, base_url, payload, created_at, updated_at, confirmed, inputs_key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
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
                    inputs_key(app_id, inputs) if app_id else None,
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

    # -- history: query, previous run, short ids, stars and notes -------------------------------

    def query(
        self,
        *,
        app: str | None = None,
        status: str | Sequence[str] | None = None,
        since: float | datetime | timedelta | None = None,
        search: str | None = None,
        starred: bool | None = None,
        limit: int | None = 20,
        offset: int = 0,
    ) -> tuple[list[JournalEntry], int]:
        """One page of entries, newest first, and how many match in all (for "N more").

        ``app`` is an app id or name (case-insensitive); ``status`` one status or several;
        ``since`` an epoch, a datetime (naive = local time) or a timedelta back from now;
        ``search`` words that must all occur (case-insensitive, as substrings) in the inputs'
        values or the app name; ``starred`` True/False filters on the star. One SQL statement
        (the total comes with the page as a window count) unless the page is empty.
        """
        where, params = self._filters(app, status, since, search, starred)
        sql = f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM executions{where} {_NEWEST_FIRST}"
        page_params = list(params)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            page_params += [max(0, int(limit)), max(0, int(offset))]
        elif offset:
            sql += " LIMIT -1 OFFSET ?"
            page_params.append(max(0, int(offset)))
        rows = self._read(sql, tuple(page_params))
        if rows:
            return [JournalEntry._from_row(r) for r in rows], int(rows[0]["total"])
        total = self._read(f"SELECT count(*) FROM executions{where}", tuple(params))[0][0]
        return [], int(total)

    def _filters(
        self,
        app: str | None,
        status: str | Sequence[str] | None,
        since: float | datetime | timedelta | None,
        search: str | None,
        starred: bool | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if app:
            clauses.append("(app_id = ? OR lower(app_name) = lower(?))")
            params += [app, app]
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if since is not None:
            clauses.append("created_at >= ?")
            params.append(_since_epoch(since))
        words = [w.casefold() for w in (search or "").split()]
        if words:
            clauses.append("lamina_matches(inputs, app_name, ?)")
            params.append(json.dumps(words))
        if starred is not None:
            clauses.append("starred = ?")
            params.append(int(bool(starred)))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def previous(self, entry: JournalEntry) -> JournalEntry | None:
        """The run of the same app started just before ``entry`` (for a diff), or None."""
        return self.previous_runs([entry]).get(entry.execution_id)

    def previous_runs(self, entries: Iterable[JournalEntry]) -> dict[str, JournalEntry]:
        """``{execution_id: the same app's run before it}`` for a page of entries, in one query.

        Entries without an app id, or the app's first run, have no key in the answer.
        """
        ids = [e.execution_id for e in entries if e.app_id]
        found: dict[str, JournalEntry] = {}
        for chunk in _chunks(ids):
            rows = self._read(
                f"SELECT e.execution_id AS for_id, {_columns('p')} FROM executions e "
                "JOIN executions p ON p.rowid = ("
                " SELECT q.rowid FROM executions q WHERE q.app_id = e.app_id"
                " AND (q.created_at < e.created_at"
                "  OR (q.created_at = e.created_at AND q.rowid < e.rowid))"
                " ORDER BY q.created_at DESC, q.rowid DESC LIMIT 1) "
                f"WHERE e.execution_id IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
            found.update((r["for_id"], JournalEntry._from_row(r)) for r in rows)
        return found

    def find(self, prefix: str) -> JournalEntry:
        """The entry whose execution id is ``prefix`` or starts with it (case-insensitive).

        Short ids: the first few characters of an id are enough while they are unique.
        Raises :class:`LaminaError` when nothing matches, or when several do (it lists them).
        """
        text = (prefix or "").strip()
        if not text:
            raise LaminaError("No execution id given.", hint="%lamina history lists the runs.")
        exact = self.get(text)
        if exact is not None:
            return exact
        rows = self._read(
            f"SELECT {_COLUMNS} FROM executions WHERE lower(substr(execution_id, 1, ?)) = ? "
            f"{_NEWEST_FIRST} LIMIT 11",
            (len(text), text.lower()),
        )
        if len(rows) == 1:
            return JournalEntry._from_row(rows[0])
        if not rows:
            raise LaminaError(
                f"No run in the journal {self.path} has an id starting with {text!r}.",
                hint="%lamina history lists the journal's runs with their ids.",
            )
        shown = [JournalEntry._from_row(r) for r in rows[:10]]
        listing = "; ".join(
            f"{e.execution_id} ({e.app_name or e.app_id or 'unknown app'}, "
            f"{datetime.fromtimestamp(e.created_at).strftime('%Y-%m-%d %H:%M')})"
            for e in shown
        )
        more = " and more" if len(rows) > 10 else ""
        raise LaminaError(
            f"{text!r} is the start of several execution ids: {listing}{more}.",
            hint="Give more characters of the id.",
        )

    def set_star(self, execution_id: str, on: bool = True) -> None:
        """Star (or with ``on=False`` unstar) a run; LaminaError if the journal lacks it."""
        self._update_one(execution_id, "starred = ?", (int(bool(on)),))

    def set_note(self, execution_id: str, text: str | None) -> None:
        """Attach a note to a run (None or blank text removes it)."""
        note = text.strip() if isinstance(text, str) else None
        self._update_one(execution_id, "note = ?", (note or None,))

    def set_variant(self, execution_id: str, variant: int) -> None:
        """Mark a run as sample number ``variant`` of its request (see :meth:`next_variant`)."""
        if int(variant) < 0:
            raise ValueError(f"variant must be 0 or more, not {variant}")
        self._update_one(execution_id, "variant = ?", (int(variant),))

    def _update_one(self, execution_id: str, assignment: str, params: tuple[Any, ...]) -> None:
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE executions SET {assignment} WHERE execution_id = ?",
                (*params, execution_id),
            )
        if cursor.rowcount == 0:
            raise LaminaError(
                f"Execution {execution_id} is not in the run journal {self.path}.",
                hint="%lamina history lists the journal's runs with their ids.",
            )

    # -- reuse of identical runs ------------------------------------------------------------------

    def find_reusable(
        self,
        app_id: str,
        inputs: Mapping[str, Any],
        *,
        base_url: str | None,
        variant: int = 0,
    ) -> JournalEntry | None:
        """The newest completed run of this request (same app, inputs and variant) on that
        service whose outputs all completed; None when there is none to reuse.

        ``inputs`` should be validated (:class:`~lamina_notebook.validation.ValidInputs`),
        the form the journal stored them in; ``base_url`` is compared without credentials.
        """
        rows = self._read(
            f"SELECT {_COLUMNS} FROM executions WHERE inputs_key = ? AND variant = ? "
            "AND base_url IS ? AND status = 'completed' "
            "ORDER BY completed_at DESC, rowid DESC LIMIT 20",
            (inputs_key(app_id, inputs), int(variant), _safe_base_url(base_url)),
        )
        for row in rows:
            entry = JournalEntry._from_row(row)
            if all(o.get("status") == "completed" for o in entry.outputs):
                return entry
        return None

    def next_variant(self, app_id: str, inputs: Mapping[str, Any], *, base_url: str | None) -> int:
        """The variant number a deliberate new sample of this request gets: one past the
        highest journaled (any status: a failed sample still took its number); 0 for none."""
        row = self._read(
            "SELECT max(variant) FROM executions WHERE inputs_key = ? AND base_url IS ?",
            (inputs_key(app_id, inputs), _safe_base_url(base_url)),
        )[0]
        return 0 if row[0] is None else int(row[0]) + 1

    # -- stored media -------------------------------------------------------------------------

    def record_media(self, execution_id: str, media: Sequence[StoredMedia]) -> None:
        """Store what is known of a run's outputs (one transaction; call again to complete it).

        A later call never loses what an earlier one stored: a missing thumbnail, size or
        dimension keeps the stored one (a second look after the URL expired has none).
        Raises ValueError for a thumbnail over :data:`MAX_THUMB_BYTES`.
        """
        for item in media:
            if item.thumb is not None and len(item.thumb) > MAX_THUMB_BYTES:
                raise ValueError(
                    f"thumbnail of output {item.output_id} is {len(item.thumb)} bytes; "
                    f"the journal keeps at most {MAX_THUMB_BYTES} (store a smaller one)"
                )
        if not media:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO media (execution_id, output_id, position, kind, mime, thumb, "
                "byte_size, width, height, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (execution_id, output_id) DO UPDATE SET "
                "position = excluded.position, kind = excluded.kind, "
                "mime = coalesce(excluded.mime, mime), thumb = coalesce(excluded.thumb, thumb), "
                "byte_size = coalesce(excluded.byte_size, byte_size), "
                "width = coalesce(excluded.width, width), "
                "height = coalesce(excluded.height, height), "
                "duration = coalesce(excluded.duration, duration)",
                [
                    (
                        execution_id,
                        m.output_id,
                        position,
                        m.kind,
                        m.mime,
                        m.thumb,
                        m.byte_size,
                        m.width,
                        m.height,
                        m.duration,
                    )
                    for position, m in enumerate(media)
                ],
            )

    def media(self, execution_ids: Sequence[str]) -> dict[str, dict[str, StoredMedia]]:
        """``{execution_id: {output_id: StoredMedia}}`` (outputs in their order) for many
        runs in one query (chunked above 500 ids); runs with nothing stored are left out."""
        found: dict[str, dict[str, StoredMedia]] = {}
        for chunk in _chunks(list(dict.fromkeys(execution_ids))):
            rows = self._read(
                "SELECT execution_id, output_id, kind, mime, thumb, byte_size, width, height, "
                f"duration FROM media WHERE execution_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY execution_id, position",
                tuple(chunk),
            )
            for r in rows:
                found.setdefault(r["execution_id"], {})[r["output_id"]] = StoredMedia(
                    output_id=r["output_id"],
                    kind=r["kind"],
                    mime=r["mime"],
                    thumb=bytes(r["thumb"]) if r["thumb"] is not None else None,
                    byte_size=r["byte_size"],
                    width=r["width"],
                    height=r["height"],
                    duration=r["duration"],
                )
        return found

    # -- grids --------------------------------------------------------------------------------

    def save_grid(
        self,
        grid_id: str,
        app_id: str,
        spec: Mapping[str, Any],
        created_at: float | None = None,
    ) -> None:
        """Create or update a grid (its spec must be JSON); a new save keeps ``created_at``."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO grids (grid_id, app_id, spec, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (grid_id) DO UPDATE SET "
                "app_id = excluded.app_id, spec = excluded.spec, updated_at = excluded.updated_at",
                (grid_id, app_id, _dumps(dict(spec)), created_at or now, now),
            )

    def grid(self, grid_id: str) -> GridRecord | None:
        """The journaled grid, or None."""
        rows = self._read(
            "SELECT grid_id, app_id, spec, created_at, updated_at FROM grids WHERE grid_id = ?",
            (grid_id,),
        )
        return _grid(rows[0]) if rows else None

    def grids(self, limit: int | None = 20) -> list[GridRecord]:
        """Grids, most recently changed first."""
        sql = "SELECT grid_id, app_id, spec, created_at, updated_at FROM grids "
        sql += "ORDER BY updated_at DESC, rowid DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (max(0, int(limit)),)
        return [_grid(r) for r in self._read(sql, params)]

    def record_grid_cell(
        self, grid_id: str, cell_key: str, execution_id: str, *, reused: bool
    ) -> None:
        """Say which run fills a cell (a retry replaces the cell's run); touches the grid."""
        now = time.time()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO grid_cells (grid_id, cell_key, execution_id, reused, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (grid_id, cell_key) DO UPDATE SET "
                "execution_id = excluded.execution_id, reused = excluded.reused, "
                "updated_at = excluded.updated_at",
                (grid_id, cell_key, execution_id, int(bool(reused)), now),
            )
            conn.execute("UPDATE grids SET updated_at = ? WHERE grid_id = ?", (now, grid_id))

    def grid_cells(self, grid_id: str) -> dict[str, tuple[str, bool]]:
        """``{cell_key: (execution_id, reused)}`` for a grid, in the order cells were filled."""
        rows = self._read(
            "SELECT cell_key, execution_id, reused FROM grid_cells WHERE grid_id = ? "
            "ORDER BY rowid",
            (grid_id,),
        )
        return {r["cell_key"]: (r["execution_id"], bool(r["reused"])) for r in rows}

    # -- uploaded assets ----------------------------------------------------------------------

    def remember_asset(
        self,
        sha256: str,
        asset_url: str,
        *,
        base_url: str | None,
        expires_at: float | datetime | str | None = None,
    ) -> None:
        """Remember that content with this sha256 was uploaded to that service as ``asset_url``
        (until ``expires_at``: an epoch, a datetime or an ISO 8601 string; None = no expiry)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO assets (sha256, base_url, asset_url, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256, base_url) DO UPDATE SET "
                "asset_url = excluded.asset_url, expires_at = excluded.expires_at, "
                "created_at = excluded.created_at",
                (
                    sha256.lower(),
                    _safe_base_url(base_url) or "",
                    asset_url,
                    _expiry_epoch(expires_at),
                    time.time(),
                ),
            )

    def asset(self, sha256: str, *, base_url: str | None) -> str | None:
        """The asset URL of content already uploaded to that service; None when unknown, or
        expired or about to (within :data:`ASSET_MARGIN` seconds)."""
        rows = self._read(
            "SELECT asset_url FROM assets WHERE sha256 = ? AND base_url = ? "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (sha256.lower(), _safe_base_url(base_url) or "", time.time() + ASSET_MARGIN),
        )
        return str(rows[0][0]) if rows else None


def _statements(script: str) -> Iterator[str]:
    return (s.strip() for s in script.split(";") if s.strip())


#: Columns added to ``executions`` since schema 1, with their definitions (ALTER TABLE order).
_ADDED_COLUMNS = (
    ("confirmed", "INTEGER NOT NULL DEFAULT 1"),  # schema 2: rows before it were all confirmed
    ("inputs_key", "TEXT"),  # schema 3 (filled in below from each row's app and inputs)
    ("variant", "INTEGER NOT NULL DEFAULT 0"),
    ("starred", "INTEGER NOT NULL DEFAULT 0"),
    ("note", "TEXT"),
)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older table layout up to this version's (idempotent, inside the caller's
    transaction): add the columns a schema 1 or 2 file lacks, then compute the inputs key of
    every row that has an app but no key yet, so earlier completed runs can be reused."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(executions)").fetchall()}
    for name, definition in _ADDED_COLUMNS:
        if name not in columns:
            conn.execute(f"ALTER TABLE executions ADD COLUMN {name} {definition}")
    rows = conn.execute(
        "SELECT rowid, app_id, inputs FROM executions "
        "WHERE inputs_key IS NULL AND app_id IS NOT NULL"
    ).fetchall()
    conn.executemany(
        "UPDATE executions SET inputs_key = ? WHERE rowid = ?",
        [(inputs_key(r[1], _loads(r[2], {})), r[0]) for r in rows],
    )


def _matches(inputs: str | None, app_name: str | None, words: str) -> int:
    """SQL function ``lamina_matches``: 1 when every word (a JSON list, casefolded) occurs in
    the row's input values or its app name, ignoring case. Input names are left out: "style"
    must find "Style=Watercolor" by the value, not every row of an app with a Style input."""
    values = _loads(inputs, {})
    parts = [str(app_name or "")]
    for value in values.values():
        if isinstance(value, list):
            parts.extend(str(v) for v in value)
        else:
            parts.append(str(value))
    text = "\n".join(parts).casefold()
    return int(all(w in text for w in _loads(words, [])))


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _grid(row: sqlite3.Row) -> GridRecord:
    return GridRecord(
        grid_id=row["grid_id"],
        app_id=row["app_id"],
        spec=_loads(row["spec"], {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _since_epoch(since: float | datetime | timedelta) -> float:
    if isinstance(since, timedelta):
        return time.time() - since.total_seconds()
    if isinstance(since, datetime):
        return since.timestamp()
    return float(since)


def _expiry_epoch(value: float | datetime | str | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"expires_at {value!r} is not an ISO 8601 time") from exc
    return value.timestamp()


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
