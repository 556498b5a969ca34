"""A run's figures: failures count the whole run even when Locust's latencies start after the ramp-up."""

from __future__ import annotations

import json

from loadtests.audit import AuditReport, ClientRecords
from loadtests.run import RunConfig, RunResult, config_from, parser
from loadtests.stats import AGGREGATED, EndpointStats


def result(tmp_path, lines: list[dict], counted_failures: int, steady_state: bool = True) -> RunResult:
    """A run whose clients wrote ``lines`` and whose Locust figures counted ``counted_failures``."""
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    stats = {AGGREGATED: EndpointStats(AGGREGATED, 100, counted_failures, 10.0, 20.0, 90.0, 150.0, 200.0)}
    config = RunConfig(users=20, spawn_rate=20, duration_s=20, steady_state=steady_state)
    return RunResult(config, stats, [], AuditReport(), ClientRecords.read(path), [])


def test_failures_recorded_by_the_clients_count_when_locust_reset_its_figures(tmp_path):
    """Two requests failed during the ramp-up (recorded by the clients) and Locust, reset afterwards,
    counts none: the run has 2 failures, and its exit status would be 1."""
    run = result(tmp_path, [{"event": "request_failed", "method": "POST", "name": "POST /v1/quotes"}] * 2, 0)
    assert run.failures == 2
    assert run.as_json()["failures"] == 2
    assert run.as_json()["latency_counted"] == "after the ramp-up"


def test_locust_failures_count_when_the_clients_recorded_fewer(tmp_path):
    """Whichever count is larger is the run's: nothing a client saw fail is hidden."""
    run = result(tmp_path, [], 3, steady_state=False)
    assert run.failures == 3 and run.as_json()["latency_counted"] == "whole run"


def test_the_ramp_up_is_left_out_unless_asked(tmp_path):
    """By default latencies count once every user runs; --include-ramp-up counts from the first user."""
    assert config_from(parser().parse_args([])).steady_state is True
    assert config_from(parser().parse_args(["--include-ramp-up"])).steady_state is False


def test_the_abusive_clients_answers_are_counted_apart(tmp_path):
    """--abuser-rate 50 adds one Locust user; its recorded answers give the 429 share (three of four here),
    and the normal users' quote p95 is read from their own endpoint, not the abuser's."""
    config = config_from(parser().parse_args(["--users", "20", "--abuser-rate", "50"]))
    assert config.abuser_rate == 50 and config.locust_users == 21
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps({"event": "abusive_quote", "status": status}) + "\n"
                            for status in (429, 429, 200, 429)))
    stats = {name: EndpointStats(name, 100, 0, 10.0, 20.0, p95, 150.0, 200.0)
             for name, p95 in (("POST /v1/quotes", 90.0), ("POST /v1/quotes (abusive)", 30.0))}
    figures = RunResult(config, stats, [], AuditReport(), ClientRecords.read(path), []).as_json()
    assert figures["abuser_requests"] == 4 and figures["abuser_statuses"] == {"429": 3, "200": 1}
    assert figures["abuser_429_share"] == 0.75
    assert figures["quote_p95_ms"] == 90.0 and figures["abuser_p95_ms"] == 30.0


def test_a_run_without_abuser_has_no_abuser_figures(tmp_path):
    """Without --abuser-rate Locust starts exactly the users asked for and the figures name no abuser."""
    run = result(tmp_path, [], 0)
    assert run.config.locust_users == 20 and "abuser_requests" not in run.as_json()
