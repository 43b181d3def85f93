"""What %lamina puts on screen: sandbox media through the Jupyter server's proxy (Binder), the
terminal's width for `info`, the two-line sandbox banner, the progress line in a terminal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_support import loaded_shell, magic, texts

from lamina_notebook.session.results import Result


@pytest.fixture
def shell(sandbox_env: Any) -> Iterator[InteractiveShell]:
    yield from loaded_shell()


@pytest.fixture
def proxied(
    shell: InteractiveShell, sandbox_env: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    """The sandbox as %lamina sandbox gives it, behind a Jupyter server at /user/me/ (as
    on Binder: LAMINA_PROXY_PREFIX says where)."""
    monkeypatch.setenv("LAMINA_SANDBOX_URL", sandbox_env.base_url)
    monkeypatch.setenv("LAMINA_PROXY_PREFIX", "/user/me/")
    magic(shell, "sandbox")
    yield shell
    magic(shell, "sandbox --stop")


def test_sandbox_media_in_html_go_through_the_jupyter_proxy(
    proxied: InteractiveShell, sandbox_env: Any
) -> None:
    port = urlsplit(sandbox_env.base_url).port
    result, _ = magic(proxied, 'run "Text to Image" "Prompt=a proxied fox"')
    assert isinstance(result, Result)
    data, _ = result._repr_mimebundle_()
    url = result.urls[0]
    assert url.startswith(sandbox_env.base_url)  # the object keeps the real URL
    path = url[len(sandbox_env.base_url) :]
    assert f'href="/user/me/proxy/{port}{path}"' in data["text/html"]
    assert sandbox_env.base_url not in data["text/html"]
    assert url in data["text/plain"]  # terminals and downloads keep the real URL
    status, _ = magic(proxied, f"status {result.execution_id[:8]}")
    assert f"/user/me/proxy/{port}{path}" in status._repr_mimebundle_()[0]["text/html"]
    # a --no-wait handle redrawn from the loop thread when it ends: the same route
    handle, _ = magic(proxied, 'run "Text to Image" "Prompt=a later fox" --no-wait')
    done = handle.result(timeout=60)
    assert f"/user/me/proxy/{port}/files/" in done._repr_mimebundle_()[0]["text/html"]
    _, cap = magic(proxied, "doctor")
    assert "through the Jupyter server at /user/me/proxy/PORT/ (found by LAMINA_PROXY_PREFIX)" in (
        texts(cap)
    )


def test_the_sandbox_banner_is_two_short_lines(
    shell: InteractiveShell, sandbox_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMINA_SANDBOX_URL", sandbox_env.base_url)
    _, cap = magic(shell, "sandbox")
    lines = cap.stdout.strip().splitlines()
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines), lines
    assert lines[0].startswith("Using the Lamina sandbox at ") and "simulated" in lines[0]
    assert lines[1].endswith("%lamina sandbox --stop")
    magic(shell, "sandbox --stop")


@pytest.mark.parametrize("columns", [80, 60])
def test_info_in_a_terminal_fits_its_width_with_every_option_whole(
    shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))  # what shutil reads for the terminal's width
    _, cap = magic(shell, 'info "Photo Stylizer"')
    text = cap.outputs[0].data["text/plain"]
    table = text.split("\n")[2:-2]  # the parameter table (not the name or example lines)
    assert all(len(line) <= columns for line in table), "\n".join(table)
    for option in ("Disney / Pixar", "Ghibli", "Watercolor", "Comic", "Claymation", "Cyberpunk"):
        assert any(option in line for line in table), option  # never cut inside a name
    assert "Disney / Pixar" in texts(cap, "text/html")


def test_the_progress_line_of_a_terminal_is_gone_before_the_result(
    shell: InteractiveShell,
) -> None:
    _, cap = magic(shell, 'run "Text to Image" "Prompt=a quick one"')
    raw = cap.stdout
    assert raw.startswith("\r") and raw.endswith("\r")  # drawn in place, blanked at the end
    last = raw.rstrip("\r").split("\r")[-1]
    assert last.strip() == "" and "\n" not in raw  # nothing left behind, no stray newline
    assert re.search(r"Text to Image\s+(queued|running|completed)\s+\[", raw)
