"""The Cordeau benchmark mapping: both file layouts read; a2-16 solved and accepted by the shared checker.

The shared material sits beside the repository (``../shared``); ``RUFBUS_SHARED`` points elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cordeau import read_cordeau, to_checker_json, to_problem
from dispatch.improve import LnsOptions, LnsSolver
from dispatch.pdptw import SearchBudget


def shared_darp() -> Path:
    """The shared DARP benchmark folder; fails with a clear message when it is missing."""
    shared = Path(os.environ.get("RUFBUS_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
    darp = shared / "benchmarks" / "darp"
    if not (darp / "check_darp.py").is_file():
        pytest.fail(
            f"shared DARP benchmark not found at {darp}; clone shared/ beside the repo or set RUFBUS_SHARED"
        )
    return darp


def test_pr_layout_without_end_depot_copy_is_read(tmp_path):
    """A pr-style file (header field 2 = 2n, no closing depot line) gives n requests ending at node 0."""
    lines = ["1 4 480 6 90", "0 0 0 0 0 0 1440", "1 1 0 10 1 0 1440", "2 2 0 10 1 0 1440",
             "3 3 0 10 -1 60 90", "4 4 0 10 -1 0 1440"]
    text = "\n".join(lines) + "\n"
    (tmp_path / "pr00").write_text(text)
    instance = read_cordeau(tmp_path / "pr00")
    assert (instance.requests, instance.end_depot, instance.max_ride_time) == (2, 0, 90.0)
    problem = to_problem(instance)
    assert problem.visits[2].earliest == 60_000 and problem.travel_time[0, 3] == 3_000


def test_a2_16_solved_in_five_seconds_is_accepted_by_the_shared_checker(tmp_path):
    """a2-16 mapped onto the PDPTW, solved for 5 s, written in checker format: check_darp.py exits 0."""
    darp = shared_darp()
    path = darp / "cordeau2006-a" / "a2-16"
    instance = read_cordeau(path)
    assert (instance.requests, instance.end_depot) == (16, 33)
    problem = to_problem(instance, drop_penalty=10**8)
    solution = LnsSolver(LnsOptions(round_s=2.0)).solve(problem, SearchBudget(5.0))
    out = tmp_path / "a2-16.json"
    out.write_text(json.dumps(to_checker_json(instance, solution)))
    verdict = subprocess.run([sys.executable, str(darp / "check_darp.py"), str(path), str(out)],
                             capture_output=True, text=True, check=False)
    assert verdict.returncode == 0, verdict.stdout
