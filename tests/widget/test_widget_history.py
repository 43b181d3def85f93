"""The History tab: the same history as ``%lamina history`` (search, filters, short ids with the
full id on hover, stars and notes in the journal, the diff against the previous run, "use these
inputs", paging), thumbnails from the journal (offline, at once), runs still in flight watched
again, unconfirmed starts explained without a request, and grids listed and resumable."""

from __future__ import annotations

import asyncio
from html import unescape
from typing import Any

import ipywidgets as W
from widget_helpers import make_session, only_run, stylizer, wait_until, widget_sandbox

from lamina_notebook.errors import LaminaError
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.history import HISTORY_ROWS


def rows_by_id(w: LaminaApp) -> dict[str, Any]:
    return {r.execution_id: r for r in w.parts.history.rows}


def test_rows_show_short_ids_stars_notes_diffs_and_journal_thumbnails(
    session: Session, wsb: Sandbox
) -> None:
    w = stylizer(session, wsb, Style="Comic")
    first = w.run().result(timeout=30)
    second = w.run(Style="Ghibli").result(timeout=30)
    w.wait(timeout=30)
    history = w.parts.history
    rows = history.rows
    assert [r.execution_id for r in rows[:2]] == [second.execution_id, first.execution_id]
    newest = rows[0]
    info = newest.info.value
    assert f'title="{second.execution_id}"' in info  # the full id on hover
    assert f">{second.execution_id[:8]}<" in info  # the short id on screen
    assert "changed: Style: Comic → Ghibli" in unescape(info)
    assert len(newest.thumb.value) > 0 and newest.thumb in newest.box.children[0].children
    assert newest.thumb.layout.object_fit == "contain"  # proportions kept
    assert "Runs 1-" in history.summary.value

    newest.star_button.click()
    assert session.client.journal.get(second.execution_id).starred
    newest = rows_by_id(w)[second.execution_id]
    assert newest.star_button.description == "★" and "starred" in newest.info.value
    newest.note_button.click()
    assert history.note_editor.layout.display == ""
    history.note_text.value = "the good one"
    history.save_note_button.click()
    assert history.note_editor.layout.display == "none"
    assert session.client.journal.get(second.execution_id).note == "the good one"
    assert "note: the good one" in rows_by_id(w)[second.execution_id].info.value

    history.starred.value = True  # the starred filter
    assert [r.execution_id for r in w.parts.history.rows] == [second.execution_id]
    history.starred.value = False


def test_search_and_status_filter_and_paging(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Text to Image", session=session)
    for i in range(HISTORY_ROWS + 2):
        w.run(Prompt=f"paged lighthouse number {i}", Style="Anime")
    w.run(Prompt="a lonely kraken", Style="Anime")
    w.wait(timeout=120)
    history = w.parts.history
    history.search.value = "kraken"
    (only,) = w.parts.history.rows
    assert "a lonely kraken" in only.info.value
    assert "Runs 1-1 of 1 matching" in w.parts.history.summary.value
    history.search.value = "paged lighthouse"
    assert len(w.parts.history.rows) == HISTORY_ROWS
    more = w.parts.history.more_button
    assert more.description == "2 more" and more.layout.display == ""
    more.click()
    assert len(w.parts.history.rows) == 2
    assert w.parts.history.newer_button.layout.display == ""
    history.search.value = ""
    history.status.value = 2  # failed: none of these
    assert w.parts.history.rows == () and "No runs match" in w.parts.history.summary.value
    history.status.value = 0


def test_use_these_inputs_fills_the_form_and_show_draws_offline(wsb: Sandbox) -> None:
    first = make_session(wsb)
    try:
        w1 = stylizer(first, wsb, Style="Comic", **{"Aspect Ratio": "9:16"})
        done = w1.run().result(timeout=30)
        w1.run(Style="Ghibli").result(timeout=30)
        app = w1.app
    finally:
        first.close()
    # A later session whose service is gone: the journal alone draws the history.
    later = make_session(wsb, base_url="http://127.0.0.1:9")
    try:
        w2 = LaminaApp(app, session=later)  # an App with parameters: no request needed
        row = rows_by_id(w2)[done.execution_id]
        assert len(row.thumb.value) > 0  # the stored thumbnail, no network
        row.use_button.click()
        assert w2.value["Style"] == "Comic" and w2.value["Aspect Ratio"] == "9:16"
        assert "are in the form above" in w2.parts.history.note.value
        row.show_button.click()
        card = w2.parts.history.card
        wait_until(lambda: card.tiles.children)
        tile = card.tiles.children[0]
        assert isinstance(tile.children[1], W.Image) and len(tile.children[1].value) > 0
        assert "from history" in card.head.value and done.execution_id[:8] in card.head.value
    finally:
        later.close()


def test_a_run_still_in_flight_is_watched_to_its_end(wsb: Sandbox) -> None:
    first = make_session(wsb)
    try:
        w1 = LaminaApp("Slow Painter", session=first)
        handle = w1.run(Prompt="left behind")
        w1.detach_all()  # the kernel "dies" before the run ends: only the journal knows it
    finally:
        first.close()
    later = make_session(wsb)
    try:
        w2 = LaminaApp("Slow Painter", session=later)
        row = rows_by_id(w2)[handle.execution_id]
        assert row.show_button.description == "Watch"
        row.show_button.click()
        assert "watching it again" in w2.parts.history.note.value
        results = asyncio.run(_await(w2))
        assert [r.execution_id for r in results] == [handle.execution_id]
        run = only_run(w2)
        assert run.row.bar.bar_style == "success" and run.handle is not None
        assert later.client.history()[0].status == "completed"
        assert "(resumed)" in run.title
    finally:
        later.close()


def test_an_unconfirmed_start_is_explained_and_asks_nothing(session: Session, wsb: Sandbox) -> None:
    w = stylizer(session, wsb, Style="Comic")
    wsb.configure(drop_rate=1.0)  # the POST arrives, its answer is lost
    try:
        w.parts.run_button.click()
        w.wait(timeout=30)
    finally:
        wsb.configure(drop_rate=0.0)
    run = only_run(w)
    assert run.phase == "not started" and isinstance(run.error, LaminaError)
    local_id = run.error.journal_id
    status = w.parts.status.value
    assert local_id and local_id in status and "MAY have been created" in status
    w.parts.history.refresh_button.click()
    row = rows_by_id(w)[local_id]
    assert "MAY exist" in row.info.value
    sent = wsb.stats.requests
    row.show_button.click()
    note = w.parts.history.note.value
    assert "Unconfirmed" in note and "watching" not in note
    assert len(w.parts.runs) == 1  # shown, not adopted
    assert wsb.stats.requests == sent  # the local id is never sent to the service


def test_grids_are_listed_and_open_in_the_grid_tab_from_the_journal(tmp_path: Any) -> None:
    journal = str(tmp_path / "journal.sqlite3")
    with widget_sandbox() as sb:
        first = make_session(sb, journal_path=journal)
        try:
            w1 = LaminaApp("Text to Image", session=first)
            w1.value = {"Prompt": "a grid to come back to"}
            grid = w1.grid(x="Style", values={"Style": ["Anime", "Watercolor"]})
            grid.wait(timeout=60)
        finally:
            first.close()
        later = make_session(sb, journal_path=journal)
        try:
            w2 = LaminaApp("Text to Image", session=later)
            history = w2.parts.history
            assert history.grids.value == grid.grid_id
            created = sb.stats.run_creations
            history.open_grid_button.click()
            (opened,) = w2.parts.grids
            opened.wait(timeout=30)
            assert opened.grid_id == grid.grid_id and opened.counts()["completed"] == 2
            assert sb.stats.run_creations == created  # nothing ran again
            tabs = w2.parts.tabs
            assert tabs.get_title(tabs.selected_index) == "Grid"
            wait_until(lambda: w2.parts.grid.view.value.count("data:image/") == 2)
        finally:
            later.close()


async def _await(w: LaminaApp) -> list[Any]:
    return await w


def test_a_run_without_a_thumbnail_gets_no_empty_picture(session: Session, wsb: Sandbox) -> None:
    w = LaminaApp("Glacial Painter", session=session)
    shown = w.run(Prompt="a picture first", reuse=False)
    shown.cancel()  # nothing to show either: make one row show a thumbnail first
    w.wait(timeout=30)
    slow = LaminaApp("Slow Painter", session=session)
    slow.run(Prompt="a picture").result(timeout=30)
    slow.wait(timeout=30)
    top = slow.parts.history.rows[0]
    assert top.thumb in top.box.children[0].children  # the row shows a picture...
    handle = slow.run(Prompt="cancelled: nothing to show")
    handle.cancel()
    slow.wait(timeout=30)
    row = rows_by_id(slow)[handle.execution_id]
    assert row.box is top.box  # ...and is refilled with a run that has none
    images = [c for c in row.box.children[0].children if isinstance(c, W.Image)]
    assert images == [] and "cancelled" in row.info.value
    w = LaminaApp("Glacial Painter", session=session)
    handle = w.run(Prompt="cancelled: nothing to show")
    handle.cancel()
    w.wait(timeout=30)
    row = rows_by_id(w)[handle.execution_id]
    images = [c for c in row.box.children[0].children if isinstance(c, W.Image)]
    assert images == [] and "cancelled" in row.info.value


def test_a_running_run_reads_running_in_history_before_it_ends(
    session: Session, wsb: Sandbox
) -> None:
    w = LaminaApp("Slow Painter", session=session)
    w.run(Prompt="an earlier run").result(timeout=60)
    w.wait(timeout=30)
    # The newest run's row (reused for the next run) records everything it shows.
    newest = w.parts.history.rows[0].info
    shown: list[str] = []
    newest.observe(lambda c: shown.append(unescape(c["new"])), names="value")
    handle = w.run(Prompt="a run History follows")
    handle.result(timeout=60)
    w.wait(timeout=30)
    mine = [text for text in shown if handle.execution_id in text]
    statuses = [s for s in ("queued", "running", "completed") if any(f">{s}<" in t for t in mine)]
    # Without a click on the tab, the row followed the run: not "queued" until it ended.
    assert "running" in statuses and statuses[-1] == "completed", mine
