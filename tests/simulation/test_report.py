"""The report: ``rufbus simulate`` writes a self-contained HTML page (four embedded PNG plots, no
outside address) and the JSON of its figures; bad rules are refused."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from api.cli import app as cli
from simulation.study import parse_rules
from tests.simulation.conftest import LIECHTENSTEIN


def test_simulate_command_writes_a_self_contained_report(tmp_path):
    """40 generated requests on 2 buses: report.html embeds four PNGs and loads nothing from outside;
    figures.json holds the key figures, the waits, the occupancy and the roads driven."""
    answer = CliRunner().invoke(cli, ["simulate", "--region", str(LIECHTENSTEIN), "--buses", "2",
                                      "--requests", "40", "--reopt-every", "0", "--rules", "max_wait_s=1200",
                                      "--out", str(tmp_path)])
    assert answer.exit_code == 0, answer.output
    page = (tmp_path / "report.html").read_text()
    assert len(re.findall(r"src='data:image/png;base64,", page)) == 4
    assert not re.search(r"(src|href)=['\"]https?:", page)
    data = json.loads((tmp_path / "figures.json").read_text())
    assert data["kpis"]["requests"] == 40 and data["scenario"]["rules"]["max_wait_s"] == 1200
    assert data["figures"]["route_map"]["edges"] and data["figures"]["wait_min"]
    assert len(data["figures"]["occupancy"]["people_per_bus"]) == data["kpis"]["occupancy"].__len__()


def test_unknown_rules_are_refused():
    """A rule name the dispatcher does not know is a usage error naming it."""
    answer = CliRunner().invoke(cli, ["simulate", "--rules", "max_wiat_s=3"])
    assert answer.exit_code != 0 and "max_wiat_s" in answer.output
    assert parse_rules("ride_alpha=2.0,max_wait_s=600").ride_alpha == 2.0
