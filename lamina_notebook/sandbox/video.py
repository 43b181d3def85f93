"""The Image to Video app's output: a 2.5 s H.264 MP4 (yuv420p, faststart) that Chromium plays.

Encoded with the ffmpeg binary shipped by ``imageio-ffmpeg`` (the ``video`` extra); single
threaded and bit-exact so the same inputs give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .media import VIDEO_FPS, VIDEO_FRAMES, VIDEO_MISSING, VIDEO_SIZE, _source_image

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

    from .state import Source


def _frames(src: Image.Image, motion: str) -> Iterator[bytes]:
    from PIL import Image, ImageOps

    big = ImageOps.fit(src, (VIDEO_SIZE * 3 // 2, VIDEO_SIZE * 3 // 2))
    full = big.size[0]
    for i in range(VIDEO_FRAMES):
        t = i / (VIDEO_FRAMES - 1)
        ease = 0.5 - 0.5 * math.cos(math.pi * t)
        if motion == "Orbit":
            frame = big.rotate(-25 * ease, resample=Image.Resampling.BICUBIC)
            crop = full * (0.7 - 0.1 * ease)
            x = y = (full - crop) / 2
        elif motion in ("Pan Left", "Pan Right"):
            crop = full * 0.66
            travel = (full - crop) * (ease if motion == "Pan Right" else 1 - ease)
            frame, x, y = big, travel, (full - crop) / 2
        else:  # Slow Zoom
            crop = full * (1 - 0.35 * ease)
            frame = big
            x = y = (full - crop) / 2
        box = (x, y, x + crop, y + crop)
        yield frame.resize((VIDEO_SIZE, VIDEO_SIZE), Image.Resampling.BILINEAR, box=box).tobytes()


def render_video(
    inputs: Mapping[str, str], sources: Mapping[str, Source], blobs: Mapping[str, bytes], path: Path
) -> None:
    """Write the MP4 for these inputs to ``path``; RuntimeError naming the extra if missing."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise RuntimeError(VIDEO_MISSING) from exc
    upload = sources.get("Upload")
    url = upload.url if upload else "landscape"
    src = _source_image(blobs.get(upload.digest or "") if upload else None, url)
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (VIDEO_SIZE, VIDEO_SIZE),
        fps=VIDEO_FPS,
        codec="libx264",
        pix_fmt_out="yuv420p",
        macro_block_size=16,
        ffmpeg_log_level="error",
        quality=None,
        output_params=[
            "-movflags",
            "+faststart",
            "-threads",
            "1",
            "-preset",
            "veryfast",
            "-crf",
            "26",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-f",
            "mp4",
        ],
    )
    writer.send(None)
    try:
        for frame in _frames(src, inputs.get("Motion", "Slow Zoom")):
            writer.send(frame)
    finally:
        writer.close()
