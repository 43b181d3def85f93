"""One output (image, video, audio, text, link, placeholder, failure) and the card pieces.

Shared by the execution card (``render``) and the sweep grid (``tables``); every service
string is escaped here and every URL goes through ``safe_url``.

Videos: a short one whose bytes the caller passes (``video=``, at most
``MAX_VIDEO_EMBED_BYTES``) is embedded as ``<video src="data:video/mp4;base64,...">``, so it
plays in a saved notebook, nbconvert HTML and nbviewer with no kernel and no live URL
(JupyterLab's sanitizer checks URL schemes only on ``href``/``cite``, so an untrusted notebook
keeps the ``data:`` source and the poster too). A longer one streams its URL, with the poster,
and a caption that says what to do when that (signed, expiring) URL is dead:
``expired link? %lamina save ID``. Either way the ``<video>``'s children are the poster image
and a link: GitHub strips ``<video>`` but keeps its children.
"""

from __future__ import annotations

from ..models import Execution, Media, Output
from .html import (
    MAX_EMBED_BYTES,
    breakable,
    data_uri,
    esc,
    link,
    quote_arg,
    safe_url,
    shorten,
    video_data_uri,
)
from .styles import status_class

__all__ = [
    "MAX_TEXT_CHARS",
    "SEP",
    "Media",
    "bar_html",
    "expired_hint",
    "header_html",
    "message_html",
    "output_html",
]

#: Separator between the parts of a heading line. The stylesheet hides it (the flex gap and the
#: badge separate them there); where a sanitizer dropped the <style> it keeps the words apart.
SEP = '<span class="lamina-sep"> · </span>'


#: Text outputs longer than this are cut in the display (the Execution keeps all of it).
MAX_TEXT_CHARS = 20_000


def output_html(
    output: Output,
    media: Media | None = None,
    *,
    alt: str | None = None,
    video: bytes | None = None,
    execution_id: str | None = None,
) -> str:
    """One output as a ``<figure>``: image, video with poster, text, link, placeholder or error.

    ``media`` is the embedded image (a video's poster frame for videos), already downscaled by
    the caller; ``video`` a short video's bytes to embed (see the module docstring);
    ``execution_id`` names the run in the "expired link?" caption of a streamed video. ``alt``
    describes an image for readers who cannot see it (default: the output's label). A failed
    output is a full-width message, never squeezed into a tile.
    """
    label = esc(output.label)
    if output.is_failed:
        failure = message_html("Output failed", [output.error or output.status], None)
        return _figure(failure, label, wide=True)
    if not output.is_completed:
        return _figure(f'<div class="lamina-pending">{esc(output.status)}…</div>', label)
    kind = output.kind
    alt_text = esc(alt) if alt else label
    if kind == "image":
        return _image_html(output, media, label, alt_text)
    if kind in ("video", "audio"):
        return _media_player_html(output, media, label, kind, alt_text, video, execution_id)
    if kind == "text":
        return _text_html(output, label)
    if kind == "url":
        return _figure(link(output.value, esc(shorten(output.value, 200))), label, wide=True)
    return _figure('<div class="lamina-muted">(empty)</div>', label)


def _figure(body: str, caption: str, *, wide: bool = False) -> str:
    # Inline margin: browsers indent a bare <figure> by 40 px, and sanitizers drop <style>.
    cls = "lamina-out lamina-wide" if wide else "lamina-out"
    return (
        f'<figure class="{cls}" style="margin:0">{body}<figcaption>{caption}</figcaption></figure>'
    )


def header_html(execution: Execution, title: str | None) -> str:
    """Title, status and execution id; `` · `` separators keep them apart without the CSS."""
    name = title or execution.app_name or execution.app_id or "Lamina execution"
    return (
        f'<div class="lamina-head"><strong class="lamina-title">{esc(name)}</strong>{SEP}'
        f'<span class="lamina-badge {status_class(execution.status)}">'
        f"{esc(execution.status)}</span>{SEP}"
        f'<span class="lamina-id" title="execution id">{esc(execution.execution_id)}</span></div>'
    )


def message_html(head: str, details: list[str], hint: str | None) -> str:
    """A message box: a bold headline, details (long URLs wrap at their parts), a hint."""
    items = "".join(f"<li>{breakable(d)}</li>" for d in details)
    return (
        f'<div class="lamina-error"><strong>{esc(head)}</strong>'
        + (f"<ul>{items}</ul>" if items else "")
        + (f'<div class="lamina-hint">{esc(hint)}</div>' if hint else "")
        + "</div>"
    )


def bar_html(fraction: float) -> str:
    """The one graphical progress bar (the text bar is for ``text/plain`` only)."""
    pct = max(0.0, min(100.0, float(fraction) * 100.0))
    return f'<div class="lamina-bar"><div style="width:{pct:.0f}%"></div></div>'


def _img_tag(src: str, alt: str) -> str:
    # Inline max-width: GitHub drops the <style>, and a 1024 px image must still fit.
    return f'<img src="{esc(src)}" alt="{alt}" style="max-width:100%;height:auto">'


def _image_html(output: Output, media: Media | None, label: str, alt: str) -> str:
    embedded = data_uri(*media) if media else None
    src = embedded or safe_url(output.value)
    if src and not embedded and src.startswith("data:") and len(src) > MAX_EMBED_BYTES * 4 // 3:
        src = None  # an inline image from the service is embedded only if thumbnail-sized
    if src:
        picture = (
            link(output.value, _img_tag(src, alt)) if safe_url(output.value) else _img_tag(src, alt)
        )
        full = link(output.value, "full size ↗") if safe_url(output.value) else ""
    else:
        picture = link(output.value, esc(shorten(output.value, 200)))
        full = ""
    return _figure(picture, label + (f" · {full}" if full else ""))


def expired_hint(execution_id: str | None) -> str:
    """What to do when a streamed media URL has expired: save the run's files locally."""
    ref = quote_arg(execution_id) if execution_id else "ID"
    return f"expired link? %lamina save {ref}"


def _media_player_html(
    output: Output,
    media: Media | None,
    label: str,
    kind: str,
    alt: str,
    video: bytes | None,
    execution_id: str | None,
) -> str:
    """``<video>``/``<audio>`` with the poster and a link as fallback content.

    GitHub strips ``<video>`` but keeps its children, so the poster image and the link
    inside the element still say what the output was; real browsers show the player.
    """
    url = safe_url(output.value)
    if url and url.lower().startswith("data:"):
        url = None  # an inline "video" from the service is not playable and may be huge
    embedded = video_data_uri(video) if kind == "video" else None
    poster = data_uri(*media) if media else None
    open_link = link(output.value, f"open {kind} ↗")
    src = embedded or url
    if not src:
        still = _img_tag(poster, alt) if poster else ""
        return _figure(still, f"{label} · {open_link}")
    fallback = (_img_tag(poster, alt) if poster else "") + open_link
    if kind == "audio":
        player = f'<audio controls preload="metadata" src="{esc(src)}">{fallback}</audio>'
        return _figure(player, f"{label} · {open_link}")
    poster_attr = f' poster="{esc(poster)}"' if poster else ""
    player = (
        f'<video controls preload="metadata" src="{esc(src)}"{poster_attr} '
        f'style="max-width:100%;height:auto">{fallback}</video>'
    )
    caption = f"{label} · {open_link}"
    if not embedded:
        caption += f'<br><span class="lamina-muted">{esc(expired_hint(execution_id))}</span>'
    return _figure(player, caption)


def _text_html(output: Output, label: str) -> str:
    text = output.value or ""
    cut = ""
    if len(text) > MAX_TEXT_CHARS:
        cut = (
            f'<div class="lamina-muted">… {len(text) - MAX_TEXT_CHARS} more characters '
            "(the full text is in the execution's outputs)</div>"
        )
        text = text[:MAX_TEXT_CHARS]
    return _figure(f'<pre class="lamina-text">{esc(text)}</pre>{cut}', label, wide=True)
