"""Tests for the SQLite run journal: idempotent writes, status rules, reads, two-process safety."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.errors import ConfigurationError, LaminaError
from lamina_notebook.journal import (
    ASSET_MARGIN,
    MAX_THUMB_BYTES,
    SCHEMA_VERSION,
    Journal,
    StoredMedia,
    default_journal_path,
    inputs_key,
)
from lamina_notebook.models import Execution

REPO = Path(__file__).resolve().parents[2]


def make_execution(execution_id: str, status: str = "queued", **extra: Any) -> Execution:
    """An execution in the API's JSON shape with one image output."""
    done = status == "completed"
    output = {
        "id": "out-1",
        "label": "Styled Image",
        "type": "image" if done else "pending",
        "value": f"https://cdn.example/{execution_id}.png" if done else None,
        "status": "completed" if done else "pending",
        "error": None,
    }
    return Execution.from_json(
        {"executionId": execution_id, "status": status, "outputs": [output], **extra}
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "deep" / "dir" / "journal.sqlite3") as j:
        yield j


def start(journal: Journal, execution_id: str, app: str = "Photo Stylizer", **kw: Any) -> None:
    journal.record_started(
        make_execution(execution_id, **kw),
        app_id=f"id-{app.lower().replace(' ', '-')}",
        app_name=app,
        inputs={"Style": "Ghibli", "Upload": "https://example.com/cat.jpg"},
        base_url="https://app.uselamina.ai",
    )


def test_default_path_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAMINA_JOURNAL", str(tmp_path / "x.db"))
    assert default_journal_path() == tmp_path / "x.db"
    monkeypatch.delenv("LAMINA_JOURNAL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_journal_path() == tmp_path / "xdg" / "lamina-notebook" / "journal.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "lamina-notebook" / "journal.sqlite3"
    assert default_journal_path() == expected
    assert Journal().path == expected


def test_creates_private_file_and_dirs(journal: Journal) -> None:
    start(journal, "e1")
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    with sqlite3.connect(journal.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


def test_record_started_stores_everything_and_is_idempotent(journal: Journal) -> None:
    start(journal, "e1")
    start(journal, "e1")
    assert len(journal) == 1
    entry = journal.get("e1")
    assert entry is not None
    assert (entry.app_id, entry.app_name, entry.status) == (
        "id-photo-stylizer",
        "Photo Stylizer",
        "queued",
    )
    assert entry.inputs == {"Style": "Ghibli", "Upload": "https://example.com/cat.jpg"}
    assert entry.base_url == "https://app.uselamina.ai"
    assert entry.outputs[0]["status"] == "pending"
    assert entry.completed_at is None and entry.created_at <= entry.updated_at
    assert journal.get("missing") is None


def test_update_before_start_is_filled_in(journal: Journal) -> None:
    """A webhook may beat record_started; the row then gets the app and inputs afterwards."""
    journal.record_update(make_execution("e1", "running"))
    start(journal, "e1")
    entry = journal.get("e1")
    assert entry is not None
    assert entry.app_name == "Photo Stylizer" and entry.inputs["Style"] == "Ghibli"
    assert entry.status == "running"  # record_started's "queued" did not move it back


def test_status_never_goes_backwards(journal: Journal) -> None:
    start(journal, "e1")
    journal.record_update(make_execution("e1", "running"))
    journal.record_update(make_execution("e1", "completed"))
    journal.record_update(make_execution("e1", "running"))  # a stale poll answer
    journal.record_update(make_execution("e1", "failed", errorMessage="late"))
    entry = journal.get("e1")
    assert entry is not None
    assert entry.status == "completed" and entry.error is None
    assert entry.outputs[0]["value"] == "https://cdn.example/e1.png"
    assert entry.completed_at is not None


def test_terminal_refresh_replaces_outputs(journal: Journal) -> None:
    """Polling again after completion may bring fresh (re-signed) output URLs."""
    start(journal, "e1")
    journal.record_update(make_execution("e1", "completed"))
    first = journal.get("e1")
    fresh = make_execution("e1", "completed")
    raw = dict(fresh.outputs[0].raw, value="https://cdn.example/e1.png?sig=new")
    journal.record_update(
        Execution.from_json({"executionId": "e1", "status": "completed", "outputs": [raw]})
    )
    entry = journal.get("e1")
    assert first is not None and entry is not None
    assert entry.outputs[0]["value"].endswith("sig=new")
    assert entry.completed_at == first.completed_at  # completion time is kept


def test_failed_run_keeps_error_and_rebuilds_execution(journal: Journal) -> None:
    start(journal, "e1")
    failed = Execution.from_json(
        {
            "executionId": "e1",
            "status": "failed",
            "errorMessage": "GPU exploded",
            "workflowId": "wf-1",
            "createdAt": "2026-01-02T03:04:05Z",
            "outputs": [
                {
                    "id": "o",
                    "label": "Styled Image",
                    "type": "pending",
                    "value": None,
                    "status": "error",
                    "error": "model timeout",
                    "mimeType": "image/png",
                }
            ],
        }
    )
    journal.record_update(failed)
    entry = journal.get("e1")
    assert entry is not None and entry.error == "GPU exploded" and entry.is_terminal
    rebuilt = entry.to_execution()
    assert rebuilt.status == "failed" and rebuilt.is_failed
    assert rebuilt.error_message == "GPU exploded"
    assert rebuilt.workflow_id == "wf-1"
    assert (rebuilt.app_id, rebuilt.app_name) == ("id-photo-stylizer", "Photo Stylizer")
    assert rebuilt.outputs[0].error == "model timeout"
    assert rebuilt.outputs[0].mime_type == "image/png"
    assert rebuilt.created_at is not None and rebuilt.created_at.year == 2026


def test_output_errors_become_the_error_text(journal: Journal) -> None:
    journal.record_update(
        Execution.from_json(
            {
                "executionId": "e2",
                "status": "failed",
                "outputs": [
                    {
                        "id": "o",
                        "label": "Video",
                        "type": "pending",
                        "status": "error",
                        "error": "too long",
                    }
                ],
            }
        )
    )
    entry = journal.get("e2")
    assert entry is not None and entry.error == "Video: too long"


def test_history_filters_orders_and_limits(journal: Journal) -> None:
    start(journal, "a", app="Photo Stylizer")
    start(journal, "b", app="Video Maker")
    start(journal, "c", app="Photo Stylizer")
    assert [e.execution_id for e in journal.history()] == ["c", "b", "a"]
    assert [e.execution_id for e in journal.history(app="photo STYLIZER")] == ["c", "a"]
    assert [e.execution_id for e in journal.history(app="id-video-maker")] == ["b"]
    assert [e.execution_id for e in journal.history(limit=2)] == ["c", "b"]
    assert journal.history(app="nope") == []


def test_durations_only_for_completed_runs(journal: Journal) -> None:
    for eid, status in (("a", "completed"), ("b", "failed"), ("c", "running"), ("d", "completed")):
        start(journal, eid, createdAt="2026-01-01T00:00:00Z")
        journal.record_update(make_execution(eid, status, completedAt="2026-01-01T00:00:07Z"))
    assert journal.durations("id-photo-stylizer") == [7.0, 7.0]
    assert journal.durations("id-photo-stylizer", limit=1) == [7.0]
    assert journal.durations("other") == []
    entry = journal.get("a")
    assert entry is not None and entry.duration == 7.0


def test_base_url_credentials_are_not_stored(journal: Journal) -> None:
    journal.record_started(
        make_execution("e1"),
        app_id="x",
        app_name="X",
        inputs={},
        base_url="https://user:lma_secret@host.example:8443/api?key=lma_secret",
    )
    entry = journal.get("e1")
    assert entry is not None and entry.base_url == "https://host.example:8443/api"
    journal.close()
    for suffix in ("", "-wal"):
        f = Path(str(journal.path) + suffix)
        if f.exists():
            assert b"lma_secret" not in f.read_bytes()


def test_non_json_inputs_are_stored_as_text(journal: Journal) -> None:
    journal.record_started(
        make_execution("e1"),
        app_id="x",
        app_name="X",
        inputs={"Upload": Path("/tmp/cat.jpg")},
        base_url=None,
    )
    entry = journal.get("e1")
    assert entry is not None and entry.inputs == {"Upload": "/tmp/cat.jpg"}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).history()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(ConfigurationError) as info:
        Journal(path).history()
    assert "newer lamina-notebook" in str(info.value) and "LAMINA_JOURNAL" in str(info.value)


def test_damaged_file_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ConfigurationError) as info:
        Journal(path).history()
    assert str(path) in str(info.value) and "LAMINA_JOURNAL" in str(info.value)


def test_threads_share_one_journal(journal: Journal) -> None:
    def writer(n: int) -> None:
        for i in range(50):
            start(journal, f"t{n}-{i}")
            journal.record_update(make_execution(f"t{n}-{i}", "completed"))
            journal.history(limit=5)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(journal) == 200
    assert {e.status for e in journal.history()} == {"completed"}


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from lamina_notebook.journal import Journal, StoredMedia
    from lamina_notebook.models import Execution
    journal = Journal({path!r}, busy_timeout=60)
    tag = sys.argv[1]
    journal.save_grid(f"grid-{{tag}}", "app", {{"x": tag}})
    for i in range(150):
        eid = f"{{tag}}-{{i}}"
        ex = Execution.from_json({{"executionId": eid, "status": "queued"}})
        journal.record_started(ex, app_id="app", app_name="App", inputs={{"i": str(i)}},
                               base_url=None)
        journal.record_update(Execution.from_json(
            {{"executionId": eid, "status": "completed", "outputs": []}}))
        journal.record_media(eid, [StoredMedia("o1", "image", "image/png", bytes([i]) * 900,
                                               1000 + i, 64, 48)])
        journal.record_grid_cell(f"grid-{{tag}}", str(i), eid, reused=i % 2 == 0)
        journal.record_grid_cell("grid-shared", str(i), eid, reused=False)
        if i % 10 == 0:
            journal.set_star(eid)
        # Everyone also hammers one shared row.
        journal.record_update(Execution.from_json({{"executionId": "shared", "status": "running"}}))
        journal.query(search=str(i), limit=5)
    print(len(journal.history(app="app")))
""")


def test_processes_writing_at_once_do_not_corrupt(tmp_path: Path) -> None:
    """Three interpreters (think: three kernels) write the same file concurrently."""
    path = tmp_path / "shared.sqlite3"
    script = WRITER.format(repo=str(REPO), path=str(path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, f"p{n}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert int(out.strip()) >= 150
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM executions").fetchone()[0] == 451
        statuses = dict(conn.execute("SELECT status, count(*) FROM executions GROUP BY status"))
    assert statuses == {"completed": 450, "running": 1}
    journal = Journal(path)
    entry = journal.get("p1-149")
    assert entry is not None and entry.inputs == {"i": "149"} and entry.app_name == "App"
    media = journal.media([f"p{n}-{i}" for n in range(3) for i in range(150)])
    assert len(media) == 450
    assert media["p2-7"]["o1"].thumb == bytes([7]) * 900 and media["p2-7"]["o1"].byte_size == 1007
    assert journal.query(starred=True, limit=None)[1] == 45
    for n in range(3):
        cells = journal.grid_cells(f"grid-p{n}")
        assert len(cells) == 150 and cells["4"] == (f"p{n}-4", True)
    assert len(journal.grid_cells("grid-shared")) == 150  # last writer per cell wins, none lost


RESUMER = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {repo!r})
    from lamina_notebook.journal import Journal
    entry = Journal({path!r}).get("e-resume")
    ex = entry.to_execution()
    print(json.dumps([ex.execution_id, ex.status, ex.app_name, entry.inputs]))
""")


def test_another_process_reads_what_this_one_wrote(journal: Journal) -> None:
    start(journal, "e-resume")
    journal.record_update(make_execution("e-resume", "running"))
    script = RESUMER.format(repo=str(REPO), path=str(journal.path))
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) == [
        "e-resume",
        "running",
        "Photo Stylizer",
        {"Style": "Ghibli", "Upload": "https://example.com/cat.jpg"},
    ]


# -- with the real client against the sandbox ---------------------------------------------------


RESUME_WITH_CLIENT = textwrap.dedent("""
    import asyncio, json, sys
    sys.path.insert(0, {repo!r})
    from lamina_notebook.client import LaminaClient

    async def main():
        async with LaminaClient(journal={path!r}, min_poll_interval=0.01) as client:
            first = await client.resume({execution_id!r})
            done = await client.wait(first.execution_id, interval=0.05, timeout=30)
            return [done.execution_id, done.status, done.app_name]

    print(json.dumps(asyncio.run(main())))
""")


def test_client_runs_are_journaled_without_the_key_and_resume_elsewhere(
    sandbox_env: Any, tmp_path: Path
) -> None:
    """Process A starts a run and leaves; process B resumes it from the journal and finishes it."""
    from lamina_notebook.client import LaminaClient

    path = tmp_path / "journal.sqlite3"
    inputs = {"Upload": sandbox_env.base_url + "/samples/landscape.png", "Motion": "Orbit"}

    async def start_only() -> Execution:
        async with LaminaClient(journal=path) as client:
            return await client.run("Image to Video", inputs)

    started = asyncio.run(start_only())
    entry = Journal(path).get(started.execution_id)
    assert entry is not None and entry.app_name == "Image to Video"
    assert entry.inputs == inputs and entry.base_url == sandbox_env.base_url

    script = RESUME_WITH_CLIENT.format(
        repo=str(REPO), path=str(path), execution_id=started.execution_id
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [started.execution_id, "completed", "Image to Video"]
    final = Journal(path).get(started.execution_id)
    assert final is not None and final.status == "completed" and final.completed_at is not None
    assert final.outputs[0]["value"].startswith(sandbox_env.base_url)
    key = sandbox_env.api_key.encode()
    for f in tmp_path.iterdir():
        assert key not in f.read_bytes(), f"API key found in {f.name}"


# -- unconfirmed starts (a run creation whose answer was lost) and the schema 1 -> 2 migration --

V1_SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE executions (
    execution_id TEXT PRIMARY KEY, app_id TEXT, app_name TEXT,
    inputs TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT, webhook_url TEXT, base_url TEXT, payload TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL, updated_at REAL NOT NULL, completed_at REAL
);
CREATE INDEX executions_created ON executions (created_at);
CREATE INDEX executions_app ON executions (app_id);
INSERT INTO executions (execution_id, app_id, app_name, inputs, status, created_at, updated_at,
                        completed_at)
VALUES ('old-run', 'id-x', 'X', '{"Prompt": "from v1"}', 'completed', 100.0, 160.0, 160.0);
"""


def test_an_unconfirmed_start_is_listed_and_rebuilds(journal: Journal) -> None:
    start(journal, "e-confirmed")
    local_id = journal.record_unconfirmed(
        app_id="id-photo-stylizer",
        app_name="Photo Stylizer",
        inputs={"Style": "Ghibli"},
        base_url="https://user:pw@app.uselamina.ai/?k=v",
        error="Could not get an answer from the Lamina API (POST ...): ReadTimeout",
        webhook_url="https://hooks.example/x",
    )
    assert local_id.startswith("unconfirmed-")
    entries = journal.history()
    assert [e.execution_id for e in entries] == [local_id, "e-confirmed"]
    entry = entries[0]
    assert entry.is_unconfirmed and not entries[1].is_unconfirmed
    assert entry.status == "unconfirmed" and not entry.is_terminal
    assert dict(entry.inputs) == {"Style": "Ghibli"} and "ReadTimeout" in (entry.error or "")
    assert entry.base_url == "https://app.uselamina.ai/"  # no userinfo, no query
    assert journal.history(app="photo stylizer")[0].execution_id == local_id
    execution = entry.to_execution()
    assert execution.execution_id == local_id and execution.status == "unconfirmed"
    assert "ReadTimeout" in (execution.error_message or "")
    assert execution.app_name == "Photo Stylizer" and execution.outputs == ()
    assert journal.durations("id-photo-stylizer") == []
    second = journal.record_unconfirmed(
        app_id=None, app_name=None, inputs={}, base_url=None, error="HTTP 503"
    )
    assert second != local_id and len(journal) == 3


def test_a_schema_1_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA)
    with Journal(path) as journal:
        old = journal.get("old-run")
        assert old is not None and not old.is_unconfirmed and old.duration == 60.0
        assert dict(old.inputs) == {"Prompt": "from v1"}
        local_id = journal.record_unconfirmed(
            app_id="id-x", app_name="X", inputs={}, base_url=None, error="HTTP 500"
        )
        assert [e.execution_id for e in journal.history()] == [local_id, "old-run"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert SCHEMA_VERSION == 3
    with Journal(path) as again:  # opening a migrated file again changes nothing
        assert len(again) == 2 and again.get(local_id).is_unconfirmed  # type: ignore[union-attr]
        # The old completed run got its inputs key: it can be reused.
        reusable = again.find_reusable("id-x", {"Prompt": "from v1"}, base_url=None)
        assert reusable is not None and reusable.execution_id == "old-run"


# -- schema 3: a real version-2 file keeps every row -------------------------------------------

#: The version-2 layout exactly as lamina-notebook wrote it before schema 3.
V2_SCHEMA = """
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
INSERT INTO schema_version (version) VALUES (2);
"""

V2_ROWS = [
    # execution_id, app_id, app_name, inputs, status, outputs, error, base_url, created, done, ok
    (
        "v2-done",
        "id-t2i",
        "Text to Image",
        '{"Prompt":"a fox","Style":"Watercolor"}',
        "completed",
        '[{"id":"o1","label":"Image","type":"image","value":"http://127.0.0.1:9/a.png",'
        '"status":"completed"}]',
        None,
        "http://127.0.0.1:9",
        100.0,
        110.0,
        1,
    ),
    (
        "v2-failed",
        "id-t2i",
        "Text to Image",
        '{"Prompt":"a fox","Style":"Watercolor"}',
        "failed",
        "[]",
        "GPU exploded",
        "http://127.0.0.1:9",
        200.0,
        205.0,
        1,
    ),
    (
        "unconfirmed-1234",
        "id-t2i",
        "Text to Image",
        '{"Prompt":"lost"}',
        "unconfirmed",
        "[]",
        "ReadTimeout",
        "http://127.0.0.1:9",
        300.0,
        None,
        0,
    ),
]


def write_v2_file(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(V2_SCHEMA)
        conn.executemany(
            "INSERT INTO executions (execution_id, app_id, app_name, inputs, status, outputs, "
            "error, base_url, created_at, updated_at, completed_at, confirmed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r[:9], r[9] or r[8], r[9], r[10]) for r in V2_ROWS],
        )
    conn.close()


def test_a_schema_2_file_is_migrated_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    write_v2_file(path)
    with Journal(path) as journal:
        entries = journal.history()
        assert [e.execution_id for e in entries] == ["unconfirmed-1234", "v2-failed", "v2-done"]
        done = journal.get("v2-done")
        assert done is not None and done.status == "completed" and done.duration == 10.0
        assert (done.variant, done.starred, done.note) == (0, False, None)
        assert done.outputs[0]["value"] == "http://127.0.0.1:9/a.png"
        assert journal.get("unconfirmed-1234").is_unconfirmed  # type: ignore[union-attr]
        assert journal.get("v2-failed").error == "GPU exploded"  # type: ignore[union-attr]
        inputs = {"Style": "Watercolor", "Prompt": "a fox"}
        reused = journal.find_reusable("id-t2i", inputs, base_url="http://127.0.0.1:9")
        assert reused is not None and reused.execution_id == "v2-done"
        assert journal.next_variant("id-t2i", inputs, base_url="http://127.0.0.1:9") == 1
        assert journal.media(["v2-done"]) == {}  # old runs have no stored media (yet)
        journal.set_star("v2-done")
        journal.record_media("v2-done", [StoredMedia("o1", "image", "image/png", b"jpeg")])
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(3,)]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = dict(conn.execute("SELECT execution_id, inputs_key FROM executions"))
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert keys["v2-done"] == keys["v2-failed"] == inputs_key("id-t2i", inputs)
    assert {"media", "grids", "grid_cells", "assets"} <= tables
    with Journal(path) as again:  # a second open migrates nothing and loses nothing
        assert len(again) == 3 and again.get("v2-done").starred  # type: ignore[union-attr]
        assert again.media(["v2-done"])["v2-done"]["o1"].thumb == b"jpeg"


def test_a_migrated_file_written_by_this_version_is_still_refused_when_newer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v2.sqlite3"
    write_v2_file(path)
    Journal(path).history()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(ConfigurationError, match="newer lamina-notebook"):
        Journal(path).history()


# -- reuse: inputs keys, find_reusable, variants ------------------------------------------------


def test_inputs_key_is_canonical() -> None:
    a = inputs_key("app", {"Prompt": "a fox", "Style": "Oil", "Refs": ["u1", "u2"]})
    assert a == inputs_key("app", {"Refs": ["u1", "u2"], "Style": "Oil", "Prompt": "a fox"})
    assert a == inputs_key("app", {"Refs": ["u1", "u2"], "Style": "Oil", "Prompt": "a fox"}, 0)
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != inputs_key("app", {"Prompt": "a fox", "Style": "Oil", "Refs": ["u2", "u1"]})
    assert a != inputs_key("other", {"Prompt": "a fox", "Style": "Oil", "Refs": ["u1", "u2"]})
    assert a != inputs_key("app", {"Prompt": "a fox", "Style": "Oil", "Refs": ["u1", "u2"]}, 1)
    assert inputs_key("app", {"Prompt": "fox"}, 1) != inputs_key("app", {"Prompt": "fox"}, 2)


def run_to_end(
    journal: Journal,
    execution_id: str,
    inputs: dict[str, Any],
    status: str = "completed",
    *,
    app_id: str = "id-t2i",
    base_url: str = "https://app.uselamina.ai",
    created: str = "2026-01-01T00:00:00Z",
    output_status: str | None = None,
) -> None:
    """Journal one run from its start to ``status``, the way the client does."""
    journal.record_started(
        make_execution(execution_id, createdAt=created),
        app_id=app_id,
        app_name="Text to Image",
        inputs=inputs,
        base_url=base_url,
    )
    final = make_execution(execution_id, status, createdAt=created)
    if output_status is not None:
        raw = dict(final.outputs[0].raw, status=output_status)
        final = Execution.from_json(
            {"executionId": execution_id, "status": status, "outputs": [raw], "createdAt": created}
        )
    journal.record_update(final)


def test_find_reusable_returns_the_newest_completed_identical_run(journal: Journal) -> None:
    fox = {"Prompt": "a fox", "Style": "Oil"}
    base = "https://app.uselamina.ai"
    assert journal.find_reusable("id-t2i", fox, base_url=base) is None
    run_to_end(journal, "old", fox, created="2026-01-01T00:00:00Z")
    run_to_end(journal, "new", {"Style": "Oil", "Prompt": "a fox"}, created="2026-01-02T00:00:00Z")
    run_to_end(journal, "broken", fox, "failed", created="2026-01-03T00:00:00Z")
    run_to_end(journal, "partial", fox, created="2026-01-04T00:00:00Z", output_status="error")
    run_to_end(journal, "going", fox, "running", created="2026-01-05T00:00:00Z")
    found = journal.find_reusable("id-t2i", fox, base_url=base)
    assert found is not None and found.execution_id == "new"
    # The same service with credentials in its URL is the same service; another is not.
    assert journal.find_reusable("id-t2i", fox, base_url="https://u:p@app.uselamina.ai?k=1")
    assert journal.find_reusable("id-t2i", fox, base_url="http://127.0.0.1:8000") is None
    assert journal.find_reusable("id-t2i", {**fox, "Style": "Ink"}, base_url=base) is None
    assert journal.find_reusable("id-other", fox, base_url=base) is None
    assert journal.find_reusable("id-t2i", fox, base_url=base, variant=1) is None


def test_variants_number_deliberate_new_samples(journal: Journal) -> None:
    fox = {"Prompt": "a fox"}
    base = "https://app.uselamina.ai"
    assert journal.next_variant("id-t2i", fox, base_url=base) == 0
    run_to_end(journal, "v0", fox)
    assert journal.next_variant("id-t2i", fox, base_url=base) == 1
    run_to_end(journal, "v1", fox, created="2026-01-02T00:00:00Z")
    journal.set_variant("v1", 1)
    run_to_end(journal, "v3", fox, "failed", created="2026-01-03T00:00:00Z")
    journal.set_variant("v3", 3)
    assert journal.get("v1").variant == 1  # type: ignore[union-attr]
    assert journal.next_variant("id-t2i", fox, base_url=base) == 4  # a failed sample counts
    assert journal.next_variant("id-t2i", fox, base_url="http://elsewhere") == 0
    assert journal.find_reusable("id-t2i", fox, base_url=base).execution_id == "v0"  # type: ignore[union-attr]
    assert journal.find_reusable("id-t2i", fox, base_url=base, variant=1).execution_id == "v1"  # type: ignore[union-attr]
    assert journal.find_reusable("id-t2i", fox, base_url=base, variant=3) is None  # failed
    with pytest.raises(ValueError):
        journal.set_variant("v0", -1)
    with pytest.raises(LaminaError, match="not in the run journal"):
        journal.set_variant("nope", 2)


# -- history: stars, notes, query, previous, short ids ------------------------------------------


def test_stars_and_notes_are_kept(journal: Journal) -> None:
    start(journal, "e1")
    journal.set_star("e1")
    journal.set_note("e1", "  the good one  ")
    entry = journal.get("e1")
    assert entry is not None and entry.starred and entry.note == "the good one"
    journal.set_star("e1", on=False)
    journal.set_note("e1", "   ")
    entry = journal.get("e1")
    assert entry is not None and not entry.starred and entry.note is None
    with pytest.raises(LaminaError, match="not in the run journal") as info:
        journal.set_star("missing")
    assert "%lamina history" in str(info.value)
    with pytest.raises(LaminaError):
        journal.set_note("missing", "x")


def many_runs(journal: Journal, n: int) -> None:
    prompts = ["a fox in the snow", "a lighthouse in a storm", "Straße bei Nacht"]
    for i in range(n):
        journal.record_started(
            make_execution(f"run-{i:03d}", createdAt=f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"),
            app_id="id-t2i" if i % 2 == 0 else "id-vid",
            app_name="Text to Image" if i % 2 == 0 else "Video Maker",
            inputs={"Prompt": prompts[i % 3], "Style": "Watercolor" if i % 4 else "Neon Noir"},
            base_url="https://app.uselamina.ai",
        )
        if i % 5 == 0:
            journal.record_update(make_execution(f"run-{i:03d}", "completed"))


def test_query_pages_filters_and_counts(journal: Journal) -> None:
    many_runs(journal, 30)
    page, total = journal.query(limit=10)
    assert total == 30 and [e.execution_id for e in page] == [
        f"run-{i:03d}" for i in range(29, 19, -1)
    ]
    page, total = journal.query(limit=10, offset=25)
    assert total == 30 and [e.execution_id for e in page][-1] == "run-000" and len(page) == 5
    assert journal.query(limit=10, offset=40) == ([], 30)
    everything, total = journal.query(limit=None)
    assert len(everything) == total == 30
    # app by id or name, status (one or several), starred, since
    assert journal.query(app="video maker")[1] == 15
    assert journal.query(app="id-t2i", status="completed")[1] == 3  # 0, 10, 20
    assert journal.query(status=["completed", "running"])[1] == 6
    journal.set_star("run-003")
    journal.set_star("run-004")
    starred, count = journal.query(starred=True)
    assert count == 2 and [e.execution_id for e in starred] == ["run-004", "run-003"]
    assert journal.query(starred=False)[1] == 28
    since = datetime(2026, 1, 1, 0, 0, 25, tzinfo=timezone.utc)
    assert journal.query(since=since)[1] == 5
    assert journal.query(since=since.timestamp())[1] == 5
    assert journal.query(since=timedelta(days=1))[1] == 0  # all of them are from 2026-01-01


def test_query_searches_input_values_and_app_names_not_input_names(journal: Journal) -> None:
    many_runs(journal, 12)
    assert journal.query(search="LIGHTHOUSE")[1] == 4
    assert journal.query(search="lighthouse storm")[1] == 4  # every word must occur
    assert journal.query(search="lighthouse snow")[1] == 0
    assert journal.query(search="neon")[1] == 3  # a value of Style
    assert journal.query(search="style")[1] == 0  # an input *name* is not searched
    assert journal.query(search="video")[1] == 6  # an app name
    assert journal.query(search="strasse")[1] == 4  # Unicode case folding: ß = ss
    assert journal.query(search="fox", app="Video Maker")[1] == 2
    assert journal.query(search="   ")[1] == 12  # blank search is no filter
    assert journal.query(search="100%_")[1] == 0  # LIKE wildcards mean nothing here


def test_previous_is_the_same_apps_run_before(journal: Journal) -> None:
    many_runs(journal, 6)
    entries, _ = journal.query(limit=None)
    by_id = {e.execution_id: e for e in entries}
    assert journal.previous(by_id["run-004"]).execution_id == "run-002"  # type: ignore[union-attr]
    assert journal.previous(by_id["run-005"]).execution_id == "run-003"  # type: ignore[union-attr]
    assert journal.previous(by_id["run-000"]) is None
    before = journal.previous_runs(entries)
    assert {k: v.execution_id for k, v in before.items()} == {
        "run-005": "run-003",
        "run-004": "run-002",
        "run-003": "run-001",
        "run-002": "run-000",
    }
    # Same created_at (two runs within the service's timestamp precision): insertion order.
    journal.record_started(
        make_execution("twin-a", createdAt="2026-02-01T00:00:00Z"),
        app_id="id-t2i",
        app_name="Text to Image",
        inputs={},
        base_url=None,
    )
    journal.record_started(
        make_execution("twin-b", createdAt="2026-02-01T00:00:00Z"),
        app_id="id-t2i",
        app_name="Text to Image",
        inputs={},
        base_url=None,
    )
    assert journal.previous(journal.get("twin-b")).execution_id == "twin-a"  # type: ignore[arg-type,union-attr]
    assert journal.previous(journal.get("twin-a")).execution_id == "run-004"  # type: ignore[arg-type,union-attr]


def test_find_resolves_short_ids(journal: Journal) -> None:
    for eid in ("3f2a9c10-aaaa", "3f2b0000-bbbb", "77aa0000-cccc"):
        start(journal, eid)
    assert journal.find("3f2a").execution_id == "3f2a9c10-aaaa"
    assert journal.find("77AA").execution_id == "77aa0000-cccc"
    assert journal.find(" 3f2b0000-bbbb ").execution_id == "3f2b0000-bbbb"
    with pytest.raises(LaminaError) as info:
        journal.find("3f2")
    assert "3f2a9c10-aaaa" in str(info.value) and "3f2b0000-bbbb" in str(info.value)
    assert "more characters" in str(info.value)
    with pytest.raises(LaminaError, match="No run in the journal"):
        journal.find("ffff")
    with pytest.raises(LaminaError):
        journal.find("")
    with pytest.raises(LaminaError):  # LIKE wildcards are not wildcards
        journal.find("%")


# -- stored media -----------------------------------------------------------------------------


def test_media_round_trips_in_one_call_and_keeps_what_it_knew(journal: Journal) -> None:
    start(journal, "e1")
    start(journal, "e2")
    journal.record_media(
        "e1",
        [
            StoredMedia("img", "image", "image/png", b"\xff\xd8thumb", 123_456, 1024, 768),
            StoredMedia("vid", "video", "video/mp4", b"\xff\xd8poster", 2_000_000, 640, 360, 4.5),
        ],
    )
    journal.record_media("e2", [StoredMedia("img", "image", "image/png")])
    found = journal.media(["e1", "e2", "missing", "e1"])
    assert set(found) == {"e1", "e2"} and list(found["e1"]) == ["img", "vid"]
    video = found["e1"]["vid"]
    assert (video.kind, video.mime, video.byte_size, video.width, video.height, video.duration) == (
        "video",
        "video/mp4",
        2_000_000,
        640,
        360,
        4.5,
    )
    assert video.thumbnail == (b"\xff\xd8poster", "image/jpeg")
    assert found["e2"]["img"].thumb is None and found["e2"]["img"].thumbnail is None
    # A later look that could not fetch the output (expired URL) keeps the thumbnail.
    journal.record_media("e1", [StoredMedia("img", "image", None, None, None, None, None)])
    again = journal.media(["e1"])["e1"]["img"]
    assert again.thumb == b"\xff\xd8thumb" and again.mime == "image/png" and again.width == 1024
    with pytest.raises(ValueError, match="at most"):
        journal.record_media(
            "e1", [StoredMedia("big", "image", thumb=b"x" * (MAX_THUMB_BYTES + 1))]
        )
    journal.record_media("e1", [])  # nothing to store is fine


def test_media_of_many_runs_is_chunked(journal: Journal) -> None:
    ids = [f"m{i}" for i in range(1200)]
    for eid in ids:
        journal.record_media(eid, [StoredMedia("o", "image", thumb=eid.encode())])
    found = journal.media(ids)
    assert len(found) == 1200 and found["m1199"]["o"].thumb == b"m1199"


# -- grids and assets -------------------------------------------------------------------------


def test_grids_and_their_cells(journal: Journal) -> None:
    assert journal.grid("g1") is None and journal.grids() == []
    journal.save_grid(
        "g1", "id-t2i", {"x": {"param": "Style", "values": ["Oil", "Ink"]}}, created_at=1000.0
    )
    journal.save_grid("g2", "id-t2i", {"x": {"param": "Prompt"}})
    journal.record_grid_cell("g1", "Oil|", "e1", reused=False)
    journal.record_grid_cell("g1", "Ink|", "e2", reused=True)
    journal.record_grid_cell("g1", "Oil|", "e3", reused=False)  # a retry replaces the cell
    assert journal.grid_cells("g1") == {"Oil|": ("e3", False), "Ink|": ("e2", True)}
    assert journal.grid_cells("g2") == {}
    grid = journal.grid("g1")
    assert grid is not None and grid.app_id == "id-t2i" and grid.created_at == 1000.0
    assert grid.spec["x"]["values"] == ["Oil", "Ink"] and grid.updated_at > 1000.0
    assert [g.grid_id for g in journal.grids()] == ["g1", "g2"]  # g1 changed last
    journal.save_grid("g1", "id-t2i", {"x": {"param": "Style", "values": ["Oil"]}})
    again = journal.grid("g1")
    assert again is not None and again.created_at == 1000.0 and again.spec["x"]["values"] == ["Oil"]
    assert [g.grid_id for g in journal.grids(limit=1)] == ["g1"]


def test_assets_are_remembered_per_service_until_they_expire(journal: Journal) -> None:
    digest = "AB" * 32
    base = "https://app.uselamina.ai"
    assert journal.asset(digest, base_url=base) is None
    journal.remember_asset(digest, "https://cdn.example/a.png", base_url=base)
    assert journal.asset(digest.lower(), base_url=base + "?x=1") == "https://cdn.example/a.png"
    assert journal.asset(digest, base_url="http://127.0.0.1:8000") is None
    soon = time.time() + ASSET_MARGIN / 2
    journal.remember_asset(digest, "https://cdn.example/b.png", base_url=base, expires_at=soon)
    assert journal.asset(digest, base_url=base) is None  # about to expire: upload again
    later = datetime.fromtimestamp(time.time() + 3600, tz=timezone.utc)
    journal.remember_asset(
        digest,
        "https://cdn.example/c.png",
        base_url=base,
        expires_at=later.isoformat().replace("+00:00", "Z"),
    )
    assert journal.asset(digest, base_url=base) == "https://cdn.example/c.png"
    journal.remember_asset(digest, "https://cdn.example/d.png", base_url=base, expires_at=later)
    assert journal.asset(digest, base_url=base) == "https://cdn.example/d.png"
    with pytest.raises(ValueError, match="ISO 8601"):
        journal.remember_asset(digest, "u", base_url=base, expires_at="tomorrow")
