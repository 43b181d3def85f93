"""Helpers shared by the widget tests: a session tuned for the fast sandbox, bounded waits, and
short ways to reach the parts a user sees."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from lamina_notebook.sandbox import Sandbox
from lamina_notebook.session import Session, Settings
from lamina_notebook.widget import LaminaApp
from lamina_notebook.widget.controls import ControlParts
from lamina_notebook.widget.gallery import walk
from lamina_notebook.widget.parts import RunParts

SECRET = "lma_widget_secret_5c1d"
POLL = 0.05
#: Two images, about 1.2 s at the tests' time scale.
SLOW_APP = {
    "name": "Slow Painter",
    "description": "Two images, slowly.",
    "duration": 60,
    "parameters": [{"name": "Prompt", "type": "text", "description": "What to paint."}],
    "outputs": [{"label": "Image", "type": "image"}, {"label": "Variant", "type": "image"}],
}
#: About 40 s at the tests' time scale: still going whenever a test cancels or detaches it.
GLACIAL_APP = {
    "name": "Glacial Painter",
    "description": "One image, very slowly.",
    "duration": 2000,
    "parameters": [{"name": "Prompt", "type": "text", "description": "What to paint."}],
    "outputs": [{"label": "Image", "type": "image"}, {"label": "Variant", "type": "image"}],
}
EVIL = "<img src=x onerror=alert(1)>"
HOSTILE_APP = {
    "name": f"{EVIL}Evil App",
    "description": "<script>alert('desc')</script>",
    "duration": 1,
    "parameters": [
        {
            "name": "<b>Mode</b>",
            "type": "options",
            "options": ["<script>m</script>", "ok"],
            "default": "ok",
            "description": "<iframe src=javascript:alert(1)></iframe>",
        },
        {"name": "Notes<script>", "type": "text", "default": "</textarea><script>x</script>"},
    ],
    "outputs": [
        {"label": "<script>label</script>", "type": "text", "text": "<script>alert('out')</script>"}
    ],
}
EXTRA_APPS = [SLOW_APP, GLACIAL_APP, HOSTILE_APP]


def widget_sandbox(**knobs: Any) -> Sandbox:
    """A sandbox on the tests' fast clock with the widget tests' extra apps."""
    options: dict[str, Any] = {
        "time_scale": 0.02,
        "rate_limit": 0,
        "api_key": SECRET,
        "extra_apps": EXTRA_APPS,
    }
    return Sandbox(**{**options, **knobs})


def make_session(sb: Sandbox, key: str = SECRET, **settings: Any) -> Session:
    options: dict[str, Any] = {
        "api_key": key,
        "base_url": sb.base_url,
        "poll_interval": POLL,
        "rate_limit": 0,
        "min_poll_interval": POLL,
    }
    return Session(Settings(**{**options, **settings}))


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``predicate`` until truthy (a bounded wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


def html_values(root: W.Widget) -> list[str]:
    return [w.value for w in walk(root) if isinstance(w, W.HTML)]


def control(w: LaminaApp, name: str) -> ControlParts:
    return w.parts.controls[name]


def only_run(w: LaminaApp) -> RunParts:
    (run,) = w.parts.runs
    return run


def widget_uid(w: LaminaApp) -> str:
    """The id that ties the live widget to its static snapshot (from the snapshot's metadata)."""
    uid = w.snapshot().metadata["lamina"]["widget"]
    assert w.snapshot_id == f"lamina-widget-{uid}"
    return str(uid)


def stylizer(session: Session, sb: Sandbox, **values: str) -> LaminaApp:
    w = LaminaApp("Photo Stylizer", session=session)
    w.value = {"Upload": f"{sb.base_url}/samples/portrait.png", **values}
    return w


def png(width: int, height: int, color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A real PNG of the given size (Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def pick(upload: W.FileUpload, *files: tuple[str, bytes, str]) -> None:
    """Files ``(name, bytes, mime)`` picked in the browser: the state change the front end
    sends through the comm, applied as ipywidgets applies it (``set_state``)."""
    upload.set_state(
        {
            "value": [
                {
                    "name": name,
                    "type": mime,
                    "size": len(data),
                    "content": memoryview(data),
                    "last_modified": 1_700_000_000_000,
                }
                for name, data, mime in files
            ]
        }
    )


def image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.size
