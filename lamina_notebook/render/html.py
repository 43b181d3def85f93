"""Escaping, URL allow-listing and small formatting helpers shared by the rendering functions.

Everything the service sends is untrusted: text goes through :func:`esc` (HTML) or
:func:`plain` (terminals); a URL reaches ``src``/``href`` only if :func:`safe_url` passes it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = [
    "EMBEDDABLE_MIMES",
    "MAX_EMBED_BYTES",
    "MAX_VIDEO_EMBED_BYTES",
    "VIDEO_MIMES",
    "breakable",
    "data_uri",
    "esc",
    "fmt_duration",
    "fmt_epoch",
    "inputs_text",
    "link",
    "plain",
    "quote_arg",
    "safe_url",
    "short_id",
    "shorten",
    "video_data_uri",
]

#: Image types that may be embedded as ``data:`` URIs (no SVG: it can carry script).
EMBEDDABLE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
#: Safety net against unbounded notebooks: media bigger than this is linked, not embedded.
#: Thumbnails from ``files.thumbnail`` at 1024 px are typically 60-250 KB.
MAX_EMBED_BYTES = 400 * 1024
#: Video types that may be embedded as ``data:`` URIs in a ``<video src>`` (and only there).
VIDEO_MIMES = frozenset({"video/mp4", "video/webm"})
#: Videos up to this size are embedded so they play in saved and static notebooks (base64 makes
#: the saved output 4/3 of it); longer ones stay a link with a poster.
MAX_VIDEO_EMBED_BYTES = 2 * 1024 * 1024

# Browsers drop ASCII tab/newline/CR anywhere in a URL and C0 controls/space at its ends,
# so " java\tscript:" is "javascript:" to them: remove the same characters before judging.
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_URL_TAB_NL = re.compile(r"[\t\n\r]")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}", re.I)
_DATA_VIDEO = re.compile(r"data:video/(mp4|webm);base64,[A-Za-z0-9+/]*={0,2}", re.I)
_HTTP = re.compile(r"https?://[^/?#\\]+", re.I)
# A path on the page's own server ("/proxy/8000/media/x.png" behind jupyter-server-proxy); a
# second slash or a backslash would make it protocol-relative ("//evil.example", "/\\evil").
_ROOT_RELATIVE = re.compile(r"/(?![/\\])")
# Terminal control characters (ESC sequences can rewrite the screen or the window title).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SAFE_BARE = re.compile(r"[A-Za-z0-9_@%+,./:=-]+")


def esc(text: Any) -> str:
    """HTML-escape any value (``None`` -> empty), quotes included, for text and attributes."""
    if text is None:
        return ""
    return html.escape(str(text), quote=True)


def plain(text: Any) -> str:
    """Text safe to print in a terminal: control characters (ANSI escapes) become U+FFFD."""
    if text is None:
        return ""
    return _CONTROL.sub("\ufffd", str(text))


def safe_url(url: Any, *, video: bool = False) -> str | None:
    """Return ``url`` cleaned if it may go into ``src``/``href``, else None.

    Pass: absolute ``http(s)://host...`` URLs, root-relative paths (``/proxy/8000/...``: the
    sandbox's media behind the Jupyter server's proxy, see ``session.proxy``), and
    ``data:image/(png|jpeg|gif|webp);base64,...``. With ``video=True`` (for a ``<video src>``
    only, never a link) ``data:video/(mp4|webm);base64,...`` passes too. Rejected:
    ``javascript:``/``vbscript:`` in any case or with embedded controls, other ``data:`` types
    (``text/html``, ``image/svg+xml``), protocol-relative ``//host`` and ``/\\host``, relative
    paths, and anything that is not a string.
    """
    if not isinstance(url, str):
        return None
    cleaned = _URL_TAB_NL.sub("", url.strip(_URL_EDGES))
    if _URL_CONTROL.search(cleaned):
        return None
    cleaned = cleaned.replace(" ", "%20")
    if _HTTP.match(cleaned) or _ROOT_RELATIVE.match(cleaned):
        return cleaned
    if _DATA_IMAGE.fullmatch(cleaned):
        return cleaned
    if video and _DATA_VIDEO.fullmatch(cleaned):
        return cleaned
    return None


def data_uri(data: bytes, mime: str) -> str | None:
    """A ``data:`` URI for embeddable image bytes; None for other types or oversized data."""
    mime = (mime or "").split(";", 1)[0].strip().lower()
    if mime not in EMBEDDABLE_MIMES or not data or len(data) > MAX_EMBED_BYTES:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def video_mime(data: bytes) -> str | None:
    """``video/mp4`` or ``video/webm`` when ``data`` is one (by its magic bytes), else None.

    Judged by the bytes, not by a declared type, so nothing else is ever embedded as a video.
    """
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):  # EBML header: WebM (Matroska)
        return "video/webm"
    return None


def video_data_uri(data: bytes | None) -> str | None:
    """A ``data:video/...`` URI for a short MP4/WebM (at most ``MAX_VIDEO_EMBED_BYTES``) or None."""
    if not data or len(data) > MAX_VIDEO_EMBED_BYTES:
        return None
    kind = video_mime(data)
    if kind is None:
        return None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def link(url: Any, text: str, *, cls: str = "lamina-link") -> str:
    """``<a>`` to ``url`` if it is a safe http(s) or root-relative URL; else text and URL, inert.

    ``text`` must already be HTML (callers escape it). ``data:`` URLs are never linked:
    browsers refuse to navigate to them and they would double the notebook's size.
    """
    good = safe_url(url)
    if good and not good.lower().startswith("data:"):
        return (
            f'<a class="{cls}" href="{esc(good)}" target="_blank" '
            f'rel="noopener noreferrer">{text}</a>'
        )
    if url:
        shown = esc(shorten(url, 200))
        return f'{text} <span class="lamina-muted">(unsafe URL not linked: {shown})</span>'
    return text


#: Characters of an id shown in tables (the full id is in the ``title``, shown on hover).
SHORT_ID_CHARS = 8
_UNCONFIRMED_PREFIX = "unconfirmed-"  # journal.UNCONFIRMED_PREFIX (render imports no journal)
_BREAK_AFTER = re.compile(r"([/?&=_.,;-]+)")
_LONG_TOKEN = re.compile(r"(\S{24,})")


def short_id(execution_id: Any) -> str:
    """The first ``SHORT_ID_CHARS`` characters of an id (a unique prefix in practice).

    A local ``unconfirmed-...`` id keeps its prefix, so it still says what it is.
    """
    text = "" if execution_id is None else str(execution_id)
    if text.startswith(_UNCONFIRMED_PREFIX):
        rest = text[len(_UNCONFIRMED_PREFIX) :]
        return _UNCONFIRMED_PREFIX + rest[:SHORT_ID_CHARS]
    return text[:SHORT_ID_CHARS]


def breakable(text: Any) -> str:
    """Escaped HTML of ``text`` where long tokens (URLs, paths) may wrap after ``/ ? & = . -``.

    A ``<wbr>`` after each separator gives the browser better places to break a URL than the
    card's last-resort ``overflow-wrap: anywhere``, so it wraps at its parts, not mid-word.
    """
    if text is None:
        return ""
    pieces = _LONG_TOKEN.split(str(text))
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:  # a long token
            out.append("<wbr>".join(esc(p) for p in _joined_parts(piece)))
        else:
            out.append(esc(piece))
    return "".join(out)


def _joined_parts(token: str) -> list[str]:
    """``token`` split after each separator: ``"a/b?c"`` -> ``["a/", "b?", "c"]``."""
    parts = _BREAK_AFTER.split(token)
    joined = ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    return [p for p in joined if p]


def shorten(text: Any, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (before escaping)."""
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: max(0, limit - 1)].rstrip() + "…"


def fmt_duration(seconds: float | None) -> str:
    """Human duration: ``0.4 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``; ``-`` if unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    total = round(seconds)
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    return f"{total // 3600} h {(total % 3600) // 60:02d} min"


def fmt_epoch(value: Any) -> str:
    """Local ``YYYY-MM-DD HH:MM`` for unix seconds or a datetime; ``-`` when absent/bad."""
    try:
        if isinstance(value, datetime):
            moment = value.astimezone() if value.tzinfo else value
        elif isinstance(value, (int, float)):
            moment = datetime.fromtimestamp(float(value))
        else:
            return "-"
    except (OverflowError, OSError, ValueError):
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M")


def quote_arg(token: str) -> str:
    """Quote one ``%lamina`` argument so ``shlex`` (POSIX) reads it back unchanged.

    Prefers double quotes (``"Aspect Ratio=16:9"``) as users type them; falls back to
    single quotes when the text holds a double quote or a backslash.
    """
    if token and _SAFE_BARE.fullmatch(token):
        return token
    if '"' not in token and "\\" not in token:
        return f'"{token}"'
    return "'" + token.replace("'", "'\"'\"'") + "'"


def inputs_text(inputs: Mapping[str, Any] | None, limit: int = 80) -> str:
    """``Name=value, ...`` summary of inputs for tables (not escaped)."""
    if not inputs:
        return ""
    parts = [f"{k}={shorten(v, 40)}" for k, v in inputs.items()]
    return shorten(", ".join(parts), limit)
