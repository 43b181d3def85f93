"""Credentials: arguments, then LAMINA_* variables, then the CLI's ~/.lamina/config.json."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from lamina_notebook.config import (
    DEFAULT_BASE_URL,
    config_path,
    normalize_base_url,
    resolve_credentials,
    save_credentials,
)
from lamina_notebook.errors import ConfigurationError


def write_cli_config(home: Path, key: str = "lma_file", base: str | None = None) -> Path:
    path = home / ".lamina" / "config.json"
    path.parent.mkdir(mode=0o700)
    creds = {"kind": "apikey", "apiKey": key, "savedAt": "2026-01-01T00:00:00Z"}
    if base:
        creds["baseUrl"] = base
    path.write_text(json.dumps({"version": 1, "credentials": creds}))
    path.chmod(0o600)
    return path


def test_argument_wins_over_environment_and_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cli_config(isolated_home)
    monkeypatch.setenv("LAMINA_API_KEY", "lma_env")
    creds = resolve_credentials("lma_arg", "http://127.0.0.1:9")
    assert (creds.api_key, creds.key_source, creds.base_url) == (
        "lma_arg",
        "argument",
        "http://127.0.0.1:9",
    )


def test_environment_wins_over_file(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_cli_config(isolated_home, base="http://saved.example")
    monkeypatch.setenv("LAMINA_API_KEY", "lma_env")
    monkeypatch.setenv("LAMINA_BASE_URL", "http://env.example/")
    creds = resolve_credentials()
    assert (creds.api_key, creds.key_source, creds.base_url) == (
        "lma_env",
        "LAMINA_API_KEY",
        "http://env.example",
    )


def test_file_in_the_cli_format_is_read(isolated_home: Path) -> None:
    write_cli_config(isolated_home, base="http://saved.example:8080")
    creds = resolve_credentials()
    assert creds.api_key == "lma_file"
    assert creds.key_source == "~/.lamina/config.json"
    assert creds.base_url == "http://saved.example:8080"


def test_file_base_url_is_not_used_with_a_key_from_elsewhere(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sandbox URL saved in the file must not receive a real key from the environment.
    write_cli_config(isolated_home, base="http://127.0.0.1:5555")
    monkeypatch.setenv("LAMINA_API_KEY", "lma_env")
    assert resolve_credentials().base_url == DEFAULT_BASE_URL


def test_no_key_anywhere_gives_none() -> None:
    creds = resolve_credentials()
    assert creds.api_key is None and creds.key_source is None
    assert creds.base_url == DEFAULT_BASE_URL


def test_repr_never_shows_the_key() -> None:
    creds = resolve_credentials("lma_supersecret")
    assert "lma_supersecret" not in repr(creds)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("https://app.uselamina.ai", "https://app.uselamina.ai"),
        ("https://app.uselamina.ai/", "https://app.uselamina.ai"),
        ("https://app.uselamina.ai/api", "https://app.uselamina.ai"),
        ("https://app.uselamina.ai/api/", "https://app.uselamina.ai"),
        ("http://127.0.0.1:8000/proxy", "http://127.0.0.1:8000/proxy"),
    ],
)
def test_base_url_is_normalized(raw: str, expected: str) -> None:
    assert normalize_base_url(raw) == expected


def test_custom_prefix_is_stripped_too() -> None:
    assert normalize_base_url("https://x.example/v1", "/v1") == "https://x.example"


@pytest.mark.parametrize(
    "bad",
    [
        "app.uselamina.ai",
        "ftp://x.example",
        "javascript:alert(1)",
        "https://user:pw@x.example",
        "https://x.example/?a=1",
    ],
)
def test_bad_base_url_names_the_fix(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        normalize_base_url(bad)
    assert "https://app.uselamina.ai" in str(info.value)


@pytest.mark.parametrize("key", ["", "   ", "lma_a b", "lma_\nx"])
def test_malformed_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_credentials(key)
    assert "the api_key argument" in str(info.value)
    if key.strip():
        assert key.strip() not in str(info.value)


def test_broken_file_names_the_file_and_the_fix(isolated_home: Path) -> None:
    path = isolated_home / ".lamina" / "config.json"
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(ConfigurationError) as info:
        resolve_credentials()
    assert str(path) in str(info.value) and "%lamina login --save" in str(info.value)


def test_other_credential_kinds_are_ignored(isolated_home: Path) -> None:
    path = isolated_home / ".lamina" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"version": 1, "credentials": {"kind": "oauth", "token": "t"}}))
    assert resolve_credentials().api_key is None


def test_save_writes_the_cli_format_with_private_modes(isolated_home: Path) -> None:
    path = save_credentials("lma_saved", "http://127.0.0.1:7000/api")
    assert path == config_path() == isolated_home / ".lamina" / "config.json"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = json.loads(path.read_text())
    assert doc["version"] == 1
    creds = doc["credentials"]
    assert (creds["kind"], creds["apiKey"], creds["baseUrl"]) == (
        "apikey",
        "lma_saved",
        "http://127.0.0.1:7000",
    )
    assert creds["savedAt"].endswith("Z")
    again = resolve_credentials()
    assert (again.api_key, again.base_url) == ("lma_saved", "http://127.0.0.1:7000")


def test_save_tightens_an_existing_directory_and_keeps_other_fields(isolated_home: Path) -> None:
    folder = isolated_home / ".lamina"
    folder.mkdir(mode=0o755)
    (folder / "config.json").write_text(json.dumps({"version": 1, "telemetry": False}))
    save_credentials("lma_new")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    doc = json.loads((folder / "config.json").read_text())
    assert doc["telemetry"] is False
    assert doc["credentials"]["baseUrl"] == DEFAULT_BASE_URL
    assert [p.name for p in folder.iterdir()] == ["config.json"]  # no temp file left behind


def test_world_readable_file_warns_without_the_key(
    isolated_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_cli_config(isolated_home, key="lma_leaky")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="lamina_notebook.config"):
        assert resolve_credentials().api_key == "lma_leaky"
    assert "chmod 600" in caplog.text and "lma_leaky" not in caplog.text
