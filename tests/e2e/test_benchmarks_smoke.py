"""The benchmarks still run, and their yardsticks are right.

``python -m benchmarks --quick`` runs every figure at tiny sizes in a subprocess: no timing
assertions (benchmarks are not tests), only that every figure ran, produced rows and was written
to the JSON record. The other tests check what the figures divide by or compare against: figure
1's lower bound under a rolling window, figure 2's reimplementation of the SDK's ``runs.wait``
(against a real sandbox), figure 4's photograph, the sandbox process of figures 3 and 8 (its
counters), and figure 9's old-code baseline and picture counts.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks import sdk
from benchmarks.__main__ import FIGURES
from benchmarks.sweep import clairvoyant_makespan, lower_bound
from benchmarks.weight import CROP, photo_crops

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.kernel
def test_every_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["machine"]["cpus"]
    assert [f["key"] for f in doc["figures"]] == list(FIGURES)
    for figure in doc["figures"]:
        assert not figure["title"].endswith("FAILED"), figure
        assert figure["rows"] and all(len(r) == len(figure["columns"]) for r in figure["rows"])
        assert set(figure["load"]) == {"start", "end"}
    for key in FIGURES:
        assert f"## {key}. " in proc.stdout
    assert "Machine:" in proc.stdout and "load average" in proc.stdout
    # Figure 2's baseline is the SDK reimplementation, watching the same runs as ours.
    detection = next(f for f in doc["figures"] if f["key"] == "2")
    assert detection["rows"][0][0].startswith("baseline: Lamina SDK runs.wait")
    delays = detection["data"]["delays_service_seconds"]
    assert len(delays) == 5 and all(len(d) == detection["data"]["runs"] for d in delays.values())
    # Figure 3 reports how loaded the machine was.
    responsiveness = next(f for f in doc["figures"] if f["key"] == "3")
    assert responsiveness["data"]["cpus"] and "load_before" in responsiveness["data"]
    # Figure 8 filled its grid in a real kernel, timed cells before and during the fill, and
    # the rerun / extension cost what the journal says: nothing, and only the new row.
    grid = next(f for f in doc["figures"] if f["key"] == "8")["data"]
    for arm in grid["arms"].values():
        assert arm["idle"] and arm["busy"] and arm["fill_error"] is None
        counts = arm["report"]["counts"]
        assert counts["completed"] == counts["cells"] == arm["setup"]["cells"] == 4
        assert arm["server"]["run_creations"] == 4
    process = grid["arms"]["process"]
    assert process["rerun"]["runs"] == 0 == process["rerun"]["server"]["run_creations"]
    assert process["extend"]["server"]["run_creations"] == 2
    assert process["extend"]["counts"]["completed"] == 6
    # Figure 9 ran the quickstart and saw every picture it shows in nbconvert's HTML.
    quickstart = next(f for f in doc["figures"] if f["key"] == "9")["data"]["arms"]["now"]
    assert quickstart["visible"] == quickstart["shown"] > 0
    assert not quickstart["errors"] and not quickstart["key_leaked"]
    # README's section can be written from the record: a row per figure, none failed.
    from benchmarks.readme import section

    rows = [line for line in section(doc).splitlines() if line.startswith("| ")]
    assert [r.split(" | ")[0] for r in rows[1:]] == [f"| {key}" for key in FIGURES]
    assert not any(r.endswith("| | | ✘ |") for r in rows)


@pytest.mark.slow
def test_unknown_figure_names_the_choices() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "99"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "choose from " + ", ".join(FIGURES) in proc.stderr


# -- figure 1: the lower bound under a rolling window ------------------------------------------


def test_a_rolling_window_lets_the_whole_sweep_go_in_one_burst() -> None:
    # 48 POSTs and 48 GETs are 96 <= 100 requests: one window holds them all, so the sweep's
    # floor is one run's server time, not 96 / 100 per minute = 57.6 s.
    assert lower_bound(48, 22.0, 2) == 22.0
    assert lower_bound(48, 22.0, 1) == 22.0
    # One request past a window waits for the next one.
    assert lower_bound(101, 22.0, 1) == 60.0 + 22.0
    assert lower_bound(150, 22.0, 2) == 120.0  # 300 requests: the third window's first slot
    # With LaminaClient's own 90 per window, the 91st of 96 requests waits a window.
    assert lower_bound(48, 22.0, 2, limit=90) == 60.0


@pytest.mark.parametrize("requests_per_run", [1, 2])
@pytest.mark.parametrize("runs", [1, 48, 90, 91, 100, 101, 150, 250])
@pytest.mark.parametrize("server_time", [0.5, 22.0, 59.0, 75.0, 200.0])
def test_the_bound_is_exact(runs: int, server_time: float, requests_per_run: int) -> None:
    """A client that knew the server time meets the bound: it is the true minimum."""
    bound = lower_bound(runs, server_time, requests_per_run)
    assert clairvoyant_makespan(runs, server_time, requests_per_run) == pytest.approx(bound)


# -- figure 2: the SDK's runs.wait against a real sandbox --------------------------------------


@pytest.fixture
def slow_sandbox() -> Any:
    """A sandbox whose runs last about a second, so a poll right after creation sees them open."""
    from lamina_notebook.sandbox import Sandbox

    with Sandbox(time_scale=0.2, rate_limit=0) as sb:
        yield sb


def _sdk_run(sb: Any, body: Any) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            lamina = sdk.LaminaSdk(http, sb.base_url, sb.api_key)
            edition = await lamina.detect_edition()
            started = await lamina.runs_run(sb.app_id("Text to Image"), {"Prompt": "a fox"})
            return edition, await body(lamina, lamina.run_id(started))

    return asyncio.run(go())


def test_sdk_wait_polls_at_once_and_returns_at_the_first_terminal_status(
    slow_sandbox: Any,
) -> None:
    seen: list[str] = []

    async def wait(lamina: sdk.LaminaSdk, run_id: str) -> dict[str, Any]:
        return await lamina.runs_wait(
            run_id, interval=0.1, on_poll=lambda data: seen.append(data["status"])
        )

    edition, final = _sdk_run(slow_sandbox, wait)
    assert edition in (sdk.V1, sdk.API)
    assert final["data"]["status"] == "completed" == seen[-1]
    assert seen[0] in ("queued", "running")  # the first poll went out before the run ended
    assert all(s not in sdk.TERMINAL for s in seen[:-1])


def test_sdk_wait_throws_a_429_instead_of_retrying(slow_sandbox: Any) -> None:
    async def wait(lamina: sdk.LaminaSdk, run_id: str) -> int:
        slow_sandbox.configure(force_429=1)
        before = slow_sandbox.stats.requests
        with pytest.raises(sdk.SdkError) as caught:
            await lamina.runs_wait(run_id, interval=0.05)
        assert slow_sandbox.stats.requests - before == 1  # no second try
        return caught.value.status

    assert _sdk_run(slow_sandbox, wait)[1] == 429


def test_sdk_wait_times_out_after_a_poll_not_before(slow_sandbox: Any) -> None:
    polls: list[str] = []

    async def wait(lamina: sdk.LaminaSdk, run_id: str) -> str:
        with pytest.raises(TimeoutError) as caught:
            await lamina.runs_wait(run_id, timeout=0.0, on_poll=lambda d: polls.append(d["status"]))
        return str(caught.value)

    message = _sdk_run(slow_sandbox, wait)[1]
    assert len(polls) == 1 and "Timed out waiting for execution" in message


# -- figure 4: the photograph ------------------------------------------------------------------


def test_the_photograph_crops_are_square_pngs_of_a_real_picture() -> None:
    from PIL import Image, ImageStat

    crops = photo_crops()
    assert len(crops) == 3 and len(set(crops)) == 3
    for data in crops:
        with Image.open(io.BytesIO(data)) as img:
            assert img.format == "PNG" and img.size == (CROP, CROP)
            # A photograph, not a flat synthetic picture: wide spread of tones in every channel.
            assert min(ImageStat.Stat(img.convert("RGB")).stddev) > 20


# -- the README section is written from the record ---------------------------------------------


def test_the_readme_section_is_replaced_and_nothing_else() -> None:
    from benchmarks.readme import replace_section

    readme = "# Title\n\nIntro.\n\n## Performance\n\nold table\n\n## After\n\nkept\n"
    new = replace_section(readme, "## Performance\n\nnew table\n")
    assert new == "# Title\n\nIntro.\n\n## Performance\n\nnew table\n\n## After\n\nkept\n"
    last = replace_section("# T\n\n## Performance\n\nold\n", "## Performance\n\nnew\n")
    assert last == "# T\n\n## Performance\n\nnew\n"


# -- figures 3 and 8: the sandbox in its own process ---------------------------------------------


def test_the_sandbox_child_counts_requests_and_ends_with_its_block() -> None:
    from benchmarks.sandbox_child import sandbox_process

    with sandbox_process(time_scale=0.05, rate_limit=2, rate_window=30.0) as sb:
        headers = {"x-api-key": sb.api_key}
        before = sb.stats()
        codes = [httpx.get(f"{sb.base_url}/v1/apps", headers=headers).status_code for _ in range(3)]
        after = sb.stats()
        proc = sb.proc
    assert codes == [200, 200, 429]  # its own rate limit, so a 429 is counted where it happens
    assert after["requests"] - before["requests"] == 3
    assert after["by_status"].get("429", 0) - before["by_status"].get("429", 0) == 1
    assert proc.poll() is not None  # the child ended with the block


# -- figure 9: the old way and the picture counts ------------------------------------------------


def test_the_old_code_is_what_the_kernel_imports(tmp_path: Path) -> None:
    from benchmarks.quickstart import OLD_COMMIT, imported_from, old_code

    with old_code(OLD_COMMIT) as old:
        if old is None:
            pytest.skip("no git history here (a source archive): the old row is skipped too")
        session = (old / "lamina_notebook" / "session" / "session.py").read_text()
        assert "embed_max_px: int = 1024" in session  # the old default, before 512
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        assert not imported_from(env).startswith(str(old))
        env["PYTHONPATH"] = str(old)  # first on sys.path, ahead of the editable install
        assert imported_from(env) == str(old / "lamina_notebook" / "__init__.py")


def _png() -> str:
    import base64

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_pictures_shown_stored_and_visible_in_nbconvert_html() -> None:
    import nbformat

    from benchmarks.quickstart import count_images, visible_in_html

    png = _png()
    card = f'<div><img src="data:image/png;base64,{png}" alt=""></div>'
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        # the old way: the picture as an image field and again in the HTML card
        nbformat.v4.new_code_cell(
            "a",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"text/html": card, "image/png": png, "text/plain": "x"}
                )
            ],
        ),
        # today's: the HTML card only, with two pictures (e.g. history thumbnails)
        nbformat.v4.new_code_cell(
            "b",
            outputs=[nbformat.v4.new_output("display_data", data={"text/html": card + card})],
        ),
        # a plain image output (matplotlib's kind)
        nbformat.v4.new_code_cell(
            "c", outputs=[nbformat.v4.new_output("display_data", data={"image/png": png})]
        ),
        nbformat.v4.new_code_cell("d", outputs=[nbformat.v4.new_output("stream", text="hi")]),
    ]
    found = count_images(nb)
    assert found["shown"] == 4 and found["stored"] == 5
    assert found["payload_bytes"] == 5 * len(png)
    assert visible_in_html(nb) == 4
