"""dispatch/ is a pure package: importing all of it pulls in no web, database, cache or graph library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FORBIDDEN = ("fastapi", "sqlmodel", "sqlalchemy", "redis", "osmnx", "networkx", "routing", "api")


def test_importing_every_dispatch_module_loads_no_forbidden_package():
    """A fresh interpreter imports each dispatch module; none of the forbidden packages gets loaded."""
    modules = sorted(f"dispatch.{p.stem}" for p in (REPO / "dispatch").glob("*.py") if p.stem != "__init__")
    assert "dispatch.insertion" in modules and "dispatch.ortools_adapter" in modules
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(','.join(sorted(p for p in {FORBIDDEN!r} if p in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
