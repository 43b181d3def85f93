"""Rendering: escaping of service strings, URL allow-listing, bundles that survive saving."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import pytest

from lamina_notebook import render
from lamina_notebook.errors import (
    ExecutionFailed,
    InputValidationError,
    WaitTimeout,
    error_from_response,
)
from lamina_notebook.journal import JournalEntry
from lamina_notebook.magics.parse import parse
from lamina_notebook.models import App, Execution
from lamina_notebook.render.styles import CSS

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "'\"&<>",
    "ünïcødé ✓ 日本語",
]
URL_ATTRS = {
    "src",
    "href",
    "poster",
    "action",
    "formaction",
    "srcset",
    "background",
    "data",
    "xlink:href",
    "cite",
    "longdesc",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64


class _Audit(HTMLParser):
    """Collects tags, attributes and text the way a browser would tokenize them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def audit(html: str) -> _Audit:
    """Parse ``html`` and fail on anything that could run script or load a non-allowed URL."""
    assert "<script" not in html.lower()
    parser = _Audit()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in ("script", "iframe", "object", "embed", "form", "base", "meta"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler attribute {name} on <{tag}>"
            if name in URL_ATTRS:
                assert value is not None and render.safe_url(value) == value, (tag, name, value)
                if name == "href":
                    assert value.lower().startswith(("http://", "https://")), value
            if name == "style":
                assert "url(" not in (value or "") and "expression" not in (value or "")
    return parser


def text_of(html: str) -> str:
    return "".join(audit(html).text)


def hostile_execution(status: str = "completed") -> Execution:
    outputs = []
    for i, h in enumerate(HOSTILE):
        outputs.append(
            {"id": f"img{i}", "label": h, "type": "image", "value": h, "status": "completed"}
        )
        outputs.append(
            {"id": f"vid{i}", "label": h, "type": "video", "value": h, "status": "completed"}
        )
        outputs.append(
            {"id": f"txt{i}", "label": h, "type": "text", "value": h, "status": "completed"}
        )
        outputs.append(
            {
                "id": f"err{i}",
                "label": h,
                "type": "pending",
                "value": None,
                "status": "error",
                "error": h,
            }
        )
    payload = {
        "executionId": HOSTILE[1],
        "status": status,
        "outputs": outputs,
        "errorMessage": HOSTILE[0],
    }
    return Execution.from_json(payload).with_app(HOSTILE[2], HOSTILE[0])


def image_execution(
    url: str = "https://cdn.example/out/1.png", status: str = "completed", **extra: Any
) -> Execution:
    out = {"id": "o1", "label": "Stylized", "type": "image", "value": url, "status": status}
    out.update(extra)
    return Execution.from_json(
        {"executionId": "exec-1", "status": status, "outputs": [out]}
    ).with_app("app-1", "Photo Stylizer")


# --------------------------------------------------------------------------- safe_url / esc


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example/a.png", "https://cdn.example/a.png"),
        (
            "http://127.0.0.1:8000/media/x.mp4?sig=a&b=c",
            "http://127.0.0.1:8000/media/x.mp4?sig=a&b=c",
        ),
        ("  HTTPS://Example.com/x  ", "HTTPS://Example.com/x"),
        ("https://ex.com/a b.png", "https://ex.com/a%20b.png"),
        ("data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="),
        ("data:image/jpeg;base64,/9j/4AAQ", "data:image/jpeg;base64,/9j/4AAQ"),
        ("javascript:alert(1)", None),
        (" JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("\x00javascript:alert(1)", None),
        ("vbscript:msgbox(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("data:image/svg+xml;base64,PHN2Zz4=", None),
        ('data:image/png;base64,abc"onerror=x', None),
        ("//evil.example/x.png", None),
        ("/relative/x.png", None),
        ("x.png", None),
        ("https://", None),
        ("https:\\\\evil.example", None),
        ("https://ex.com/\x01x", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_safe_url(url: Any, expected: str | None) -> None:
    assert render.safe_url(url) == expected


def test_esc_and_plain() -> None:
    assert render.esc('<a href="x">\'&') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
    assert render.esc(None) == ""
    # ANSI/OSC escape sequences from the service must not reach a terminal.
    assert "\x1b" not in render.plain("\x1b]0;pwned\x07red\x1b[31m")
    assert render.plain("line1\nline2\ttab") == "line1\nline2\ttab"


# --------------------------------------------------------------------------- hostile input


def test_hostile_execution_html_is_inert() -> None:
    ex = hostile_execution()
    media = {f"vid{i}": (PNG, "image/png") for i in range(len(HOSTILE))}
    html = render.execution_html(ex, media, inputs={h: h for h in HOSTILE})
    text = text_of(html)
    for h in HOSTILE:
        assert h.strip() in text or h.replace("\t", "") in text, h
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The hostile "URLs" never became players or links: only embedded posters remain.
    parser = audit(html)
    assert not [a for t, a in parser.tags if t in ("video", "audio")]
    assert not [a for t, a in parser.tags if t == "a"]


@pytest.mark.parametrize("status", ["running", "failed", '<img src=x onerror="alert(1)">'])
def test_hostile_status_never_becomes_markup_or_class(status: str) -> None:
    html = render.execution_html(hostile_execution(status))
    parser = audit(html)
    classes = " ".join(a.get("class") or "" for _, a in parser.tags)
    assert "onerror" not in classes and "alert" not in classes
    assert status in text_of(html)


def test_hostile_tables_are_inert() -> None:
    params = [
        {"id": h, "name": h, "type": "options", "options": HOSTILE, "default": h, "description": h}
        for h in HOSTILE
    ]
    app = App.from_json(
        {"appId": HOSTILE[1], "name": HOSTILE[0], "description": HOSTILE[5], "parameters": params}
    )
    entry = _entry(
        HOSTILE[1], app_name=HOSTILE[0], status=HOSTILE[1], inputs={h: h for h in HOSTILE}
    )
    cells = [render.GridCell(row=h, col=h, execution=hostile_execution()) for h in HOSTILE]
    pieces = [
        render.apps_table_html([app]),
        render.app_info_html(app),
        render.history_html([entry], {HOSTILE[1]: (PNG, "image/png")}),
        render.comparison_grid_html(cells, row_name=HOSTILE[0], col_name=HOSTILE[1]),
        render.progress_html(hostile_execution("running"), 3.0, 5.0),
    ]
    for html in pieces:
        text = text_of(html)
        assert "<script>alert(1)</script>" in text
        assert "&lt;script&gt;" in html


def test_hostile_text_outputs_in_terminal() -> None:
    ex = Execution.from_json(
        {
            "executionId": "e",
            "status": "completed",
            "outputs": [
                {
                    "id": "t",
                    "label": "\x1b[2Jlabel",
                    "type": "text",
                    "value": "ok\x1b]0;title\x07",
                    "status": "completed",
                }
            ],
        }
    )
    for text in (
        render.execution_text(ex),
        render.progress_text(ex, 1.0),
        render.history_text([_entry("e", app_name="\x1b[31mred")]),
        render.apps_table_text([App(app_id="a", name="\x1b[31mred")]),
    ):
        assert "\x1b" not in text and "\x07" not in text


# --------------------------------------------------------------------------- execution bundle


def test_bundle_embeds_media_and_records_metadata() -> None:
    ex = image_execution()
    data, meta = render.execution_bundle(
        ex, {"o1": (PNG, "image/png")}, inputs={"Style": "Disney / Pixar", "Seed": 3}
    )
    assert set(data) == {"text/plain", "text/html", "image/png"}
    assert base64.b64decode(data["image/png"]) == PNG
    assert meta == {
        "lamina": {
            "app_id": "app-1",
            "app_name": "Photo Stylizer",
            "execution_id": "exec-1",
            "status": "completed",
            "inputs": {"Style": "Disney / Pixar", "Seed": 3},
        }
    }
    parser = audit(data["text/html"])
    imgs = [a for t, a in parser.tags if t == "img"]
    assert imgs[0]["src"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
    links = [a["href"] for t, a in parser.tags if t == "a"]
    assert "https://cdn.example/out/1.png" in links
    assert "full size ↗" in text_of(data["text/html"])
    assert "https://cdn.example/out/1.png" in data["text/plain"]
    assert "Stylized" in data["text/plain"] and "exec-1" in data["text/plain"]


def test_bundle_without_media_links_the_url_and_has_no_image_key() -> None:
    data, _ = render.execution_bundle(image_execution())
    assert "image/png" not in data and "image/jpeg" not in data
    imgs = [a for t, a in audit(data["text/html"]).tags if t == "img"]
    assert imgs[0]["src"] == "https://cdn.example/out/1.png"


def test_bundle_jpeg_and_refuses_oversized_or_svg_media() -> None:
    data, _ = render.execution_bundle(image_execution(), {"o1": (JPEG, "image/jpeg")})
    assert base64.b64decode(data["image/jpeg"]) == JPEG
    huge = b"\xff" * (render.MAX_EMBED_BYTES + 1)
    for media in ((huge, "image/png"), (b"<svg onload=alert(1)>", "image/svg+xml")):
        data, _ = render.execution_bundle(image_execution(), {"o1": media})
        assert "image/png" not in data and "image/svg+xml" not in data
        assert "data:" not in data["text/html"]
        assert len(data["text/html"]) < 20_000


def test_unsafe_output_url_is_shown_as_text_not_loaded() -> None:
    ex = image_execution(url="javascript:alert(document.cookie)")
    html = render.execution_html(ex)
    parser = audit(html)
    assert not [t for t, _ in parser.tags if t in ("img", "a")]
    assert "unsafe URL not linked: javascript:alert(document.cookie)" in text_of(html)


def test_video_has_player_poster_and_link_that_survive_video_stripping() -> None:
    ex = Execution.from_json(
        {
            "executionId": "v1",
            "status": "completed",
            "outputs": [
                {
                    "id": "v",
                    "label": "Clip",
                    "type": "video",
                    "value": "https://cdn.example/c.mp4",
                    "status": "completed",
                }
            ],
        }
    )
    data, _ = render.execution_bundle(ex, {"v": (PNG, "image/png")})
    html = data["text/html"]
    parser = audit(html)
    video = next(a for t, a in parser.tags if t == "video")
    assert "controls" in video and video["preload"] == "metadata"
    assert video["src"] == "https://cdn.example/c.mp4"
    assert video["poster"].startswith("data:image/png;base64,")
    # What GitHub shows after removing <video>/</video>: the poster image and a link.
    stripped = re.sub(r"</?video[^>]*>", "", html)
    rest = audit(stripped)
    assert any(t == "img" and a["src"].startswith("data:image/png") for t, a in rest.tags)
    assert any(t == "a" and a["href"] == "https://cdn.example/c.mp4" for t, a in rest.tags)
    # The poster is also the bundle's static image for renderers that drop HTML.
    assert base64.b64decode(data["image/png"]) == PNG


def test_text_failed_and_pending_outputs() -> None:
    ex = Execution.from_json(
        {
            "executionId": "e2",
            "status": "running",
            "outputs": [
                {
                    "id": "t",
                    "label": "Caption",
                    "type": "text",
                    "value": "a <b>bold</b>\nline",
                    "status": "completed",
                },
                {
                    "id": "f",
                    "label": "Thumb",
                    "type": "pending",
                    "value": None,
                    "status": "error",
                    "error": "GPU out of memory",
                },
                {
                    "id": "p",
                    "label": "Video",
                    "type": "pending",
                    "value": None,
                    "status": "pending",
                },
            ],
        }
    ).with_app("a", "Story Writer")
    html = render.execution_html(ex)
    parser = audit(html)
    assert any(t == "pre" for t, _ in parser.tags)
    text = text_of(html)
    assert "a <b>bold</b>\nline" in text and "GPU out of memory" in text
    assert "lamina-error" in html and "lamina-pending" in html and "lamina-bar" in html
    plain = render.execution_text(ex)
    assert "Thumb: failed: GPU out of memory" in plain and "Video: pending" in plain
    assert "Traceback" not in html + plain


def test_failed_execution_shows_service_error_without_traceback() -> None:
    ex = Execution.from_json(
        {
            "executionId": "e3",
            "status": "failed",
            "outputs": [],
            "errorMessage": "Model crashed: <oops>",
        }
    )
    html = render.execution_html(ex)
    assert "Model crashed: <oops>" in text_of(html)
    assert "lamina-s-failed" in html and "Traceback" not in html
    assert "error: Model crashed: <oops>" in render.execution_text(ex)


def test_long_text_output_is_cut_in_the_display() -> None:
    long = "x" * (render.MAX_TEXT_CHARS + 500)
    ex = Execution.from_json(
        {
            "executionId": "e4",
            "status": "completed",
            "outputs": [
                {"id": "t", "label": "Essay", "type": "text", "value": long, "status": "completed"}
            ],
        }
    )
    html = render.execution_html(ex)
    assert "500 more characters" in html
    assert len(html) < render.MAX_TEXT_CHARS + 10_000


def test_bundle_through_ipython_formatter_and_nbformat() -> None:
    """A handle with ``_repr_mimebundle_`` displays via IPython and saves as valid nbformat."""
    import nbformat
    from IPython.core.formatters import DisplayFormatter

    class Handle:
        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
            return render.execution_bundle(
                image_execution(), {"o1": (PNG, "image/png")}, inputs={"Style": "Anime"}
            )

    data, meta = DisplayFormatter().format(Handle())
    assert {"text/plain", "text/html", "image/png"} <= set(data)
    assert meta["lamina"]["execution_id"] == "exec-1"
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%lamina run ...")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=meta)]
    nb.cells.append(cell)
    nbformat.validate(nbformat.reads(nbformat.writes(nb), as_version=4))


# --------------------------------------------------------------------------- progress / errors


def test_progress_text_line() -> None:
    ex = Execution.from_json(
        {
            "executionId": "e5",
            "status": "running",
            "outputs": [
                {
                    "id": "a",
                    "label": "A",
                    "type": "image",
                    "value": "https://x/a",
                    "status": "completed",
                },
                {"id": "b", "label": "B", "type": "pending", "value": None, "status": "pending"},
            ],
        }
    ).with_app("id", "Photo Stylizer")
    line = render.progress_text(ex, 4.2, eta=6.0)
    assert "\n" not in line
    for part in ("Photo Stylizer", "running", "1/2 outputs", "4.2 s", "~6.0 s left", "[######"):
        assert part in line
    done = render.progress_text(image_execution(), 75.0, eta=3.0)
    assert "left" not in done and "1 min 15 s" in done and "[############]" in done
    assert "width:50%" in render.progress_html(ex, 4.2)


def test_error_text_and_html_for_api_errors() -> None:
    body = (
        '{"error": "Invalid inputs", "code": "VALIDATION_ERROR", "requestId": "req-9", '
        '"details": ["\\"Location\\": invalid option \\"Mars\\". Must be one of: Studio, '
        'Urban, Park"]}'
    )
    exc = error_from_response(400, body)
    text = render.error_text(exc)
    assert text.splitlines()[0] == "ValidationError: Invalid inputs (HTTP 400)"
    assert "Must be one of: Studio, Urban, Park" in text and "request id: req-9" in text
    assert "%lamina info APP" in text  # the hint names the fix
    html = render.error_html(exc)
    assert "Must be one of: Studio, Urban, Park" in text_of(html)
    assert "Traceback" not in text + html and "lamina-hint" in html


@pytest.mark.parametrize(
    "exc",
    [
        InputValidationError("Inputs rejected", ["<script>alert(1)</script>"], hint="Fix it."),
        WaitTimeout("e-1", 30.0),
        ExecutionFailed(image_execution(status="failed")),
        RuntimeError("<b>boom</b>"),
    ],
)
def test_error_rendering_never_shows_tracebacks(exc: BaseException) -> None:
    text, html = render.error_text(exc), render.error_html(exc)
    assert type(exc).__name__ in text and "Traceback" not in text
    assert text.splitlines()[0] in text_of(html)
    if getattr(exc, "hint", None):
        assert exc.hint in text  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- tables


def _app() -> App:
    return App.from_json(
        {
            "appId": "1b2c",
            "name": "Photo Stylizer",
            "description": "Turn photos into art",
            "parameters": [
                {"id": "p1", "name": "Image", "type": "url", "accept": ["image"]},
                {
                    "id": "p2",
                    "name": "Style",
                    "type": "options",
                    "options": ["Disney / Pixar", "Anime"],
                    "default": "Anime",
                },
                {"id": "p3", "name": "Aspect Ratio", "type": "options", "options": ["16:9", "1:1"]},
                {"id": "p4", "name": "Prompt", "type": "text", "description": "What to draw"},
            ],
        }
    )


def test_app_info_marks_required_and_gives_a_runnable_example() -> None:
    app = _app()
    html = render.app_info_html(app)
    text = text_of(html)
    for part in ("Image", "url (image)", "Disney / Pixar", "Anime", "What to draw", "required"):
        assert part in text
    assert html.count(">required<") == 3  # Image, Aspect Ratio, Prompt have no default
    plain = render.app_info_text(app)
    assert "Image *" in plain and "Style *" not in plain
    example = next(line for line in plain.splitlines() if line.startswith("Example: "))
    cmd = parse(example.removeprefix("Example: %lamina "))
    assert cmd.app == "Photo Stylizer"
    assert cmd.inputs == {"Image": "<url>", "Aspect Ratio": "16:9", "Prompt": "<text>"}


def test_app_info_without_parameters() -> None:
    bare = App(app_id="x", name="Bare")
    assert "not loaded" in render.app_info_text(bare)
    assert "no parameters" in render.app_info_html(App(app_id="x", name="N", parameters=()))


def test_apps_tables() -> None:
    apps = [_app(), App(app_id="9f", name="Story Writer", description="d" * 500)]
    html = render.apps_table_html(apps)
    text = text_of(html)
    assert "Photo Stylizer" in text and "9f" in text and "d" * 500 not in text
    lines = render.apps_table_text(apps).splitlines()
    assert lines[0].split() == ["Name", "Description", "App", "id"]
    assert lines[2].startswith("Photo Stylizer") and len(lines) == 4
    assert "No apps" in render.apps_table_text([]) and "No apps" in render.apps_table_html([])


def _entry(execution_id: str, **kw: Any) -> JournalEntry:
    fields: dict[str, Any] = dict(
        execution_id=execution_id,
        app_id="app-1",
        app_name="Photo Stylizer",
        inputs={"Style": "Anime"},
        status="completed",
        outputs=({"id": "o1", "status": "completed"}, {"id": "o2", "status": "error"}),
        error=None,
        webhook_url=None,
        base_url="http://127.0.0.1:1",
        created_at=1_700_000_000.0,
        updated_at=1_700_000_010.0,
        completed_at=1_700_000_012.5,
    )
    fields.update(kw)
    return JournalEntry(**fields)


def test_history_tables_with_thumbnails() -> None:
    entries = [_entry("exec-new"), _entry("exec-old", status="running", completed_at=None)]
    html = render.history_html(entries, {"exec-new": (PNG, "image/png")})
    parser = audit(html)
    thumbs = [a["src"] for t, a in parser.tags if t == "img"]
    assert thumbs == ["data:image/png;base64," + base64.b64encode(PNG).decode()]
    text = text_of(html)
    assert "exec-new" in text and "Style=Anime" in text and "1/2" in text and "12 s" in text
    plain = render.history_text(entries)
    assert plain.splitlines()[2].split()[-1] == "1/2"
    assert "running" in plain and "exec-old" in plain
    assert "No executions" in render.history_text([])


def test_history_marks_unconfirmed_starts_with_what_to_do() -> None:
    lost = _entry(
        "unconfirmed-1234",
        status="unconfirmed",
        outputs=(),
        completed_at=None,
        error="HTTP 503",
        confirmed=False,
    )
    html = render.history_html([lost, _entry("exec-ok")])
    audit(html)
    text = text_of(html)
    assert "unconfirmed-1234" in text and "MAY exist" in text and "Lamina app" in text
    assert "lamina-s-queued" in html  # a warning colour, not the failure one
    plain = render.history_text([lost])
    assert "unconfirmed" in plain.splitlines()[2] and plain.endswith(render.UNCONFIRMED_NOTE)
    ok = render.history_text([_entry("exec-ok")])
    assert "MAY exist" not in ok and "MAY exist" not in render.history_html([_entry("e")])


def test_comparison_grid_keeps_sweep_order_and_labels() -> None:
    done = image_execution()
    failed = Execution.from_json(
        {"executionId": "f", "status": "failed", "outputs": [], "errorMessage": "bad seed"}
    )
    cells = [
        render.GridCell("Anime", "1:1", done, {"o1": (PNG, "image/png")}),
        render.GridCell("Anime", "16:9", failed),
        render.GridCell("Disney / Pixar", "1:1", None),
    ]
    html = render.comparison_grid_html(cells, row_name="Style", col_name="Aspect Ratio")
    text = text_of(html)
    assert text.index("1:1") < text.index("16:9") and text.index("Anime") < text.index("Disney")
    assert "Style \\ Aspect Ratio" in text and "bad seed" in text and "not started" in text
    tags = audit(html).tags
    assert sum(1 for t, _ in tags if t == "th") == 1 + 2 + 2  # corner, 2 columns, 2 rows
    assert "overflow-x:auto" in html and html.count("data:image/png") == 1
    grid = render.comparison_grid_text(cells)
    assert "https://cdn.example/out/1.png" in grid and "not started" in grid


# --------------------------------------------------------------------------- look and layering


def test_stylesheet_is_scoped_and_theme_aware() -> None:
    selectors = re.findall(r"(?:^|})\s*([^{}]+)\{", CSS)
    for sel in selectors:
        for part in sel.split(","):
            assert part.strip().startswith(".lamina-"), part
    for var in re.findall(r"var\((--[\w-]+)([,)])", CSS):
        assert var[1] == ",", f"{var[0]} has no fallback"
    assert "--jp-layout-color1" in CSS and "--jp-error-color1" in CSS


def test_render_and_command_import_nothing_heavy() -> None:
    code = (
        "import sys, lamina_notebook.render, lamina_notebook.magics.parse\n"
        "bad = [m for m in ('IPython', 'ipywidgets', 'PIL', 'httpx', 'traitlets') "
        "if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_inline_data_image_from_the_service_is_bounded() -> None:
    small = "data:image/png;base64," + base64.b64encode(PNG).decode()
    html = render.execution_html(image_execution(url=small))
    assert [a["src"] for t, a in audit(html).tags if t == "img"] == [small]
    big = "data:image/png;base64," + "A" * (render.MAX_EMBED_BYTES * 2)
    data, _ = render.execution_bundle(image_execution(url=big))
    assert len(data["text/html"]) < 20_000 and len(data["text/plain"]) < 1_000
