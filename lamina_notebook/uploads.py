"""What ``LaminaClient.upload`` sends: a local file, bytes, a PIL image or an array, made into
bytes with a file name, a media type and a content hash, before any request.

Images given as objects (PIL, or anything with ``__array_interface__`` such as a numpy array)
are encoded to PNG; Pillow is imported only for those. The media type comes from the bytes
themselves (PNG, JPEG, MP4, ...), else from the file name, else from ``media_type=``. The
sha256 of the bytes is what makes the same picture upload only once.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["MAX_UPLOAD_BYTES", "MEDIA_TYPES", "Upload", "prepare_upload"]

#: Uploads larger than this are refused before anything is read or sent. The service names no
#: limit (the storage's signed URL decides); this keeps a notebook from reading a huge file
#: into memory by mistake. ``LaminaClient(max_upload_bytes=...)`` changes it.
MAX_UPLOAD_BYTES = 200_000_000
#: What ``POST /v1/assets/upload-urls`` takes as ``mediaType``.
MEDIA_TYPES = ("image", "video", "audio")

_EXAMPLE = "client.upload('photo.jpg'), client.upload(png_bytes), client.upload(pil_image)"


@dataclass(frozen=True)
class Upload:
    """One prepared upload: the bytes and what the service is told about them."""

    data: bytes = field(repr=False)
    filename: str
    media_type: str  # image | video | audio
    content_type: str  # e.g. image/png, the PUT's Content-Type ("": the service's hint)
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def prepare_upload(
    source: Any,
    filename: str | None = None,
    media_type: str | None = None,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> Upload:
    """``source`` (a path, bytes, a PIL image or an array) as an :class:`Upload`.

    Raises ConfigurationError naming the fix for a missing file, an unknown kind of
    content, an unsupported object or a size over ``max_bytes``. Blocking (reads files,
    encodes images): the client calls it in a worker thread.
    """
    data, default_name = _read(source, max_bytes)
    if len(data) > max_bytes:
        raise _too_big(default_name, len(data), max_bytes)
    if not data:
        raise ConfigurationError(
            f"{default_name} is empty; there is nothing to upload.",
            hint="Pass the file's bytes (or its path); " + _EXAMPLE,
        )
    name = _filename(filename, default_name)
    kind, content_type = _media(data, name, media_type)
    return Upload(data, name, kind, content_type, hashlib.sha256(data).hexdigest())


def _read(source: Any, max_bytes: int) -> tuple[bytes, str]:
    """The bytes of ``source`` and the file name to use when none is given."""
    image_module = sys.modules.get("PIL.Image")  # an image object means Pillow is loaded
    if image_module is not None and isinstance(source, image_module.Image):
        return _png(source), "image.png"
    if hasattr(source, "__array_interface__"):  # numpy arrays and their kin
        return _png(_image_from_array(source)), "image.png"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "upload"
    if isinstance(source, (str, os.PathLike)):
        return _read_file(source, max_bytes)
    raise ConfigurationError(
        f"Cannot upload a {type(source).__name__}: upload() takes a file path, bytes, a PIL "
        "image or an image array (numpy).",
        hint=_EXAMPLE,
    )


def _read_file(source: str | os.PathLike[str], max_bytes: int) -> tuple[bytes, str]:
    text = os.fspath(source)
    if isinstance(text, str) and text.strip().lower().startswith(("http://", "https://")):
        raise ConfigurationError(
            f"{text[:80]!r} is already a URL; there is nothing to upload.",
            hint="Pass the URL itself as the url input; upload() is for local files.",
        )
    path = Path(text).expanduser()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigurationError(
            f"No file at {str(path)!r}.",
            hint=f"Check the path (relative paths start at {os.getcwd()}).",
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None
    if not path.is_file():
        raise ConfigurationError(
            f"{str(path)!r} is not a file.", hint="Pass the path of one image, video or audio file."
        )
    if size > max_bytes:
        raise _too_big(path.name, size, max_bytes)
    try:
        return path.read_bytes(), path.name
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None


def _too_big(name: str, size: int, limit: int) -> ConfigurationError:
    return ConfigurationError(
        f"{name} is {size / 1e6:,.1f} MB; uploads are limited to {limit / 1e6:,.0f} MB "
        "(max_upload_bytes). Nothing was sent.",
        hint="Make it smaller first: for a picture img.thumbnail((2048, 2048)) before "
        "uploading, for a video a shorter or re-encoded copy (ffmpeg -i in.mov -vf "
        "scale=1280:-2 out.mp4); or raise LaminaClient(max_upload_bytes=...).",
    )


def _png(image: Any) -> bytes:
    """A PIL image as PNG bytes (modes PNG cannot hold are converted to RGBA first)."""
    out = io.BytesIO()
    try:
        image.save(out, format="PNG")
    except (OSError, ValueError, KeyError):
        out = io.BytesIO()
        image.convert("RGBA").save(out, format="PNG")
    return out.getvalue()


def _image_from_array(array: Any) -> Any:
    """A PIL image from an array: floats are taken as 0..1, booleans as black/white."""
    from PIL import Image

    kind = getattr(getattr(array, "dtype", None), "kind", "")
    if kind == "f":
        array = (array.clip(0.0, 1.0) * 255.0).round().astype("uint8")
    elif kind == "b":
        array = array.astype("uint8") * 255
    elif kind in ("i", "u") and len(getattr(array, "shape", ())) == 3:
        array = array.clip(0, 255).astype("uint8")
    try:
        return Image.fromarray(array)
    except (TypeError, ValueError) as exc:
        shape = getattr(array, "shape", "?")
        raise ConfigurationError(
            f"Cannot make a picture of this array (shape {shape}): {exc}.",
            hint="Pass an image array: height x width (grey) or height x width x 3/4 "
            "(RGB/RGBA), of 0..255 integers or 0..1 floats.",
        ) from None


def _filename(given: str | None, default: str) -> str:
    if given is None:
        return default
    name = Path(str(given).strip()).name
    if not name or name in (".", ".."):
        raise ConfigurationError(
            f"filename={given!r} is not a file name.", hint="Pass a name like 'photo.jpg'."
        )
    return name


def _media(data: bytes, filename: str, media_type: str | None) -> tuple[str, str]:
    """(mediaType, Content-Type) from the bytes, else the name, checked against
    ``media_type`` (``image``/``video``/``audio`` or a full type like ``image/jpeg``)."""
    from .files import sniff_mime

    found = sniff_mime(data) or mimetypes.guess_type(filename)[0]
    wanted = (media_type or "").strip().lower()
    if wanted:
        major, _, minor = wanted.partition("/")
        if major not in MEDIA_TYPES:
            raise ConfigurationError(
                f"media_type={media_type!r} is not one the service takes.",
                hint="Use 'image', 'video' or 'audio' (or a full type such as 'image/jpeg').",
            )
        if found and found.split("/")[0] in MEDIA_TYPES and not found.startswith(major + "/"):
            raise ConfigurationError(
                f"{filename} holds {found}, not {major}: media_type={media_type!r} does not "
                "match its content.",
                hint=f"Leave media_type out (it is read from the file), or upload a {major}.",
            )
        return major, wanted if minor else (found or "")
    if found is None:
        raise ConfigurationError(
            f"Cannot tell what kind of file {filename} is.",
            hint="Pass media_type='image', 'video' or 'audio' (or a filename with its "
            "extension, e.g. filename='clip.mp4').",
        )
    major = found.split("/")[0]
    if major not in MEDIA_TYPES:
        raise ConfigurationError(
            f"{filename} is {found}; Lamina's uploads take images, videos and audio.",
            hint="Convert it first (e.g. a PDF page to PNG), then upload that.",
        )
    return major, found
