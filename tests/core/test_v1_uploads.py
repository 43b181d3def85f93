"""Local files as inputs: ``client.upload`` from a path, bytes, a PIL image or an image array,
against the sandbox's presigned-URL storage; the same content is uploaded once; the asset URL
runs the Photo Stylizer; the key never goes to the storage URL; limits name their fix.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client_support import Recorder, fast_client
from PIL import Image

from lamina_notebook.client import LaminaClient
from lamina_notebook.errors import APIError, ConfigurationError
from lamina_notebook.files import sniff_mime
from lamina_notebook.journal import Journal
from lamina_notebook.sandbox import Sandbox

PHOTO = "https://example.com/cat.jpg"


@pytest.fixture(scope="module")
def store() -> Iterator[Sandbox]:
    with Sandbox(time_scale=0.02, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def sb(store: Sandbox) -> Iterator[Sandbox]:
    store.configure(max_upload_bytes=25_000_000)
    yield store
    store.configure(max_upload_bytes=25_000_000)


@pytest.fixture(scope="module")
def mp4(store: Sandbox) -> bytes:
    """A real H.264 MP4: the sandbox's Image to Video output."""

    async def main() -> bytes:
        async with fast_client(store, api_edition="v1", journal=None) as c:
            run = await c.run("Image to Video", {"Upload": PHOTO})
            done = await c.wait(run, check=True)
            data, _ = await c.fetch_bytes(done.outputs[0].value or "")
            return data

    data = asyncio.run(main())
    assert sniff_mime(data) == "video/mp4"
    return data


def picture(color: tuple[int, int, int] = (200, 80, 40)) -> Image.Image:
    img = Image.new("RGB", (64, 48), color)
    img.paste((20, 20, 160), (8, 8, 40, 30))
    return img


def png_bytes(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def client(sb: Sandbox, **kw: Any) -> LaminaClient:
    return fast_client(sb, api_edition="v1", **kw)


class ArrayBytes(bytes):
    """Pixels behind the array interface, the protocol numpy arrays (and others) expose."""

    shape = (6, 8, 3)

    @property
    def __array_interface__(self) -> dict[str, Any]:
        return {"shape": self.shape, "typestr": "|u1", "data": bytes(self), "version": 3}


# -- the three sources, once each ----------------------------------------------------------------


def test_a_png_from_a_path_bytes_and_a_pil_image_each_upload_once(
    sb: Sandbox, tmp_path: Path
) -> None:
    img = picture()
    path = tmp_path / "shirt.png"
    img.save(path)

    async def main() -> None:
        rec = Recorder()
        async with client(sb, transport=rec) as c:
            from_path = await c.upload(path)
            assert from_path.startswith(sb.base_url + "/assets/") and from_path.endswith(
                "/shirt.png"
            )
            assert (await c.fetch_bytes(from_path))[0] == path.read_bytes()
            sent = len(rec.exchanges)
            assert await c.upload(path.read_bytes()) == from_path  # same bytes: no request
            assert await c.upload(str(path)) == from_path
            assert await c.upload(img) == from_path  # the same picture encodes the same PNG
            assert len(rec.exchanges) == sent
            other = picture((30, 160, 90))
            from_image = await c.upload(other)
            assert from_image != from_path and from_image.endswith("/image.png")
            assert await c.upload(other) == from_image and len(rec.exchanges) == sent + 2
            raw = png_bytes(picture((10, 200, 10)))
            from_bytes = await c.upload(raw, filename="green.png")
            assert from_bytes.endswith("/green.png")
        puts = [r for r in rec.requests if r.method == "PUT"]
        assert len(puts) == 3
        for put in puts:
            assert put.headers["content-type"] == "image/png"
            for secret in ("x-api-key", "authorization", "cookie"):
                assert secret not in put.headers  # a presigned URL: never the key
        posts = [e for e in rec.exchanges if e.method == "POST"]
        assert {e.path for e in posts} == {"/v1/assets/upload-urls"}
        assert all(e.body_keys == ("files",) for e in posts)

    before = sb.stats.snapshot()
    asyncio.run(main())
    assert sb.stats.uploads - before["uploads"] == 3
    assert sb.stats.upload_urls - before["upload_urls"] == 3


def test_an_mp4_from_a_path_and_bytes(sb: Sandbox, mp4: bytes, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4)

    async def main() -> None:
        rec = Recorder()
        async with client(sb, transport=rec, journal=None) as c:
            url = await c.upload(path)
            assert url.endswith("/clip.mp4")
            assert await c.upload(mp4) == url  # the same video, already there
            data, mime = await c.fetch_bytes(url)
            assert data == mp4 and mime == "video/mp4"
        put = next(r for r in rec.requests if r.method == "PUT")
        assert put.headers["content-type"] == "video/mp4"
        body = next(e for e in rec.exchanges if e.path.endswith("/upload-urls"))
        assert body.answer_keys == ("data",)

    asyncio.run(main())


def test_an_image_array_uploads_as_png(sb: Sandbox) -> None:
    pixels = ArrayBytes(bytes(range(144)))

    async def main() -> str:
        async with client(sb, journal=None) as c:
            url = await c.upload(pixels)
            data, mime = await c.fetch_bytes(url)
            assert mime == "image/png"
            with Image.open(io.BytesIO(data)) as img:
                assert img.size == (8, 6) and img.getpixel((0, 0)) == (0, 1, 2)
            return url

    assert asyncio.run(main()).endswith("/image.png")


# -- reuse across clients, and a run on the asset ------------------------------------------------


def test_the_journal_remembers_uploads_across_clients_and_a_run_uses_the_asset(
    sb: Sandbox, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    photo = png_bytes(picture((240, 200, 30)))

    async def first() -> str:
        async with client(sb, journal=Journal(journal_path)) as c:
            return await c.upload(photo, filename="me.png")

    async def second(url: str) -> None:
        rec = Recorder()
        async with client(sb, journal=Journal(journal_path), transport=rec) as c:
            assert await c.upload(photo) == url
            assert not [e for e in rec.exchanges if "upload" in e.path]  # from the journal
            fetches = sb.stats.url_fetches
            run = await c.run("Photo Stylizer", {"Upload": url, "Style": "Watercolor"})
            done = await c.wait(run, check=True)
            assert done.outputs[0].is_completed
            assert sb.stats.url_fetches == fetches + 1  # the sandbox read the uploaded photo

    url = asyncio.run(first())
    asyncio.run(second(url))


# -- limits and bad sources name their fix ------------------------------------------------------


def test_a_file_over_the_clients_limit_is_refused_before_any_request(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(picture()) + bytes(5000))

    async def main() -> None:
        async with client(sb, max_upload_bytes=1000) as c:
            before = sb.stats.requests
            with pytest.raises(ConfigurationError) as info:
                await c.upload(path)
            assert "big.png" in str(info.value) and "max_upload_bytes" in str(info.value)
            assert "thumbnail" in (info.value.hint or "")
            assert sb.stats.requests == before

    asyncio.run(main())


def test_a_file_over_the_storage_limit_gets_a_413_that_names_the_fix(sb: Sandbox) -> None:
    sb.configure(max_upload_bytes=500)
    big = png_bytes(picture()) + bytes(1000)

    async def main() -> None:
        async with client(sb, journal=None) as c:
            refused = sb.stats.uploads_refused
            with pytest.raises(APIError) as info:
                await c.upload(big, filename="poster.png")
            assert info.value.status_code == 413
            assert "poster.png" in (info.value.hint or "") and "smaller" in (info.value.hint or "")
            assert sb.stats.uploads_refused == refused + 1

    asyncio.run(main())


@pytest.mark.parametrize(
    ("source", "kw", "message", "hint"),
    [
        (b"just some text", {}, "Cannot tell what kind of file", "media_type="),
        (b"%PDF-1.7 rest", {}, "application/pdf", "Convert it"),
        (b"", {}, "is empty", "bytes"),
        (b"\x89PNG\r\n\x1a\n" + bytes(32), {"media_type": "video"}, "holds image/png", "Leave"),
        (b"\x89PNG\r\n\x1a\n", {"media_type": "document"}, "not one the service takes", "image"),
        (12345, {}, "Cannot upload a int", "client.upload('photo.jpg')"),
        ("https://example.com/cat.jpg", {}, "already a URL", "url input"),
        ("no/such/photo.jpg", {}, "No file at", "Check the path"),
    ],
)
def test_bad_sources_are_refused_before_any_request(
    sb: Sandbox, source: Any, kw: dict[str, str], message: str, hint: str
) -> None:
    async def main() -> None:
        async with client(sb, journal=None) as c:
            before = sb.stats.requests
            with pytest.raises(ConfigurationError) as info:
                await c.upload(source, **kw)
            assert message in str(info.value) and hint in str(info.value)
            assert sb.stats.requests == before

    asyncio.run(main())


def test_unknown_bytes_upload_with_an_explicit_media_type(sb: Sandbox) -> None:
    async def main() -> None:
        rec = Recorder()
        async with client(sb, transport=rec, journal=None) as c:
            url = await c.upload(b"RIFF\x00\x00\x00\x00AVI LIST", media_type="video")
            assert url.endswith("/upload")
        put = next(r for r in rec.requests if r.method == "PUT")
        assert put.headers["content-type"] == "video/mp4"  # the service's contentTypeHint

    asyncio.run(main())
