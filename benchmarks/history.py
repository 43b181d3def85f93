"""Figure 7: ``%lamina history`` over a journal of 1 000 runs whose output URLs are all dead.

The journal is built the way runs leave it: 1 000 completed runs, each with one image output
whose URL points at a closed port on 127.0.0.1 (an old sandbox, an expired link), and each with
the thumbnail that ``RunHandle`` stores at completion (``session.media.stored_thumbnail`` of a
real photograph's crop, so the thumbnails weigh what real ones do).

Two arms, in the same process, on the same page of the 20 newest runs:

- baseline, the code before schema 3 (``magics/commands.py`` ``fetch_history_thumbnails``,
  reimplemented here step for step): ``journal.history(limit=20)``, then one ``fetch_media``
  of the first image of every row through a ``LaminaClient`` with the session's default
  settings (its retries of a refused connection included), bounded by ``BASELINE_TIMEOUT``;
- stored: ``journal.query(limit=20)`` + ``journal.media(ids)`` + ``journal.previous_runs`` +
  ``render.history_html``, from a freshly opened journal each time (a new kernel), no network.

Every sample of the stored arm also checks that the page shows all 20 thumbnails.
"""

from __future__ import annotations

import asyncio
import io
import socket
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._harness import Figure, median, ms
from .weight import PHOTO, PHOTO_SHA256

RUNS = 1000
PAGE = 20
#: The baseline never waits longer than this (it would take as long as its retries last).
BASELINE_TIMEOUT = 60.0
TARGET_SECONDS = 1.0
APP_ID = "bench-text-to-image"
APP_NAME = "Text to Image"
PROMPTS = (
    "a lighthouse in a storm at night",
    "a fox in the snow",
    "a robot reading in a library",
    "a boat on a calm lake at dawn",
    "a city street in the rain",
)
STYLES = ("Photorealistic", "Watercolor", "Anime", "Pixel Art", "Oil Painting", "Neon Noir")


def dead_base_url() -> str:
    """``http://127.0.0.1:PORT`` of a port that was just free and is now closed (refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def thumbnails(count: int) -> list[bytes]:
    """``count`` distinct stored thumbnails of crops of the benchmark's photograph."""
    import hashlib

    from PIL import Image

    from lamina_notebook.session.media import stored_thumbnail

    data = PHOTO.read_bytes()
    if hashlib.sha256(data).hexdigest() != PHOTO_SHA256:
        raise RuntimeError(f"{PHOTO} is not the documented photograph (sha256 differs)")
    out = []
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB")
        width, height = rgb.size
        for i in range(count):
            side = 200 + (i * 37) % (min(width, height) - 200)
            left, top = (i * 53) % (width - side), (i * 29) % (height - side)
            buf = io.BytesIO()
            rgb.crop((left, top, left + side, top + side)).save(buf, "JPEG", quality=95)
            out.append(stored_thumbnail(buf.getvalue()))
    return out


def build_journal(path: Path, runs: int, dead: str) -> dict[str, Any]:
    """A journal of ``runs`` completed runs with stored thumbnails and dead output URLs."""
    from lamina_notebook.journal import Journal, StoredMedia
    from lamina_notebook.models import Execution

    thumbs = thumbnails(min(runs, 50))
    start = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    with Journal(path) as journal:
        for i in range(runs):
            run_id = str(uuid.UUID(int=i + 1))
            created = datetime.fromtimestamp(start + i * 60, tz=timezone.utc).isoformat()
            done = datetime.fromtimestamp(start + i * 60 + 7, tz=timezone.utc).isoformat()
            output = {
                "id": "imageGenNode-1",
                "label": "Image",
                "type": "image",
                "status": "completed",
                "value": f"{dead}/files/{run_id}/imageGenNode-1.png",
                "mimeType": "image/png",
            }
            inputs = {"Prompt": PROMPTS[i % len(PROMPTS)], "Style": STYLES[i % len(STYLES)]}
            journal.record_started(
                Execution.from_json(
                    {"executionId": run_id, "status": "queued", "createdAt": created}
                ),
                app_id=APP_ID,
                app_name=APP_NAME,
                inputs=inputs,
                base_url="https://app.uselamina.ai",
            )
            journal.record_update(
                Execution.from_json(
                    {
                        "executionId": run_id,
                        "status": "completed",
                        "createdAt": created,
                        "completedAt": done,
                        "outputs": [output],
                    }
                )
            )
            thumb = thumbs[i % len(thumbs)]
            journal.record_media(
                run_id,
                [StoredMedia("imageGenNode-1", "image", "image/png", thumb, 700_000, 1024, 1024)],
            )
    sizes = [len(t) for t in thumbs]
    return {
        "journal_bytes": sum(f.stat().st_size for f in path.parent.glob(path.name + "*")),
        "thumb_bytes_mean": sum(sizes) / len(sizes),
        "thumb_bytes_max": max(sizes),
    }


async def baseline_page(journal_path: Path, timeout: float, max_retries: int) -> tuple[int, int]:
    """Before schema 3: the 20 newest entries, then a thumbnail fetched from each row's URL.

    Reimplements ``fetch_history_thumbnails`` as it was (a fresh media cache: a new kernel's)
    with the session's default client; returns (rows, thumbnails shown).
    """
    from lamina_notebook import render
    from lamina_notebook.client import LaminaClient
    from lamina_notebook.models import Media
    from lamina_notebook.session.media import HISTORY_THUMB_PX, MediaCache, fetch_media

    async with LaminaClient(
        "lma_benchmark", "https://app.uselamina.ai", journal=journal_path, max_retries=max_retries
    ) as client:
        entries = client.history(limit=PAGE)
        cache = MediaCache()
        targets = []
        for entry in entries:
            execution = entry.to_execution()
            first = next(
                (
                    o
                    for o in execution.outputs
                    if o.is_completed and o.value and o.kind in ("image", "video")
                ),
                None,
            )
            if first is not None:
                targets.append((execution, first))
        thumbs: dict[str, Media] = {}
        try:
            found = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        fetch_media(client, e, HISTORY_THUMB_PX, cache=cache, outputs=[o])
                        for e, o in targets
                    ),
                    return_exceptions=True,
                ),
                timeout,
            )
        except asyncio.TimeoutError:
            found = []
        for (execution, output), media in zip(targets, found, strict=False):
            if isinstance(media, dict) and output.id in media:
                thumbs[execution.execution_id] = media[output.id]
        html = render.history_html(entries, thumbs)
    return len(entries), html.count("data:image/")


def stored_page(journal_path: Path, offset: int = 0) -> tuple[int, int, int]:
    """Schema 3: one query for the page, one for its media, one for the previous runs,
    then render; a freshly opened journal. Returns (rows, thumbnails shown, total)."""
    from lamina_notebook import render
    from lamina_notebook.journal import Journal

    with Journal(journal_path) as journal:
        entries, total = journal.query(limit=PAGE, offset=offset)
        media = journal.media([e.execution_id for e in entries])
        previous = journal.previous_runs(entries)
        html = render.history_html(entries, media, total=total, offset=offset, previous=previous)
    return len(entries), html.count("data:image/jpeg;base64,"), total


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def run(quick: bool = False) -> Figure:
    runs = 40 if quick else RUNS
    baseline_samples = 1 if quick else 3
    stored_samples = 5 if quick else 30
    max_retries = 1 if quick else 5  # the session's default is 5
    with tempfile.TemporaryDirectory(prefix="lamina-bench-history-") as tmp:
        path = Path(tmp) / "journal.sqlite3"
        dead = dead_base_url()
        built_at = time.perf_counter()
        facts = build_journal(path, runs, dead)
        build_seconds = time.perf_counter() - built_at

        base_times: list[float] = []
        base_thumbs: list[int] = []
        for _ in range(baseline_samples):
            seconds, (_rows, shown) = timed(
                asyncio.run, baseline_page(path, BASELINE_TIMEOUT, max_retries)
            )
            base_times.append(seconds)
            base_thumbs.append(shown)

        new_times: list[float] = []
        new_thumbs: list[int] = []
        last_times: list[float] = []
        total = 0
        for _ in range(stored_samples):
            seconds, (_rows, shown, total) = timed(stored_page, path)
            new_times.append(seconds)
            new_thumbs.append(shown)
            seconds, (_rows, _shown, _total) = timed(stored_page, path, max(0, runs - PAGE))
            last_times.append(seconds)

    base_med, new_med = median(base_times), median(new_times)
    every_thumb = all(n == PAGE for n in new_thumbs)
    met = max(new_times) < TARGET_SECONDS and every_thumb
    return Figure(
        key="7",
        title=f"%lamina history over {runs} runs with dead URLs, a page of {PAGE}",
        columns=["arm", "samples", "median", "max", "thumbnails shown"],
        rows=[
            [
                "baseline: fetch each row's thumbnail (before schema 3)",
                len(base_times),
                ms(base_med),
                ms(max(base_times)),
                f"{min(base_thumbs)}/{PAGE}",
            ],
            [
                "stored thumbnails: query + media + render (fresh journal)",
                len(new_times),
                ms(new_med),
                ms(max(new_times)),
                f"{min(new_thumbs)}/{PAGE}",
            ],
            [
                "stored thumbnails, last page (offset)",
                len(last_times),
                ms(median(last_times)),
                ms(max(last_times)),
                "",
            ],
        ],
        target=f"< {TARGET_SECONDS:g} s with every thumbnail present",
        met=met,
        notes=[
            f"baseline / stored (medians): {base_med / new_med:.0f}x",
            f"journal of {runs} runs: {facts['journal_bytes'] / 1e6:.1f} MB on disk (WAL "
            f"included); stored thumbnails {facts['thumb_bytes_mean'] / 1000:.1f} KB on "
            f"average, {facts['thumb_bytes_max'] / 1000:.1f} KB at most; built in "
            f"{build_seconds:.1f} s",
            f"baseline client: max_retries={max_retries}, bounded by {BASELINE_TIMEOUT:g} s; "
            f"dead URLs at {dead} (a closed port: connection refused)",
        ],
        data={
            "runs": runs,
            "page": PAGE,
            "total": total,
            "baseline_seconds": base_times,
            "baseline_thumbnails": base_thumbs,
            "baseline_timeout": BASELINE_TIMEOUT,
            "baseline_max_retries": max_retries,
            "stored_seconds": new_times,
            "stored_thumbnails": new_thumbs,
            "last_page_seconds": last_times,
            "ratio": base_med / new_med,
            **facts,
        },
    )
