"""bench/disturbed.py on a tiny generated day: per noise level the JSON holds the issue's figures, with
the midday breakdown counted and the days pooled."""

from __future__ import annotations

import json

from bench.disturbed import main

KEYS = {"windows_kept_pct", "announced_before_window_pct", "reopt_skipped", "served_pct",
        "lateness_p95_min", "lateness_max_min", "announced_lead_median_min", "reopt_rounds", "targets"}


def test_a_tiny_day_at_two_noise_levels_gives_the_issues_figures_per_level(tmp_path):
    """40 requests (seed 1) on 3 buses at σ 0 and 0.2: one entry per noise level holding at least the
    issue's keys, one breakdown each, served % equal to the one seed's, and the JSON as returned."""
    out = tmp_path / "disturbed.json"
    data = main(["--seeds", "1", "--requests", "40", "--buses", "3", "--noise", "0,0.2", "--jobs", "1",
                 "--json", str(out)])
    assert json.loads(out.read_text()) == json.loads(json.dumps(data))
    assert list(data["noise"]) == ["0", "0.2"]
    for level in data["noise"].values():
        assert set(level) >= KEYS
        assert level["breakdowns"] == 1 and level["requests"] == 40
        assert level["served_pct"] == level["per_seed"]["1"]["served_pct"]
        assert level["promised"] == level["windows_kept"] + level["broken"]
    assert data["settings"]["noise"] == [0.0, 0.2]
