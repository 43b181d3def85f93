"""Layering: what each layer may import, checked two ways.

1. In fresh interpreters, by ``sys.modules``: the core pulls in no Jupyter, Pillow or server
   module, render no front end, the sandbox nothing from the client side.
2. From the source, by the import graph (every ``import``, also inside functions and under
   ``TYPE_CHECKING``, since those are dependencies too): per-folder rules, no circle between
   modules of the front ends, and no module reaching into another module's private names.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import lamina_notebook

PACKAGE = Path(lamina_notebook.__file__).parent
CORE = [
    "errors",
    "models",
    "config",
    "validation",
    "editions",
    "grids",
    "extras",
    "uploads",
    "scheduling",
    "transport",
    "starts",
    "client",
    "journal",
    "webhooks",
    "files",
]
FRONT_ENDS = ("render", "session", "magics", "widget")
FORBIDDEN = [
    "IPython",
    "ipywidgets",
    "ipykernel",
    "traitlets",
    "PIL",
    "starlette",
    "uvicorn",
    "nbformat",
    "nbclient",
]


def loaded_after(code: str) -> list[str]:
    """Top-level module names in sys.modules after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- 1. what importing a layer loads ------------------------------------------------------------


def test_the_core_is_flat_and_complete() -> None:
    missing = [m for m in CORE if not (PACKAGE / f"{m}.py").exists()]
    assert missing == []


def test_the_core_imports_no_jupyter_pillow_or_server_module() -> None:
    modules = loaded_after("\n".join(f"import lamina_notebook.{m}" for m in CORE))
    assert "httpx" in modules and "lamina_notebook.client" in modules
    leaked = sorted({m.split(".")[0] for m in modules} & set(FORBIDDEN))
    assert leaked == [], f"the core pulled in {leaked}"
    front = [m for m in modules if m.split(".")[1:2] and m.split(".")[1] in FRONT_ENDS]
    assert front == [], f"the core pulled in front-end modules {front}"


def test_a_client_can_be_built_without_jupyter() -> None:
    code = (
        "from lamina_notebook.client import LaminaClient\n"
        "c = LaminaClient('lma_x', 'http://127.0.0.1:9', journal=None)\n"
        "assert 'lma_x' not in repr(c)"
    )
    modules = loaded_after(code)
    assert not {m.split(".")[0] for m in modules} & set(FORBIDDEN)


def test_render_loads_no_front_end_kernel_or_network_module() -> None:
    modules = loaded_after("import lamina_notebook.render")
    heavy = {"IPython", "ipywidgets", "PIL", "httpx", "traitlets"}
    assert not {m.split(".")[0] for m in modules} & heavy
    ours = {m.split(".")[1] for m in modules if m.startswith("lamina_notebook.")}
    assert not ours & {"session", "magics", "widget", "sandbox", "client"}, ours


def test_the_session_loads_no_widgets() -> None:
    modules = loaded_after(
        "import lamina_notebook.session, lamina_notebook.session.results, "
        "lamina_notebook.session.media"
    )
    assert "ipywidgets" not in {m.split(".")[0] for m in modules}
    assert not [
        m for m in modules if m.startswith(("lamina_notebook.widget", "lamina_notebook.magics"))
    ]


def test_the_sandbox_imports_nothing_from_the_client_side() -> None:
    modules = loaded_after("import lamina_notebook.sandbox")
    ours = [m for m in modules if m.startswith("lamina_notebook.")]
    assert ours and all(m.startswith("lamina_notebook.sandbox") for m in ours), ours


# -- 2. the import graph from the source ---------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported module of this package, line) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lamina_notebook"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if not (node.module or "").startswith("lamina_notebook"):
                    continue
                base = node.module or ""
            else:
                base = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:  # `from . import render` imports a module
                sub = f"{base}.{alias.name}"
                yield (sub if sub in known else base), node.lineno


def graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for target, _line in imports_of(name, path, known):
            if target in known and target != name:
                edges[name].add(target)
    return edges


def area(module: str) -> str:
    """'core', a front-end folder, 'sandbox' or 'package' (lamina_notebook/__init__)."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in (*FRONT_ENDS, "sandbox"):
        return parts[1]
    return "core"


# What each area may import besides itself. The magic may open a widget (``%lamina widget``);
# the package root re-exports public names lazily; results.py keeps an old import path.
ALLOWED = {
    "core": {"core", "package"},
    "render": {"core", "package"},
    "session": {"core", "render", "sandbox", "package"},
    "magics": {"core", "render", "session", "widget", "package"},
    "widget": {"core", "render", "session", "package"},
    "sandbox": set(),
}
MAGICS_MAY_OPEN_A_WIDGET = {"lamina_notebook.magics.commands"}


def test_every_folder_imports_only_the_layers_it_may() -> None:
    bad = []
    for source, targets in graph().items():
        src = area(source)
        if src == "package" or source == "lamina_notebook.results":
            continue
        for target in targets:
            dst = area(target)
            if dst == src:
                continue
            if dst not in ALLOWED[src]:
                bad.append(f"{source} -> {target}")
            elif src == "magics" and dst == "widget" and source not in MAGICS_MAY_OPEN_A_WIDGET:
                bad.append(f"{source} -> {target} (only the widget subcommand opens a widget)")
    assert bad == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("folder", FRONT_ENDS)
def test_no_import_circle_inside_a_front_end(folder: str) -> None:
    """A package's __init__ re-exporting its modules is not a circle; anything else is."""
    prefix = f"lamina_notebook.{folder}"
    edges = {
        m: {t for t in ts if t.startswith(prefix + ".")}
        for m, ts in graph().items()
        if m.startswith(prefix + ".")
    }
    assert _cycles(edges) == []


def test_no_import_circle_through_a_front_end() -> None:
    """No circle that involves a front-end module (the core's errors <-> models type-only pair
    and the sandbox's inner modules are outside these rules)."""
    edges = {m: {t for t in ts if area(t) != "package"} for m, ts in graph().items()}
    for m, ts in edges.items():  # a folder's __init__ re-exporting its own modules
        if m.count(".") == 1 and area(m) in FRONT_ENDS:
            edges[m] = {t for t in ts if not t.startswith(m + ".")}
    cycles = [c for c in _cycles(edges) if any(area(m) in FRONT_ENDS for m in c)]
    assert cycles == []


#: Underscore names of other libraries that are fine to use: ipywidgets keeps a widget's CSS
#: classes in ``_dom_classes`` (``add_class``/``remove_class`` have no reader).
FOREIGN_OK = {"_dom_classes"}


def own_private_names(tree: ast.AST) -> set[str]:
    """Underscore names a module defines itself (functions, classes, attributes it assigns)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {n for n in names if n.startswith("_")}


def private_reaches(path: Path) -> Iterator[str]:
    """``from x import _name``, and ``something._name`` of a name this module does not define
    (its own privates, and protocols such as ``_repr_mimebundle_``, are fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = own_private_names(tree) | FOREIGN_OK
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or "lamina" in (node.module or "")):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield f"line {node.lineno}: imports {alias.name}"
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if node.attr.endswith("_") or node.attr in own:
                continue
            yield f"line {node.lineno}: .{node.attr} of {ast.unparse(node.value)}"


@pytest.mark.parametrize("folder", FRONT_ENDS)
def test_front_end_modules_do_not_reach_into_private_names(folder: str) -> None:
    bad = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        bad += [f"{path.relative_to(PACKAGE)} {r}" for r in private_reaches(path)]
    assert bad == []
