"""X/Y/Z grids: typed axes over an app's parameters, and a plan of every cell before anything runs.

The reference UX is AUTOMATIC1111's X/Y/Z plot: an axis is a parameter and its values (option
labels, texts, ``all`` for every option of an options parameter) or a prompt search-and-replace
(S/R) whose first value is the search term, so the first column keeps the prompt as written.
:func:`plan` builds every cell's inputs, validates them all (one
:class:`~lamina_notebook.errors.InputValidationError` naming the cells), and looks up which
cells a completed run in the journal already answers (reuse), so the run count is known before
the first request. Pure apart from journal reads; no IPython, ipywidgets or Pillow.
"""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import InputValidationError, Problem
from .models import App, Media, Parameter
from .validation import ValidInputs, quote, validate_inputs

if TYPE_CHECKING:  # pragma: no cover
    from .journal import Journal

__all__ = [
    "ALL",
    "AXIS_ROLES",
    "MAX_CELLS",
    "Axis",
    "Cell",
    "CellState",
    "GridPlan",
    "GridSpec",
    "cell_key",
    "new_grid_id",
    "parse_axis",
    "plan",
]

#: The value that stands for every option of an options parameter (``--x "Style=all"``).
ALL = "all"
#: A plan with more cells than this is refused unless ``max_cells`` is raised: a typo in an
#: axis must not fan out into hundreds of paid runs.
MAX_CELLS = 400
#: What each axis is called in messages and headers.
AXIS_ROLES = {"x": "column", "y": "row", "z": "panel"}
#: The version of :meth:`GridSpec.to_json`'s shape (stored in the journal).
SPEC_VERSION = 1


def new_grid_id() -> str:
    """A short, typeable grid id (``g-`` + 10 hex digits) for ``%lamina grid --resume ID``."""
    return f"g-{uuid.uuid4().hex[:10]}"


def cell_key(x: str | None, y: str | None = None, z: str | None = None) -> str:
    """The journal key of the cell at axis values ``(x, y, z)``: stable when a grid is extended
    (a new row or column never renames the cells already there)."""
    return json.dumps([x, y, z], ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- axes


@dataclass(frozen=True)
class Axis:
    """One axis of a grid: a parameter and the values it takes along the axis.

    ``values`` are option labels or texts; ``"all"`` (or nothing) means every option of an
    options parameter. ``replace=("fox", ["cat", "owl"])`` is a prompt search-and-replace: the
    axis values are then ``("fox", "cat", "owl")``, the first cell keeps the text as it is and
    the others replace every ``fox`` in it. ``label`` names the axis in headers (default: the
    parameter). Values are de-duplicated in order.
    """

    param: str
    values: Sequence[str] | None = None
    label: str | None = None
    replace: tuple[str, tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.param, str) or not self.param:
            raise TypeError("Axis(param, ...): param must be a parameter name (a string)")
        if self.replace is not None:
            search, repl = _replace_pair(self.replace)
            object.__setattr__(self, "replace", (search, repl))
            given = _value_tuple(self.values) if self.values not in (None, ALL) else None
            wanted = tuple(dict.fromkeys((search, *repl)))
            if given is not None and given != wanted:
                raise ValueError(
                    "a search-and-replace axis takes its values from replace=(search, "
                    f"[replacements]); got values={list(given)!r} as well"
                )
            object.__setattr__(self, "values", wanted)
        elif self.values is None or self.values == ALL:
            object.__setattr__(self, "values", None)
        else:
            object.__setattr__(self, "values", _value_tuple(self.values))

    @property
    def is_replace(self) -> bool:
        """True for a search-and-replace axis."""
        return self.replace is not None

    @property
    def search(self) -> str | None:
        """The search term of a search-and-replace axis (its first value)."""
        return self.replace[0] if self.replace is not None else None

    @property
    def wants_all(self) -> bool:
        """True until :meth:`resolve` expands ``all`` into the parameter's options."""
        return self.values is None

    @property
    def items(self) -> tuple[str, ...]:
        """The concrete values (empty while ``all`` is not resolved)."""
        return self.values if isinstance(self.values, tuple) else ()

    @property
    def name(self) -> str:
        """How headers name the axis: the label, else the parameter (``Prompt S/R`` for S/R)."""
        if self.label:
            return self.label
        return f"{self.param} S/R" if self.is_replace else self.param

    def describe(self) -> str:
        """One line for a legend: ``Style: Anime, Watercolor`` or ``Prompt: "fox" -> cat, owl``."""
        if self.search is not None:
            rest = ", ".join(v for v in self.items if v != self.search)
            return f"{self.param}: replace {quote(self.search)} with {rest}"
        return f"{self.param}: {', '.join(self.items) if self.items else ALL}"

    def apply(self, inputs: dict[str, Any], value: str, default: Any = None) -> str | None:
        """Put ``value`` into ``inputs`` (a plain axis sets the parameter, an S/R axis replaces
        its search term in the text there, or in ``default`` when the inputs have none);
        returns a problem message, or None."""
        if self.search is None:
            inputs[self.param] = value
            return None
        base = inputs.get(self.param, default)
        if not isinstance(base, str) or self.search not in base:
            shown = "no text" if not isinstance(base, str) else quote(_cut(base))
            return (
                f"search term {quote(self.search)} does not occur in the {self.param} "
                f"({shown}); the first value of a search-and-replace axis must appear in the text"
            )
        if value != self.search:
            inputs[self.param] = base.replace(self.search, value)
        return None

    def resolve(self, app: App) -> Axis:
        """This axis for ``app``: the parameter by its name, ``all`` expanded, values checked.

        Raises InputValidationError for an unknown parameter, ``all`` on a parameter without
        options, or an axis without values.
        """
        param = find_parameter(app, self.param)
        values = self.values
        if values is None:
            if param.type != "options" or not param.options:
                raise _axis_error(
                    app,
                    param.name,
                    f"is a {param.type} parameter, so it has no options to take all of; "
                    f'give the values, e.g. "{param.name}=first|second"',
                )
            values = tuple(param.options)
        if not values:
            raise _axis_error(app, param.name, "the axis has no values; give at least one")
        return replace(self, param=param.name, values=tuple(values))

    def extended(self, more: Iterable[str]) -> Axis:
        """A copy with ``more`` values appended (replacements, for an S/R axis); duplicates
        of values already there are dropped."""
        extra = [v for v in _value_tuple(list(more)) if v not in self.items]
        if self.replace is not None:
            search, repl = self.replace
            return replace(self, replace=(search, (*repl, *extra)), values=None)
        return replace(self, values=(*self.items, *extra))

    def to_json(self) -> dict[str, Any]:
        return {
            "param": self.param,
            "values": list(self.items) if not self.wants_all else ALL,
            "label": self.label,
            "search": self.search,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Axis:
        values = data.get("values")
        search = data.get("search")
        label = data.get("label")
        if search is not None:
            rest = [v for v in (values or []) if v != search]
            return cls(str(data["param"]), label=label, replace=(str(search), tuple(rest)))
        return cls(str(data["param"]), values if values != ALL else None, label=label)


def _value_tuple(values: Any) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(
            f"axis values must be a list of strings (or {ALL!r}), e.g. ['a fox', 'a lighthouse']; "
            f"got the string {values!r}"
        )
    if not isinstance(values, Iterable):
        raise TypeError(f"axis values must be a list of strings, got {type(values).__name__}")
    out = []
    for v in values:
        if not isinstance(v, str):
            raise TypeError(f"axis values must be strings, got {type(v).__name__} {v!r}")
        out.append(v)
    return tuple(dict.fromkeys(out))


def _replace_pair(pair: Any) -> tuple[str, tuple[str, ...]]:
    try:
        search, repl = pair
    except (TypeError, ValueError):
        raise TypeError(
            "replace must be (search, [replacements]), e.g. ('fox', ['cat', 'owl'])"
        ) from None
    if not isinstance(search, str) or not search:
        raise TypeError("the search term of replace=(search, [...]) must be a non-empty string")
    values = tuple(v for v in _value_tuple(repl) if v != search)
    return search, values


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_parameter(app: App, name: str) -> Parameter:
    """The parameter ``name`` stands for: as the service resolves it (key, id, name), else
    the one parameter whose name matches ignoring case and spacing; InputValidationError with
    a did-you-mean otherwise."""
    if app.parameters is None:
        raise ValueError("grids need an App with parameters (use get_app, not list_apps)")
    found = app.parameter(name)
    if found is not None:
        return found
    folded = " ".join(name.split()).casefold()
    loose = [p for p in app.parameters if " ".join(p.name.split()).casefold() == folded]
    if len(loose) == 1:
        return loose[0]
    names = [p.name for p in app.parameters]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean {quote(close[0])}? " if close else ""
    takes = ", ".join(quote(n) for n in names) or "no inputs"
    raise _axis_error(app, name, f"is not a parameter of {app.name}; {hint}it takes: {takes}")


def _axis_error(app: App, param: str | None, message: str) -> InputValidationError:
    return InputValidationError(
        f"The grid's axes do not fit {app.name}; nothing was sent.",
        [Problem(param, message)],
        hint=f"%lamina info {app.name} shows every parameter and its options.",
    )


def parse_axis(text: str, app: App) -> Axis:
    """An axis from the magic's syntax, checked against ``app``'s parameters.

    ``Style`` or ``Style=all``: every option. ``Prompt=a fox|a lighthouse``: the values,
    separated by ``|`` (an options parameter also takes commas: ``Style=Anime,Watercolor``).
    ``Prompt:fox=cat,owl``: search-and-replace; the first column keeps ``fox``, the others
    replace it with ``cat`` and ``owl`` (``|`` separates replacements that hold commas).
    A parameter name may hold ``:`` or ``=`` when it is quoted as the app spells it.
    """
    if not isinstance(text, str) or not text.strip():
        raise _axis_error(app, None, 'an axis is "Param", "Param=a|b" or "Param:search=a,b"')
    text = text.strip()
    whole = _lookup(app, text)
    if whole is not None:
        return Axis(whole.name).resolve(app)
    name, sep, rest = _split_name(app, text)
    if sep == "=":
        param = find_parameter(app, name)
        if rest.strip().casefold() == ALL:
            return Axis(param.name).resolve(app)
        values = _split_values(rest, allow_commas=param.type == "options")
        return Axis(param.name, values).resolve(app)
    if sep == ":":
        search, eq, repl = rest.partition("=")
        param = find_parameter(app, name)
        if not eq or not search:
            raise _axis_error(
                app,
                param.name,
                f'a search-and-replace axis reads "{param.name}:SEARCH=REPLACEMENT,...", '
                f'e.g. "{param.name}:fox=cat,owl"',
            )
        replacements = _split_values(repl, allow_commas=True)
        return Axis(param.name, replace=(search, tuple(replacements))).resolve(app)
    find_parameter(app, text)  # raises with a did-you-mean
    raise AssertionError("unreachable")  # pragma: no cover


def _lookup(app: App, name: str) -> Parameter | None:
    try:
        return find_parameter(app, name)
    except InputValidationError:
        return None


def _split_name(app: App, text: str) -> tuple[str, str, str]:
    """``(param, "=" | ":", rest)``: the earliest ``=`` or ``:`` whose left side names a
    parameter (so names holding those characters still work), else the first one."""
    first: tuple[str, str, str] | None = None
    for i, ch in enumerate(text):
        if ch in "=:":
            split = (text[:i].strip(), ch, text[i + 1 :])
            if first is None:
                first = split
            if _lookup(app, split[0]) is not None:
                return split
    if first is None:
        return text, "", ""
    return first


def _split_values(text: str, *, allow_commas: bool) -> list[str]:
    """Values separated by ``|``; by commas too where allowed and no ``|`` is present.
    Spaces around each value are dropped; empty values are skipped."""
    sep = "|" if "|" in text or not allow_commas else ","
    return [v.strip() for v in text.split(sep) if v.strip()]


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class GridSpec:
    """What a grid is: an app, up to three axes and the inputs every cell shares (``fixed``).

    ``x`` runs along the columns, ``y`` down the rows, ``z`` over small multiples (one small
    grid per value). Stored in the journal as JSON (:meth:`to_json`), so a later kernel can
    redraw and resume it.
    """

    app_id: str
    app_name: str
    x: Axis
    y: Axis | None = None
    z: Axis | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("x", "y", "z"):
            axis = getattr(self, name)
            if axis is not None and not isinstance(axis, Axis):
                raise TypeError(f"GridSpec.{name} must be an Axis, got {type(axis).__name__}")
        object.__setattr__(self, "fixed", dict(self.fixed or {}))

    @property
    def axes(self) -> dict[str, Axis]:
        """The axes present, by role name (``x``, ``y``, ``z``)."""
        found = {"x": self.x, "y": self.y, "z": self.z}
        return {k: a for k, a in found.items() if a is not None}

    @property
    def shape(self) -> tuple[int, int, int]:
        """(columns, rows, panels); 1 for a missing axis."""
        return (
            len(self.x.items),
            len(self.y.items) if self.y else 1,
            len(self.z.items) if self.z else 1,
        )

    @property
    def size(self) -> int:
        x, y, z = self.shape
        return x * y * z

    def positions(self) -> list[tuple[int, int, int, str, str | None, str | None]]:
        """Every cell as ``(ix, iy, iz, x, y, z)``: panel by panel, row by row."""
        ys: Sequence[str | None] = self.y.items if self.y else (None,)
        zs: Sequence[str | None] = self.z.items if self.z else (None,)
        return [
            (ix, iy, iz, xv, yv, zv)
            for iz, zv in enumerate(zs)
            for iy, yv in enumerate(ys)
            for ix, xv in enumerate(self.x.items)
        ]

    def resolve(self, app: App) -> GridSpec:
        """Axes resolved against ``app`` (names, ``all``), fixed inputs keyed by name."""
        fixed = {}
        for key, value in self.fixed.items():
            param = app.parameter(key) if isinstance(key, str) else None
            fixed[param.name if param is not None else key] = value
        return replace(
            self,
            app_id=app.app_id,
            app_name=app.name,
            x=self.x.resolve(app),
            y=self.y.resolve(app) if self.y else None,
            z=self.z.resolve(app) if self.z else None,
            fixed=fixed,
        )

    def extended(
        self,
        x: Iterable[str] | None = None,
        y: Iterable[str] | None = None,
        z: Iterable[str] | None = None,
    ) -> GridSpec:
        """A copy with values appended to the axes (a new row, column or panel)."""
        changes: dict[str, Any] = {}
        for name, more in (("x", x), ("y", y), ("z", z)):
            if more is None:
                continue
            axis = getattr(self, name)
            if axis is None:
                raise ValueError(
                    f"this grid has no {name} axis to extend; plan a new grid with one"
                )
            changes[name] = axis.extended(more)
        return replace(self, **changes)

    def cell_label(self, x: str | None, y: str | None = None, z: str | None = None) -> str:
        """``Style=Anime, Prompt=a fox``: a cell named by its axis values."""
        parts = [
            f"{axis.name}={_cut(value, 40)}"
            for axis, value in ((self.x, x), (self.y, y), (self.z, z))
            if axis is not None and value is not None
        ]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": SPEC_VERSION,
            "app_id": self.app_id,
            "app_name": self.app_name,
            "x": self.x.to_json(),
            "y": self.y.to_json() if self.y else None,
            "z": self.z.to_json() if self.z else None,
            "fixed": dict(self.fixed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GridSpec:
        version = data.get("version", SPEC_VERSION)
        if not isinstance(version, int) or version > SPEC_VERSION:
            raise ValueError(
                f"grid spec version {version!r} is newer than this lamina-notebook reads "
                f"({SPEC_VERSION}); upgrade it"
            )
        y, z = data.get("y"), data.get("z")
        return cls(
            app_id=str(data["app_id"]),
            app_name=str(data.get("app_name") or data["app_id"]),
            x=Axis.from_json(data["x"]),
            y=Axis.from_json(y) if y else None,
            z=Axis.from_json(z) if z else None,
            fixed=dict(data.get("fixed") or {}),
        )


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Cell:
    """One cell of a plan: where it sits, its validated inputs, and how it gets its run.

    ``action`` is ``"run"`` (a new run), ``"reuse"`` (a completed journaled run with the same
    app and inputs on the same service answers it: ``reuse_of``), ``"same"`` (another cell of
    this grid has the same inputs: ``same_as``) or ``"keep"`` (the grid already has a run for
    it: ``existing``, when extending or resuming).
    """

    key: str
    x: str
    y: str | None
    z: str | None
    ix: int
    iy: int
    iz: int
    inputs: ValidInputs
    inputs_key: str
    label: str
    reuse_of: str | None = None
    same_as: str | None = None
    existing: str | None = None

    @property
    def action(self) -> str:
        if self.existing is not None:
            return "keep"
        if self.reuse_of is not None:
            return "reuse"
        if self.same_as is not None:
            return "same"
        return "run"


@dataclass(frozen=True)
class GridPlan:
    """Every cell of a grid, validated, with what each needs: the answer to "what will this
    cost?" before anything is sent. Built by :func:`plan`."""

    spec: GridSpec
    app: App
    grid_id: str
    cells: tuple[Cell, ...]
    base_url: str | None
    reuse: bool = True
    variant: int = 0

    @property
    def to_run(self) -> tuple[Cell, ...]:
        """Cells that need a new run (one POST each)."""
        return tuple(c for c in self.cells if c.action == "run")

    @property
    def reused(self) -> tuple[Cell, ...]:
        """Cells answered by a completed run from the journal (no request at all)."""
        return tuple(c for c in self.cells if c.action == "reuse")

    @property
    def duplicates(self) -> tuple[Cell, ...]:
        """Cells whose inputs equal an earlier cell's: they show that cell's run."""
        return tuple(c for c in self.cells if c.action == "same")

    @property
    def kept(self) -> tuple[Cell, ...]:
        """Cells the grid already has a run for (extend, resume)."""
        return tuple(c for c in self.cells if c.action == "keep")

    @property
    def runs(self) -> int:
        """How many runs starting this plan creates."""
        return len(self.to_run)

    def cell(self, key: str) -> Cell:
        for c in self.cells:
            if c.key == key:
                return c
        raise KeyError(key)

    def __repr__(self) -> str:
        x, y, z = self.spec.shape
        shape = f"{x}x{y}" + (f"x{z}" if self.spec.z else "")
        return (
            f"<GridPlan {self.grid_id} {self.spec.app_name} {shape}: {len(self.cells)} cells, "
            f"{self.runs} to run, {len(self.reused)} reused>"
        )


def _cell_inputs(
    spec: GridSpec, app: App, x: str, y: str | None, z: str | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A cell's raw inputs and the problems of its search-and-replace axes: fixed inputs,
    then plain axes, then S/R axes (x, y, z) on the text the others left (or the default)."""
    inputs = dict(spec.fixed)
    pairs = [(a, v) for a, v in ((spec.x, x), (spec.y, y), (spec.z, z)) if a is not None]
    for axis, value in pairs:
        if not axis.is_replace and value is not None:
            axis.apply(inputs, value)
    problems: list[tuple[str, str]] = []
    for axis, value in pairs:
        if axis.is_replace and value is not None:
            param = app.parameter(axis.param)
            problem = axis.apply(inputs, value, param.default_value if param else None)
            if problem is not None:
                problems.append((axis.param, problem))
    return inputs, problems


def _check_axes(spec: GridSpec, app: App) -> list[Problem]:
    """Problems of the axes themselves: a parameter on two plain axes, or fixed and on a
    plain axis at once."""
    problems = []
    plain: dict[str, str] = {}
    for role, axis in spec.axes.items():
        if axis.is_replace:
            continue
        if axis.param in plain:
            problems.append(
                Problem(
                    axis.param,
                    f"is on two axes ({plain[axis.param]} and {role}); a parameter takes one "
                    "value per run (use search-and-replace to vary parts of one text)",
                )
            )
        plain[axis.param] = role
        if axis.param in spec.fixed:
            problems.append(
                Problem(
                    axis.param,
                    f"is both a fixed input and the {role} axis; drop the fixed value",
                )
            )
    return problems


def plan(
    spec: GridSpec,
    app: App,
    journal: Journal | None,
    *,
    base_url: str | None,
    reuse: bool = True,
    variant: int = 0,
    grid_id: str | None = None,
    known: Mapping[str, str] | None = None,
    max_cells: int = MAX_CELLS,
    max_body_bytes: int | None = None,
) -> GridPlan:
    """Plan every cell of ``spec`` for ``app`` before anything is sent.

    Each cell's inputs are built (fixed inputs, the axis values, then search-and-replace) and
    validated; all problems of all cells come in one InputValidationError, each naming the
    cells it concerns. With ``reuse``, a cell whose app and inputs equal a completed run in
    ``journal`` on the same ``base_url`` (and ``variant``) reuses it. ``known`` maps cell keys
    to runs the grid already has (extend, resume): those cells are kept. Cells of this grid
    with equal inputs run once.
    """
    from .journal import inputs_key

    if app.parameters is None:
        raise ValueError("plan() needs an App with parameters (client.get_app/resolve_app)")
    resolved = spec.resolve(app)
    problems = _check_axes(resolved, app)
    if problems:
        raise InputValidationError(
            f"The grid's axes do not fit {app.name}; nothing was sent.",
            problems,
            hint="Give each parameter one axis or one fixed value.",
        )
    if resolved.size > max_cells:
        x, y, z = resolved.shape
        raise InputValidationError(
            f"The grid has {resolved.size} cells ({x} x {y} x {z}), over the limit of "
            f"{max_cells}; nothing was sent.",
            [Problem(None, f"{resolved.size} cells would start up to {resolved.size} paid runs")],
            hint="Use fewer values, or pass max_cells= to plan a larger grid on purpose.",
        )
    known = dict(known or {})
    found: dict[tuple[str | None, str], list[str]] = {}
    cells: list[Cell] = []
    first_with: dict[str, str] = {}
    kwargs = {} if max_body_bytes is None else {"max_body_bytes": max_body_bytes}
    for ix, iy, iz, xv, yv, zv in resolved.positions():
        label = resolved.cell_label(xv, yv, zv)
        raw, sr_problems = _cell_inputs(resolved, app, xv, yv, zv)
        for param, message in sr_problems:
            found.setdefault((param, message), []).append(label)
        try:
            clean = validate_inputs(app, raw, **kwargs)
        except InputValidationError as exc:
            for p in exc.problems:
                found.setdefault((p.param, p.message), []).append(label)
            continue
        if sr_problems:
            continue
        key = cell_key(xv, yv, zv)
        ikey = inputs_key(app.app_id, clean, variant)
        cell = Cell(key, xv, yv, zv, ix, iy, iz, clean, ikey, label)
        if key in known:
            cell = replace(cell, existing=known[key])
        elif ikey in first_with:
            cell = replace(cell, same_as=first_with[ikey])
        elif reuse and journal is not None:
            entry = journal.find_reusable(app.app_id, clean, base_url=base_url, variant=variant)
            if entry is not None:
                cell = replace(cell, reuse_of=entry.execution_id)
        first_with.setdefault(ikey, key)
        cells.append(cell)
    if found:
        raise _cells_error(app, resolved, found)
    return GridPlan(
        spec=resolved,
        app=app,
        grid_id=grid_id or new_grid_id(),
        cells=tuple(cells),
        base_url=base_url,
        reuse=reuse,
        variant=variant,
    )


def _cells_error(
    app: App, spec: GridSpec, found: Mapping[tuple[str | None, str], list[str]]
) -> InputValidationError:
    """One error for every problem of every cell; a problem shared by cells is listed once,
    naming where it is (every cell, one column/row/panel, or the cells)."""
    problems = [
        Problem(param, f"{message} ({_where(spec, labels)})")
        for (param, message), labels in found.items()
    ]
    bad = len({label for labels in found.values() for label in labels})
    return InputValidationError(
        f"{len(problems)} problem(s) in {bad} of the grid's {spec.size} cells for {app.name}; "
        "nothing was sent.",
        problems,
        hint=f"Fix the axis values or fixed inputs; %lamina info {app.name} shows every "
        "parameter, its options and defaults.",
    )


def _where(spec: GridSpec, labels: list[str]) -> str:
    if len(labels) == spec.size:
        return "in every cell" if spec.size > 1 else "in the cell"
    wanted = set(labels)
    for role, axis in spec.axes.items():
        for value in axis.items:
            members = {
                spec.cell_label(x, y, z)
                for _, _, _, x, y, z in spec.positions()
                if {"x": x, "y": y, "z": z}[role] == value
            }
            if members == wanted and len(members) > 1:
                return f"in the {AXIS_ROLES[role]} {axis.name}={_cut(value, 40)}"
    if len(labels) == 1:
        return f"in cell {labels[0]}"
    shown = "; ".join(labels[:3])
    more = f" and {len(labels) - 3} more" if len(labels) > 3 else ""
    return f"in {len(labels)} cells: {shown}{more}"


# --------------------------------------------------------------------------- run state


#: Cell statuses besides the service's (queued, running, completed, failed, cancelled).
WAITING = "waiting"  # planned, not started yet
STARTING = "starting"  # its POST is on the way
UNCONFIRMED = "unconfirmed"  # the start got no usable answer: the run MAY exist
REJECTED = "rejected"  # the service refused the start (nothing created), e.g. 402


@dataclass(frozen=True)
class CellState:
    """What a grid shows in one cell at one moment (immutable: a new one per change).

    ``status`` is ``waiting``, ``starting``, the run's status, ``unconfirmed`` (the start's
    answer was lost; the run MAY exist and is not started again without saying so) or
    ``rejected`` (the service refused to start it; ``error`` says why). ``reused`` marks a
    cell answered by an earlier run (no new request). ``thumb`` is the small embedded picture
    from the journal.
    """

    key: str
    x: str
    y: str | None
    z: str | None
    label: str
    inputs: Mapping[str, Any]
    status: str = WAITING
    execution_id: str | None = None
    execution: Any = None  # models.Execution | None (Any: frozen dataclass repr stays short)
    reused: bool = False
    thumb: Media | None = None
    error: str | None = None

    @property
    def is_done(self) -> bool:
        """Nothing more will happen to this cell without being asked (retry, resume)."""
        return self.status in ("completed", "failed", "cancelled", UNCONFIRMED, REJECTED)

    @property
    def is_failed(self) -> bool:
        """Failed, cancelled or refused: what ``retry_failed`` runs again."""
        return self.status in ("failed", "cancelled", REJECTED)

    @property
    def url(self) -> str | None:
        """The first completed output's URL or text value (full size is one click away)."""
        ex = self.execution
        if ex is None:
            return None
        for out in ex.outputs:
            if out.is_completed and out.value:
                return str(out.value)
        return None

    def __repr__(self) -> str:
        mark = " reused" if self.reused else ""
        return f"<CellState {self.label} {self.status}{mark} {self.execution_id or ''}>".replace(
            " >", ">"
        )
