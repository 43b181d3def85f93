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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamina_notebook.errors import ConfigurationError
from lamina_notebook.journal import SCHEMA_VERSION, Journal, default_journal_path
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
    from lamina_notebook.journal import Journal
    from lamina_notebook.models import Execution
    journal = Journal({path!r}, busy_timeout=60)
    tag = sys.argv[1]
    for i in range(150):
        ex = Execution.from_json({{"executionId": f"{{tag}}-{{i}}", "status": "queued"}})
        journal.record_started(ex, app_id="app", app_name="App", inputs={{"i": str(i)}},
                               base_url=None)
        journal.record_update(Execution.from_json(
            {{"executionId": f"{{tag}}-{{i}}", "status": "completed", "outputs": []}}))
        # Everyone also hammers one shared row.
        journal.record_update(Execution.from_json({{"executionId": "shared", "status": "running"}}))
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
    entry = Journal(path).get("p1-149")
    assert entry is not None and entry.inputs == {"i": "149"} and entry.app_name == "App"


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
    assert SCHEMA_VERSION == 2
    with Journal(path) as again:  # opening a migrated file again changes nothing
        assert len(again) == 2 and again.get(local_id).is_unconfirmed  # type: ignore[union-attr]
