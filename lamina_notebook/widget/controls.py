"""Input controls for :class:`~lamina_notebook.widget.LaminaApp`: one row per app parameter.

Owns the parameter -> widget mapping, inline validation (via :mod:`.validation`) and the
value dict round trip. Service metadata is untrusted: HTML widgets only get escaped text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ipywidgets as W

from ..errors import InputValidationError
from ..models import App, Media, Parameter
from ..render.html import esc, shorten
from ..render.styles import ERROR_STYLE, MUTED_STYLE
from ..validation import quote, validate_inputs

__all__ = ["ControlPanel", "ControlParts", "ParamControl", "is_short_text"]

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
#: Height a URL's preview is shown at under its field (the thumbnail itself is
#: ``session.media.PREVIEW_THUMB_PX``; a short preview keeps the form compact).
PREVIEW_SHOWN_PX = 96


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


def _label_html(param: Parameter) -> str:
    required = (
        f' <span style="{ERROR_STYLE}" title="required: no default">* required</span>'
        if param.needs_value
        else ""
    )
    kind = f' <span style="{MUTED_STYLE}">({esc(param.type)})</span>'
    return f"<b>{esc(param.name)}</b>{kind}{required}"


def _help_html(param: Parameter) -> str:
    if not param.description:
        return ""
    return f'<span style="{MUTED_STYLE}">{esc(shorten(param.description, 400))}</span>'


@dataclass(frozen=True)
class ControlParts:
    """The widgets of one parameter's row (see :attr:`LaminaApp.parts`)."""

    row: W.VBox
    label: W.HTML
    #: Text, Textarea, ToggleButtons or Dropdown; type into it or pick a label like a user.
    input: W.ValueWidget
    help: W.HTML
    #: The inline problem under the input ("" when there is none).
    error: W.HTML
    #: ``url`` parameters only: the reachability mark and the thumbnail preview.
    mark: W.Valid | None
    preview: W.Image | None


class ParamControl:
    """One parameter's row: escaped label, input widget, help text, inline error.

    ``url`` parameters also get a validity mark (``ipywidgets.Valid``) and a thumbnail
    preview (``ipywidgets.Image``) that the widget fills from bytes the kernel fetched.
    """

    def __init__(self, param: Parameter) -> None:
        self.param = param
        self.kind = self._kind(param)
        self.input = self._make_input()
        self.label = W.HTML(_label_html(param))
        self.help = W.HTML(_help_html(param))
        self.error = W.HTML("")
        self.mark: W.Valid | None = None
        self.preview: W.Image | None = None
        parts: list[W.Widget] = [self.label, self.input]
        if param.type == "url":
            self.mark = W.Valid(value=False, readout="empty", layout=W.Layout(width="auto"))
            self.preview = W.Image(
                format="png", layout=W.Layout(max_height=f"{PREVIEW_SHOWN_PX}px", display="none")
            )
            parts = [self.label, W.HBox([self.input, self.mark]), self.preview]
        parts += [self.help, self.error]
        self.row = W.VBox(parts, layout=W.Layout(margin="0 0 6px 0"))
        self.row.add_class("lamina-param")

    @property
    def parts(self) -> ControlParts:
        return ControlParts(
            self.row, self.label, self.input, self.help, self.error, self.mark, self.preview
        )

    @staticmethod
    def _kind(param: Parameter) -> str:
        if param.type == "options" and param.options:
            return "toggle" if len(param.options) <= TOGGLE_MAX_LABELS else "dropdown"
        if param.type == "url":
            return "url"
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

    def get(self) -> str | None:
        """The control's value as the service wants it; None when nothing is chosen."""
        value = self.input.value
        return None if value is None else str(value)

    def set(self, value: str | None) -> None:
        """Show ``value``; None restores the default. Raises ValueError for an unknown label."""
        if value is None:
            value = self.param.default
        self.check(value)
        if self.kind in ("toggle", "dropdown"):
            self.input.value = value if value in self.input.options else None
        else:
            self.input.value = "" if value is None else str(value)

    def check(self, value: Any) -> None:
        """Raise ValueError (naming the fix) if the control cannot show ``value``."""
        if value is not None and not isinstance(value, str):
            raise ValueError(
                f"{quote(self.param.name)} must be a string, got "
                f"{type(value).__name__}; pass {quote(str(value))}"
            )
        if (
            self.kind in ("toggle", "dropdown")
            and value is not None
            and value not in self.input.options
            and value != self.param.default
        ):
            raise ValueError(
                f"{quote(value)} is not an option of "
                f"{quote(self.param.name)}; choose one of: "
                f"{', '.join(self.input.options)}"
            )

    def show_problem(self, problem: str | None) -> None:
        """Show (or clear) the inline error under the control."""
        text = "" if not problem else f'<span style="{ERROR_STYLE}">✗ {esc(problem)}</span>'
        if self.error.value != text:
            self.error.value = text

    def set_mark(self, ok: bool, reason: str) -> None:
        """The ✓/✗ next to a URL field; ``reason`` is plain text (the Valid readout)."""
        if self.mark is not None:
            self.mark.readout = shorten(reason, 80)
            self.mark.value = ok

    def set_preview(self, image: Media | None) -> None:
        """Show a thumbnail (already downscaled) under a URL field, or hide it."""
        if self.preview is None:
            return
        if image is None:
            self.preview.layout.display = "none"
            self.preview.value = b""
            return
        data, mime = image
        self.preview.format = mime.split("/", 1)[-1] if "/" in mime else "png"
        self.preview.value = data
        self.preview.layout.display = ""


def _placeholder(param: Parameter) -> str:
    if param.type == "url":
        accept = "/".join(param.accept) if param.accept else "media"
        return f"https://... ({accept})"
    return "required" if param.needs_value else ""


class ControlPanel:
    """All controls of an app, their value dict and inline validation.

    ``on_change(values, problems)`` is called after any control changes (not while
    :meth:`set_values` is applying a dict), with the per-parameter problems.
    """

    def __init__(self, app: App, on_change: Callable[[dict[str, str], dict[str, str]], None]):
        self.app = app
        self.controls = [ParamControl(p) for p in app.parameters or ()]
        self._by_name = {c.param.name: c for c in self.controls}
        self._on_change = on_change
        self._applying = False
        for control in self.controls:
            control.input.observe(self._changed, names="value")
        empty = W.HTML(f'<span style="{MUTED_STYLE}">This app takes no inputs.</span>')
        self.box = W.VBox([c.row for c in self.controls] or [empty])

    def control(self, name: str) -> ParamControl | None:
        return self._by_name.get(name)

    @property
    def parts(self) -> Mapping[str, ControlParts]:
        """Each parameter's widgets by parameter name, in the app's order (read-only)."""
        return MappingProxyType({c.param.name: c.parts for c in self.controls})

    def showable(self, values: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
        """Split ``values`` into what the controls can show and the rest (e.g. the inputs of
        a past run that the app no longer takes as given)."""
        usable: dict[str, str] = {}
        rest: dict[str, Any] = {}
        for name, value in values.items():
            control = self._by_name.get(name)
            try:
                if control is None:
                    raise ValueError(name)
                control.check(value)
            except ValueError:
                rest[name] = value
                continue
            usable[name] = value
        return usable, rest

    def values(self) -> dict[str, str]:
        """Current inputs keyed by parameter name; empty/unchosen controls are left out."""
        out: dict[str, str] = {}
        for c in self.controls:
            value = c.get()
            if value is not None and value != "":
                out[c.param.name] = value
        return out

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Apply a full value dict: names not given go back to their defaults.

        Raises ValueError naming the problem (unknown name, unknown label, not a string)
        before changing anything. Shows the inline problems but does not call ``on_change``
        (the caller is setting the value itself).
        """
        self.check_names(values)
        for name, value in values.items():
            self._by_name[name].check(value)
        self._applying = True
        try:
            for c in self.controls:
                c.set(values.get(c.param.name))
        finally:
            self._applying = False
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
        """Per-parameter problems of ``values`` (default: the controls), from validation.py.

        Problems not tied to one parameter (e.g. the body size) are keyed by ``""``.
        """
        values = self.values() if values is None else values
        try:
            validate_inputs(self.app, values)
        except InputValidationError as exc:
            return {name or "": text for name, text in exc.by_param().items()}
        return {}

    def show_problems(self, problems: Mapping[str, str]) -> None:
        for c in self.controls:
            c.show_problem(problems.get(c.param.name))

    def _changed(self, _change: Any) -> None:
        if self._applying:
            return
        values = self.values()
        problems = self.problems(values)
        self.show_problems(problems)
        self._on_change(values, problems)
