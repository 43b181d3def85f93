"""Figure 4: bytes a saved .ipynb gains per image output at default settings (2048x2048 PNG).

Two notebooks run headlessly with nbclient in a real kernel against the sandbox: one loads the
extension only, the other also runs ``%lamina run "Upscaler 4x"`` N times on a real photograph
(each output a 2048x2048 PNG). The gain per output is the size difference divided by N. The
full-size file must stay one click away: its URL has to be a link in the saved output.

The photograph is ``data/grace_hopper.jpg``: the official 1984 U.S. Navy portrait of Grace
Hopper, a public-domain work, byte for byte as matplotlib ships it in its sample data
(``mpl-data/sample_data/grace_hopper.jpg``, 512x600; matplotlib PR #1599 added it as a
public-domain image). It is kept here (61 KB) rather than adding matplotlib and numpy (over
100 MB installed) to the dev extra for one file. Square 512 px crops of it are served from
loopback and upscaled 4x by the sandbox (Lanczos), a real photo's statistics instead of the
sandbox's synthetic pictures, whose flat shapes compress far better than any photograph.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from ._harness import Figure, isolated_home, patched_environ

APP = "Upscaler 4x"  # a 512 px input upscaled 4x: a 2048x2048 PNG
PHOTO = Path(__file__).parent / "data" / "grace_hopper.jpg"
PHOTO_SHA256 = "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"
CROP = 512
#: Top offsets of the square crops (the photo is 600 px tall): top, middle, bottom.
CROPS = (0, 44, 88)
TARGET_BYTES = 200_000


def photo_crops(offsets: tuple[int, ...] = CROPS) -> list[bytes]:
    """Square ``CROP`` px crops of the photograph as PNG (lossless: no second JPEG pass).

    Raises if the file is not the one this benchmark documents, so a swapped picture can't
    silently change the figure.
    """
    from PIL import Image

    data = PHOTO.read_bytes()
    if hashlib.sha256(data).hexdigest() != PHOTO_SHA256:
        raise RuntimeError(f"{PHOTO} is not the documented photograph (sha256 differs)")
    crops = []
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
        for top in offsets:
            buf = io.BytesIO()
            rgb.crop((0, top, CROP, top + CROP)).save(buf, "PNG")
            crops.append(buf.getvalue())
    return crops


@contextmanager
def serve(files: dict[str, bytes]) -> Iterator[str]:
    """Serve ``files`` (name -> PNG bytes) on 127.0.0.1; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


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


def _full_size(sb: Any, execution_id: str) -> tuple[str, int, str, tuple[int, int]]:
    """(URL, bytes, mime, pixel size) of the execution's full-size output, from the sandbox."""
    from PIL import Image

    headers = {"x-api-key": sb.api_key}
    data = httpx.get(f"{sb.base_url}/api/executions/{execution_id}", headers=headers).json()
    url = data["data"]["outputs"][0]["value"]
    r = httpx.get(url, headers=headers)
    with Image.open(io.BytesIO(r.content)) as img:
        size = img.size
    return url, len(r.content), r.headers.get("content-type", ""), size


def run(quick: bool = False) -> Figure:
    from lamina_notebook.sandbox import Sandbox

    n = 1 if quick else len(CROPS)
    crops = photo_crops(CROPS[:n])
    names = [f"grace_hopper_{top}.png" for top in CROPS[:n]]
    with (
        serve(dict(zip(names, crops, strict=True))) as photos,
        Sandbox(time_scale=0.02, rate_limit=0) as sb,
        isolated_home() as env,
        TemporaryDirectory() as tmp,
    ):
        env.update(LAMINA_API_KEY=sb.api_key, LAMINA_BASE_URL=sb.base_url)
        runs = [f'%lamina run "{APP}" "Upload={photos}/{name}"' for name in names]
        base = _execute(SETUP, Path(tmp), env)
        full = _execute(SETUP + runs, Path(tmp), env)
        outputs = _run_outputs(full)
        gain = (full.stat().st_size - base.stat().st_size) / n
        saved_text = full.read_text()
        details = []
        for out in outputs:
            exec_id = out["metadata"]["lamina"]["execution_id"]
            url, size, mime, pixels = _full_size(sb, exec_id)
            sizes = {k: len(json.dumps(v)) for k, v in out["data"].items()}
            html = "".join(out["data"].get("text/html", ""))
            inline = re.findall(r"data:image/[a-z+]+;base64,([A-Za-z0-9+/=]*)", html)
            details.append(
                {
                    "execution_id": exec_id,
                    "full_size_bytes": size,
                    "mime": mime,
                    "pixels": list(pixels),
                    "linked": f'href="{url}"' in html,
                    "bundle_bytes": sizes,
                    "html_embeds_image": "data:image/" in html,
                    "image_field": any(k.startswith("image/") for k in out["data"]),
                    "inline_image_bytes": sum(map(len, inline)),
                }
            )
        leaked = sb.api_key in saved_text
        base_bytes = base.stat().st_size
    full_bytes = sum(d["full_size_bytes"] for d in details) / max(1, len(details))
    linked = bool(details) and all(d["linked"] for d in details) and len(details) == n
    shapes = sorted({"x".join(map(str, d["pixels"])) for d in details})
    rows = [
        ["per image output (saved .ipynb)", f"{gain / 1000:.1f} KB"],
        [
            f"baseline: the full-size PNG ({', '.join(shapes)}) embedded, mean",
            f"{full_bytes / 1000:.1f} KB",
        ],
        ["saved output / full-size file", f"{gain / max(1, full_bytes):.3f}"],
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
        title="Notebook weight per image output (2048x2048 PNG of a photograph, defaults)",
        columns=["measure", "value"],
        rows=rows,
        target=f"<= {TARGET_BYTES // 1000} KB per output, full-size file one click away",
        met=gain <= TARGET_BYTES and linked and not leaked,
        notes=[
            f"{n} x %lamina run {APP!r} in an nbclient-executed notebook vs the same "
            "notebook without them; bytes of the saved .ipynb files",
            f"input: {n} square {CROP} px crop(s) of a real photograph (Grace Hopper, U.S. "
            "Navy, public domain; matplotlib's sample data grace_hopper.jpg), served on "
            f"loopback and upscaled 4x by the sandbox; a 4x upscale is smoother than a "
            "native 2048 px photo, so its PNG (the baseline) is smaller than a camera's "
            "would be",
            "the API key is "
            + ("PRESENT (leak!)" if leaked else "absent")
            + " in the saved notebook",
            "the image is stored twice per output (a data: URI in text/html and the image/* field)"
            if any(d["html_embeds_image"] and d["image_field"] for d in details)
            else "the image is stored once per output"
            + (
                f" (a data: URI in text/html, {details[0]['inline_image_bytes'] / 1000:.1f} KB "
                "of base64)"
                if details and details[0]["html_embeds_image"]
                else ""
            ),
        ],
        data={
            "outputs": n,
            "photo": {"file": PHOTO.name, "sha256": PHOTO_SHA256, "crop": CROP, "tops": CROPS[:n]},
            "gain_per_output": gain,
            "base_bytes": base_bytes,
            "details": details,
        },
    )
