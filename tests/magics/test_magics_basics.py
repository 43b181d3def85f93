"""%lamina in a real InteractiveShell against the sandbox: loading, help, settings, apps/info,
errors, login, sandbox, doctor and tab completion."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from magics_support import fails, loaded_shell, magic, plain, run_cell, texts

from lamina_notebook.errors import AppNotFoundError, InputValidationError
from lamina_notebook.magics import LaminaMagics
from lamina_notebook.magics import help as command_help
from lamina_notebook.session import get_session, reset_session


@pytest.fixture
def shell(sandbox_env: Any) -> Iterator[InteractiveShell]:
    """A real InteractiveShell with the extension loaded, LAMINA_* pointing at the sandbox."""
    yield from loaded_shell()


@pytest.mark.parametrize("columns", [200, 60])
def test_loading_without_a_key_says_how_to_log_in_wrapped_to_the_terminal(
    columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    ip = InteractiveShell.instance()
    reset_session()
    with capture_output() as cap:
        ip.extension_manager.load_extension("lamina_notebook")
    try:
        lines = cap.stdout.strip().splitlines()
        assert len(lines) == 1 if columns > 100 else len(lines) > 1
        assert all(len(line) < columns for line in lines)
        text = " ".join(lines)
        assert "%lamina login" in text and "%lamina sandbox" in text
        assert "lamina" in ip.magics_manager.magics["line"]
        assert "lamina" in ip.magics_manager.magics["cell"]
    finally:
        with capture_output():
            ip.extension_manager.unload_extension("lamina_notebook")
        reset_session()


def test_loading_with_a_key_says_nothing(sandbox_env: Any) -> None:
    ip = InteractiveShell.instance()
    reset_session()
    with capture_output() as cap:
        ip.extension_manager.load_extension("lamina_notebook")
    try:
        assert cap.stdout == ""
    finally:
        with capture_output():
            ip.extension_manager.unload_extension("lamina_notebook")
        reset_session()


def test_overview_and_every_subcommand_help(shell: InteractiveShell) -> None:
    _, cap = magic(shell, "")
    assert "Subcommands:" in cap.stdout and "run" in cap.stdout
    for sub in command_help.SUBCOMMANDS:
        _, cap = magic(shell, f"{sub} --help")
        assert command_help.USAGE[sub] in cap.stdout, sub
    # %lamina? is IPython's help of the magic: the overview, not a one-line docstring
    with capture_output() as cap:
        shell.run_cell("%lamina?")
    assert command_help.HELP.splitlines()[0] in cap.stdout
    assert "Subcommands:" in cap.stdout and "%lamina grid" in cap.stdout
    assert "``" not in cap.stdout  # no raw reST markup
    for sub in command_help.SUBCOMMANDS:
        assert f"  {sub} " in cap.stdout, sub


def test_config_sets_traits_and_the_session_follows(shell: InteractiveShell) -> None:
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.poll_interval = 5")
        shell.run_line_magic("config", "LaminaMagics.embed_max_px = 300")
    assert get_session().settings.poll_interval == 5.0
    assert get_session().settings.embed_max_px == 300
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.poll_interval = 0.1")
    assert get_session().settings.poll_interval == 1.0  # floored: Lamina asks for >= 3 s
    with capture_output() as cap:
        shell.run_line_magic("config", "LaminaMagics")
    assert "poll_interval" in cap.stdout and "short_errors" in cap.stdout
    assert "confirm_over" in cap.stdout and "raise_on_failure" in cap.stdout
    # one %config changes one setting: what the session was given directly stays
    get_session().configure(poll_interval=0.25, min_poll_interval=0.25)
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.confirm_over = 3")
    settings = get_session().settings
    assert settings.confirm_over == 3 and settings.poll_interval == 0.25
    assert settings.embed_max_px == 300


def test_every_trait_has_help() -> None:
    traits = LaminaMagics.class_traits(config=True)
    for name, trait in traits.items():
        assert trait.help, name
    # one embedded copy per image at 512 px (render measured ~88 KB a saved photo output)
    from lamina_notebook.session import Settings

    assert traits["embed_max_px"].default_value == Settings().embed_max_px == 512
    assert traits["confirm_over"].default_value == Settings().confirm_over == 10
    assert traits["raise_on_failure"].default_value is True


def test_api_key_trait_is_write_only(shell: InteractiveShell, sandbox_env: Any) -> None:
    secret = "lma_secret_value_for_test"
    with capture_output():
        shell.run_line_magic("config", f"LaminaMagics.api_key = '{secret}'")
    session = get_session()
    assert session.settings.api_key == secret
    assert session.key_source() == "LaminaMagics.api_key"
    with capture_output() as cap:
        shell.run_line_magic("config", "LaminaMagics")
    _, doctor = magic(shell, "doctor")
    shown = cap.stdout + texts(doctor) + texts(doctor, "text/html")
    assert secret not in shown and secret not in repr(session.settings)
    assert "LaminaMagics.api_key" in texts(doctor)


def test_apps_table_and_output_variable(shell: InteractiveShell) -> None:
    _, cap = magic(shell, "apps --limit 3 -o found")
    found = shell.user_ns["found"]
    assert len(found) == 3
    assert found[0].name in texts(cap) and found[0].name in texts(cap, "text/html")
    _, cap = magic(shell, "apps portrait")
    assert "No apps match" in texts(cap)
    _, cap = magic(shell, "apps video")
    assert "Image to Video" in texts(cap)


@pytest.mark.parametrize(
    ("words", "wanted", "unwanted"),
    [
        ("photo style", ["Photo Stylizer"], ["Catalog Studio", "Text to Image"]),
        ("STYLE photo", ["Photo Stylizer"], ["Catalog Studio"]),  # any order, any case
        ("photos", ["Photo Stylizer", "Catalog Studio", "Model Photoshoot"], ["Text to Image"]),
        ("catalóg", ["Catalog Studio"], ["Photo Stylizer"]),  # accents ignored
        ("celeb selfie", ["Selfie With Celebrity"], ["Model Photoshoot"]),  # word prefixes
        ("mood pictures", ["Mood Board"], []),  # a workspace app, found in the full list
    ],
)
def test_apps_search_matches_every_word_as_a_user_expects(
    shell: InteractiveShell, words: str, wanted: list[str], unwanted: list[str]
) -> None:
    _, cap = magic(shell, f"apps {words} -o found")
    names = [a.name for a in shell.user_ns["found"]]
    for name in wanted:
        assert name in names, (words, names)
    for name in unwanted:
        assert name not in names, (words, names)
    assert "No apps match" not in texts(cap)


def test_info_shows_parameters_for_a_quoted_name_and_an_id(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    _, cap = magic(shell, 'info "Text to Image"')
    out = texts(cap)
    for word in ("Prompt", "Aspect Ratio", "Watercolor", "Photorealistic"):
        assert word in out
    app_id = sandbox_env.app_id("Photo Stylizer")
    _, cap = magic(shell, f"info {app_id}")
    assert "Disney / Pixar" in texts(cap, "text/html")


def test_errors_fail_the_cell_with_one_short_message_and_the_fix(
    shell: InteractiveShell,
) -> None:
    """A mistake fails the cell (Run All stops there), shown as its message and fix: no
    traceback through our frames, and the exception keeps its type."""
    exc, cap = fails(shell, 'run "Text to Image" "Style=Mars"')
    assert isinstance(exc, InputValidationError)
    out = texts(cap)
    assert "Photorealistic, Watercolor" in out  # the valid labels are the fix
    assert "Prompt" in out and "Traceback" not in out
    assert out.strip().startswith("InputValidationError: ")
    assert "\x1b[1;31mInputValidationError" in cap.stdout  # the headline is red
    assert cap.outputs == []  # said once, as the cell's error
    exc, cap = fails(shell, "info Nonexistent")
    assert isinstance(exc, AppNotFoundError)
    assert "Nonexistent" in texts(cap) and "%lamina apps" in texts(cap)
    _, cap = fails(shell, "rnu")
    assert "run" in texts(cap)  # "Did you mean 'run'?"
    _, cap = fails(shell, 'run "Text to Image" Prompt=one two')
    assert "quote" in texts(cap).lower()
    # the line after a failing magic in the same cell is not reached
    result, cap = run_cell(shell, "%lamina info Nonexistent\nreached = True")
    assert result.error_in_exec is not None and "reached" not in shell.user_ns


def test_a_direct_call_raises_the_error_itself(shell: InteractiveShell) -> None:
    """Code calling the magic (run_line_magic) can catch the error by its type."""
    with pytest.raises(InputValidationError) as info, capture_output():
        shell.run_line_magic("lamina", 'run "Text to Image" "Style=Mars"')
    assert "Photorealistic" in plain("\n".join(info.value._render_traceback_()))


def test_short_errors_false_shows_the_full_traceback(shell: InteractiveShell) -> None:
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.short_errors = False")
    try:
        with pytest.raises(InputValidationError) as info:
            shell.run_line_magic("lamina", 'run "Text to Image" "Style=Mars"')
        assert not hasattr(info.value, "_render_traceback_")
        with pytest.raises(AppNotFoundError):
            shell.run_line_magic("lamina", "info Nonexistent")
        _, cap = fails(shell, "info Nonexistent")
        assert "Traceback" in plain(cap.stdout) and "AppNotFoundError" in plain(cap.stdout)
    finally:
        with capture_output():
            shell.run_line_magic("config", "LaminaMagics.short_errors = True")


def test_login_keeps_the_key_in_memory_and_save_writes_the_cli_file(
    shell: InteractiveShell,
    sandbox_env: Any,
    monkeypatch: pytest.MonkeyPatch,
    isolated_home: Path,
) -> None:
    monkeypatch.delenv("LAMINA_API_KEY")
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:  # the terminal prompt itself cannot be typed into
        prompts.append(prompt)
        return sandbox_env.api_key

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    _, cap = magic(shell, "login")
    assert "in memory" in cap.stdout and sandbox_env.api_key not in texts(cap)
    assert get_session().key_source() == "%lamina login"
    _, cap = magic(shell, "apps --limit 1")  # the key works
    assert "App id" in texts(cap)
    _, cap = magic(shell, "login --save")
    path = isolated_home / ".lamina" / "config.json"
    doc = json.loads(path.read_text())
    assert doc["version"] == 1 and doc["credentials"]["apiKey"] == sandbox_env.api_key
    assert doc["credentials"]["kind"] == "apikey"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sandbox_env.api_key not in texts(cap)
    monkeypatch.setattr("getpass.getpass", lambda prompt: "")
    _, cap = fails(shell, "login")
    assert "No key entered" in texts(cap)


def test_sandbox_starts_embedded_says_simulated_and_stop_restores(
    shell: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMINA_API_KEY")
    monkeypatch.delenv("LAMINA_BASE_URL")
    session = get_session()
    _, cap = magic(shell, "sandbox --time-scale 0.02")
    try:
        assert "simulated" in cap.stdout
        assert session.sandbox is not None and session.sandbox.embedded is not None
        assert session.key_source() == "sandbox"
        _, cap = magic(shell, "apps --limit 2")
        assert "App id" in texts(cap)
        _, cap = magic(shell, "doctor")
        assert "embedded at http://127.0.0.1" in texts(cap)
        assert "loaded directly from the sandbox" in texts(cap)  # no Jupyter server here
    finally:
        _, cap = magic(shell, "sandbox --stop")
    assert "stopped" in cap.stdout
    assert session.sandbox is None and session.settings.base_url is None
    assert session.key_source() is None


def test_sandbox_if_no_key_keeps_a_configured_key(
    shell: InteractiveShell, sandbox_env: Any
) -> None:
    _, cap = magic(shell, "sandbox --if-no-key")
    assert "Using the Lamina service at " + sandbox_env.base_url in cap.stdout
    assert "LAMINA_API_KEY" in cap.stdout and sandbox_env.api_key not in cap.stdout
    assert get_session().sandbox is None


def test_sandbox_if_no_key_starts_the_sandbox_without_a_key(
    shell: InteractiveShell,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMINA_API_KEY")
    monkeypatch.delenv("LAMINA_BASE_URL")
    _, cap = magic(shell, "sandbox --if-no-key --time-scale 0.02")
    try:
        assert "simulated" in cap.stdout
        assert get_session().key_source() == "sandbox"
    finally:
        magic(shell, "sandbox --stop")


def test_sandbox_honours_an_external_sandbox_url(
    shell: InteractiveShell,
    sandbox_env: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LAMINA_API_KEY")
    monkeypatch.setenv("LAMINA_SANDBOX_URL", sandbox_env.base_url)
    _, cap = magic(shell, "sandbox")
    assert sandbox_env.base_url in cap.stdout
    assert get_session().sandbox.embedded is None
    _, cap = magic(shell, "doctor")
    assert "LAMINA_SANDBOX_URL" in texts(cap)
    magic(shell, "sandbox --stop")


def test_doctor_reports_versions_key_source_reachability_and_journal(
    shell: InteractiveShell,
    sandbox_env: Any,
) -> None:
    _, cap = magic(shell, "doctor")
    out = texts(cap)
    for word in (
        "ipywidgets",
        "jupyterlab_widgets",
        "terminal IPython",
        "LAMINA_API_KEY",
        "HTTP 200",
        os.environ["LAMINA_JOURNAL"],
        sandbox_env.base_url,
        "/v1 (auto)",  # the edition auto found
        "Sandbox Workspace (sandbox), owner",  # from GET /v1/account
    ):
        assert word in out, word
    assert sandbox_env.api_key not in out + texts(cap, "text/html")
    assert "sandbox@example.com" not in out  # an email would stay in a saved notebook


def test_doctor_shows_the_edition_set_with_config(shell: InteractiveShell) -> None:
    from traitlets import TraitError

    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.api_edition = 'api'")
    assert get_session().settings.api_edition == "api"
    _, cap = magic(shell, "doctor")
    out = texts(cap)
    assert "/api (LaminaMagics.api_edition='api')" in out and "HTTP 200" in out
    assert "workspace" not in out  # the /api edition has no account
    magics = next(c for c in shell.configurables if isinstance(c, LaminaMagics))
    with pytest.raises(TraitError, match="not an edition"):
        magics.api_edition = "v2"
    assert magics.api_edition == "api"


def test_doctor_reports_an_unreachable_base_url(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch
) -> None:
    get_session().configure(request_timeout=2.0)
    with capture_output():
        shell.run_line_magic("config", "LaminaMagics.base_url = 'http://127.0.0.1:9'")
    _, cap = magic(shell, "doctor")
    assert "unreachable" in texts(cap)


def _complete(ip: InteractiveShell, text: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


def test_completion_of_subcommands_apps_parameters_and_options(shell: InteractiveShell) -> None:
    assert "run" in _complete(shell, "%lamina ru")
    magic(shell, "apps")  # fills the cache (completion itself never waits for the network)
    magic(shell, 'info "Text to Image"')
    assert '"Text to Image"' in _complete(shell, '%lamina run "Text')
    assert '"Text to Image"' in _complete(shell, "%lamina info Tex")
    assert "Style=" in _complete(shell, '%lamina run "Text to Image" Sty')
    assert '"Aspect Ratio=' in _complete(shell, '%lamina run "Text to Image" Asp')
    assert "Style=Watercolor" in _complete(shell, '%lamina run "Text to Image" Style=W')
    assert "--no-wait" in _complete(shell, '%lamina run "Text to Image" --no')
    assert _complete(shell, '%lamina run "Text to Image" Style=W')[0].startswith("Style=")


def test_completion_fetches_the_app_list_in_the_background(shell: InteractiveShell) -> None:
    import time

    session = get_session()
    assert session.cached_apps() == []
    _complete(shell, "%lamina info Pho")  # starts the fetch, returns at once
    deadline = time.monotonic() + 10
    while not session.cached_apps() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert '"Photo Stylizer"' in _complete(shell, "%lamina info Pho")


def test_loading_in_a_cell_that_picks_the_backend_skips_the_hint() -> None:
    ip = InteractiveShell.instance()
    reset_session()
    with capture_output() as cap:
        ip.run_cell(
            "%load_ext lamina_notebook\n%lamina sandbox --if-no-key --time-scale 0.02",
            store_history=True,
        )
    try:
        assert "No Lamina API key" not in cap.stdout
        assert "simulated" in cap.stdout
    finally:
        with capture_output():
            ip.run_line_magic("lamina", "sandbox --stop")
            ip.extension_manager.unload_extension("lamina_notebook")
        reset_session()
