"""simulation/ stands apart from the service: it imports nothing from api/ (nor loadtests/), neither at
import time nor inside a function, and loads no web, database or cache library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("api", "loadtests", "fastapi", "sqlmodel", "sqlalchemy", "redis", "httpx")


def imported_roots(source: Path) -> set[str]:
    """The top-level package of every module ``source`` imports, wherever the import statement stands."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_simulation_module_names_a_forbidden_package():
    """Every import statement of simulation/*.py, lazy ones inside functions included, names none of the
    forbidden packages."""
    offenders = {path.name: sorted(imported_roots(path) & set(FORBIDDEN))
                 for path in sorted((REPO / "simulation").glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_importing_every_simulation_module_loads_no_forbidden_package():
    """A fresh interpreter imports each simulation module; none of the forbidden packages gets loaded."""
    modules = sorted(f"simulation.{path.stem}" for path in (REPO / "simulation").glob("*.py")
                     if path.stem != "__init__")
    assert "simulation.engine" in modules and "simulation.kpis" in modules
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(','.join(sorted(p for p in {FORBIDDEN!r} if p in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
