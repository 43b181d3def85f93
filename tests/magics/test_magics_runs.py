"""%lamina run / status / resume / history / save in a real InteractiveShell against the sandbox."""

from __future__ import annotations

import _thread
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from magics_support import TEST_POLL, fails, loaded_shell, magic, plain, run_cell, texts

from lamina_notebook import render
from lamina_notebook.journal import Journal
from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import get_session
from lamina_notebook.session.results import Result, RunHandle


@pytest.fixture
def shell(sandbox_env: Any) -> Iterator[InteractiveShell]:
    """A real InteractiveShell with the extension loaded, LAMINA_* pointing at the sandbox."""
    yield from loaded_shell()


def journal_rows() -> list[Any]:
    return Journal(os.environ["LAMINA_JOURNAL"]).history()


def test_blocking_run_with_quoted_names_returns_a_result_with_embedded_image(
    shell: InteractiveShell,
) -> None:
    result, cap = magic(shell, 'run "Text to Image" "Prompt=a red fox" "Aspect Ratio=16:9" -o fox')
    assert isinstance(result, Result) and result.status == "completed"
    assert shell.user_ns["fox"] is result
    assert result.inputs == {"Prompt": "a red fox", "Aspect Ratio": "16:9"}
    data, metadata = result._repr_mimebundle_()
    # One copy of the picture, inside the HTML card (render's measured choice).
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/html"].count("data:image/") == 1
    assert metadata["lamina"]["execution_id"] == result.execution_id
    assert metadata["lamina"]["inputs"]["Aspect Ratio"] == "16:9"
    assert cap.outputs == []  # progress was a text line in a terminal, and is cleared
    assert [r.execution_id for r in journal_rows()] == [result.execution_id]


def test_run_cell_sets_underscore_and_shows_outputs_once(shell: InteractiveShell) -> None:
    with capture_output() as cap:
        shell.run_cell(
            '%lamina run "Text to Image" Prompt=lighthouse Style=Watercolor', store_history=True
        )
    result = shell.user_ns["_"]
    assert isinstance(result, Result) and result.is_completed
    # Out[n] only (the progress line was rewritten in place, then cleared)
    assert cap.stdout.count("inputs: Prompt=lighthouse") == 1


def test_variables_expand_per_token_so_spaces_stay_one_value(shell: InteractiveShell) -> None:
    shell.user_ns["prompt"] = "a cat's hat, in the rain"
    shell.user_ns["ratio"] = "9:16"
    result, _ = magic(shell, 'run "Text to Image" Prompt={prompt} "Aspect Ratio=$ratio"')
    assert result.inputs == {"Prompt": "a cat's hat, in the rain", "Aspect Ratio": "9:16"}


def test_cell_magic_body_is_the_named_parameter(shell: InteractiveShell) -> None:
    body = "Write about {not a variable}\nacross two lines"
    result, _ = magic(shell, 'run "Product Copywriter" --param Product "Tone=Playful"', body + "\n")
    assert result.is_completed
    assert result.inputs["Product"] == body
    assert len(result.texts) == 2


def test_no_wait_returns_a_handle_that_finishes_on_its_own(shell: InteractiveShell) -> None:
    handle, _ = magic(shell, 'run "Text to Image" Prompt=waves --no-wait -o job')
    assert isinstance(handle, RunHandle) and shell.user_ns["job"] is handle
    assert handle.execution_id in {r.execution_id for r in journal_rows()}  # journaled already
    result = handle.result(timeout=30)
    assert handle.done() and result.is_completed and result.media
    assert result._repr_mimebundle_()[0]["text/html"] == handle._repr_mimebundle_()[0]["text/html"]


def test_config_changes_never_cut_off_a_run_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """%config of the same key or of a poll interval keeps the client; a change that needs a
    new client (rate_limit) lets the old one finish its watch, then close once idle."""
    import lamina_notebook.session.session as session_module

    monkeypatch.setattr(session_module, "RETIRE_IDLE", 0.2)
    # a slow app (3 s), so the run is surely still going while the settings change
    with Sandbox(time_scale=0.02, rate_limit=0, durations={"Product Copywriter": 150}) as sb:
        monkeypatch.setenv("LAMINA_API_KEY", sb.api_key)
        monkeypatch.setenv("LAMINA_BASE_URL", sb.base_url)
        with contextlib.contextmanager(loaded_shell)() as ip:
            handle, _ = magic(ip, 'run "Product Copywriter" "Product=a slow kettle" --no-wait')
            session = get_session()
            first = session.client
            ip.run_line_magic("config", f'LaminaMagics.api_key = "{sb.api_key}"')
            ip.run_line_magic("config", "LaminaMagics.poll_interval = 2")
            assert session.client is first and first.poll_interval == 2.0
            ip.run_line_magic("config", "LaminaMagics.rate_limit = 80")
            second = session.client
            assert second is not first and second.budget is not first.budget
            assert not handle.done() and not first.closed  # still watching on the old client
            result = handle.result(timeout=60)
            assert result.status == "completed" and len(result.texts) == 2
            _wait_for(lambda: first.closed)  # idle now, so the replaced client closes
            assert not second.closed
            value, _ = magic(ip, 'run "Text to Image" Prompt=after')  # the new client works
            assert value.is_completed


def _wait_for(condition: Any, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.05)


def test_an_unconfirmed_start_shows_in_history_and_resume_explains_it(
    shell: InteractiveShell,
    sandbox_env: Any,
) -> None:
    magic(shell, 'info "Text to Image"')
    sandbox_env.configure(error_rate=1.0)  # a 5xx: the run MAY have been created
    try:
        _, cap = fails(shell, 'run "Text to Image" "Prompt=lost answer"')
    finally:
        sandbox_env.configure(error_rate=0.0)
    shown = texts(cap)
    assert "MAY have been created" in shown and "Traceback" not in shown
    [entry] = journal_rows()
    assert entry.status == "unconfirmed" and entry.execution_id in shown
    _, hist = magic(shell, "history")
    for mime in ("text/plain", "text/html"):
        table = texts(hist, mime)
        # History shows short ids (render.short_id); the HTML keeps the full id on hover.
        assert render.short_id(entry.execution_id) in table and "unconfirmed" in table
        assert "MAY exist" in table and "Lamina app" in table
    assert f'title="{entry.execution_id}"' in texts(hist, "text/html")
    _, cap = fails(shell, f"resume {entry.execution_id}")
    shown = texts(cap)
    assert "UnconfirmedRunError" in shown and "not one the Lamina service knows" in shown
    assert "Lamina app" in shown and "Traceback" not in shown


def test_a_failed_run_shows_its_card_then_fails_the_cell_briefly(
    shell: InteractiveShell,
    sandbox_env: Any,
) -> None:
    from lamina_notebook.errors import ExecutionFailed, RunFailed

    sandbox_env.configure(fail_rate=1.0)
    try:
        exc, cap = fails(shell, 'run "Text to Image" Prompt=doomed -o doomed')
    finally:
        sandbox_env.configure(fail_rate=0.0)
    assert isinstance(exc, RunFailed) and isinstance(exc, ExecutionFailed)
    result = shell.user_ns["doomed"]  # -o keeps the failed result
    assert isinstance(result, Result) and result.is_failed
    reason = result.execution.error_message
    assert reason and reason in str(exc)  # the exception carries the service's reason
    # the card (shown first) says why, once; the cell's error is one short line + the fix
    [card] = cap.outputs
    assert card.data["text/plain"].count(reason) == 1
    assert card.data["text/html"].count(render.esc(reason)) == 1
    shown = [on_screen(line) for line in plain(cap.stdout).split("\n")]
    shown = [line for line in shown if line]  # the progress line was blanked
    assert reason not in "\n".join(shown) and "Traceback" not in "\n".join(shown)
    assert len(shown) == 2, shown
    assert shown[0] == (
        f"RunFailed: Text to Image run {result.execution_id[:8]} failed (the card above says why)."
    )
    assert "--no-raise" in shown[1] and "raise_on_failure" in shown[1]


@pytest.mark.parametrize("how", ["--no-raise", "config"])
def test_no_raise_keeps_a_failed_run_as_the_cells_value(
    shell: InteractiveShell, sandbox_env: Any, how: str
) -> None:
    line = 'run "Text to Image" Prompt=doomed'
    if how == "config":
        with capture_output():
            shell.run_line_magic("config", "LaminaMagics.raise_on_failure = False")
    else:
        line += " --no-raise"
    sandbox_env.configure(fail_rate=1.0)
    try:
        result, cell = run_cell(shell, f"%lamina {line}")
    finally:
        sandbox_env.configure(fail_rate=0.0)
    assert result.error_in_exec is None and result.result.is_failed
    assert "RunFailed" not in texts(cell)
    data, _ = result.result._repr_mimebundle_()
    assert "failed" in data["text/plain"] and "Traceback" not in data["text/plain"]


def test_timeout_stops_waiting_fails_the_cell_and_names_resume(shell: InteractiveShell) -> None:
    from lamina_notebook.errors import WaitTimeout

    get_session().configure(poll_interval=5.0)  # the first poll comes after the timeout
    exc, cap = fails(shell, 'run "Image to Video" Upload=https://example.com/a.png --timeout 0.2')
    assert isinstance(exc, WaitTimeout)
    out = texts(cap)
    assert "Gave up waiting" in out and "%lamina resume" in out and "Traceback" not in out
    execution_id = journal_rows()[0].execution_id
    get_session().configure(poll_interval=TEST_POLL)
    result, _ = magic(shell, f"resume {execution_id} --no-raise")
    assert result.execution_id == execution_id and result.is_terminal


@pytest.fixture
def slow_sandbox(shell: InteractiveShell) -> Iterator[Any]:
    """A sandbox whose Text to Image takes a minute (to interrupt a run), used by the shell."""
    from lamina_notebook.sandbox import Sandbox

    with Sandbox(rate_limit=0, durations={"Text to Image": 60.0}) as sb:
        get_session().configure(base_url=sb.base_url)
        yield sb


def on_screen(line: str) -> str:
    """What a terminal shows for ``line``: each ``\\r`` returns to its start and what follows
    overwrites what was there."""
    shown: list[str] = []
    for part in line.split("\r"):
        shown[: len(part)] = list(part)
    return "".join(shown).rstrip()


def _interrupt_once_journaled() -> None:
    deadline = time.monotonic() + 30
    while not journal_rows() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # into the wait, past the POST
    _thread.interrupt_main()  # a real SIGINT-equivalent in the main thread


def test_ctrl_c_keeps_the_run_says_how_to_resume_or_cancel_and_stops_the_cell(
    shell: InteractiveShell,
    slow_sandbox: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lamina_notebook.magics.display import Interrupted

    monkeypatch.setenv("COLUMNS", "72")  # a narrow terminal: the hint wraps, its commands do not

    threading.Thread(target=_interrupt_once_journaled, daemon=True).start()
    # Two statements in one cell: the second is what Run All would run next; it must not.
    result, cap = run_cell(shell, '%lamina run "Text to Image" Prompt=slow -o h\nafter = 1')
    exc = result.error_in_exec
    assert isinstance(exc, Interrupted) and isinstance(exc, KeyboardInterrupt)
    assert "after" not in shell.user_ns  # the queue stopped
    handle = shell.user_ns["h"]
    assert isinstance(handle, RunHandle) and handle.stopped and not handle.done()
    out = plain(cap.stdout)
    # the hint, once: resume and cancel, with the full id; then one short line, no traceback
    assert out.count(f"%lamina resume {handle.execution_id}") == 1
    assert out.count(f"%lamina cancel {handle.execution_id}") == 1
    assert "Traceback" not in out and out.count("KeyboardInterrupt") == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("KeyboardInterrupt: the run goes on; see above")
    assert all(len(on_screen(line)) <= 72 for line in out.split("\n")), out
    # the progress line was ended before the message: nothing of it shares the hint's line
    first_hint = next(line for line in out.split("\n") if "Stopped watching" in line)
    assert on_screen(first_hint).startswith("Stopped watching"), repr(first_hint)
    assert "queued" not in on_screen(first_hint) and "running" not in on_screen(first_hint)
    assert slow_sandbox.stats.run_creations == 1  # still running at the service
    status, cap = magic(shell, f"status {handle.execution_id[:8]}")
    assert status.status in ("queued", "running")
    magic(shell, f"cancel {handle.execution_id[:8]}")
    assert slow_sandbox.stats.cancellations == 1


def test_ctrl_c_on_the_api_edition_names_no_cancel(
    shell: InteractiveShell,
    slow_sandbox: Any,
) -> None:
    """The /api edition cannot cancel: the hint says only how to resume."""
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.api_edition = 'api'")
    threading.Thread(target=_interrupt_once_journaled, daemon=True).start()
    result, cap = run_cell(shell, '%lamina run "Text to Image" Prompt=slow')
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    out = plain(cap.stdout)
    assert "%lamina resume" in out and "%lamina cancel" not in out


def test_status_and_resume_from_a_fresh_process(
    shell: InteractiveShell, sandbox_env: Any, tmp_path: Path
) -> None:
    handle, _ = magic(shell, 'run "Text to Image" Prompt=later --no-wait')
    handle.stop()  # this "kernel" stops watching; a new process reattaches via the journal
    script = tmp_path / "fresh.py"
    script.write_text(
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from IPython.utils.capture import capture_output\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'lamina_notebook')\n"
        "from lamina_notebook.session import get_session\n"
        "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)\n"
        "r = ip.run_line_magic('lamina', 'resume ' + sys.argv[1])\n"
        "print('RESUMED', r.status, r.app_name, r.inputs['Prompt'], bool(r.media))\n"
        "with capture_output() as cap:\n"
        "    s = ip.run_line_magic('lamina', 'status ' + sys.argv[1])\n"
        "print('STATUS', s.status)\n"
        "ip.run_line_magic('unload_ext', 'lamina_notebook')\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script), handle.execution_id],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "RESUMED completed Text to Image later True" in proc.stdout
    assert "STATUS completed" in proc.stdout


def test_status_falls_back_to_the_journal_when_the_service_is_unreachable(
    shell: InteractiveShell,
) -> None:
    result, _ = magic(shell, 'run "Text to Image" Prompt=offline')
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.base_url = 'http://127.0.0.1:9'")
    get_session().configure(request_timeout=2.0, max_retries=0)
    status, cap = magic(shell, f"status {result.execution_id}")
    assert "journal" in cap.stdout
    assert status.status == "completed" and status.execution_id == result.execution_id


def test_history_lists_runs_and_o_stores_rows(shell: InteractiveShell) -> None:
    first, _ = magic(shell, 'run "Text to Image" Prompt=one')
    second, _ = magic(shell, 'run "Product Copywriter" "Product=a blue teapot with spots"')
    _, cap = magic(shell, "history -o rows")
    out = texts(cap)
    # Short ids in the table (render.short_id); the full ids are in the HTML titles (hover).
    assert (
        render.short_id(first.execution_id) in out and render.short_id(second.execution_id) in out
    )
    assert f'title="{first.execution_id}"' in texts(cap, "text/html")
    assert "%lamina resume" in texts(cap, "text/html")
    rows = shell.user_ns["rows"]
    try:
        import pandas  # noqa: F401
    except ImportError:
        assert [r.execution_id for r in rows] == [second.execution_id, first.execution_id]
    else:
        assert list(rows["execution_id"]) == [second.execution_id, first.execution_id]
    _, cap = magic(shell, 'history --app "Text to Image" --limit 5')
    shown = texts(cap)
    assert render.short_id(first.execution_id) in shown
    assert render.short_id(second.execution_id) not in shown


def test_save_writes_outputs_and_manifest(shell: InteractiveShell, tmp_path: Path) -> None:
    result, _ = magic(shell, 'run "Text to Image" Prompt=keep')
    folder = tmp_path / "out"
    manifest, cap = magic(shell, f'save {result.execution_id} "{folder}"')
    assert manifest == folder / "manifest.json" and str(manifest) in cap.stdout
    doc = json.loads(manifest.read_text())
    files = [o["file"] for o in doc["outputs"]]
    assert files and all((folder / f).stat().st_size > 0 for f in files)
    assert all(f in cap.stdout for f in files)


def test_the_key_never_reaches_outputs_or_the_journal(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    key = sandbox_env.api_key
    result, cap = magic(shell, 'run "Text to Image" Prompt=secretive')
    data, metadata = result._repr_mimebundle_()
    _, hist = magic(shell, "history")
    shown = json.dumps([data, metadata]) + texts(cap) + texts(hist) + texts(hist, "text/html")
    shown += repr(result) + repr(get_session().settings)
    assert key not in shown
    assert key.encode() not in Path(os.environ["LAMINA_JOURNAL"]).read_bytes()


def test_a_parameter_whose_name_holds_an_equals_sign_takes_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Name=x=1` splits at the first `=`; an app whose parameter is called `Name=x` still gets
    `1` (real metadata is not ours to choose: hostile or careless names have `=` in them)."""
    app = {
        "name": "Equals App",
        "duration": 1,
        "parameters": [
            {"name": "Weight=kg", "type": "text"},
            {"name": "Note", "type": "text", "default": ""},
        ],
        "outputs": [{"label": "Echo", "type": "text", "text": "ok"}],
    }
    with Sandbox(time_scale=0.02, rate_limit=0, extra_apps=[app]) as sb:
        monkeypatch.setenv("LAMINA_API_KEY", sb.api_key)
        monkeypatch.setenv("LAMINA_BASE_URL", sb.base_url)
        for shell in loaded_shell():
            result, _ = magic(shell, 'run "Equals App" "Weight=kg=12" "Note=a=b"')
            assert isinstance(result, Result) and result.status == "completed"
            assert result.inputs == {"Weight=kg": "12", "Note": "a=b"}
            # "Weight=kg" has no default: the sandbox refuses a run without it, so it was sent.
