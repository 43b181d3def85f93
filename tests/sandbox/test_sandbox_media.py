"""Media the sandbox makes: styled images, determinism, the H.264 video, samples, url fetching."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat
from sandbox_v1_support import run_app

from lamina_notebook.sandbox import Sandbox


def run(sb: Any, app: str, inputs: dict[str, str]) -> dict[str, Any]:
    return run_app(sb, app, inputs)


def fetch(url: str) -> httpx.Response:
    r = httpx.get(url, timeout=60, trust_env=False)
    assert r.status_code == 200, r.text
    return r


def image(sb: Any, app: str, inputs: dict[str, str], index: int = 0) -> bytes:
    d = run(sb, app, inputs)
    assert d["status"] == "completed", d
    return fetch(d["outputs"][index]["value"]).content


def difference(a: bytes, b: bytes) -> float:
    """Mean absolute pixel difference (0-255) between two same-size images."""
    ia, ib = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    assert ia.size == ib.size
    return sum(ImageStat.Stat(ImageChops.difference(ia, ib)).mean) / 3


def test_two_styles_look_different_and_same_inputs_give_same_bytes(sandbox: Any) -> None:
    upload = f"{sandbox.base_url}/samples/portrait.png"
    ghibli = image(sandbox, "Photo Stylizer", {"Upload": upload, "Style": "Ghibli"})
    cyber = image(sandbox, "Photo Stylizer", {"Upload": upload, "Style": "Cyberpunk"})
    again = image(sandbox, "Photo Stylizer", {"Upload": upload, "Style": "Ghibli"})
    assert ghibli == again
    assert difference(ghibli, cyber) > 20


def test_text_to_image_differs_by_style_prompt_and_aspect_ratio(sandbox: Any) -> None:
    base = {"Prompt": "a lighthouse at dusk", "Style": "Watercolor"}
    watercolor = image(sandbox, "Text to Image", base)
    pixel = image(sandbox, "Text to Image", {**base, "Style": "Pixel Art"})
    other_prompt = image(sandbox, "Text to Image", {**base, "Prompt": "a desert city"})
    wide = image(sandbox, "Text to Image", {**base, "Aspect Ratio": "16:9"})
    assert difference(watercolor, pixel) > 5
    assert difference(watercolor, other_prompt) > 5
    assert Image.open(io.BytesIO(wide)).size == (1024, 576)
    assert Image.open(io.BytesIO(watercolor)).size == (1024, 1024)


def test_catalog_app_gives_two_distinct_images(sandbox: Any) -> None:
    d = run(
        sandbox,
        "Catalog Studio",
        {"Upload": f"{sandbox.base_url}/samples/product.png", "Style": "Ghibli"},
    )
    first, second = (fetch(o["value"]) for o in d["outputs"])
    assert first.content != second.content
    assert Image.open(io.BytesIO(second.content)).size == (768, 1024)


def test_video_is_h264_mp4(sandbox: Any) -> None:
    pytest.importorskip("imageio_ffmpeg")
    d = run(
        sandbox,
        "Image to Video",
        {"Upload": f"{sandbox.base_url}/samples/landscape.png", "Motion": "Pan Left"},
    )
    out = d["outputs"][0]
    assert out["type"] == "video" and out["mimeType"] == "video/mp4"
    r = fetch(out["value"])
    data = r.content
    assert r.headers["content-type"] == "video/mp4"
    assert data[4:8] == b"ftyp" and b"avc1" in data
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: playable while downloading
    assert 10_000 < len(data) < 2_000_000
    ranged = httpx.get(out["value"], headers={"Range": "bytes=0-99"}, trust_env=False)
    assert ranged.status_code == 206 and len(ranged.content) == 100


def test_samples_are_served_and_tiny_is_tiny(sandbox: Any) -> None:
    for name in ("portrait", "product", "landscape"):
        img = Image.open(io.BytesIO(fetch(f"{sandbox.base_url}/samples/{name}.png").content))
        assert min(img.size) >= 256
    tiny = Image.open(io.BytesIO(fetch(f"{sandbox.base_url}/samples/tiny.png").content))
    assert max(tiny.size) < 64


def test_text_outputs_are_deterministic(sandbox: Any) -> None:
    inputs = {"Product": "a steel water bottle", "Tone": "Playful"}
    first, second = (
        run(sandbox, "Product Copywriter", inputs),
        run(sandbox, "Product Copywriter", inputs),
    )
    assert [o["value"] for o in first["outputs"]] == [o["value"] for o in second["outputs"]]
    assert "a steel water bottle" in first["outputs"][0]["value"]


def test_url_inputs_are_fetched_only_from_loopback() -> None:
    with Sandbox(time_scale=0.01, rate_limit=0) as sb:
        own = run(sb, "Photo Stylizer", {"Upload": f"{sb.base_url}/samples/portrait.png"})
        via_localhost = run(
            sb, "Photo Stylizer", {"Upload": f"http://localhost:{sb.port}/samples/portrait.png"}
        )
        assert sb.stats.url_fetches == 2 and sb.stats.url_fetches_refused == 0
        remote = run(sb, "Photo Stylizer", {"Upload": "https://example.com/photo.jpg"})
        private_net = run(sb, "Photo Stylizer", {"Upload": "http://10.1.2.3/secret.png"})
        assert sb.stats.url_fetches_refused == 2
        missing = run(sb, "Photo Stylizer", {"Upload": f"{sb.base_url}/samples/nope.png"})
        not_image = run(sb, "Photo Stylizer", {"Upload": f"{sb.base_url}/healthz"})
    assert own["status"] == via_localhost["status"] == "completed"
    assert remote["status"] == private_net["status"] == "completed"  # generated stand-ins
    assert missing["status"] == "failed" and "HTTP 404" in missing["errorMessage"]
    assert not_image["status"] == "failed" and "not an image" in not_image["errorMessage"]


def test_output_file_is_not_served_before_it_is_ready() -> None:
    with Sandbox(time_scale=1.0, rate_limit=0) as sb:
        with httpx.Client(
            base_url=sb.base_url + "/api", headers={"x-api-key": sb.api_key}, trust_env=False
        ) as c:
            r = c.post(
                f"/apps/{sb.app_id('Text to Image')}/executions", json={"inputs": {"Prompt": "x"}}
            )
            data = r.json()["data"]
        out = data["outputs"][0]["id"]
        early = httpx.get(f"{sb.base_url}/files/{data['executionId']}/{out}.png")
    assert early.status_code == 404 and "not ready" in early.json()["error"]
