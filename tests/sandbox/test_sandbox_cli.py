"""The ``lamina-sandbox`` command, run as a real subprocess."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from lamina_notebook.sandbox.__main__ import main, parser

FLAGS = (
    "--host",
    "--port",
    "--api-key",
    "--time-scale",
    "--rate-limit",
    "--error-rate",
    "--latency",
    "--drop-rate",
    "--fail-rate",
)


def test_help_lists_every_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lamina_notebook.sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for flag in FLAGS:
        assert flag in out
    assert "127.0.0.1" in out


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("lamina-sandbox")
    assert script.exists(), "pip install -e . creates the lamina-sandbox script"


def test_bad_flag_values_name_the_fix(capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit):
        parser().parse_args(["--error-rate", "3"])
    with pytest.raises(SystemExit):
        main(["--time-scale", "0"])


def test_start_serve_and_stop_with_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lamina_notebook.sandbox",
            "--port",
            "0",
            "--api-key",
            "lma_cli",
            "--time-scale",
            "0.01",
            "--rate-limit",
            "0",
            "--signing-key",
            str(tmp_path / "k.pem"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        base = re.search(r"(http://127\.0\.0\.1:\d+)", lines[0])
        assert base, lines
        assert "lma_cli" in lines[1] and "curl" in lines[2]
        r = httpx.get(
            f"{base.group(1)}/api/apps", headers={"x-api-key": "lma_cli"}, trust_env=False
        )
        assert r.status_code == 200 and r.json()["data"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "sandbox stopped" in out
    assert "Traceback" not in err
    assert (tmp_path / "k.pem").exists()
