"""The widget package's shape, read from its source: panels never reach back into the app.

``app.py`` assembles the panels; every other module gets the UI port, the session, the app and
narrow callbacks. So no module but ``__init__`` imports ``app``, the imports between the modules
(``TYPE_CHECKING`` ones too) form no circle, and no module touches another's underscore names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import lamina_notebook.widget

WIDGET = Path(lamina_notebook.widget.__file__).parent


def sources() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(), str(p)) for p in sorted(WIDGET.glob("*.py"))}


def sibling_imports(tree: ast.Module) -> dict[str, list[str]]:
    """Modules of the widget package imported by ``tree`` -> the names taken from each."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.setdefault(node.module.split(".")[0], []).extend(a.name for a in node.names)
            else:  # from . import x
                for alias in node.names:
                    found.setdefault(alias.name, [])
    return found


def graph() -> dict[str, set[str]]:
    return {name: set(sibling_imports(tree)) for name, tree in sources().items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (first module repeated at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def private_reaches(tree: ast.Module) -> list[str]:
    """``x._name`` on anything but ``self``/``cls``, and ``from .m import _name``."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            names = [a.name for a in node.names if _private(a.name)]
            found += [f"line {node.lineno}: import {name}" for name in names]
    return found


def _private(name: str) -> bool:
    # Dunders and IPython's sunder protocol names (_repr_mimebundle_) are public protocols.
    return name.startswith("_") and not name.endswith("_")


def test_only_the_package_init_imports_the_app() -> None:
    importers = sorted(name for name, deps in graph().items() if "app" in deps)
    assert importers == ["__init__"], importers


def test_the_widget_modules_import_each_other_without_a_circle() -> None:
    edges = graph()
    assert len(edges) >= 10 and edges["app"] >= {"ui", "runs", "progress", "gallery"}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_the_circle_finder_finds_a_circle() -> None:
    # The check above can fail: the same finder reports the circle the panels used to have.
    assert find_cycle({"app": {"runs"}, "runs": {"app"}}) == ["app", "runs", "app"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_module_touches_another_ones_underscore_names() -> None:
    offences = {name: found for name, tree in sources().items() if (found := private_reaches(tree))}
    assert offences == {}
    probe = ast.parse("def f(w):\n    w._ui(1)\n    self._ok = 1\n")
    assert private_reaches(probe) == ["line 2: ._ui"]  # the check sees what it must refuse
