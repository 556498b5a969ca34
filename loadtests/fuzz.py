"""Bad input: schemathesis against the service's own ``/openapi.json``, once per role (a rider, a driver
bound to bus-1, an operator), on the real service (uvicorn on 127.0.0.1, its own SQLite file).

``python -m loadtests.fuzz [--max-examples N] [--seed S] [--json FILE]`` — every generated request must be
answered without a server error (5xx) and with a body that matches the schema the endpoint declares
(checks ``not_a_server_error`` and ``response_schema_conformance``). Exit status 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.service import Database, Service, create_users

CHECKS = "not_a_server_error,response_schema_conformance"


@dataclass
class FuzzResult:
    """Generated test cases and failures, per role and in all."""

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

    def as_json(self) -> dict:
        """For ``--json``."""
        return {"generated": self.total_generated, "failures": self.total_failures,
                "errors": self.total_errors, "per_role": self.generated, "failure_details": self.failures,
                "error_details": self.errors}


def fuzz(workdir: Path, *, max_examples: int = 20, seed: int = 1, phases: str = "coverage,fuzzing,stateful"
         ) -> FuzzResult:
    """Start the service, make one user per role, run schemathesis as each; the service stops after."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = Database.sqlite(workdir)
    service = Service(database.url, buses=4, log_path=workdir / "service.log")
    result = FuzzResult()
    try:
        service.start()
        keys = create_users(database.url, riders=1, drivers=1, operators=1)
        roles = {"rider": keys.riders[0], "driver": keys.drivers[0][0], "operator": keys.operators[0]}
        for role, key in roles.items():
            report = workdir / f"schemathesis-{role}.json"
            command = [sys.executable, "-m", "schemathesis.cli", "run", f"{service.base_url}/openapi.json",
                       "-H", f"Authorization: Bearer {key}", "--checks", CHECKS,
                       "--max-examples", str(max_examples),
                       "--seed", str(seed), "--phases", phases, "--generation-database", "none", "--no-color",
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
    return result


def main(argv: list[str] | None = None) -> int:
    """Run, print the counts, write the JSON; exit status 1 on any failure."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--max-examples", type=int, default=200, help="test cases per operation and phase")
    arguments.add_argument("--seed", type=int, default=1)
    arguments.add_argument("--json", type=Path, default=None)
    arguments.add_argument("--workdir", type=Path, default=None, help="keep the reports and logs here")
    options = arguments.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rufbus-fuzz-") as scratch:
        result = fuzz(options.workdir or Path(scratch), max_examples=options.max_examples, seed=options.seed)
    for role, generated in result.generated.items():
        print(f"{role:<9} {generated:>6} generated, {len(result.failures[role])} failures, "
              f"{len(result.errors[role])} errors")
    print(f"all       {result.total_generated:>6} generated, {result.total_failures} failures (5xx or schema "
          f"violations), {result.total_errors} errors")
    for role, failures in result.failures.items():
        for failure in failures[:10]:
            print(f"  {role}: {json.dumps(failure)[:300]}")
    if options.json:
        options.json.write_text(json.dumps(result.as_json(), indent=2))
    return 0 if result.total_failures == 0 and result.total_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
