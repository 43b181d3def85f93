"""Tests for downloads and thumbnails: naming, extensions, manifest, failures, the sandbox."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from lamina_notebook.errors import LaminaError
from lamina_notebook.files import (
    MANIFEST_NAME,
    SaveError,
    guess_extension,
    safe_filename,
    save,
    sniff_mime,
    thumbnail,
)
from lamina_notebook.models import Execution

REPO = Path(__file__).resolve().parents[2]


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    color: Any = (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt)
    return out.getvalue()


def photo_png(side: int) -> bytes:
    """A photo-like picture (gradients, soft texture, sharp detail) that is large as PNG."""
    gradient = Image.linear_gradient("L").resize((side, side))
    texture = Image.effect_noise((side // 8, side // 8), 60).resize(
        (side, side), Image.Resampling.BICUBIC
    )
    detail = Image.effect_mandelbrot((side, side), (-2, -1.5, 1, 1.5), 100)
    img = Image.merge("RGB", (gradient, texture, detail))
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 32
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + b"\x00" * 32


# -- a real HTTP file server on loopback --------------------------------------------------------


@dataclass
class FileServer:
    """Serves ``routes`` (path -> (status, content type, body)); records request headers."""

    routes: dict[str, tuple[int, str | None, bytes]] = field(default_factory=dict)
    flaky: dict[str, list[int]] = field(default_factory=dict)  # statuses to answer first
    seen: list[dict[str, str]] = field(default_factory=list)
    base: str = ""

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def files_server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append({k.lower(): v for k, v in self.headers.items()})
            status, ctype, body = state.routes.get(self.path, (404, "text/plain", b"gone"))
            if state.flaky.get(self.path):
                status, ctype, body = state.flaky[self.path].pop(0), "text/plain", b"oops"
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def output(
    label: str,
    value: str | None,
    *,
    type_: str = "image",
    status: str = "completed",
    oid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": oid or label,
        "label": label,
        "type": type_,
        "value": value,
        "status": status,
        **extra,
    }


def execution(*outputs: dict[str, Any], eid: str = "ex-1", status: str = "completed") -> Execution:
    return Execution.from_json(
        {
            "executionId": eid,
            "status": status,
            "outputs": list(outputs),
            "createdAt": "2026-01-01T00:00:00Z",
            "completedAt": "2026-01-01T00:00:06Z",
        }
    ).with_app("app-1", "Photo Stylizer")


def run_save(ex: Execution, folder: Path, **kw: Any) -> Path:
    async def go() -> Path:
        async with httpx.AsyncClient(headers={"x-api-key": "lma_secret_key"}) as http:
            return await save(http, ex, folder, **kw)

    return asyncio.run(go())


# -- naming ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("GIF"), "image/gif"),
        (image_bytes("WEBP"), "image/webp"),
        (MP4_HEAD, "video/mp4"),
        (WEBM_HEAD, "video/webm"),
        (b"ID3\x04\x00" + b"\x00" * 20, "audio/mpeg"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"plain words", None),
        (b"", None),
    ],
)
def test_sniff_mime(data: bytes, mime: str | None) -> None:
    assert sniff_mime(data) == mime


@pytest.mark.parametrize(
    ("mime", "url", "data", "ext"),
    [
        ("image/png", "https://cdn/x.jpg", MP4_HEAD, ".png"),  # mimeType wins
        ("image/jpeg; charset=binary", None, None, ".jpg"),
        (
            "application/octet-stream",
            "https://cdn/a/b.webp?sig=1",
            None,
            ".webp",
        ),  # generic skipped
        (None, "https://cdn/a/clip.MP4", None, ".mp4"),
        (None, "https://cdn/a/photo.jpeg", None, ".jpg"),
        (None, "https://cdn/a/blob.tmp", image_bytes("GIF"), ".gif"),  # unknown suffix: bytes
        (None, "https://cdn/a/noext", WEBM_HEAD, ".webm"),
        ("binary/octet-stream", "https://cdn/x", b"???", ".bin"),
        ("text/plain", None, None, ".txt"),
    ],
)
def test_guess_extension(mime: str | None, url: str | None, data: bytes | None, ext: str) -> None:
    assert guess_extension(mime, url, data) == ext


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Styled Image", "Styled Image"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "output"),
        ("a/b\\c:d*e?f", "a_b_c_d_e_f"),
        ("CON", "output_CON"),
        ("Café ☕ 1:1", "Café_1_1"),
        ("x" * 300, "x" * 80),
        ("   ", "output"),
    ],
)
def test_safe_filename(label: str, name: str) -> None:
    assert safe_filename(label) == name
    assert "/" not in name and not name.startswith(".")


# -- save against a local file server -----------------------------------------------------------


def test_save_writes_files_and_manifest(files_server: FileServer, tmp_path: Path) -> None:
    png, jpeg = image_bytes("PNG"), image_bytes("JPEG")
    files_server.routes.update(
        {
            "/o/1": (200, "application/octet-stream", png),  # no useful type, no suffix: sniffed
            "/o/2.jpg": (200, None, jpeg),
            "/o/3": (200, "video/mp4", MP4_HEAD),
        }
    )
    ex = execution(
        output("Image", files_server.url("/o/1"), oid="a"),
        output("Image", files_server.url("/o/2.jpg"), oid="b"),
        output("../../escape", files_server.url("/o/3"), type_="video", oid="c"),
        output("Headline", "Fast shoes for <b>fast</b> people", type_="text", oid="d"),
        output("Broken", None, type_="pending", status="error", error="model timeout", oid="e"),
        output("Later", None, type_="pending", status="pending", oid="f"),
    )
    manifest_path = run_save(ex, tmp_path / "out")
    assert manifest_path == tmp_path / "out" / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    assert (manifest["executionId"], manifest["appId"], manifest["appName"]) == (
        "ex-1",
        "app-1",
        "Photo Stylizer",
    )
    assert manifest["status"] == "completed" and manifest["createdAt"].startswith("2026-01-01")
    rows = {r["id"]: r for r in manifest["outputs"]}
    assert [rows[k]["file"] for k in "abcd"] == [
        "Image.png",
        "Image.jpg",
        "escape.mp4",
        "Headline.txt",
    ]
    assert rows["a"]["mime"] == "image/png" and rows["b"]["mime"] == "image/jpeg"
    assert rows["c"]["mime"] == "video/mp4" and rows["d"]["mime"] == "text/plain"
    for key in "abcd":
        data = (tmp_path / "out" / rows[key]["file"]).read_bytes()
        assert rows[key]["sha256"] == hashlib.sha256(data).hexdigest()
        assert rows[key]["bytes"] == len(data)
    assert (tmp_path / "out" / "Image.png").read_bytes() == png
    assert (tmp_path / "out" / "Headline.txt").read_text() == "Fast shoes for <b>fast</b> people"
    assert rows["a"]["url"] == files_server.url("/o/1") and rows["d"]["url"] is None
    assert rows["e"]["file"] is None and rows["e"]["error"] == "model timeout"
    assert rows["f"]["file"] is None and rows["f"]["status"] == "pending"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "Headline.txt",
        "Image.jpg",
        "Image.png",
        "escape.mp4",
        MANIFEST_NAME,
    ]
    assert not (tmp_path / "escape.mp4").exists()
    # The client's x-api-key default header never reached the output host.
    assert files_server.seen and all("x-api-key" not in h for h in files_server.seen)


def test_expired_and_unsafe_urls_are_reported_after_saving_the_rest(
    files_server: FileServer, tmp_path: Path
) -> None:
    files_server.routes["/ok.png"] = (200, "image/png", image_bytes("PNG"))
    ex = execution(
        output("Good", files_server.url("/ok.png"), oid="a"),
        output("Expired", files_server.url("/expired.png"), oid="b"),
        output("Sneaky", "javascript:alert(1)", oid="c"),
        output("Local", "file:///etc/passwd", oid="d"),
    )
    with pytest.raises(SaveError) as info:
        run_save(ex, tmp_path)
    err = info.value
    assert [label for label, _ in err.failures] == ["Expired", "Sneaky", "Local"]
    assert "HTTP 404" in str(err) and "expired" in str(err) and "%lamina resume" in str(err)
    manifest = json.loads(err.manifest.read_text())
    assert [r["file"] for r in manifest["outputs"]] == ["Good.png", None, None, None]
    assert manifest["outputs"][2]["url"] is None  # only http(s) URLs are recorded as URLs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Good.png", MANIFEST_NAME]
    assert len(files_server.seen) == 2  # neither javascript: nor file: was fetched


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lamina_notebook.files._RETRY_DELAY", 0.0)


def test_server_errors_are_retried(files_server: FileServer, tmp_path: Path) -> None:
    png = image_bytes("PNG")
    files_server.routes["/a.png"] = (200, "image/png", png)
    files_server.flaky["/a.png"] = [503, 500]
    run_save(execution(output("Image", files_server.url("/a.png"))), tmp_path)
    assert (tmp_path / "Image.png").read_bytes() == png and len(files_server.seen) == 3
    files_server.flaky["/a.png"] = [502, 502, 502]
    with pytest.raises(SaveError, match="HTTP 502"):
        run_save(execution(output("Image", files_server.url("/a.png"))), tmp_path)
    files_server.flaky["/a.png"] = [403]  # a 4xx is final: no retry
    with pytest.raises(SaveError, match="HTTP 403"):
        run_save(execution(output("Image", files_server.url("/a.png"))), tmp_path)
    assert len(files_server.seen) == 7


def test_unreachable_host_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    with socket_closed_port() as port:
        ex = execution(output("Image", f"http://127.0.0.1:{port}/x.png"))
        with pytest.raises(SaveError, match="download failed: ConnectError"):
            run_save(ex, tmp_path)


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_size_limit_leaves_no_partial_file(files_server: FileServer, tmp_path: Path) -> None:
    files_server.routes["/big.png"] = (200, "image/png", b"\x89PNG" + b"\x00" * 200_000)
    with pytest.raises(SaveError, match="byte limit"):
        run_save(execution(output("Big", files_server.url("/big.png"))), tmp_path, max_bytes=1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST_NAME]


def test_data_urls_are_decoded_locally(tmp_path: Path) -> None:
    import base64

    png = image_bytes("PNG")
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    run_save(execution(output("Inline", url)), tmp_path)
    assert (tmp_path / "Inline.png").read_bytes() == png


def test_saving_again_overwrites_in_place(files_server: FileServer, tmp_path: Path) -> None:
    files_server.routes["/a.png"] = (200, "image/png", image_bytes("PNG"))
    ex = execution(output("Image", files_server.url("/a.png")))
    (tmp_path / "Image.png").write_bytes(b"user's own file")  # must not be clobbered
    run_save(ex, tmp_path)
    run_save(ex, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Image (2).png",
        "Image.png",
        MANIFEST_NAME,
    ]
    assert (tmp_path / "Image.png").read_bytes() == b"user's own file"


def test_folder_of_another_execution_is_protected(files_server: FileServer, tmp_path: Path) -> None:
    files_server.routes["/a.png"] = (200, "image/png", image_bytes("PNG"))
    run_save(execution(output("Image", files_server.url("/a.png")), eid="first"), tmp_path)
    second = execution(output("Image", files_server.url("/a.png")), eid="second")
    with pytest.raises(LaminaError) as info:
        run_save(second, tmp_path)
    assert "first" in str(info.value) and "overwrite=True" in str(info.value)
    run_save(second, tmp_path, overwrite=True)
    assert json.loads((tmp_path / MANIFEST_NAME).read_text())["executionId"] == "second"


# -- thumbnails -----------------------------------------------------------------------------------


def test_thumbnail_of_a_large_photo_png_is_a_small_jpeg() -> None:
    data = photo_png(2048)
    assert len(data) > 2_000_000
    thumb, mime = thumbnail(data, 1024)
    assert mime == "image/jpeg" and len(thumb) <= 200_000
    assert Image.open(io.BytesIO(thumb)).size == (1024, 1024)
    small, _ = thumbnail(data, 256)
    assert len(small) < 50_000 and Image.open(io.BytesIO(small)).size == (256, 256)


def test_thumbnail_keeps_alpha_and_aspect() -> None:
    thumb, mime = thumbnail(image_bytes("PNG", (2000, 500), "RGBA"), 400)
    img = Image.open(io.BytesIO(thumb))
    assert mime == "image/png" and img.size == (400, 100)
    assert img.mode in ("RGBA", "P") and img.convert("RGBA").getpixel((0, 0))[3] == 128


def test_thumbnail_never_enlarges_and_reads_gif_and_webp() -> None:
    for fmt in ("GIF", "WEBP", "JPEG"):
        thumb, _ = thumbnail(image_bytes(fmt, (64, 48)), 512)
        assert Image.open(io.BytesIO(thumb)).size == (64, 48)


def test_thumbnail_rejects_non_images() -> None:
    with pytest.raises(ValueError, match="not an image"):
        thumbnail(MP4_HEAD, 256)


def test_pillow_is_imported_lazily() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); import lamina_notebook.files; "
        "print('PIL' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


# -- end to end against the sandbox -------------------------------------------------------------


def sandbox_run(sandbox: Any, app: str, inputs: dict[str, str]) -> Execution:
    """Start a run over plain HTTP and poll it to the end (the sandbox's clock is compressed)."""
    headers = {"x-api-key": sandbox.api_key}
    with httpx.Client(base_url=sandbox.base_url + "/api", headers=headers, timeout=10) as http:
        started = http.post(f"/apps/{sandbox.app_id(app)}/executions", json={"inputs": inputs})
        assert started.status_code == 202, started.text
        eid = started.json()["data"]["executionId"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = http.get(f"/executions/{eid}").json()["data"]
            if data["status"] in ("completed", "failed", "cancelled"):
                return Execution.from_json(data).with_app(sandbox.app_id(app), app)
            time.sleep(0.05)
    raise AssertionError(f"sandbox run {eid} did not finish")


def test_save_sandbox_outputs(sandbox: Any, tmp_path: Path) -> None:
    upload = sandbox.base_url + "/samples/product.png"
    ex = sandbox_run(sandbox, "Catalog Studio", {"Upload": upload, "Style": "Ghibli"})
    manifest = json.loads(run_save(ex, tmp_path).read_text())
    files = [r["file"] for r in manifest["outputs"]]
    assert files == ["AI Designer.png", "AI Designer (2).png"]
    for name in files:
        with Image.open(tmp_path / name) as img:
            assert img.format == "PNG" and min(img.size) > 0
    copy = sandbox_run(sandbox, "Product Copywriter", {"Product": "red running shoes"})
    manifest = json.loads(run_save(copy, tmp_path / "copy").read_text())
    assert [r["file"] for r in manifest["outputs"]] == ["Headline.txt", "Description.txt"]
    assert "red running shoes" in (tmp_path / "copy" / "Headline.txt").read_text()


def test_save_sandbox_video(sandbox: Any, tmp_path: Path) -> None:
    upload = sandbox.base_url + "/samples/landscape.png"
    ex = sandbox_run(sandbox, "Image to Video", {"Upload": upload})
    manifest = json.loads(run_save(ex, tmp_path).read_text())
    row = manifest["outputs"][0]
    assert row["file"] == "Video.mp4" and row["mime"] == "video/mp4"
    assert sniff_mime((tmp_path / "Video.mp4").read_bytes()[:64]) == "video/mp4"


def test_expired_sandbox_urls_name_the_fix(sandbox: Any, tmp_path: Path) -> None:
    ex = sandbox_run(sandbox, "Text to Image", {"Prompt": "a lighthouse at dusk"})
    sandbox.configure(output_ttl=0.0)
    try:
        with pytest.raises(SaveError) as info:
            run_save(ex, tmp_path)
    finally:
        sandbox.configure(output_ttl=None)
    assert "expired" in str(info.value) and info.value.failures[0][0] == "Image"


def test_client_save_uses_its_fetcher(sandbox_env: Any, tmp_path: Path) -> None:
    """``LaminaClient.save`` passes itself (a ``fetch_bytes`` fetcher) to ``files.save``."""
    from lamina_notebook.client import LaminaClient

    async def go() -> Path:
        async with LaminaClient(journal=None) as client:
            ex = await client.run("Text to Image", {"Prompt": "a red bicycle"})
            done = await client.wait(ex.execution_id, interval=0.05)
            return await client.save(done, tmp_path)

    manifest = json.loads(asyncio.run(go()).read_text())
    assert manifest["appName"] == "Text to Image"
    assert manifest["outputs"][0]["file"] == "Image.png"
    with Image.open(tmp_path / "Image.png") as img:
        assert img.format == "PNG"
