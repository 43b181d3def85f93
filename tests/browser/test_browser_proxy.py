"""Binder's problem and its fix, in Chromium: a visitor's browser cannot reach the kernel's
127.0.0.1, so the sandbox's video plays only through the Jupyter server's jupyter-server-proxy.

JupyterLab runs under a JupyterHub-like base URL (/user/visitor/), the kernel starts its own
embedded sandbox and makes a real Image to Video run, and the browser context refuses every
loopback port but the lab's own, as a remote visitor's browser would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from labdriver import JupyterLab

pytestmark = pytest.mark.browser

BASE_PATH = "/user/visitor/"
NOTEBOOK = "proxy-video.ipynb"
KERNEL_CONFIG = "c.LaminaMagics.poll_interval = 1.0\nc.LaminaMagics.sandbox_time_scale = 0.05\n"
CELLS = [
    "%load_ext lamina_notebook\n%lamina sandbox --if-no-key",
    "from lamina_notebook.session import get_session\n\n"
    "session = get_session()\n"
    'photo = f"{session.sandbox.base_url}/samples/portrait.png"',
    '%lamina run "Image to Video" Upload={photo} -o clip',
    "from html import escape\n"
    "from IPython.display import HTML\n"
    "from lamina_notebook.session.proxy import display_url, proxy_route\n\n"
    'video = next(o for o in clip.outputs if o.kind == "video")\n'
    "shown = display_url(video.value, session)\n"
    "route = proxy_route(session)\n"
    "HTML(\n"
    '    f\'<video id="proxied" src="{escape(shown)}" controls muted width="320"></video> \'\n'
    '    f\'<video id="direct" src="{escape(video.value)}" controls muted width="320"></video>\'\n'
    '    f\'<pre id="shown">{escape(shown)}</pre><pre id="route">{escape(route.source)}</pre>\'\n'
    ")",
]
PLAYING = "v => v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.2 && v.played.length > 0"
# What Chromium logs for the requests this test refuses on purpose (the direct URL).
REFUSED = re.compile(r"Failed to load resource: net::ERR_FAILED")


@pytest.fixture(scope="module")
def visitor_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """JupyterLab at /user/visitor/ with jupyter-server-proxy, a notebook that makes a video."""
    root = tmp_path_factory.mktemp("proxy-lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / NOTEBOOK)
    home = tmp_path_factory.mktemp("proxy-lab-home")
    profile = home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(KERNEL_CONFIG)
    lab = JupyterLab(root, home, base_path=BASE_PATH)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


def test_a_visitor_plays_the_sandbox_video_through_the_jupyter_server(
    visitor_lab: JupyterLab, new_page: Any
) -> None:
    ui = new_page(visitor_lab)
    # A remote visitor's browser: the kernel machine's loopback ports are not its own.
    not_the_lab = re.compile(rf"^http://(127\.0\.0\.1|localhost):(?!{visitor_lab.port}/)\d+/")
    ui.page.context.route(not_the_lab, lambda route: route.abort())
    answers: list[tuple[str, int]] = []
    ui.page.on("response", lambda r: answers.append((r.url, r.status)))

    ui.open_notebook(NOTEBOOK)
    ui.run_all(timeout=180)

    shown = ui.page.locator("#shown").inner_text().strip()
    sandbox_port = re.fullmatch(rf"{BASE_PATH}proxy/(\d+)/files/[^/]+/[^/]+\.mp4", shown)
    assert sandbox_port, f"not a proxied sandbox URL: {shown!r}"
    runtime_file = ui.page.locator("#route").inner_text().strip()
    assert re.search(r"jpserver-\d+\.json$", runtime_file), (
        f"found by {runtime_file!r}, not the server that started the kernel"
    )

    proxied = ui.page.locator("video#proxied")
    proxied.scroll_into_view_if_needed()
    assert proxied.evaluate("async v => { v.muted = true; await v.play(); return true; }")
    ui.page.wait_for_function(PLAYING, arg=proxied.element_handle(), timeout=30_000)
    origin = f"http://127.0.0.1:{visitor_lab.port}"
    served = [s for url, s in answers if url.startswith(origin + shown)]
    assert served and all(s in (200, 206) for s in served), (served, answers[-20:])

    # The control: the sandbox's own URL, as Binder's visitors saw it, does not load.
    direct = ui.page.locator("video#direct")
    ui.page.wait_for_function("v => v.error !== null", arg=direct.element_handle(), timeout=20_000)
    ui.page.wait_for_function(
        "v => v.currentTime > 0.2", arg=proxied.element_handle(), timeout=10_000
    )
    ui.screenshot("proxy-video-playing", ui.cell_containing("display_url(video.value"))
    unexpected = [e for e in ui.console_errors if not REFUSED.search(e)]
    assert not unexpected, "\n".join([*unexpected, "--- log ---", *ui.console_log[-40:]])


def test_the_lab_driver_serves_under_the_base_path(visitor_lab: JupyterLab) -> None:
    """The harness itself: REST calls and page URLs carry the base path."""
    assert visitor_lab.base_url.endswith("/user/visitor")
    assert visitor_lab.api("GET", "status").status_code == 200
    assert Path(visitor_lab.root_dir, NOTEBOOK).exists()
