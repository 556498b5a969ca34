"""Locust's CSV statistics turned into the figures a run reports: requests/s, failures, and the
p50/p95/p99 latencies per endpoint and over all requests."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class EndpointStats:
    """One row of Locust's ``<prefix>_stats.csv``: an endpoint, or all of them (``Aggregated``)."""

    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


def _number(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_stats(prefix: Path) -> dict[str, EndpointStats]:
    """Every endpoint's figures from ``<prefix>_stats.csv``, keyed by name (``Aggregated``: all)."""
    rows: dict[str, EndpointStats] = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"]
            rows[name] = EndpointStats(name=name, requests=int(row["Request Count"]),
                                       failures=int(row["Failure Count"]), rps=_number(row["Requests/s"]),
                                       p50_ms=_number(row["50%"]), p95_ms=_number(row["95%"]),
                                       p99_ms=_number(row["99%"]), max_ms=_number(row["100%"]))
    return rows


def read_failures(prefix: Path) -> list[dict[str, str]]:
    """Locust's ``<prefix>_failures.csv``: method, name, error and occurrences of each kind of failure."""
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def table(stats: dict[str, EndpointStats]) -> str:
    """A fixed-width table for the terminal, the aggregate last."""
    lines = [f"{'endpoint':<34} {'requests':>9} {'fails':>6} {'rps':>7} {'p50':>6} {'p95':>6} {'p99':>6} "
             f"{'max':>7}  (ms)"]
    ordered = sorted((s for s in stats.values() if s.name != AGGREGATED), key=lambda s: s.name)
    ordered += [stats[AGGREGATED]] if AGGREGATED in stats else []
    for s in ordered:
        lines.append(f"{s.name:<34} {s.requests:>9} {s.failures:>6} {s.rps:>7.1f} {s.p50_ms:>6.0f} "
                     f"{s.p95_ms:>6.0f} {s.p99_ms:>6.0f} {s.max_ms:>7.0f}")
    return "\n".join(lines)


def as_json(stats: dict[str, EndpointStats]) -> dict[str, dict]:
    """Per-endpoint figures as plain dicts."""
    return {name: asdict(s) for name, s in stats.items()}
