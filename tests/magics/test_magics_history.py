"""%lamina history, star, note and export in a real InteractiveShell: pages of 20 with "N more",
search and filters, short ids everywhere, diffs, offline thumbnails from the journal."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_support import fails, loaded_shell, magic, texts

from lamina_notebook import render
from lamina_notebook.journal import Journal
from lamina_notebook.models import Execution


@pytest.fixture
def shell(sandbox_env: Any) -> Iterator[InteractiveShell]:
    yield from loaded_shell()


def journal() -> Journal:
    return Journal(os.environ["LAMINA_JOURNAL"])


def journaled(
    n: int, *, prefix: str = "", app: str = "Text to Image", age: float = 0.0, **inputs: str
) -> list[str]:
    """``n`` finished runs written straight to the journal (as a kernel that ran them did),
    oldest first; ids start with ``prefix``."""
    ids = []
    with journal() as j:
        for i in range(n):
            run_id = prefix + uuid.uuid4().hex[len(prefix) : 32]
            created = datetime.fromtimestamp(time.time() - age - (n - i), tz=timezone.utc)
            execution = Execution.from_json(
                {
                    "executionId": run_id,
                    "status": "completed",
                    "outputs": [],
                    "createdAt": created.isoformat(),
                    "completedAt": created.isoformat(),
                }
            )
            values = {k: v.format(i=i) for k, v in inputs.items()} or {"Prompt": f"run {i}"}
            j.record_started(
                execution, app_id="app-1", app_name=app, inputs=values, base_url="http://x"
            )
            ids.append(run_id)
    return ids


def test_history_shows_twenty_then_says_how_many_more_and_pages(
    shell: InteractiveShell,
) -> None:
    ids = journaled(25)
    _, cap = magic(shell, "history")
    out = texts(cap)
    assert "Runs 1-20 of 25" in out and "5 more — %lamina history --offset 20" in out
    newest, oldest = ids[-1], ids[0]
    assert render.short_id(newest) in out and render.short_id(oldest) not in out
    _, cap = magic(shell, "history --offset 20")
    out = texts(cap)
    assert "Runs 21-25 of 25" in out and render.short_id(oldest) in out and "more —" not in out
    _, cap = magic(shell, "history --limit 5")
    assert "Runs 1-5 of 25" in texts(cap) and "--limit 5 --offset 5" in texts(cap)


def test_search_and_filters_and_their_paging_line(shell: InteractiveShell) -> None:
    foxes = journaled(3, Prompt="a red fox {i}")
    whales = journaled(2, Prompt="a blue whale {i}")
    olds = journaled(2, Prompt="an old fox {i}", age=3 * 86400)
    _, cap = magic(shell, "history fox")
    out = texts(cap)
    for run_id in foxes + olds:
        assert render.short_id(run_id) in out
    assert not any(render.short_id(w) in out for w in whales)
    _, cap = magic(shell, "history FOX red")  # every word, any order, any case
    out = texts(cap)
    assert "Runs 1-3 of 3" in out and not any(render.short_id(o) in out for o in olds)
    _, cap = magic(shell, "history fox --since 2d")
    assert "Runs 1-3 of 3" in texts(cap)
    _, cap = magic(shell, "history --since 2030-01-01")
    assert "Runs 1" not in texts(cap)
    _, cap = magic(shell, 'history fox --app "text to image" --limit 2')
    assert '3 more — %lamina history fox --app "text to image" --limit 2 --offset 2' in texts(cap)
    _, cap = magic(shell, "history --status failed")
    assert "No executions" in texts(cap) or "No runs" in texts(cap)


def test_short_ids_work_in_every_subcommand_that_takes_an_id(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    result, _ = magic(shell, 'run "Text to Image" "Prompt=a short id" -o r')
    short = result.execution_id[:6]
    status, _ = magic(shell, f"status {short}")
    assert status.execution_id == result.execution_id and status.inputs["Prompt"] == "a short id"
    resumed, _ = magic(shell, f"resume {short}")
    assert resumed.execution_id == result.execution_id
    manifest, _ = magic(shell, f"save {short} {tmp_path / 'out'}")
    assert manifest.exists()
    magic(shell, f"star {short}")
    magic(shell, f'note {short} "kept for the poster"')
    magic(shell, f"cancel {short}")  # finished: nothing to cancel, but found by its prefix
    entry = journal().get(result.execution_id)
    assert entry is not None and entry.starred and entry.note == "kept for the poster"


def test_an_ambiguous_or_unknown_short_id_lists_the_candidates(shell: InteractiveShell) -> None:
    twins = journaled(2, prefix="abcd")
    _, cap = fails(shell, "status abcd")
    out = texts(cap)
    assert "several execution ids" in out and twins[0] in out and twins[1] in out
    assert "Give more characters" in out
    _, cap = fails(shell, "star zz12")
    assert "No run in the journal" in texts(cap) and "%lamina history" in texts(cap)
    # a whole id the journal does not know goes to the service (which says it is unknown)
    _, cap = fails(shell, f"status {uuid.uuid4()}")
    assert "HTTP 404" in texts(cap)


def test_stars_notes_diffs_and_use_these_inputs(shell: InteractiveShell) -> None:
    first, _ = magic(shell, 'run "Text to Image" "Prompt=a lighthouse" Style=Anime')
    second, _ = magic(shell, 'run "Text to Image" "Prompt=a lighthouse" Style=Watercolor')
    _, cap = magic(shell, f"star {second.execution_id[:8]}")
    assert f"Starred run {second.execution_id[:8]}" in cap.stdout
    magic(shell, f'note {first.execution_id[:8]} "too dark"')
    _, cap = magic(shell, "history")
    out, html = texts(cap), texts(cap, "text/html")
    assert "changed: Style: Anime → Watercolor" in out
    assert "note: too dark" in out and "(* starred)" in out
    assert 'title="starred"' in html and "lamina-note" in html and "lamina-diff" in html
    assert '%lamina run "Text to Image" "Prompt=a lighthouse" Style=Watercolor' in out
    assert "w.value = {" in html  # use these inputs, for a widget too
    _, cap = magic(shell, "history --starred")
    out = texts(cap)
    assert render.short_id(second.execution_id) in out
    assert render.short_id(first.execution_id) not in out
    _, cap = magic(shell, f"star {second.execution_id[:8]} --off")
    assert "Took the star from" in cap.stdout
    _, cap = magic(shell, f'note {first.execution_id[:8]} ""')
    assert "Removed the note" in cap.stdout
    entry = journal().get(first.execution_id)
    assert entry is not None and entry.note is None


def test_thumbnails_come_from_the_journal_offline_with_no_request(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    urls = []
    for prompt in ("a fox", "an owl", "a boat"):
        result, _ = magic(shell, f'run "Text to Image" "Prompt={prompt}"')
        urls += result.urls
    sandbox_env.configure(output_ttl=0.0)  # now every output URL is dead
    try:
        import httpx

        assert all(httpx.get(u).status_code == 404 for u in urls)
        before = sandbox_env.stats.requests
        _, cap = magic(shell, "history")
    finally:
        sandbox_env.configure(output_ttl=None)
    html = texts(cap, "text/html")
    assert html.count("data:image/jpeg;base64,") == 3  # one stored thumbnail per row
    assert sandbox_env.stats.requests == before  # not one request: the journal has them


def test_export_matching_runs_to_one_page(shell: InteractiveShell, tmp_path: Path) -> None:
    kept, _ = magic(shell, 'run "Text to Image" "Prompt=a lighthouse at dawn"')
    other, _ = magic(shell, 'run "Text to Image" "Prompt=a kettle"')
    path, cap = magic(shell, f"export lighthouse {tmp_path / 'lights.html'}")
    assert path == tmp_path / "lights.html"
    assert "1 run(s) matching 'lighthouse'" in cap.stdout
    page = path.read_text(encoding="utf-8")
    assert kept.execution_id in page and other.execution_id not in page
    assert "a lighthouse at dawn" in page and "data:image/" in page and "<script" not in page
    everything, _ = magic(shell, f"export {tmp_path / 'all.html'} --since 1h")
    page = everything.read_text(encoding="utf-8")
    assert kept.execution_id in page and other.execution_id in page


def test_history_o_stores_the_rows_with_stars_and_notes(shell: InteractiveShell) -> None:
    result, _ = magic(shell, 'run "Text to Image" "Prompt=stored rows"')
    magic(shell, f'note {result.execution_id[:8]} "row note"')
    magic(shell, "history -o rows")
    rows = shell.user_ns["rows"]
    try:
        import pandas  # noqa: F401
    except ImportError:
        assert rows[0].note == "row note"
    else:
        assert list(rows["note"]) == ["row note"] and list(rows["starred"]) == [False]
