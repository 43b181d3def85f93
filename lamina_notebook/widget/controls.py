"""Input controls for :class:`~lamina_notebook.widget.LaminaApp`: one row per app parameter.

Owns the parameter -> widget mapping, the value dict round trip (names, keys and ids of the
parameters are all understood, as the service resolves them) and calm validation: a problem is
shown next to its field only once the user edited that field or pressed Run, one message per
problem. Service metadata is untrusted: HTML widgets only get escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ipywidgets as W

from ..errors import InputValidationError
from ..models import App, Media, Parameter
from ..render.html import esc, shorten
from ..render.styles import ERROR_STYLE, MUTED_STYLE
from ..session.media import PREVIEW_THUMB_PX
from ..validation import quote, validate_inputs

__all__ = [
    "MAX_PREVIEWS",
    "ControlPanel",
    "ControlParts",
    "InputValue",
    "ParamControl",
    "is_short_text",
    "preview_layout",
]

#: What a control holds: one string, or a list of strings for a ``multiple`` parameter.
InputValue = str | list[str]

#: ipywidgets' FileUpload always writes its description with the count of its value, "Upload
#: file (0)" (the value is emptied after each pick, so the same file can be picked again): the
#: widget's stylesheet shows the description alone.
UPLOAD_STYLE = (
    "<style>.lamina-app .lamina-upload{font-size:0}"
    ".lamina-app .lamina-upload>i{font-size:var(--jp-widgets-font-size)}"
    ".lamina-app .lamina-upload::after{font-size:var(--jp-widgets-font-size)}"
    '.lamina-app .lamina-upload-one::after{content:"Upload file"}'
    '.lamina-app .lamina-upload-many::after{content:"Upload files"}</style>'
)
#: How validation.py suggests uploading a local file (the magic), and how the widget says it.
UPLOAD_MAGIC_HINT = " (or upload a local file: %lamina upload PATH)"
UPLOAD_BUTTON_HINT = " (or pick a file with the Upload button)"

# Names that ask for a line, not a paragraph ("Brand Name", "Title", "Seed" ...).
_SHORT_NAME = re.compile(
    r"\b(name|title|brand|slogan|tagline|headline|label|tag|keywords?|colou?r|font|seed|"
    r"size|lang(uage)?|subject|product|handle|email)\b",
    re.I,
)
# Names that ask for free text, whatever their default looks like ("Prompt", "Description").
_LONG_NAME = re.compile(
    r"(prompt|description|text|instruction|story|script|copy|message|content|notes?|brief)", re.I
)
#: A default up to this many characters, on one line, suggests a one-line Text.
SHORT_DEFAULT_CHARS = 40
#: Options with at most this many labels become ToggleButtons, more a Dropdown.
TOGGLE_MAX_LABELS = 4
#: Previews shown under a ``multiple`` url field (the service takes up to 9 on Mood Board).
MAX_PREVIEWS = 9
#: Files the browser may send through the widget comm (Jupyter's websocket messages are
#: limited to about 10 MB; bigger files: ``%lamina upload PATH`` or ``client.upload``).
UPLOAD_HINT_MB = 10


def is_short_text(param: Parameter) -> bool:
    """Whether a ``text`` parameter gets a one-line Text instead of a Textarea.

    Heuristic: a name like "Prompt"/"Description" always gets a Textarea; a name like
    "Name"/"Title"/"Brand" gets a Text; otherwise a one-line default of at most
    ``SHORT_DEFAULT_CHARS`` characters suggests a Text. No default and no hint: Textarea,
    because prompts are the common case.
    """
    if _LONG_NAME.search(param.name):
        return False
    if _SHORT_NAME.search(param.name):
        return True
    default = param.default or ""
    return bool(default) and len(default) <= SHORT_DEFAULT_CHARS and "\n" not in default


def preview_layout(px: int = PREVIEW_THUMB_PX) -> W.Layout:
    """A picture shown at its own proportions, at most ``px`` on its longest side: never
    stretched to the row's width (``align_self``) nor squashed (``object_fit``)."""
    return W.Layout(
        width="auto",
        height="auto",
        max_width=f"{px}px",
        max_height=f"{px}px",
        object_fit="contain",
        align_self="flex-start",
        margin="2px 6px 2px 0",
    )


def _label_html(param: Parameter) -> str:
    required = (
        f' <span style="{MUTED_STYLE}" title="no default: give a value">· required</span>'
        if param.needs_value
        else ""
    )
    kind = param.type + (", several" if param.multiple else "")
    return f'<b>{esc(param.name)}</b> <span style="{MUTED_STYLE}">({esc(kind)})</span>{required}'


def _help_html(param: Parameter) -> str:
    if not param.description:
        return ""
    return f'<span style="{MUTED_STYLE}">{esc(shorten(param.description, 400))}</span>'


def _accept(param: Parameter) -> str:
    """The file picker's ``accept`` from the parameter's media kinds (``image`` -> image/*)."""
    kinds = [a.strip().lower() for a in param.accept if a and a.strip()]
    mapped = [k if "/" in k or k.startswith(".") else f"{k}/*" for k in kinds]
    return ",".join(mapped) or "image/*,video/*,audio/*"


@dataclass(frozen=True)
class ControlParts:
    """The widgets of one parameter's row (see :attr:`LaminaApp.parts`)."""

    row: W.VBox
    label: W.HTML
    #: Text, Textarea, ToggleButtons, Dropdown or SelectMultiple; type into it or pick a
    #: label like a user.
    input: W.ValueWidget
    help: W.HTML
    #: The one message about this field's value ("" when there is none, or while the user
    #: has not edited it nor pressed Run).
    error: W.HTML
    #: ``url`` parameters only: reachability from the kernel ("checking…", "✓ reachable",
    #: "⚠ …") or what an upload did; never repeats ``error``.
    status: W.HTML | None
    #: ``url`` parameters only: the file picker (the chosen file is uploaded, its URL used).
    upload: W.FileUpload | None
    #: ``url`` parameters only: thumbnails of the URLs (one per URL of a ``multiple`` one).
    previews: W.HBox | None

    @property
    def preview(self) -> W.Image | None:
        """The first preview picture (url parameters), or None."""
        if self.previews is None:
            return None
        images = [c for c in self.previews.children if isinstance(c, W.Image)]
        return images[0] if images else None


class ParamControl:
    """One parameter's row: escaped label, input widget, help text, one inline message.

    ``url`` parameters also get a file picker (``ipywidgets.FileUpload``), a reachability
    line and thumbnail previews the kernel makes from the URL (or the uploaded file).
    ``multiple`` parameters take one value per line (options: several labels).
    """

    def __init__(self, param: Parameter) -> None:
        self.param = param
        self.kind = self._kind(param)
        self.input = self._make_input()
        self.label = W.HTML(_label_html(param))
        self.help = W.HTML(_help_html(param))
        self.error = W.HTML("")
        self.error.add_class("lamina-param-error")
        self.status: W.HTML | None = None
        self.upload: W.FileUpload | None = None
        self.previews: W.HBox | None = None
        parts: list[W.Widget] = [self.label, self.input]
        if param.type == "url":
            self.upload = W.FileUpload(
                accept=_accept(param),
                multiple=param.multiple,
                description="Upload file" + ("s" if param.multiple else ""),
                icon="upload",
                tooltip=(
                    f"Pick a local file (up to {UPLOAD_HINT_MB} MB): it is uploaded to the "
                    "service and its URL is used. Bigger files: %lamina upload PATH."
                ),
                layout=W.Layout(width="auto", flex="0 0 auto"),
            )
            self.upload.add_class("lamina-upload")
            self.upload.add_class("lamina-upload-many" if param.multiple else "lamina-upload-one")
            # One line while there is room: the field grows most, the status keeps at least
            # 180 px (it wrapped into a narrow column beside a 100% wide field); in a narrow
            # notebook the status moves under the field instead.
            self.input.layout.flex = "3 1 320px"
            self.status = W.HTML(
                "", layout=W.Layout(margin="0 0 0 8px", flex="1 1 180px", min_width="180px")
            )
            self.status.add_class("lamina-url-status")
            self.previews = W.HBox([], layout=W.Layout(flex_flow="row wrap", display="none"))
            self.previews.add_class("lamina-previews")
            line = W.HBox(
                [self.input, self.upload, self.status],
                layout=W.Layout(align_items="center", flex_flow="row wrap"),
            )
            parts = [self.label, line, self.previews]
        parts += [self.help, self.error]
        self.row = W.VBox(parts, layout=W.Layout(margin="0 0 6px 0"))
        self.row.add_class("lamina-param")

    @property
    def parts(self) -> ControlParts:
        return ControlParts(
            self.row,
            self.label,
            self.input,
            self.help,
            self.error,
            self.status,
            self.upload,
            self.previews,
        )

    @property
    def multiple(self) -> bool:
        return self.param.multiple

    @staticmethod
    def _kind(param: Parameter) -> str:
        if param.type == "options" and param.options:
            if param.multiple:
                return "labels"
            return "toggle" if len(param.options) <= TOGGLE_MAX_LABELS else "dropdown"
        if param.type == "url":
            return "urls" if param.multiple else "url"
        if param.multiple:
            return "lines"
        # Unknown types and options without labels fall back to free text (validated server-side).
        return "text" if is_short_text(param) else "textarea"

    def _make_input(self) -> W.ValueWidget:
        p = self.param
        tooltip = shorten(p.description, 200) if p.description else None
        layout = W.Layout(width="100%", max_width="640px")
        if self.kind in ("toggle", "dropdown"):
            options = list(dict.fromkeys(p.options))  # duplicate labels would be ambiguous
            value = p.default if p.default in options else None
            cls = W.ToggleButtons if self.kind == "toggle" else W.Dropdown
            extra = {"style": {"button_width": "auto"}} if self.kind == "toggle" else {}
            return cls(options=options, value=value, tooltip=tooltip, **extra)
        if self.kind == "labels":
            options = list(dict.fromkeys(p.options))
            chosen = tuple(v for v in _default_items(p) if v in options)
            return W.SelectMultiple(options=options, value=chosen, rows=min(6, len(options)))
        if self.kind in ("urls", "lines"):
            return W.Textarea(
                value="\n".join(_default_items(p)),
                placeholder=_placeholder(p),
                rows=3,
                tooltip=tooltip,
                continuous_update=False,
                layout=layout,
            )
        default = p.default or ""
        if self.kind == "textarea":
            return W.Textarea(
                value=default, placeholder=_placeholder(p), rows=3, tooltip=tooltip, layout=layout
            )
        return W.Text(
            value=default,
            placeholder=_placeholder(p),
            tooltip=tooltip,
            layout=layout,
            continuous_update=self.kind != "url",
        )

    def get(self) -> InputValue | None:
        """The control's value as the service wants it; None when nothing is given."""
        value = self.input.value
        if self.kind == "labels":
            return list(value) or None
        if self.kind in ("urls", "lines"):
            items = [line.strip() for line in str(value or "").splitlines() if line.strip()]
            return items or None
        return None if value is None else str(value)

    def urls(self) -> list[str]:
        """The URLs in a url field (one, or one per line), stripped."""
        value = self.get()
        if value is None:
            return []
        return [v.strip() for v in ([value] if isinstance(value, str) else value) if v.strip()]

    def set(self, value: Any) -> None:
        """Show ``value``; None restores the default. Raises ValueError for an unknown label."""
        if value is None:
            value = self.param.default_value if self.multiple else self.param.default
        self.check(value)
        if self.kind in ("toggle", "dropdown"):
            self.input.value = value if value in self.input.options else None
        elif self.kind == "labels":
            items = _as_items(value)
            self.input.value = tuple(v for v in items if v in self.input.options)
        elif self.kind in ("urls", "lines"):
            self.input.value = "\n".join(_as_items(value))
        else:
            self.input.value = "" if value is None else str(value)

    def check(self, value: Any) -> None:
        """Raise ValueError (naming the fix) if the control cannot show ``value``."""
        if self.multiple and isinstance(value, (list, tuple)):
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise ValueError(
                    f"{quote(self.param.name)} takes a list of strings, got "
                    f"{type(bad[0]).__name__} {bad[0]!r} in it"
                )
            items: Sequence[Any] = value
        elif value is not None and not isinstance(value, str):
            example = "['first', 'second']" if self.multiple else quote(str(value))
            raise ValueError(
                f"{quote(self.param.name)} must be a string"
                + (" or a list of strings" if self.multiple else "")
                + f", got {type(value).__name__}; pass {example}"
            )
        else:
            items = [] if value is None else [value]
        if self.kind in ("toggle", "dropdown", "labels"):
            for item in items:
                if item not in self.input.options and item != self.param.default:
                    raise ValueError(
                        f"{quote(item)} is not an option of {quote(self.param.name)}; "
                        f"choose one of: {_labels(self.input.options)}"
                    )

    def show_problem(self, problem: str | None) -> None:
        """Show (or clear) the one message under the control."""
        text = "" if not problem else f'<span style="{ERROR_STYLE}">{esc(problem)}</span>'
        if self.error.value != text:
            self.error.value = text

    def set_status(self, text: str, *, ok: bool | None = None) -> None:
        """The line next to a URL field: reachability or an upload (plain text, escaped)."""
        if self.status is None:
            return
        style = MUTED_STYLE if ok is not False else ERROR_STYLE
        mark = {True: "✓ ", False: "⚠ ", None: ""}[ok]
        html = f'<span style="{style}">{esc(mark + shorten(text, 160))}</span>' if text else ""
        if self.status.value != html:
            self.status.value = html

    def set_previews(self, thumbs: Sequence[Media | None]) -> None:
        """Show thumbnails (already small) under a URL field; an empty list hides them."""
        if self.previews is None:
            return
        shown = [t for t in thumbs if t is not None][:MAX_PREVIEWS]
        images = [c for c in self.previews.children if isinstance(c, W.Image)]
        while len(images) < len(shown):
            image = W.Image(format="png", layout=preview_layout())
            image.add_class("lamina-preview")
            images.append(image)
        for image, (data, mime) in zip(images, shown, strict=False):
            image.format = mime.split("/", 1)[-1] if "/" in mime else "png"
            image.value = data
        images = images[: len(shown)]
        if list(self.previews.children) != images:
            self.previews.children = images
        self.previews.layout.display = "" if images else "none"


def _labels(options: Sequence[str]) -> str:
    """Option labels for a message; one with spaces at an end is quoted so they show."""
    return ", ".join(quote(o) if o != o.strip() else o for o in options)


def _as_items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [line for line in str(value).splitlines() if line.strip()] or []


def _default_items(param: Parameter) -> list[str]:
    default = param.default_value
    if isinstance(default, (list, tuple)):
        return [str(v) for v in default]
    return [default] if isinstance(default, str) and default else []


def _placeholder(param: Parameter) -> str:
    if param.type == "url":
        accept = "/".join(param.accept) if param.accept else "media"
        if param.multiple:
            return f"one https://... URL per line ({accept}), or upload files"
        return f"https://... ({accept}), or upload a file"
    if param.multiple:
        return "one value per line"
    return "required" if param.needs_value else ""


class ControlPanel:
    """All controls of an app, their value dict, and calm inline validation.

    ``on_change(values, shown)`` is called after a user edit (not while :meth:`set_values`
    applies a dict), with the problems that are *shown*: those of fields the user edited
    (or set from code), and every problem once :meth:`reveal` was called (Run pressed).
    """

    def __init__(
        self,
        app: App,
        on_change: Callable[[dict[str, InputValue], dict[str, str]], None],
        guard: Callable[[Callable[[Any], Any]], Callable[[Any], None]],
    ):
        self.app = app
        self.controls = [ParamControl(p) for p in app.parameters or ()]
        self._by_name = {c.param.name: c for c in self.controls}
        self._on_change = on_change
        self._applying = False
        #: Fields whose problems may be shown (edited by the user, or set from code).
        self.touched: set[str] = set()
        #: Run was pressed: every problem is shown until the inputs are valid.
        self.revealed = False
        for control in self.controls:
            control.input.observe(guard(self._edited(control)), names="value")
        empty = W.HTML(f'<span style="{MUTED_STYLE}">This app takes no inputs.</span>')
        self.box = W.VBox([c.row for c in self.controls] or [empty])

    def control(self, name: str) -> ParamControl | None:
        return self._by_name.get(name)

    @property
    def parts(self) -> Mapping[str, ControlParts]:
        """Each parameter's widgets by parameter name, in the app's order (read-only)."""
        return MappingProxyType({c.param.name: c.parts for c in self.controls})

    def canonical(self, values: Mapping[Any, Any]) -> dict[Any, Any]:
        """``values`` keyed by parameter name: a parameter's ``key`` or ``id`` (as Lamina's
        CLI documents them) is understood like its name, as the service resolves inputs.
        Unknown names stay as they are (the checks name them); a parameter given twice is a
        ValueError."""
        out: dict[Any, Any] = {}
        given: dict[str, Any] = {}
        for key, value in values.items():
            param = self.app.parameter(key) if isinstance(key, str) else None
            name = param.name if param is not None else key
            if param is not None and name in given and given[name] != key:
                raise ValueError(
                    f"{quote(name)} given twice (as {quote(str(given[name]))} and "
                    f"{quote(key)}); give it once"
                )
            if param is not None:
                given[name] = key
            out[name] = value
        return out

    def showable(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Split ``values`` into what the controls can show and the rest (e.g. the inputs of
        a past run that the app no longer takes as given)."""
        usable: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for name, value in values.items():
            param = self.app.parameter(name) if isinstance(name, str) else None
            control = self._by_name.get(param.name) if param is not None else None
            try:
                if control is None:
                    raise ValueError(name)
                control.check(value)
            except ValueError:
                rest[name] = value
                continue
            usable[control.param.name] = value
        return usable, rest

    def values(self) -> dict[str, InputValue]:
        """Current inputs keyed by parameter name; empty/unchosen controls are left out."""
        out: dict[str, InputValue] = {}
        for c in self.controls:
            value = c.get()
            if value is not None and value != "":
                out[c.param.name] = value
        return out

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Apply a full value dict (names, keys or ids): names not given go back to their
        defaults. The given fields count as touched (their problems show).

        Raises ValueError naming the problem (unknown name, unknown label, not a string)
        before changing anything. Does not call ``on_change`` (the caller sets the value).
        """
        values = self.canonical(values)
        self.check_names(values)
        for name, value in values.items():
            self._by_name[name].check(value)
        self._applying = True
        try:
            for c in self.controls:
                c.set(values.get(c.param.name))
        finally:
            self._applying = False
        self.touched |= {name for name, value in values.items() if value is not None}
        self.show_problems(self.problems())

    def check_names(self, values: Mapping[str, Any]) -> None:
        unknown = [k for k in values if k not in self._by_name]
        if unknown:
            names = ", ".join(self._by_name) or "no inputs"
            raise ValueError(
                f"unknown input(s) {', '.join(map(quote, map(str, unknown)))}; "
                f"{self.app.name} takes: {names}"
            )

    def problems(self, values: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Every problem of ``values`` (default: the controls) by parameter name, from
        validation.py; problems not tied to one parameter (the body size) are keyed ``""``."""
        values = self.values() if values is None else values
        try:
            validate_inputs(self.app, values)
        except InputValidationError as exc:
            return {
                name or "": self._in_widget_words(name or "", text)
                for name, text in exc.by_param().items()
            }
        return {}

    def _in_widget_words(self, name: str, text: str) -> str:
        """A problem as the widget says it: validation.py (shared with the magics) suggests
        ``%lamina upload PATH`` for a local file; beside a field with an Upload button the
        button is the way (a disabled one, where the service takes no uploads: neither is)."""
        if UPLOAD_MAGIC_HINT not in text:
            return text
        control = self._by_name.get(name)
        upload = control.upload if control is not None else None
        if upload is None:
            return text
        return text.replace(UPLOAD_MAGIC_HINT, "" if upload.disabled else UPLOAD_BUTTON_HINT)

    def shown(self, problems: Mapping[str, str]) -> dict[str, str]:
        """The problems to show now: all once revealed, else those of touched fields (and
        the inputs-as-a-whole ones once anything was touched)."""
        if self.revealed:
            return dict(problems)
        return {
            k: v for k, v in problems.items() if k in self.touched or (k == "" and self.touched)
        }

    def reveal(self) -> dict[str, str]:
        """Run was pressed: show every problem (until the inputs are valid); returns them."""
        problems = self.problems()
        self.revealed = bool(problems)
        self.show_problems(problems)
        return problems

    def show_problems(self, problems: Mapping[str, str]) -> None:
        if not problems:
            self.revealed = False
        visible = self.shown(problems)
        for c in self.controls:
            c.show_problem(visible.get(c.param.name))

    def _edited(self, control: ParamControl) -> Callable[[Any], None]:
        def changed(_change: Any) -> None:
            if self._applying:
                return
            self.touched.add(control.param.name)
            values = self.values()
            problems = self.problems(values)
            self.show_problems(problems)
            self._on_change(values, self.shown(problems))

        return changed
