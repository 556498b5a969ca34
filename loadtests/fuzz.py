"""Bad input: schemathesis against the service's own ``/openapi.json``, once per role (a rider, a driver
bound to bus-1, an operator), on the real service (uvicorn on 127.0.0.1) with its own database: a SQLite
file, or a schema of its own on the PostgreSQL server of ``DATABASE_URL``.

``python -m loadtests.fuzz [--databases sqlite,postgresql] [--modes positive,negative] [--max-examples N]
[--seed S] [--json FILE]`` — every generated request, valid (positive) and invalid against the schema
(negative), must be answered without a server error (5xx) and with a body that matches the schema the
endpoint declares (checks ``not_a_server_error`` and ``response_schema_conformance``). Exit status 1
otherwise. Numbers JSON cannot carry, NUL in ids and extreme dates are sent by ``tests/api/test_errors.py``
(schemathesis sends only valid JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.service import Database, Service, create_users

CHECKS = "not_a_server_error,response_schema_conformance"
DATABASES = ("sqlite", "postgresql")
MODES = ("positive", "negative")


@dataclass
class FuzzResult:
    """Generated test cases and failures, per role and in all."""

    database: str = "sqlite"
    mode: str = "all"
    generated: dict[str, int] = field(default_factory=dict)
    failures: dict[str, list[dict]] = field(default_factory=dict)
    errors: dict[str, list] = field(default_factory=dict)

    @property
    def total_generated(self) -> int:
        """Test cases over every role."""
        return sum(self.generated.values())

    @property
    def total_failures(self) -> int:
        """Failed checks (5xx or schema violations) over every role."""
        return sum(len(f) for f in self.failures.values())

    @property
    def total_errors(self) -> int:
        """Test cases schemathesis could not run (network errors, e.g. a crashed service)."""
        return sum(len(e) for e in self.errors.values())

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status (schemathesis groups them as ``ServerError``, code ST101)."""
        return sum(int(failure.get("count", 1)) for failures in self.failures.values() for failure in failures
                   if failure.get("type") == "ServerError" or failure.get("code") == "ST101")

    def as_json(self) -> dict:
        """For ``--json``."""
        return {"database": self.database, "mode": self.mode, "generated": self.total_generated,
                "server_errors": self.server_errors, "failures": self.total_failures,
                "errors": self.total_errors, "per_role": self.generated, "failure_details": self.failures,
                "error_details": self.errors}


def fuzz(workdir: Path, *, max_examples: int = 20, seed: int = 1, phases: str = "coverage,fuzzing,stateful",
         mode: str = "all", postgres_url: str | None = None) -> FuzzResult:
    """Start the service on a new SQLite file (or, with ``postgres_url``, a new schema on that PostgreSQL
    server), make one user per role, run schemathesis in ``mode`` (``positive``, ``negative`` or ``all``)
    as each; the service stops and the database is dropped after."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = Database.postgres_schema(postgres_url) if postgres_url else Database.sqlite(workdir)
    service = Service(database.url, buses=4, log_path=workdir / "service.log")
    result = FuzzResult("postgresql" if postgres_url else "sqlite", mode)
    try:
        service.start()
        keys = create_users(database.url, riders=1, drivers=1, operators=1)
        roles = {"rider": keys.riders[0], "driver": keys.drivers[0][0], "operator": keys.operators[0]}
        for role, key in roles.items():
            report = workdir / f"schemathesis-{role}.json"
            command = [sys.executable, "-m", "schemathesis.cli", "run", f"{service.base_url}/openapi.json",
                       "-H", f"Authorization: Bearer {key}", "--checks", CHECKS,
                       "--max-examples", str(max_examples),
                       "--seed", str(seed), "--phases", phases, "--mode", mode,
                       "--generation-database", "none", "--no-color",
                       "--workers", "1", "--report", "json", "--report-json-path", str(report)]
            with open(workdir / f"schemathesis-{role}.log", "wb") as log:
                subprocess.run(command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, check=False,
                               timeout=1800)
            data = json.loads(report.read_text())
            result.generated[role] = int(data["test_cases"]["generated"])
            result.failures[role] = data["failures"]
            result.errors[role] = data["errors"]
    finally:
        service.stop()
        database.drop()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every database × mode, print the counts, write the JSON; exit status 1 on any failure."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--max-examples", type=int, default=200, help="test cases per operation and phase")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("--databases", default="sqlite", help="sqlite, postgresql (DATABASE_URL) or both")
    arguments.add_argument("--modes", default="positive,negative", help="positive, negative, all")
    arguments.add_argument("--json", type=Path, default=None)
    arguments.add_argument("--workdir", type=Path, default=None, help="keep the reports and logs here")
    options = arguments.parse_args(argv)
    postgres_url = os.environ.get("DATABASE_URL", "")
    results = []
    with tempfile.TemporaryDirectory(prefix="rufbus-fuzz-") as scratch:
        for database in options.databases.split(","):
            if database == "postgresql" and not postgres_url.startswith("postgresql"):
                arguments.error("--databases postgresql needs DATABASE_URL=postgresql+psycopg://...")
            for mode in options.modes.split(","):
                workdir = (options.workdir or Path(scratch)) / f"{database}-{mode}"
                results.append(fuzz(workdir, max_examples=options.max_examples, seed=options.seed, mode=mode,
                                    postgres_url=postgres_url if database == "postgresql" else None))
    for result in results:
        for role, generated in result.generated.items():
            print(f"{result.database:<10} {result.mode:<8} {role:<9} {generated:>6} generated, "
                  f"{len(result.failures[role])} failures, {len(result.errors[role])} errors")
        print(f"{result.database:<10} {result.mode:<8} all       {result.total_generated:>6} generated, "
              f"{result.server_errors} server errors, {result.total_failures} failures (5xx or schema "
              f"violations), {result.total_errors} errors")
        for role, failures in result.failures.items():
            for failure in failures[:10]:
                print(f"  {role}: {json.dumps(failure)[:300]}")
    if options.json:
        options.json.write_text(json.dumps([result.as_json() for result in results], indent=2))
    return 0 if all(r.total_failures == 0 and r.total_errors == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
