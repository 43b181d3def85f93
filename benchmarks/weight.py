"""Figure 4: bytes a saved .ipynb gains per image output at default settings (2048x2048 PNG).

Two notebooks run headlessly with nbclient in a real kernel against the sandbox: one loads the
extension only, the other also runs ``%lamina run "Upscaler 4x"`` N times (each a 2048x2048
PNG). The gain per output is the size difference divided by N. The full-size file must stay
one click away: its URL has to be a link in the saved output.
"""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from ._harness import Figure, isolated_home, patched_environ

APP = "Upscaler 4x"  # a 768 px sample upscaled 4x, capped at 2048 px: a 2048x2048 PNG
SAMPLES = ("landscape", "portrait", "product")
TARGET_BYTES = 200_000
SETUP = [
    "%load_ext lamina_notebook",
    "from lamina_notebook.session import get_session\n"
    "get_session().configure(poll_interval=0.05, min_poll_interval=0.05)  # fast sandbox",
]


def _execute(cells: list[str], folder: Path, env: dict[str, str]) -> Path:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    with patched_environ(env):
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
    path = folder / f"weight-{len(cells)}.ipynb"
    nbformat.write(nb, path)
    return path


def _run_outputs(path: Path) -> list[dict[str, Any]]:
    """The execute_result of every ``%lamina run`` cell of a saved notebook."""
    nb = json.loads(path.read_text())
    found = []
    for cell in nb["cells"]:
        if "%lamina run" in "".join(cell["source"]):
            found += [o for o in cell.get("outputs", []) if o["output_type"] == "execute_result"]
    return found


def _full_size(sb: Any, execution_id: str) -> tuple[str, int, str]:
    """(URL, bytes, mime) of the execution's full-size output, fetched from the sandbox."""
    headers = {"x-api-key": sb.api_key}
    data = httpx.get(f"{sb.base_url}/api/executions/{execution_id}", headers=headers).json()
    url = data["data"]["outputs"][0]["value"]
    r = httpx.get(url, headers=headers)
    return url, len(r.content), r.headers.get("content-type", "")


def run(quick: bool = False) -> Figure:
    from lamina_notebook.sandbox import Sandbox

    n = 1 if quick else len(SAMPLES)
    with (
        Sandbox(time_scale=0.02, rate_limit=0) as sb,
        isolated_home() as env,
        TemporaryDirectory() as tmp,
    ):
        env.update(LAMINA_API_KEY=sb.api_key, LAMINA_BASE_URL=sb.base_url)
        runs = [
            f'%lamina run "{APP}" "Upload={sb.base_url}/samples/{SAMPLES[i]}.png"' for i in range(n)
        ]
        base = _execute(SETUP, Path(tmp), env)
        full = _execute(SETUP + runs, Path(tmp), env)
        outputs = _run_outputs(full)
        gain = (full.stat().st_size - base.stat().st_size) / n
        saved_text = full.read_text()
        details = []
        for out in outputs:
            exec_id = out["metadata"]["lamina"]["execution_id"]
            url, size, mime = _full_size(sb, exec_id)
            sizes = {k: len(json.dumps(v)) for k, v in out["data"].items()}
            html = "".join(out["data"].get("text/html", ""))
            details.append(
                {
                    "execution_id": exec_id,
                    "full_size_bytes": size,
                    "mime": mime,
                    "linked": f'href="{url}"' in html,
                    "bundle_bytes": sizes,
                    "html_embeds_image": "data:image/" in html,
                }
            )
        leaked = sb.api_key in saved_text
        base_bytes = base.stat().st_size
    full_bytes = max((d["full_size_bytes"] for d in details), default=0)
    linked = bool(details) and all(d["linked"] for d in details) and len(details) == n
    rows = [
        ["per image output (saved .ipynb)", f"{gain / 1000:.1f} KB"],
        ["full-size PNG (2048x2048) at the service", f"{full_bytes / 1000:.1f} KB"],
        ["saved output / full-size file", f"{gain / max(1, full_bytes):.2f}"],
        ["full-size link in every saved output", "yes" if linked else "NO"],
        [
            "bundle fields of one output",
            ", ".join(
                f"{k} {v / 1000:.1f} KB"
                for k, v in (details[0]["bundle_bytes"].items() if details else [])
            ),
        ],
    ]
    return Figure(
        key="4",
        title="Notebook weight per image output (2048x2048 PNG, default settings)",
        columns=["measure", "value"],
        rows=rows,
        target=f"<= {TARGET_BYTES // 1000} KB per output, full-size file one click away",
        met=gain <= TARGET_BYTES and linked and not leaked,
        notes=[
            f"{n} x %lamina run {APP!r} in an nbclient-executed notebook vs the same "
            "notebook without them; bytes of the saved .ipynb files",
            "the API key is "
            + ("PRESENT (leak!)" if leaked else "absent")
            + " in the saved notebook",
            "the image is stored twice per output (a data: URI in text/html and the image/* field)"
            if any(d["html_embeds_image"] for d in details)
            else "the image is stored once per output",
        ],
        data={"outputs": n, "gain_per_output": gain, "base_bytes": base_bytes, "details": details},
    )
