"""``rufbus hindsight`` and ``rufbus simulate --json --hindsight-limit`` on the first 20 trips of the shared
example day: the JSON holds the figures the issue asks for; the report sets online beside hindsight."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from api.cli import app as cli
from simulation.demand_csv import read_demand, write_demand
from tests.simulation.conftest import LIECHTENSTEIN
from tests.simulation.test_demand_csv import EXAMPLE

FIGURES = {"requests", "served", "passengers_served", "rejected", "vehicle_km",
           "vehicle_km_per_served_passenger", "wait_mean_min", "wait_p95_min", "ride_time_factor"}


def _day(tmp_path):
    write_demand(tmp_path / "day.csv", read_demand(EXAMPLE)[:20])
    return tmp_path / "day.csv"


def test_hindsight_command_plans_a_feasible_day_and_writes_its_figures(tmp_path):
    """20 requests on 2 buses, 1 s of optimizer time: exit 0 (the plan breaks no rule), the JSON holds
    every figure, the time limit and no violation; what is not served is rejected with a cause."""
    answer = CliRunner().invoke(cli, ["hindsight", "--region", str(LIECHTENSTEIN), "--demand",
                                      str(_day(tmp_path)), "--buses", "2", "--time-limit", "1",
                                      "--json", str(tmp_path / "h.json")])
    assert answer.exit_code == 0, answer.output
    data = json.loads((tmp_path / "h.json").read_text())
    assert FIGURES | {"violations", "time_limit_s", "wall_s"} <= set(data)
    assert data["requests"] == 20 and data["violations"] == [] and data["time_limit_s"] == 1
    assert data["served"] + sum(data["rejected"].values()) == 20 and data["served"] > 0


def test_simulate_without_no_shows_writes_the_json_and_sets_hindsight_beside_online(tmp_path):
    """The same day replayed with no no-shows and no cancellations: the JSON holds the figures, the offer
    latency and the hindsight line with the ratios; report.html has the comparison table."""
    answer = CliRunner().invoke(cli, ["simulate", "--region", str(LIECHTENSTEIN), "--demand",
                                      str(_day(tmp_path)), "--buses", "2", "--no-show-rate", "0",
                                      "--cancel-rate", "0", "--reopt-every", "0", "--hindsight-limit", "1",
                                      "--json", str(tmp_path / "s.json"), "--out", str(tmp_path / "report")])
    assert answer.exit_code == 0, answer.output
    data = json.loads((tmp_path / "s.json").read_text())
    assert FIGURES | {"offer_p50_ms", "offer_p95_ms", "offer_p99_ms", "refusal_p99_ms", "kpis", "hindsight",
                      "served_ratio", "km_per_passenger_ratio"} <= set(data)
    assert data["requests"] == 20 and data["kpis"]["no_shows"] == 0 and data["kpis"]["cancelled"] == 0
    assert data["served"] == data["kpis"]["served"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Online and in hindsight" in page and "hindsight (1 s)" in page
    assert json.loads((tmp_path / "report" / "figures.json").read_text())["comparison"][0]["plan"] == "online"
