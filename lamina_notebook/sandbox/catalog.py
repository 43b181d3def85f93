"""The sandbox's app catalog: app definitions in the API's shape, with deterministic ids.

Every app has a ``kind`` that picks its media generator (see ``media.py``) and a duration in
seconds of server time (scaled by the sandbox's ``time_scale``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Fixed namespace so app ids are the same on every machine and every run.
NAMESPACE = uuid.UUID("6f1d3c52-8a7e-4b7b-9d5e-2f4c1a0b9e31")
ASPECT_RATIOS = ["1:1", "16:9", "9:16", "4:3"]
OTHER_WORKSPACE = "ws_acme_internal"
OWN_WORKSPACE = "ws_sandbox"


def stable_id(*parts: str) -> str:
    """A uuid5 from ``parts``: same names, same id, everywhere."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class ParamDef:
    """One app parameter; ``to_json`` gives the shape of ``GET /api/apps/{id}``."""

    app: str
    name: str
    type: str  # "text" | "options" | "url"
    description: str
    options: tuple[str, ...] | None = None
    default: str | None = None
    accept: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": stable_id(self.app, "param", self.name),
            "name": self.name,
            "key": self.name.lower().replace(" ", "_"),
            "type": self.type,
            "required": True,
            "options": list(self.options) if self.options is not None else None,
            "default": self.default,
            "description": self.description,
        }
        if self.accept:
            data["accept"] = list(self.accept)
        return data


@dataclass(frozen=True)
class OutputDef:
    """One output node of an app's workflow."""

    id: str
    label: str
    type: str  # "image" | "video" | "text"
    text: str | None = None  # fixed text for extra apps


@dataclass(frozen=True)
class AppDef:
    """An app: what the list and details endpoints show, plus how the sandbox runs it."""

    name: str
    description: str
    kind: str
    duration: float
    params: tuple[ParamDef, ...]
    outputs: tuple[OutputDef, ...]
    is_public: bool = True
    workspace: str = OWN_WORKSPACE
    app_id: str = ""
    workflow_id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.app_id:
            object.__setattr__(self, "app_id", stable_id("app", self.name))
        if not self.workflow_id:
            object.__setattr__(self, "workflow_id", stable_id("workflow", self.name))

    def summary(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "name": self.name,
            "description": self.description,
            "isPublic": self.is_public,
        }

    def details(self) -> dict[str, Any]:
        return {**self.summary(), "parameters": [p.to_json() for p in self.params]}

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)


def _node(app: str, prefix: str, i: int) -> str:
    """Workflow node ids shaped like the service's (``aiDesignerNode-1773051929782-5yzqjkwpm``)."""
    digest = stable_id(app, "node", str(i)).replace("-", "")
    return f"{prefix}-{1773051929782 + int(digest[:6], 16)}-{digest[6:15]}"


def _upload(app: str, what: str = "image") -> ParamDef:
    return ParamDef(
        app, "Upload", "url", f"Public http(s) URL of the {what} to use.", accept=("image",)
    )


def _aspect(app: str) -> ParamDef:
    return ParamDef(
        app, "Aspect Ratio", "options", "Shape of the result.", tuple(ASPECT_RATIOS), "1:1"
    )


def builtin_apps() -> list[AppDef]:
    """The default catalog, in list order (``search=catalog`` finds Catalog Studio first)."""
    t2i, cat, sty = "Text to Image", "Catalog Studio", "Photo Stylizer"
    vid, cpy, ups, prv = "Image to Video", "Product Copywriter", "Upscaler 4x", "Acme Brand Kit"
    return [
        AppDef(
            cat,
            "Turn one product photo into two catalog-ready shots for your store.",
            "catalog",
            12.0,
            (
                _upload(cat, "product photo"),
                ParamDef(
                    cat,
                    "Style",
                    "options",
                    "Look of the catalog shots.",
                    ("Studio White", "Ghibli", "Disney / Pixar", "Lifestyle", "Minimal"),
                    "Studio White",
                ),
            ),
            (
                OutputDef(_node(cat, "aiDesignerNode", 1), "AI Designer", "image"),
                OutputDef(_node(cat, "aiDesignerNode", 2), "AI Designer", "image"),
            ),
        ),
        AppDef(
            t2i,
            "Generate an image from a text prompt in one of six styles.",
            "text_to_image",
            6.0,
            (
                ParamDef(t2i, "Prompt", "text", "What the image should show."),
                ParamDef(
                    t2i,
                    "Style",
                    "options",
                    "Rendering style.",
                    (
                        "Photorealistic",
                        "Watercolor",
                        "Anime",
                        "Pixel Art",
                        "Oil Painting",
                        "Neon Noir",
                    ),
                    "Photorealistic",
                ),
                _aspect(t2i),
            ),
            (OutputDef(_node(t2i, "imageGenNode", 1), "Image", "image"),),
        ),
        AppDef(
            sty,
            "Restyle a photo: Disney / Pixar, Ghibli, watercolor, comic and more.",
            "stylize",
            8.0,
            (
                _upload(sty, "photo"),
                ParamDef(
                    sty,
                    "Style",
                    "options",
                    "Target style.",
                    ("Disney / Pixar", "Ghibli", "Watercolor", "Comic", "Claymation", "Cyberpunk"),
                    "Disney / Pixar",
                ),
                _aspect(sty),
            ),
            (OutputDef(_node(sty, "styleTransferNode", 1), "Stylized", "image"),),
        ),
        AppDef(
            vid,
            "Animate a still picture into a short video clip.",
            "video",
            30.0,
            (
                _upload(vid, "picture"),
                ParamDef(
                    vid,
                    "Motion",
                    "options",
                    "Camera motion.",
                    ("Slow Zoom", "Pan Left", "Pan Right", "Orbit"),
                    "Slow Zoom",
                ),
            ),
            (OutputDef(_node(vid, "videoGenNode", 1), "Video", "video"),),
        ),
        AppDef(
            cpy,
            "Write a headline and a description for a product.",
            "copy",
            4.0,
            (
                ParamDef(cpy, "Product", "text", "The product, in a few words (3 or more)."),
                ParamDef(
                    cpy,
                    "Tone",
                    "options",
                    "Voice of the copy.",
                    ("Professional", "Playful", "Luxury", "Minimal"),
                    "Professional",
                ),
            ),
            (
                OutputDef(_node(cpy, "llmNode", 1), "Headline", "text"),
                OutputDef(_node(cpy, "llmNode", 2), "Description", "text"),
            ),
        ),
        AppDef(
            ups,
            "Upscale a picture 2x or 4x. Needs an input of at least 64 px per side.",
            "upscale",
            10.0,
            (
                _upload(ups, "picture"),
                ParamDef(ups, "Scale", "options", "Enlargement factor.", ("2x", "4x"), "4x"),
            ),
            (OutputDef(_node(ups, "upscaleNode", 1), "Upscaled", "image"),),
        ),
        AppDef(
            prv,
            "Private brand assets of the Acme workspace.",
            "text_to_image",
            6.0,
            (ParamDef(prv, "Prompt", "text", "What to generate."),),
            (OutputDef(_node(prv, "imageGenNode", 1), "Image", "image"),),
            is_public=False,
            workspace=OTHER_WORKSPACE,
        ),
    ]


def _extra_param(app: str, raw: Mapping[str, Any]) -> ParamDef:
    options = raw.get("options")
    accept = raw.get("accept")
    return ParamDef(
        app,
        str(raw["name"]),
        str(raw.get("type", "text")),
        str(raw.get("description", "")),
        tuple(str(o) for o in options) if options is not None else None,
        None if raw.get("default") is None else str(raw["default"]),
        tuple(str(a) for a in accept) if accept else None,
    )


def extra_app(raw: Mapping[str, Any]) -> AppDef:
    """An app from a dict in the API's shape plus ``outputs`` and ``duration``."""
    name = str(raw["name"])
    outputs = tuple(
        OutputDef(
            str(o.get("id") or _node(name, "node", i)),
            str(o.get("label", f"Output {i}")),
            str(o.get("type", "image")),
            o.get("text"),
        )
        for i, o in enumerate(raw.get("outputs") or [{"label": "Image", "type": "image"}], 1)
    )
    return AppDef(
        name=name,
        description=str(raw.get("description", "")),
        kind="generic",
        duration=float(raw.get("duration", 5.0)),
        params=tuple(_extra_param(name, p) for p in raw.get("parameters") or []),
        outputs=outputs,
        is_public=bool(raw.get("isPublic", True)),
        workspace=OWN_WORKSPACE
        if raw.get("isPublic", True)
        else str(raw.get("workspace", OTHER_WORKSPACE)),
        app_id=str(raw.get("appId") or ""),
    )


def build_catalog(
    extra: Iterable[Mapping[str, Any]] | None, durations: Mapping[str, float] | None
) -> list[AppDef]:
    """Built-in apps plus ``extra``, with ``durations`` overrides applied by app name."""
    apps = builtin_apps() + [extra_app(raw) for raw in extra or ()]
    if durations:
        apps = [
            _with_duration(a, float(durations[a.name])) if a.name in durations else a for a in apps
        ]
    return apps


def _with_duration(app: AppDef, seconds: float) -> AppDef:
    from dataclasses import replace

    return replace(app, duration=seconds)


def search(apps: Sequence[AppDef], text: str | None, limit: int | None) -> list[AppDef]:
    """Case-insensitive substring match on name and description; ``limit`` caps the result."""
    needle = (text or "").strip().lower()
    found = [
        a for a in apps if not needle or needle in a.name.lower() or needle in a.description.lower()
    ]
    return found[:limit] if limit is not None else found
