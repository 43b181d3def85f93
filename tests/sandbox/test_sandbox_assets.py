"""Asset uploads over real HTTP: upload URLs, the key-less PUT, the asset URL as a run input."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageStat
from sandbox_v1_support import ENVELOPE, client, finish, start

from lamina_notebook.sandbox import Sandbox

LIMIT = 200_000


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0, max_upload_bytes=LIMIT) as s:
        yield s


def png(color: tuple[int, int, int], size: int = 256) -> bytes:
    img = Image.new("RGB", (size, size), color)
    img.paste((255, 255, 255), (size // 4, size // 4, size // 2, size // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def mp4(tmp: Path) -> bytes:
    """A real (tiny) H.264 MP4."""
    ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = tmp / "clip.mp4"
    writer = ffmpeg.write_frames(str(path), (64, 64), fps=8, macro_block_size=16)
    writer.send(None)
    for i in range(8):
        writer.send(bytes([i * 30 % 256]) * (64 * 64 * 3))
    writer.close()
    return path.read_bytes()


def upload_urls(sb: Sandbox, files: list[dict[str, str]]) -> list[dict[str, Any]]:
    with client(sb, "v1") as c:
        r = c.post("/assets/upload-urls", json={"files": files})
    assert r.status_code == 200, r.text
    uploads: list[dict[str, Any]] = r.json()["data"]["uploads"]
    return uploads


def put(url: str, data: bytes, content_type: str | None) -> httpx.Response:
    """The PUT a presigned URL expects: only a Content-Type, no API key."""
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.put(url, content=data, headers=headers, trust_env=False, timeout=60)


def upload(sb: Sandbox, data: bytes, filename: str, media_type: str, content_type: str) -> str:
    entry = upload_urls(sb, [{"filename": filename, "mediaType": media_type}])[0]
    r = put(entry["uploadUrl"], data, content_type)
    assert r.status_code == 200, r.text
    return str(entry["assetUrl"])


def test_upload_png_and_mp4_without_the_key(sb: Sandbox, tmp_path: Path) -> None:
    picture, clip = png((200, 30, 30)), mp4(tmp_path)
    before = sb.stats.snapshot()
    entries = upload_urls(
        sb,
        [
            {"filename": "me.png", "mediaType": "image"},
            {"filename": "clip.mp4", "mediaType": "video"},
        ],
    )
    for e in entries:
        assert set(e) == {
            "filename",
            "mediaType",
            "contentTypeHint",
            "uploadUrl",
            "assetUrl",
            "assetId",
            "expiresAt",
        }
        assert e["uploadUrl"].startswith(sb.base_url) and e["assetUrl"].startswith(sb.base_url)
        assert "signature=" in e["uploadUrl"] and "expires=" in e["uploadUrl"]
        expires = datetime.fromisoformat(e["expiresAt"].replace("Z", "+00:00")).timestamp()
        assert 3500 < expires - time.time() <= 3600
        assert sb.api_key not in e["uploadUrl"]
    image, video = entries
    assert (image["contentTypeHint"], video["contentTypeHint"]) == ("image/png", "video/mp4")
    not_yet = httpx.get(image["assetUrl"], trust_env=False)
    assert not_yet.status_code == 404 and "PUT the file" in not_yet.json()["error"]
    answers = [
        put(image["uploadUrl"], picture, image["contentTypeHint"]),
        put(video["uploadUrl"], clip, video["contentTypeHint"]),
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert all(a.headers["etag"].startswith('"') for a in answers)
    got_image = httpx.get(image["assetUrl"], trust_env=False)
    got_video = httpx.get(video["assetUrl"], trust_env=False)
    assert got_image.content == picture and got_image.headers["content-type"] == "image/png"
    assert got_video.content == clip and got_video.headers["content-type"] == "video/mp4"
    after = sb.stats.snapshot()
    assert after["upload_urls"] == before["upload_urls"] + 2
    assert after["uploads"] == before["uploads"] + 2
    assert (
        after["requests_by_edition"].get("v1", 0) == before["requests_by_edition"].get("v1", 0) + 1
    )  # the PUTs and GETs are storage, not the API


def _stylize(sb: Sandbox, asset_url: str, edition: str = "v1") -> bytes:
    with client(sb, edition) as c:
        key = "upload_image_url" if edition == "v1" else "Upload"
        data = start(c, sb, edition, "Photo Stylizer", {key: asset_url, "Style": "Comic"})
        run_id = data["runId" if edition == "v1" else "executionId"]
        done = finish(c, edition, run_id)
    assert done["status"] == "completed", done
    out = httpx.get(done["outputs"][0]["value"], trust_env=False, timeout=60)
    assert out.status_code == 200 and out.headers["content-type"] == "image/png"
    return out.content


def _mean(data: bytes) -> list[float]:
    return list(ImageStat.Stat(Image.open(io.BytesIO(data)).convert("RGB")).mean)


def test_photo_stylizer_restyles_the_uploaded_bytes(sb: Sandbox) -> None:
    red = upload(sb, png((220, 20, 20)), "red.png", "image", "image/png")
    blue = upload(sb, png((20, 20, 220)), "blue.png", "image", "image/png")
    fetches = sb.stats.url_fetches
    from_red, from_blue = _stylize(sb, red), _stylize(sb, blue)
    again = _stylize(sb, red, "api")  # the asset URL is reusable, in either edition
    assert sb.stats.url_fetches == fetches + 3
    assert again == from_red
    r_mean, b_mean = _mean(from_red), _mean(from_blue)
    assert r_mean[0] > r_mean[2] and b_mean[2] > b_mean[0]  # the colours came from the upload


def test_a_second_put_replaces_the_bytes(sb: Sandbox) -> None:
    entry = upload_urls(sb, [{"filename": "v.png", "mediaType": "image"}])[0]
    assert put(entry["uploadUrl"], png((1, 2, 3)), "image/png").status_code == 200
    second = png((9, 9, 9))
    assert put(entry["uploadUrl"], second, "image/png").status_code == 200
    assert httpx.get(entry["assetUrl"], trust_env=False).content == second


def test_wrong_content_type_is_415_naming_the_fix(sb: Sandbox) -> None:
    entry = upload_urls(sb, [{"filename": "me.png", "mediaType": "image"}])[0]
    before = sb.stats.uploads_refused
    wrong = put(entry["uploadUrl"], png((5, 5, 5)), "video/mp4")
    text = put(entry["uploadUrl"], b"hello", "text/plain")
    missing = put(entry["uploadUrl"], png((5, 5, 5)), None)
    for r in (wrong, text, missing):
        assert r.status_code == 415 and r.json().keys() >= ENVELOPE
        assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert "image/*" in r.json()["error"] and "image/png" in r.json()["error"]
    assert "'video/mp4'" in wrong.json()["error"]
    assert sb.stats.uploads_refused == before + 3
    assert httpx.get(entry["assetUrl"], trust_env=False).status_code == 404


def test_size_limit_is_413_declared_or_streamed(sb: Sandbox) -> None:
    entry = upload_urls(sb, [{"filename": "big.png", "mediaType": "image"}])[0]
    declared = put(entry["uploadUrl"], b"\x89PNG" + bytes(LIMIT), "image/png")

    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 10_000 + 2):
            yield bytes(10_000)

    streamed = httpx.put(
        entry["uploadUrl"],
        content=chunks(),
        headers={"Content-Type": "image/png"},
        trust_env=False,
        timeout=60,
    )
    empty = put(entry["uploadUrl"], b"", "image/png")
    for r in (declared, streamed):
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        assert str(LIMIT) in r.json()["error"]
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    assert put(entry["uploadUrl"], bytes(LIMIT), "image/png").status_code == 200  # at the limit


def test_signature_and_expiry_are_checked() -> None:
    with Sandbox(time_scale=0.02, rate_limit=0, upload_ttl=0.3) as s:
        entry = upload_urls(s, [{"filename": "me.png", "mediaType": "image"}])[0]
        forged = put(
            entry["uploadUrl"].replace("signature=", "signature=x"), png((1, 1, 1)), "image/png"
        )
        other = put(
            entry["uploadUrl"].replace(entry["assetId"], "0" * 36), png((1, 1, 1)), "image/png"
        )
        time.sleep(0.5)
        late = put(entry["uploadUrl"], png((1, 1, 1)), "image/png")
    assert forged.status_code == 403 and forged.json()["code"] == "SIGNATURE_MISMATCH"
    assert other.status_code == 403
    assert late.status_code == 403 and late.json()["code"] == "UPLOAD_URL_EXPIRED"
    assert "POST /v1/assets/upload-urls" in late.json()["error"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, '"files": must be a non-empty list'),
        ({"files": []}, '"files": must be a non-empty list'),
        ({"files": [{"filename": "a.pdf", "mediaType": "document"}]}, "image, video, audio"),
        ({"files": [{"filename": "../etc/x.png", "mediaType": "image"}]}, "without folders"),
        ({"files": [{"mediaType": "image"}]}, "1 to 255 characters"),
    ],
)
def test_upload_url_requests_are_validated(sb: Sandbox, body: Any, expected: str) -> None:
    with client(sb, "v1") as c:
        r = c.post("/assets/upload-urls", json=body)
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert any(expected in line for line in r.json()["details"]), r.json()


def test_upload_urls_need_the_key_but_the_asset_url_does_not(sb: Sandbox) -> None:
    asset = upload(sb, png((1, 200, 1)), "green.png", "image", "image/png")
    r = httpx.post(
        f"{sb.base_url}/v1/assets/upload-urls",
        json={"files": [{"filename": "x.png", "mediaType": "image"}]},
        trust_env=False,
    )
    assert r.status_code == 401 and r.json()["code"] == "AUTH_MISSING_KEY"
    assert httpx.get(asset, trust_env=False).status_code == 200
    odd = upload_urls(sb, [{"filename": "scan.heic", "mediaType": "image"}])[0]
    assert odd["contentTypeHint"].startswith("image/")
    sound = upload_urls(sb, [{"filename": "jingle", "mediaType": "audio"}])[0]
    assert sound["contentTypeHint"].startswith("audio/")
