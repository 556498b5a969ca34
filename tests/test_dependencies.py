"""Every third-party module the code imports is a declared dependency of the right kind, and the lock
files pin every declared dependency.

The service's packages (``api``, ``dispatch``, ``routing``, ``simulation``) may import only the runtime
dependencies of ``pyproject.toml``: ``make run`` installs nothing else, so anything more fails on a fresh
clone (as httpx once did). The tests, load tests (``loadtests/``) and benchmarks (``bench/``) are test
tooling, run by ``make test``, ``make load`` and ``make bench-*`` once the ``test`` extra is installed:
they may import the runtime dependencies and the ``test`` extra. A module that only arrives through
another package (sqlalchemy through sqlmodel, starlette through fastapi) counts as undeclared: the other
package may drop it in any release.

Modules are mapped to the distributions that provide them with ``importlib.metadata`` in the environment the
tests run in, which ``make test`` installs from the test lock.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("api", "dispatch", "routing", "simulation")
TOOLING_PACKAGES = ("loadtests", "bench", "tests")
FIRST_PARTY = {*RUNTIME_PACKAGES, *TOOLING_PACKAGES}
LOCK_FILES = {None: ROOT / "requirements.lock", "test": ROOT / "requirements-test.lock"}

# Runtime dependencies that no module imports by name, each with the reason it is needed all the same.
USED_WITHOUT_IMPORT = {
    "psycopg": "the PostgreSQL driver SQLAlchemy loads for a postgresql+psycopg:// DATABASE_URL",
    "tzdata": "the time-zone database zoneinfo reads where the system has none",
}


@dataclass(frozen=True)
class Import:
    """One import statement's top-level module, where it stands."""

    module: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"


def imports_in(paths: Iterable[Path]) -> Iterator[Import]:
    """Top-level modules of every absolute import in the Python files under ``paths`` (in functions too)."""
    for root in paths:
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in sorted(ast.walk(tree), key=lambda node: getattr(node, "lineno", 0)):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        yield Import(alias.name.partition(".")[0], path, node.lineno)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield Import(node.module.partition(".")[0], path, node.lineno)


def third_party(imports: Iterable[Import]) -> Iterator[Import]:
    """The imports that name neither the standard library nor this project's own packages."""
    for found in imports:
        if found.module not in sys.stdlib_module_names and found.module not in FIRST_PARTY:
            yield found


def declared(*extras: str | None) -> set[str]:
    """Canonical names of the runtime dependencies (``None``) and of the named extras, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names: set[str] = set()
    for extra in extras:
        specs = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
        names.update(canonicalize_name(Requirement(spec).name) for spec in specs)
    return names


def undeclared(imports: Iterable[Import], allowed: set[str]) -> list[str]:
    """One line for each third-party import that no distribution in ``allowed`` provides."""
    providers = packages_distributions()
    problems = []
    for found in third_party(imports):
        distributions = {canonicalize_name(name) for name in providers.get(found.module, [])}
        if not distributions & allowed:
            source = ", ".join(sorted(distributions)) or "no installed distribution"
            problems.append(f"{found}: imports {found.module!r} (from {source}), which is not declared")
    return problems


def locked(path: Path) -> dict[str, set[str]]:
    """Canonical name -> pinned versions of the ``name==version`` lines of a lock file (one per Python-version
    marker: a universal lock may pin a newer release for newer Pythons)."""
    pins: dict[str, set[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and "==" in line:
            name, _, rest = line.partition("==")
            pins.setdefault(canonicalize_name(name.strip()), set()).add(rest.split()[0].rstrip(";"))
    return pins


def test_service_packages_import_only_runtime_dependencies() -> None:
    """api, dispatch, routing and simulation run after `make run`'s install: runtime dependencies only."""
    problems = undeclared(imports_in(ROOT / name for name in RUNTIME_PACKAGES), declared(None))
    assert not problems, "declare these in [project] dependencies:\n" + "\n".join(problems)


def test_tests_load_tests_and_benchmarks_import_only_declared_dependencies() -> None:
    """tests/, loadtests/ and bench/ run after the test extra is installed: runtime dependencies and it."""
    problems = undeclared(imports_in(ROOT / name for name in TOOLING_PACKAGES), declared(None, "test"))
    assert not problems, "declare these in the test extra:\n" + "\n".join(problems)


def test_an_import_that_arrives_only_through_another_package_is_undeclared(tmp_path: Path) -> None:
    """The check can fail: sqlalchemy (brought along by sqlmodel), a test-only package in a function, and a
    module that nothing installed provides are each reported; stdlib, first-party and relative imports not."""
    module = tmp_path / "module.py"
    module.write_text(
        "import json\n"
        "from dispatch import plan\n"
        "from . import sibling\n"
        "import sqlmodel\n"
        "import sqlalchemy.orm\n"
        "def later():\n"
        "    from hypothesis import given\n"
        "import no_such_module_anywhere\n",
        encoding="utf-8",
    )
    problems = undeclared(imports_in([module]), {"sqlmodel"})
    assert [problem.split(": ")[1] for problem in problems] == [
        "imports 'sqlalchemy' (from sqlalchemy), which is not declared",
        "imports 'hypothesis' (from hypothesis), which is not declared",
        "imports 'no_such_module_anywhere' (from no installed distribution), which is not declared",
    ]


def test_every_runtime_dependency_is_imported_or_needed_for_a_stated_reason() -> None:
    """A runtime dependency that nothing imports is either listed with its reason or can go."""
    providers = packages_distributions()
    imported = {
        canonicalize_name(name)
        for found in third_party(imports_in(ROOT / name for name in RUNTIME_PACKAGES))
        for name in providers.get(found.module, [])
    }
    assert declared(None) - imported == set(USED_WITHOUT_IMPORT)


def test_lock_files_pin_every_declared_dependency_within_its_range() -> None:
    """`make run` and `make test` install only from the locks: a dependency added to pyproject.toml without
    `make lock` would be missing there. The two locks agree on every version they share."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime, test = locked(LOCK_FILES[None]), locked(LOCK_FILES["test"])
    wanted = [(spec, runtime) for spec in project["dependencies"]]
    wanted += [(spec, test) for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    problems = []
    for spec, pins in wanted:
        requirement = Requirement(spec)
        versions = pins.get(canonicalize_name(requirement.name), set())
        if not versions or not all(requirement.specifier.contains(v, prereleases=True) for v in versions):
            problems.append(f"{spec}: locked {', '.join(sorted(versions)) or 'nowhere'}")
    problems += [
        f"{name}: {sorted(versions)} in requirements.lock, {sorted(test.get(name, []))} in the test lock"
        for name, versions in runtime.items()
        if test.get(name) != versions
    ]
    assert not problems, "run `make lock`:\n" + "\n".join(problems)
