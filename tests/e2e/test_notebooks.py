"""The demo notebooks: committed clean and small, execute top to bottom, install from binder/.

Execution uses the same runner as `make demo` (scripts/run_notebooks.py) with real kernels and
the embedded sandbox on a compressed clock.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import pwd
import re
import shutil
import subprocess
import sys
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


def load_lab_copies() -> Any:
    """scripts/lab_notebooks.py, what `make lab` runs before JupyterLab starts."""
    if "lab_notebooks" in sys.modules:
        return sys.modules["lab_notebooks"]
    spec = importlib.util.spec_from_file_location(
        "lab_notebooks", REPO / "scripts" / "lab_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["lab_notebooks"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean_and_small(path: Path) -> None:
    assert_clean(path)


def assert_clean(path: Path) -> None:
    """What a tracked notebook must be: small, valid, no outputs, counts or widget state, no key."""
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
    nb = nbformat.read(run.executed, as_version=4)
    shown = " ".join(  # what the cells printed, as read (notes wrap between words)
        " ".join(o.get("text", "").split()) for c in nb.cells for o in c.get("outputs", [])
    )
    assert "runs are real and billed" in shown and "Using the Lamina sandbox" not in shown
    assert sandbox.api_key not in text


def make(target: str, lab_dir: Path) -> subprocess.CompletedProcess[str]:
    """`make TARGET` as a person types it, with JupyterLab replaced by `true` and this venv's
    bin (the venv stamp is taken as up to date: a test never reinstalls the venv)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    cmd = [
        "make", "--no-print-directory", "-o", ".venv/.installed", target, f"LAB_DIR={lab_dir}",
        "LAB_CMD=true", f"BIN={Path(sys.executable).parent}",
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout}\n{done.stderr}"
    return done


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.kernel
def test_make_lab_then_run_all_and_save_leaves_the_tracked_notebooks_clean(
    tmp_path: Path,
) -> None:
    """`make lab`, Run All, save, `make lab` again, `make test`: notebooks/ never changes, the
    saved copy is never overwritten, and `make lab-reset` keeps it aside."""
    tracked = {p.name: sha256(p) for p in NOTEBOOKS}
    lab = tmp_path / "build" / "lab"  # the layout of build/lab/, away from a real user's copies
    make("lab", lab)
    assert sorted(p.name for p in lab.glob("*.ipynb")) == EXPECTED
    assert all(sha256(lab / name) == digest for name, digest in tracked.items())

    # Run All + save in JupyterLab = execute the working copy and write it back in place.
    runner = load_runner()
    copy = lab / "01-quickstart.ipynb"
    env = runner.kernel_env(tmp_path / "kernel-home", FAST)
    run = runner.execute(copy, lab, env, timeout=180, html=False)
    assert run.ok, run.error
    assert run.executed == copy
    saved = copy.read_bytes()
    code = [c for c in nbformat.reads(saved.decode(), as_version=4).cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code) and code[0].outputs, "the save kept no run"

    for path in NOTEBOOKS:
        assert sha256(path) == tracked[path.name], f"{path.name} changed under make lab"
        assert_clean(path)  # what `make test` checks: still green

    again = make("lab", lab)
    assert copy.read_bytes() == saved, "make lab overwrote a notebook the user had saved"
    for note in ("new copy", "updated from", "yours is kept"):  # notebooks/ did not change
        assert note not in again.stdout, again.stdout

    reset = make("lab-reset", lab)
    assert sha256(copy) == tracked[copy.name]
    (aside,) = (lab / "previous").glob("*/01-quickstart.ipynb")
    assert aside.read_bytes() == saved and f"previous/{aside.parent.name}" in reset.stdout


def test_lab_copies_follow_notebooks_until_edited_and_keep_the_users_own(tmp_path: Path) -> None:
    """After a `git pull`: an untouched copy takes the new version; an edited one stays, with a
    note; a notebook of the user's own in build/lab/ is never touched."""
    copies = load_lab_copies()
    source, lab = tmp_path / "notebooks", tmp_path / "lab"
    source.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        (source / name).write_text(f'{{"v": 1, "name": "{name}"}}')
    first = copies.prepare(lab, source)
    assert first.created == ["a.ipynb", "b.ipynb"]
    (lab / "b.ipynb").write_text('{"edited": true}')
    (lab / "mine.ipynb").write_text('{"mine": true}')
    for name in ("a.ipynb", "b.ipynb"):
        (source / name).write_text(f'{{"v": 2, "name": "{name}"}}')

    pulled = copies.prepare(lab, source)
    assert pulled.refreshed == ["a.ipynb"] and pulled.stale == ["b.ipynb"]
    assert (lab / "a.ipynb").read_text() == (source / "a.ipynb").read_text()
    assert (lab / "b.ipynb").read_text() == '{"edited": true}'
    assert "b.ipynb: yours is kept" in copies.summary(pulled, lab)
    assert copies.prepare(lab, source).stale == ["b.ipynb"], "the note stays until a reset"

    reset = copies.prepare(lab, source, reset=True)
    assert list(reset.moved) == ["b.ipynb"]
    assert reset.moved["b.ipynb"].read_text() == '{"edited": true}'
    assert (lab / "b.ipynb").read_text() == (source / "b.ipynb").read_text()
    assert (lab / "mine.ipynb").read_text() == '{"mine": true}'
    second = copies.prepare(lab, source, reset=True)  # nothing edited: nothing moved, no folder
    assert second.moved == {} and len(list((lab / "previous").iterdir())) == 1


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
    names = (
        "jupyterlab",
        "ipywidgets",
        "jupyterlab-widgets",
        "imageio-ffmpeg",
        "jupyter-server-proxy",
    )
    for name in names:
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
    # The Jupyter server there routes /proxy/PORT/ (session/proxy.py sends sandbox media so).
    extensions = subprocess.run(
        [str(python), "-m", "jupyter", "server", "extension", "list"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    listing = re.sub(r"\x1b\[[0-9;]*m", "", extensions.stdout + extensions.stderr)
    assert re.search(r"jupyter_server_proxy enabled", listing), listing
    assert re.search(r"jupyter_server_proxy \S+ OK", listing), listing
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
