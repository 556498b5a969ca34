"""bench/online.py on a tiny generated day: the JSON has its rows, summaries and settings, and hindsight
serves at least what live dispatch serves."""

from __future__ import annotations

import json

from bench.online import main

ROW_KEYS = {"day", "seed", "buses", "window_s", "requests", "online_served", "online_served_pct",
            "hindsight_served", "hindsight_served_pct", "served_ratio", "online_km_per_passenger",
            "hindsight_km_per_passenger", "km_per_passenger_ratio", "offer_p50_ms", "offer_p95_ms",
            "offer_p99_ms", "repaired_p99_ms", "refusal_p99_ms", "hindsight_violations", "hindsight_failed",
            "online", "hindsight"}


def test_a_tiny_day_on_two_buses_gives_a_row_per_window_and_a_summary_per_fleet(tmp_path):
    """30 generated requests (seed 1) on 2 buses with 5- and 10-minute windows, hindsight with 1 s: one
    row per width, one summary per width, a feasible hindsight plan. Hindsight is not a proven bound (its
    optimizer is a heuristic with a time limit), but on a day this light it carries at least as many
    riders as live dispatch: the greedy first plan alone takes nearly all of them."""
    out = tmp_path / "online.json"
    data = main(["--seeds", "1", "--requests", "30", "--buses", "2", "--windows", "300,600",
                 "--hindsight-limit", "1", "--no-include-example", "--jobs", "1", "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(data))
    assert set(data) == {"settings", "rows", "summary", "wall_s"}
    cells = [(r["day"], r["buses"], r["window_s"]) for r in data["rows"]]
    assert cells == [("seed 1", 2, 300), ("seed 1", 2, 600)]
    for row in data["rows"]:
        assert set(row) == ROW_KEYS
        assert row["requests"] == 30 and row["hindsight_violations"] == 0 and not row["hindsight_failed"]
        assert row["hindsight_served"] >= row["online_served"] > 0
        assert row["served_ratio"] == round(row["online_served"] / row["hindsight_served"], 4)
        assert row["online"]["offers"] + row["online"]["refusals"] <= 30
        assert row["offer_p50_ms"] <= row["offer_p95_ms"] <= row["offer_p99_ms"]
    assert [(s["buses"], s["window_s"], s["days"]) for s in data["summary"]] == [(2, 300, 1), (2, 600, 1)]
    simulation = data["settings"]["simulation"]
    assert simulation["no_show_p"] == 0 and simulation["cancel_p"] == 0
