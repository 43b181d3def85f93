"""The sandbox's app catalog: app definitions in the API's shape, with deterministic ids.

Every app has a ``kind`` that picks its media generator (see ``media.py`` and ``compose.py``), a
duration in seconds of server time (scaled by the sandbox's ``time_scale``), and workflow steps
with credit costs (what ``POST /v1/apps/{id}/estimate`` shows and what a run spends).

Some apps are awkward on purpose, as real catalogues are: a ``multiple`` url parameter, a default
of ``""``, ``required: false`` without a default, a double space in a name, an option label with a
trailing space, a parameter without ``id``, and snake_case ``key`` aliases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NO_DEFAULT: Any = None  # a parameter whose default is null/absent must be supplied

# Fixed namespace so app ids are the same on every machine and every run.
NAMESPACE = uuid.UUID("6f1d3c52-8a7e-4b7b-9d5e-2f4c1a0b9e31")
ASPECT_RATIOS = ["1:1", "16:9", "9:16", "4:3"]
OTHER_WORKSPACE = "ws_acme_internal"
OWN_WORKSPACE = "ws_sandbox"


def stable_id(*parts: str) -> str:
    """A uuid5 from ``parts``: same names, same id, everywhere."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def snake_key(name: str, kind: str) -> str:
    """An author-style ``key``: ``"Your Photo"`` (url) -> ``your_photo_image_url``,
    ``"Visual Style"`` (text or options) -> ``visual_style_text``, as Lamina's CLI docs show."""
    words = "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
    return f"{words}_image_url" if kind == "url" else f"{words}_text"


@dataclass(frozen=True)
class ParamDef:
    """One app parameter; ``to_json`` gives the shape of ``GET /api/apps/{id}``.

    ``default`` is any JSON value; ``None`` means "no default" (must be supplied), while ``""``,
    ``[]``, ``0`` and ``false`` are real defaults. ``key`` is the optional snake_case alias;
    ``has_id=False`` leaves ``id`` out (such parameters are addressed by key or name only).
    """

    app: str
    name: str
    type: str  # "text" | "options" | "url"
    description: str
    options: tuple[str, ...] | None = None
    default: Any = NO_DEFAULT
    accept: tuple[str, ...] | None = None
    key: str | None = None
    has_id: bool = True
    required: bool = True
    multiple: bool = False
    max_items: int = 9  # the most values a ``multiple`` parameter takes

    @property
    def id(self) -> str | None:
        return stable_id(self.app, "param", self.name) if self.has_id else None

    @property
    def must_supply(self) -> bool:
        """The service's rule: a value is needed exactly when there is no default."""
        return self.default is None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.has_id:
            data["id"] = self.id
        data["name"] = self.name
        if self.key is not None:
            data["key"] = self.key
        data.update(
            type=self.type,
            required=self.required,
            options=list(self.options) if self.options is not None else None,
            default=list(self.default) if isinstance(self.default, tuple) else self.default,
            description=self.description,
        )
        if self.accept:
            data["accept"] = list(self.accept)
        if self.multiple:
            data["multiple"] = True
        return data


@dataclass(frozen=True)
class StepDef:
    """One billed node of an app's workflow: expected credits and the range a run may cost."""

    node_id: str
    credits: int
    min_credits: int
    max_credits: int

    @property
    def node_type(self) -> str:
        return self.node_id.split("-")[0]

    def to_json(self) -> dict[str, Any]:
        return {"nodeId": self.node_id, "nodeType": self.node_type, "credits": self.credits}


# Credits per produced output, by output type: (expected, min, max).
OUTPUT_CREDITS = {"image": (4, 4, 6), "video": (40, 30, 60), "text": (1, 1, 1), "audio": (8, 6, 10)}


@dataclass(frozen=True)
class OutputDef:
    """One output node of an app's workflow; producing it spends ``credits``."""

    id: str
    label: str
    type: str  # "image" | "video" | "text"
    text: str | None = None  # fixed text for extra apps
    credits: tuple[int, int, int] | None = None  # (expected, min, max); None = by type

    @property
    def step(self) -> StepDef:
        expected, low, high = self.credits or OUTPUT_CREDITS.get(self.type, (4, 4, 6))
        return StepDef(self.id, expected, low, high)


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
    pre_steps: tuple[StepDef, ...] = ()  # billed once, when the run starts

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

    def details(self, edition: str = "api") -> dict[str, Any]:
        """``GET /api/apps/{id}``'s data; the ``/v1`` edition adds ``outputs``."""
        data = {**self.summary(), "parameters": [p.to_json() for p in self.params]}
        if edition == "v1":
            data["outputs"] = [
                {"index": i, "label": o.label, "type": o.type} for i, o in enumerate(self.outputs)
            ]
        return data

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def runnable(self) -> bool:
        """Apps of another workspace that are not public answer 403 to runs and estimates."""
        return self.workspace == OWN_WORKSPACE

    def steps(self, selected: Sequence[int] | None = None) -> list[StepDef]:
        """The billed steps of a run producing ``selected`` outputs (default: all)."""
        chosen = range(len(self.outputs)) if selected is None else selected
        return [*self.pre_steps, *(self.outputs[i].step for i in chosen)]

    def cost(self, selected: Sequence[int] | None = None) -> tuple[int, int, int]:
        """(expected, min, max) credits of a run producing ``selected`` outputs."""
        steps = self.steps(selected)
        return (
            sum(s.credits for s in steps),
            sum(s.min_credits for s in steps),
            sum(s.max_credits for s in steps),
        )


def _node(app: str, prefix: str, i: int) -> str:
    """Workflow node ids shaped like the service's (``aiDesignerNode-1773051929782-5yzqjkwpm``)."""
    digest = stable_id(app, "node", str(i)).replace("-", "")
    return f"{prefix}-{1773051929782 + int(digest[:6], 16)}-{digest[6:15]}"


def _pre(app: str, prefix: str, credits: int, i: int = 0) -> StepDef:
    """A billed step that produces no output (analysis, prompt enhancing, segmentation)."""
    return StepDef(_node(app, prefix, 100 + i), credits, credits, credits)


def _param(app: str, name: str, kind: str, description: str, *args: Any, **kw: Any) -> ParamDef:
    """A built-in parameter with an author-style ``key``."""
    kw.setdefault("key", snake_key(name, kind))
    return ParamDef(app, name, kind, description, *args, **kw)


def _upload(app: str, what: str = "image") -> ParamDef:
    return _param(
        app, "Upload", "url", f"Public http(s) URL of the {what} to use.", accept=("image",)
    )


def _aspect(app: str) -> ParamDef:
    return _param(
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
                _param(
                    cat,
                    "Style",
                    "options",
                    "Look of the catalog shots.",
                    ("Studio White", "Ghibli", "Disney / Pixar", "Lifestyle", "Minimal"),
                    "Studio White",
                ),
            ),
            (
                OutputDef(_node(cat, "aiDesignerNode", 1), "AI Designer", "image", None, (6, 6, 9)),
                OutputDef(_node(cat, "aiDesignerNode", 2), "AI Designer", "image", None, (6, 6, 9)),
            ),
            pre_steps=(_pre(cat, "backgroundRemovalNode", 1),),
        ),
        AppDef(
            t2i,
            "Generate an image from a text prompt in one of six styles.",
            "text_to_image",
            6.0,
            (
                _param(t2i, "Prompt", "text", "What the image should show."),
                _param(
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
            pre_steps=(_pre(t2i, "promptEnhancerNode", 1),),
        ),
        AppDef(
            sty,
            "Restyle a photo: Disney / Pixar, Ghibli, watercolor, comic and more.",
            "stylize",
            8.0,
            (
                _upload(sty, "photo"),
                _param(
                    sty,
                    "Style",
                    "options",
                    "Target style.",
                    ("Disney / Pixar", "Ghibli", "Watercolor", "Comic", "Claymation", "Cyberpunk"),
                    "Disney / Pixar",
                ),
                _aspect(sty),
            ),
            (OutputDef(_node(sty, "styleTransferNode", 1), "Stylized", "image", None, (5, 5, 8)),),
            pre_steps=(_pre(sty, "faceDetectNode", 1),),
        ),
        AppDef(
            vid,
            "Animate a still picture into a short video clip.",
            "video",
            30.0,
            (
                _upload(vid, "picture"),
                _param(
                    vid,
                    "Motion",
                    "options",
                    "Camera motion.",
                    ("Slow Zoom", "Pan Left", "Pan Right", "Orbit"),
                    "Slow Zoom",
                ),
            ),
            (OutputDef(_node(vid, "videoGenNode", 1), "Video", "video"),),
            pre_steps=(_pre(vid, "motionPlanNode", 2),),
        ),
        AppDef(
            cpy,
            "Write a headline and a description for a product.",
            "copy",
            4.0,
            (
                _param(cpy, "Product", "text", "The product, in a few words (3 or more)."),
                _param(
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
                _param(ups, "Scale", "options", "Enlargement factor.", ("2x", "4x"), "4x"),
            ),
            (OutputDef(_node(ups, "upscaleNode", 1), "Upscaled", "image", None, (6, 3, 6)),),
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
        *awkward_apps(),
    ]


def awkward_apps() -> list[AppDef]:
    """Apps shaped like real catalogue entries, with every quirk a client must survive."""
    shoot, selfie, board = "Model Photoshoot", "Selfie With Celebrity", "Mood Board"
    return [
        AppDef(
            shoot,
            "Put a garment on a model: front, back and side views for your online store.",
            "photoshoot",
            15.0,
            (
                _param(
                    shoot,
                    "Garment",
                    "url",
                    "Public http(s) URL of a flat-lay or hanger photo of the garment.",
                    accept=("image",),
                ),
                ParamDef(  # a double space in the name, as authors type it
                    shoot,
                    "Model  Ethnicity",
                    "options",
                    "Who models the garment.",
                    ("Any", "East Asian", "South Asian", "Black", "White", "Latina"),
                    "Any",
                    key="model_ethnicity_text",
                ),
                ParamDef(  # a trailing space in an option label (and in the default)
                    shoot,
                    "Quality",
                    "options",
                    "Standard is faster; High adds a retouching pass.",
                    ("Standard ", "High"),
                    "Standard ",
                    key="quality_text",
                ),
                ParamDef(  # required: false, yet no default: the service demands it anyway
                    shoot,
                    "Background",
                    "text",
                    'Where the shoot happens, e.g. "white studio" or "beach at sunset".',
                    key="background_text",
                    required=False,
                ),
            ),
            (
                OutputDef(_node(shoot, "aiModelNode", 1), "Front View", "image", None, (8, 8, 12)),
                OutputDef(_node(shoot, "aiModelNode", 2), "Back View", "image", None, (8, 8, 12)),
                OutputDef(_node(shoot, "aiModelNode", 3), "Side View", "image", None, (8, 8, 12)),
            ),
            pre_steps=(_pre(shoot, "garmentSegmentNode", 2),),
        ),
        AppDef(
            selfie,
            "Take a selfie with a celebrity of your choice, from one photo of yourself.",
            "selfie",
            8.0,
            (
                _param(
                    selfie,
                    "Your Photo",
                    "url",
                    "Public http(s) URL of a photo of you, face visible.",
                    accept=("image",),
                ),
                _param(selfie, "Celebrity", "text", "Who joins you in the selfie."),
            ),
            (OutputDef(_node(selfie, "faceSwapNode", 1), "Selfie", "image", None, (6, 6, 9)),),
            pre_steps=(_pre(selfie, "faceAnalysisNode", 1),),
        ),
        AppDef(
            board,
            "Arrange several reference pictures into one mood board, with an optional title.",
            "moodboard",
            5.0,
            (
                ParamDef(
                    board,
                    "Reference Images",
                    "url",
                    "Public http(s) image URLs, as a JSON array (1 to 9).",
                    accept=("image",),
                    key="reference_images_image_url",
                    multiple=True,
                ),
                _param(
                    board, "Title", "text", "Printed across the board; empty for none.", None, ""
                ),
                ParamDef(  # no id and no key: addressed by name only
                    board,
                    "Layout",
                    "options",
                    "How the pictures are arranged.",
                    ("Grid", "Strip"),
                    "Grid",
                    has_id=False,
                ),
            ),
            (OutputDef(_node(board, "collageNode", 1), "Mood Board", "image", None, (3, 3, 3)),),
            is_public=False,  # a workspace app: listed for its own workspace only
        ),
    ]


def _extra_param(app: str, raw: Mapping[str, Any]) -> ParamDef:
    """A parameter from a dict in the API's shape; ``"id": None`` leaves the id out, ``default``
    keeps its JSON value (``""``, ``[]``, ``0`` and ``false`` are defaults too)."""
    options = raw.get("options")
    accept = raw.get("accept")
    return ParamDef(
        app,
        str(raw["name"]),
        str(raw.get("type", "text")),
        str(raw.get("description", "")),
        tuple(str(o) for o in options) if options is not None else None,
        raw.get("default"),
        tuple(str(a) for a in accept) if accept else None,
        key=None if raw.get("key") is None else str(raw["key"]),
        has_id=not ("id" in raw and raw["id"] is None),
        required=bool(raw.get("required", True)),
        multiple=bool(raw.get("multiple", False)),
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
            _credits(o.get("credits")),
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


def _credits(raw: Any) -> tuple[int, int, int] | None:
    """An extra output's ``credits``: a number, or ``[expected, min, max]``."""
    if raw is None:
        return None
    if isinstance(raw, (int, float)):
        return int(raw), int(raw), int(raw)
    expected, low, high = (int(x) for x in raw)
    return expected, low, high


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


BROWSE_PUBLIC = 10  # /v1's browse default: this many public apps, workspace apps always


def browse(apps: Sequence[AppDef], text: str | None, limit: int | None) -> list[AppDef]:
    """``GET /v1/apps``: like ``search``, except that a bare browse (no search, no limit)
    lists the first 10 public apps plus every workspace (non-public) app, in catalogue order."""
    if (text or "").strip() or limit is not None:
        return search(apps, text, limit)
    shown: list[AppDef] = []
    public = 0
    for app in apps:
        if app.is_public:
            public += 1
            if public > BROWSE_PUBLIC:
                continue
        shown.append(app)
    return shown
