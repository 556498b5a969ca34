"""The digital twin through the service: a small day recorded through the real riders' API (quotes and
bookings, refused quotes among them) is replayed by the twin as recorded — reproducing what the service
took on within ±3 % — and with a proposed change, in the simulation worker (``POST /v1/operator/twin``);
the proposed rules are put in force from the comparison; bad input is a clear 422/404/409."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api import cli
from api.app import create_app
from api.clock import ServiceClock
from api.db.models import Event, ServiceRulesVersion, User
from api.services.twin import recorded_days, run_twin_job, service_setup, twin_params
from api.settings import Settings
from dispatch.events import EventKind
from dispatch.model import MeetingMode, ServiceRules, TimeType
from loadtests.recorded_day import RecordedCounts, record_day
from routing.stops import read_places
from simulation.demand_csv import Trip
from simulation.engine import SimulationConfig
from simulation.generator import DemandProfile, generate_demand
from simulation.twin import ProposedChange, fleet_of, simulate_recorded_day
from tests.api.conftest import (
    NOW,
    SCHAAN,
    VADUZ,
    ZONE,
    ZURICH,
    AppSetup,
    MovableClock,
    open_client,
    postgres_schema,
    user_keys,
)

RIDERS = tuple((f"rider{k}", "rider", None) for k in range(4))
CLIENT = AppSetup(settings={"quote_rate_per_account": "", "quote_rate_per_address": "",
                            "booking_rate_per_account": "", "booking_rate_per_address": "",
                            "fair_use_max_open_bookings": 1000, "fair_use_max_seats_per_slot": 1000},
                  users=(("op", "operator", None), *RIDERS))
DAY = NOW.date()
REQUESTS = 40


class RecordedApp:
    """The app the day was recorded on, and what the service answered."""

    def __init__(self, client: TestClient, counts: RecordedCounts) -> None:
        self.client = client
        self.counts = counts


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordedApp]:
    """A day of 40 generated trips (a third pre-booked the evening before) and one trip to Zurich, asked
    for and booked through the riders' API at their submission times, on a clock that follows them."""
    clock = MovableClock(datetime.combine(DAY - timedelta(days=1), datetime.min.time(), tzinfo=ZONE)
                         + timedelta(hours=17))  # before the evening's pre-bookings
    with open_client(tmp_path_factory.mktemp("twin"), CLIENT, clock) as client:
        network = client.app.state.network  # type: ignore[attr-defined]
        region = read_places(Path(network.settings.osm_file))
        trips = generate_demand(region, network.graph.node_lat, network.graph.node_lon,
                                DemandProfile(requests=REQUESTS), 5, DAY)
        asked = NOW.replace(tzinfo=None)
        trips.append(Trip("to-zurich", asked, (47.1410, 9.5215), (ZURICH["lat"], ZURICH["lon"]),
                          TimeType.LEAVE_AFTER, asked + timedelta(minutes=30)))
        riders = [client.keys[name] for name, _, _ in RIDERS]  # type: ignore[attr-defined]

        def set_clock(moment: datetime) -> None:
            clock.moment = max(clock.moment, moment)

        counts = record_day(client, riders, trips, ZONE, set_clock)
        clock.moment = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), tzinfo=ZONE)
        yield RecordedApp(client, counts)


def test_the_twin_replays_a_recorded_day_as_recorded_within_three_percent(recorded: RecordedApp) -> None:
    """Replayed with the service's own fleet, rules and demand, the twin serves the trips the service took
    on (booked) within ±3 %, asks as many requests as were recorded (bookings and refused quotes), and
    refuses the trip to Zurich again from its cell's centre; with nothing changed, the proposal equals
    the baseline."""
    client, counts = recorded.client, recorded.counts
    refused = sum(counts.refused.values())
    assert counts.booked >= 20 and counts.refused["outside_area"] == 1, counts
    app = client.app
    with Session(app.state.engine) as session:  # type: ignore[attr-defined]
        params = twin_params(session, clock=app.state.dispatch.clock, first=DAY, last=DAY,  # type: ignore
                             change=ProposedChange(), reoptimize_every_s=0)
    results, page = run_twin_job(app.state.engine, app.state.network, params)  # type: ignore[attr-defined]
    baseline, recorded_figures = results["baseline"], results["recorded"]
    assert recorded_figures["booked"] == counts.booked
    assert baseline["requests"] == counts.booked + refused == params["recorded_requests"]
    assert abs(baseline["served"] - counts.booked) <= 0.03 * counts.booked, (baseline, counts)
    assert baseline["rejected"] >= 1 and baseline["vehicle_km"] > 0 and baseline["vehicle_hours"] > 0
    assert {**results["proposal"]} == {**baseline}
    assert "twin: as recorded" in page


def submit(client: TestClient, body: dict) -> dict:
    """Start a twin as the operator; its job (asserting 202)."""
    answer = client.post("/v1/operator/twin", json=body, headers=client.keys["op"])  # type: ignore[attr-defined]
    assert answer.status_code == 202, answer.text
    return answer.json()


def wait_done(client: TestClient, twin_id: str, within_s: float = 300) -> dict:
    """Poll the twin until it ended (the worker runs at the lowest priority)."""
    deadline = time.monotonic() + within_s
    while True:
        job = client.get(f"/v1/operator/twin/{twin_id}", headers=client.keys["op"]).json()  # type: ignore
        if job["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def test_an_operator_runs_a_twin_in_the_worker_and_applies_the_proposed_rules(recorded: RecordedApp) -> None:
    """The twin runs as a simulation job in the worker: a fleet of one bus and a longer wait serve fewer
    trips than the recorded fleet on the same demand, side by side with the recorded figures; applying
    the proposal puts max_wait_s = 1200 in force as a new rules version, with an event naming the
    operator; the live plan got no booking from the twin."""
    client = recorded.client
    live = client.app.state.dispatch.dispatcher  # type: ignore[attr-defined]
    before = len(live.plan.bookings())
    started = submit(client, {"from": DAY.isoformat(), "rules": {"max_wait_s": 1200}, "buses": 1,
                               "reoptimize_every_min": 0})
    assert started["from"] == DAY.isoformat() and started["change"]["buses"] == 1
    job = wait_done(client, started["id"])
    assert job["status"] == "done", job["error"]
    baseline, proposal, recorded_figures = job["baseline"], job["proposal"], job["recorded"]
    assert proposal["buses"] == 1 < baseline["buses"]
    assert proposal["served"] < baseline["served"] and proposal["requests"] == baseline["requests"]
    assert recorded_figures["booked"] == recorded.counts.booked
    assert job["proposed_rules"]["max_wait_s"] == 1200
    assert client.app.state.simulations.pid is not None  # type: ignore[attr-defined]
    assert len(live.plan.bookings()) == before
    applied = client.post(f"/v1/operator/twin/{job['id']}/apply", headers=client.keys["op"])  # type: ignore
    assert applied.status_code == 200, applied.text
    assert applied.json()["max_wait_s"] == 1200 and applied.json()["version"] is not None
    assert client.get("/v1/operator/rules", headers=client.keys["op"]).json()["max_wait_s"] == 1200  # type: ignore
    assert live.rules.max_wait_s == 1200
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        operator = session.exec(select(User).where(User.name == "op")).one()
        event = session.exec(select(Event).where(Event.kind == EventKind.RULES_CHANGED)
                             .order_by(col(Event.id).desc())).first()
        assert event is not None and event.actor == f"user:{operator.id}"
        assert session.exec(select(ServiceRulesVersion)).all()[-1].max_wait_s == 1200


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"from": "1900-01-01"}, 422, "invalid_range"),
    ({"from": "2026-11-23", "to": "2026-11-01"}, 422, "invalid_range"),
    ({"from": "2026-01-01", "to": "2026-12-31"}, 422, "invalid_range"),
    ({"from": "2026-11-23", "rules": {"no_such_rule": 1}}, 422, "invalid_rules"),
    ({"from": "2026-11-23", "rules": {"max_wait_s": -5}}, 422, "invalid_rules"),
    ({"from": "2026-11-23", "buses": 0}, 422, None),
    ({"from": "2026-11-23", "mode": "teleport"}, 422, None),
    ({"from": "2026-11-23", "shift_start_s": 80000, "shift_end_s": 3600}, 422, None),
    ({"from": "2030-01-01"}, 422, "nothing_recorded"),
    ({"from": "2026-11-23\u0000"}, 422, None),
])
def test_bad_twin_requests_are_refused_with_a_clear_error(recorded: RecordedApp, body: dict, status: int,
                                                          code: str | None) -> None:
    """Absurd or reversed ranges, more than 31 days, unknown or invalid rules, no bus, an unknown mode, a
    shift ending before it starts, days with nothing recorded, NUL: 4xx with a code, nothing queued."""
    client = recorded.client
    answer = client.post("/v1/operator/twin", json=body, headers=client.keys["op"])  # type: ignore[attr-defined]
    assert answer.status_code == status, answer.text
    assert "code" in answer.json() and "message" in answer.json()
    if code is not None:
        assert answer.json()["code"] == code


def test_a_rule_given_as_nan_or_infinity_is_refused(recorded: RecordedApp) -> None:
    """NaN and Infinity in the body are 422, not a 500."""
    client = recorded.client
    for raw in ('{"from": "2026-11-23", "rules": {"max_wait_s": NaN}}',
                '{"from": "2026-11-23", "rules": {"ride_alpha": Infinity}}'):
        answer = client.post("/v1/operator/twin", content=raw, headers={  # type: ignore[attr-defined]
            **client.keys["op"], "content-type": "application/json"})
        assert answer.status_code == 422, answer.text


def test_an_unknown_twin_is_404_and_a_study_is_no_twin(recorded: RecordedApp) -> None:
    """An id of no job, and applying one, are 404 ``unknown_twin``."""
    client = recorded.client
    headers = client.keys["op"]  # type: ignore[attr-defined]
    assert client.get("/v1/operator/twin/nope", headers=headers).json()["code"] == "unknown_twin"
    answer = client.post("/v1/operator/twin/nope/apply", headers=headers)
    assert answer.status_code == 404 and answer.json()["code"] == "unknown_twin"


def test_each_day_is_replayed_under_the_rules_in_force_that_day(recorded: RecordedApp) -> None:
    """Rules stored in the evening of one day and at noon of the next: each recorded day carries the rules
    in force at its end (15 and 25 min wait). The recorded day replayed with service hours that end before
    its first trip refuses every trip as outside the hours; under its own rules it serves them."""
    app = recorded.client.app
    clock, network = app.state.dispatch.clock, app.state.network  # type: ignore[attr-defined]
    later = DAY + timedelta(days=5)
    with Session(app.state.engine) as session:  # type: ignore[attr-defined]
        for day, hour, wait in ((later, 20, 900), (later + timedelta(days=1), 12, 1500)):
            since = datetime.combine(day, clock_time(hour), tzinfo=ZONE)
            rules = replace(ServiceRules(), max_wait_s=wait)
            session.add(ServiceRulesVersion.from_rules(rules, valid_from=since))
        session.commit()
        stored = recorded_days(session, clock=clock, first=later, last=later + timedelta(days=1))
        [day] = recorded_days(session, clock=clock, first=DAY, last=DAY)
        setup = service_setup(session, clock=clock, network=network, before=NOW,
                              mode=MeetingMode.DOOR_TO_DOOR, days=[day])
    assert [d.rules.max_wait_s for d in stored] == [900, 1500]  # type: ignore[union-attr]
    assert day.rules is not None and day.trips
    config = SimulationConfig(no_show_p=0.0, cancel_p=0.0, seed=1)
    own = simulate_recorded_day(day, fleet_of(day), setup, network, config)
    night_only = replace(day.rules, service_start_s=0, service_end_s=1800)
    closed = simulate_recorded_day(replace(day, rules=night_only), fleet_of(day), setup, network, config)
    assert sum(r.outcome == "completed" for r in own.riders.values()) > 0
    assert {r.outcome for r in closed.riders.values()} == {"rejected"}


def test_a_proposal_of_fleet_only_has_no_rules_to_apply(recorded: RecordedApp) -> None:
    """A twin that only changed the fleet answers 409 ``nothing_to_apply``."""
    client = recorded.client
    started = submit(client, {"from": DAY.isoformat(), "buses": 2, "reoptimize_every_min": 0})
    job = wait_done(client, started["id"])
    assert job["status"] == "done", job["error"]
    answer = client.post(f"/v1/operator/twin/{job['id']}/apply", headers=client.keys["op"])  # type: ignore
    assert answer.status_code == 409 and answer.json()["code"] == "nothing_to_apply"


def test_rufbus_twin_prints_the_comparison_of_the_recorded_day(recorded: RecordedApp, monkeypatch) -> None:
    """``rufbus twin --from DAY --buses 2 --rule max_wait_s=1200 --json`` on the service's database prints
    recorded, baseline and proposal; a bad rule is a usage error naming it."""
    engine = recorded.client.app.state.engine  # type: ignore[attr-defined]
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    answer = runner.invoke(cli.app, ["twin", "--from", DAY.isoformat(), "--buses", "2", "--rule",
                                     "max_wait_s=1200", "--reopt-every-min", "0", "--json"])
    assert answer.exit_code == 0, answer.output
    results = json.loads(answer.output)
    assert results["proposal"]["buses"] == 2 and results["proposed_rules"]["max_wait_s"] == 1200
    assert results["baseline"]["requests"] == results["recorded"]["requests"]
    bad = runner.invoke(cli.app, ["twin", "--from", DAY.isoformat(), "--rule", "max_wait=nan"])
    assert bad.exit_code == 2 and "max_wait" in bad.output


def test_proposed_changes_keep_their_values_through_storage() -> None:
    """A change survives the JSON of a job's parameters."""
    change = ProposedChange({"max_wait_s": 1200, "ride_alpha": 1.8}, 4, (6 * 3600, 20 * 3600), None)
    assert ProposedChange.from_dict(change.as_dict()) == change
    assert replace(change, buses=None).as_dict()["buses"] is None


def test_a_day_recorded_on_postgresql_is_replayed_alike(postgres_url: str, tmp_path: Path) -> None:
    """On PostgreSQL: six trips Vaduz–Schaan booked through the API and one refused (Zurich) are replayed —
    seven requests, the six booked ones served, the refused one refused again; the counts and the
    recorded figures are read from PostgreSQL."""
    with postgres_schema(postgres_url, "rufbus_twin") as url:
        clock = MovableClock(NOW)
        settings = Settings(database_url=url, demo_buses=2, **CLIENT.settings)
        app = create_app(settings, clock=ServiceClock(ZONE, wall_clock=clock))
        with TestClient(app) as client:
            client.keys = user_keys(client, RIDERS[:1])  # type: ignore[attr-defined]
            asked = NOW.replace(tzinfo=None)
            trips = [Trip(f"t{k}", asked + timedelta(minutes=5 * k), (VADUZ["lat"], VADUZ["lon"]),
                          (SCHAAN["lat"], SCHAAN["lon"]), TimeType.LEAVE_AFTER,
                          asked + timedelta(hours=1 + k)) for k in range(6)]
            trips.append(Trip("zurich", asked, (VADUZ["lat"], VADUZ["lon"]), (ZURICH["lat"], ZURICH["lon"]),
                              TimeType.LEAVE_AFTER, asked + timedelta(hours=1)))
            counts = record_day(client, [client.keys["rider0"]], trips, ZONE,  # type: ignore[attr-defined]
                                lambda moment: setattr(clock, "moment", max(clock.moment, moment)))
            assert counts.booked == 6 and counts.refused["outside_area"] == 1
            with Session(app.state.engine) as session:
                params = twin_params(session, clock=app.state.dispatch.clock, first=DAY, last=DAY,
                                     change=ProposedChange(), reoptimize_every_s=0)
            results, _ = run_twin_job(app.state.engine, app.state.network, params)
    assert results["baseline"]["requests"] == 7 == results["recorded"]["requests"]
    assert results["baseline"]["served"] == 6 and results["baseline"]["rejected"] == 1
    assert results["recorded"]["booked"] == 6
