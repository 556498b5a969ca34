"""No import cycle between the project's modules: every module-level import among api, dispatch, routing,
simulation and loadtests forms a graph without cycles (imports under ``if TYPE_CHECKING:`` and inside
functions are not run at import time and are left out)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "dispatch", "routing", "simulation", "loadtests")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Module name → file of every module of :data:`PACKAGES` under ``root``."""
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module → the project's modules it imports at module level. ``from pkg import name`` counts as an
    import of ``pkg.name`` when that is a module, else of ``pkg``."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.parse(path.read_text()).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                           else node.module for alias in node.names]
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_the_project_has_no_import_cycle() -> None:
    """Every module-level import among the project's packages points one way."""
    assert cycles(import_graph(module_files())) == []


def test_a_cycle_of_two_modules_is_found(tmp_path: Path) -> None:
    """The check can fail: two modules of a package that import each other form one cycle, a third that
    imports one of them does not join it."""
    package = tmp_path / "dispatch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from dispatch.b import thing\n")
    (package / "b.py").write_text("import dispatch.a\nthing = 1\n")
    (package / "c.py").write_text("from dispatch import a\n")
    for other in PACKAGES[:1] + PACKAGES[2:]:
        (tmp_path / other).mkdir()
    assert cycles(import_graph(module_files(tmp_path))) == [["dispatch.a", "dispatch.b"]]
