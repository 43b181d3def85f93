"""The demo notebooks: committed clean and small, execute top to bottom, install from binder/.

Execution uses the same runner as `make demo` (scripts/run_notebooks.py) with real kernels and
the embedded sandbox on a compressed clock.
"""

from __future__ import annotations

import io
import os
import pwd
import subprocess
import venv
from pathlib import Path
from typing import Any

import nbformat
import pytest
from notebook_runner import load_runner

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED = ["01-quickstart.ipynb", "02-widget.ipynb", "03-style-sweep.ipynb", "04-webhooks.ipynb"]
MAX_COMMITTED_BYTES = 100_000
FAST = 0.02
# The sandbox's default key; like any key it must never reach a saved notebook.
SANDBOX_KEY = "lma_sandbox"


def test_the_four_demo_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean_and_small(path: Path) -> None:
    assert path.stat().st_size < MAX_COMMITTED_BYTES, f"{path.name}: strip outputs before commit"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata, f"{path.name} carries saved widget state"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs: {cell.source[:60]!r}"
            assert cell.execution_count is None, f"{path.name}: execution counts left in"
    assert SANDBOX_KEY not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_loads_the_extension_and_picks_the_backend(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code").source
    # One visible line picks the backend: the real service with a key, else the sandbox.
    assert first.splitlines() == ["%load_ext lamina_notebook", "%lamina sandbox --if-no-key"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_top_to_bottom_with_embedded_images(path: Path, tmp_path: Path) -> None:
    runner = load_runner()
    (run,) = runner.run_all([path], tmp_path, time_scale=FAST, timeout=180)
    assert run.ok, f"{path.name} failed:\n{run.error}"
    assert not [line for line in run.stderr_lines if "Traceback" in line], run.stderr_lines
    executed = nbformat.read(run.executed, as_version=4)
    assert all(c.execution_count for c in executed.cells if c.cell_type == "code")
    assert run.images >= 1, f"{path.name}: no image embedded in the executed notebook"
    picture = runner.first_image(executed)
    if picture is not None:
        from PIL import Image

        with Image.open(io.BytesIO(picture)) as img:
            assert min(img.size) >= 16
    saved = run.executed.read_text(encoding="utf-8") + run.html.read_text(encoding="utf-8")
    assert SANDBOX_KEY not in saved, "the API key leaked into a saved notebook or its HTML"
    assert "data:image/" in run.html.read_text(encoding="utf-8")


@pytest.mark.kernel
def test_with_a_key_the_same_notebook_uses_the_configured_service(
    sandbox: Any, tmp_path: Path
) -> None:
    """LAMINA_API_KEY set: no embedded sandbox; every run goes to LAMINA_BASE_URL."""
    before = sandbox.stats.run_creations
    service = {"LAMINA_API_KEY": sandbox.api_key, "LAMINA_BASE_URL": sandbox.base_url}
    (run,) = load_runner().run_all(
        [REPO / "notebooks" / "01-quickstart.ipynb"], tmp_path, env_extra=service, html=False
    )
    assert run.ok, run.error
    assert sandbox.stats.run_creations - before == 2, "both runs must reach the configured service"
    text = run.executed.read_text(encoding="utf-8")
    assert "runs are real and billed" in text and "Using the Lamina sandbox" not in text
    assert sandbox.api_key not in text


def test_runner_reports_a_failing_notebook_and_exits_non_zero(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = 1"),
            nbformat.v4.new_code_cell("raise RuntimeError('boom from the demo')"),
            nbformat.v4.new_code_cell("y = 2"),
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    runner = load_runner()
    code = runner.main([str(broken), "--out", str(tmp_path / "out"), "--no-html"])
    assert code == 1
    (run,) = runner.run_all([broken], tmp_path / "again", html=False)
    assert not run.ok and "boom from the demo" in (run.error or "")
    assert run.executed.exists(), "a failed notebook's partial copy must still be written"


def test_binder_requirements_install_the_repo_with_compatible_widget_pins() -> None:
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    lines = [
        ln.split("#")[0].strip()
        for ln in (REPO / "binder" / "requirements.txt").read_text().splitlines()
    ]
    lines = [ln for ln in lines if ln]
    assert lines[0].startswith("."), "binder must install this repository (repo2docker: '.')"
    pins = {Requirement(ln).name.lower().replace("_", "-"): Requirement(ln) for ln in lines[1:]}
    for name in ("jupyterlab", "ipywidgets", "jupyterlab-widgets", "imageio-ffmpeg"):
        assert name in pins and str(pins[name].specifier).startswith("=="), f"pin {name}"
    # Every widget package ipywidgets itself asks for must be satisfied by our pins.
    ipywidgets_version = str(pins["ipywidgets"].specifier)[2:]
    from importlib.metadata import version

    if version("ipywidgets") == ipywidgets_version:
        for raw in requires("ipywidgets") or []:
            req = Requirement(raw)
            key = req.name.lower().replace("_", "-")
            if key in pins and not req.marker:
                pinned = str(pins[key].specifier)[2:]
                assert req.specifier.contains(pinned), f"{key}=={pinned} vs ipywidgets {req}"
    assert (REPO / "binder" / "runtime.txt").read_text().strip().startswith("python-3.")
    assert os.access(REPO / "binder" / "postBuild", os.X_OK), "postBuild must be executable"


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.timeout(900)
def test_binder_environment_runs_every_notebook(tmp_path: Path) -> None:
    """What mybinder.org does: a fresh venv, pip install -r binder/requirements.txt, run all."""
    env_dir = tmp_path / "binder-venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # The per-test HOME is empty: point pip at the real user's cache so wheels are reused.
    cache = os.environ.get("PIP_CACHE_DIR") or str(
        Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "pip"
    )
    pip_env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CACHE_DIR": cache}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        cwd=REPO, env=pip_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, lamina_notebook, ipywidgets; print(lamina_notebook.__file__, sys.prefix)",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    assert str(env_dir) in check.stdout and str(REPO) not in check.stdout.split()[0]
    demo = subprocess.run(
        [str(python), str(REPO / "scripts" / "run_notebooks.py"), "--out", str(tmp_path / "out"),
         "--time-scale", str(FAST)],
        cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert demo.returncode == 0, f"failed in the Binder env:\n{demo.stdout}\n{demo.stderr}"
    for name in EXPECTED:
        assert (tmp_path / "out" / name).exists() and (tmp_path / "out" / name).with_suffix(
            ".html"
        ).exists()
    assert "FAILED" not in demo.stdout
