"""A booking made from a repaired offer (dispatch.repair), through the API on SQLite and on PostgreSQL:
it changes several buses' routes and moves a booked rider to another bus, and the service saves all of it
— every changed route, the moved booking's bus, the confirmation — in one transaction, publishes the
changed routes to the drivers only after the commit, and rolls everything back if the write fails.

Which riders a repair moves depends on the day's demand; here the dispatcher's search is replaced by
one that always moves a rider (:func:`moving_placement`): the new trip goes where insertion puts it, and
one booked rider goes from its bus to another, keeping its stops (its promise). The dispatcher books that
offer as it books any repaired one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db import repository
from api.db.models import Booking, Event, PlannedStop
from api.settings import Settings
from dispatch import dispatcher as dispatcher_module
from dispatch import search as search_module
from dispatch.events import DomainEvent, EventKind
from dispatch.insertion import best_insertion
from dispatch.model import StopKind
from dispatch.plan import Plan, RequestStatus
from dispatch.repair import Placement, RepairOptions
from dispatch.search import place
from tests.api.conftest import NOW, ZONE, MovableClock
from tests.api.test_plan_change import database_url  # noqa: F401 - the fixture: a SQLite file or a PostgreSQL schema

PLACES = [(47.1410, 9.5215), (47.1650, 9.5090), (47.2090, 9.5480), (47.1730, 9.5330), (47.1200, 9.5200),
          (47.2290, 9.5480)]


def trip(k: int) -> dict:
    """The k-th trip of the morning: between two of :data:`PLACES`, from 09:00 in 10-minute steps."""
    origin, destination = PLACES[k % 6], PLACES[(k * 5 + 2) % 6]
    return {"origin": dict(zip(("lat", "lon"), origin, strict=True)),
            "destination": dict(zip(("lat", "lon"), destination, strict=True)), "time_type": "leave_after",
            "time": (NOW.replace(hour=9) + timedelta(minutes=10 * k)).isoformat(), "seats": 1,
            "wheelchairs": 0}


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811 - the fixture
    """The app with three buses and a rider (headers in ``client.rider``), eight trips booked from 09:00,
    every event published after a commit in ``client.published``."""
    app = create_app(Settings(database_url=database_url, demo_buses=3, reoptimize_every_s=0),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app) as test_client:
        with Session(app.state.engine) as session:
            key = create_user(session, name="rider", role="rider")[1]
        test_client.rider = {"Authorization": f"Bearer {key}"}  # type: ignore[attr-defined]
        for k in range(8):
            offer = test_client.post("/v1/quotes", json=trip(k), headers=test_client.rider)  # type: ignore[attr-defined]
            if offer.status_code == 200:
                booked = test_client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                                          headers=test_client.rider | {"Idempotency-Key": f"k{k}"})  # type: ignore[attr-defined]
                assert booked.status_code == 201, booked.text
        live = app.state.dispatch
        published: list[DomainEvent] = []
        forward = live.on_events

        def record(events: list[DomainEvent]) -> None:
            published.extend(events)
            if forward is not None:
                forward(events)

        live.on_events = record
        test_client.published = published  # type: ignore[attr-defined]
        yield test_client


def moving_placement(plan: Plan, request, bounds, window, now, rules, weights, options: RepairOptions,
                     give_way=None) -> Placement | None:
    """The request where plain insertion puts it, and the first booked rider (not picked up, pickup not
    committed) that another bus can take with its stops as they are, moved there (``give_way`` unused:
    this stand-in does no search to cut short)."""
    plain = place(plan, request, bounds, window, now, rules, weights, RepairOptions(max_attempts=0))
    assert plain is not None, "the new trip needs a place"
    new_bus = plain.vehicle_id
    trial = plan.with_route(replace(plan.routes[new_bus], stops=plain.routes[new_bus]),
                            plain.evaluations[new_bus])
    for rider, booking in sorted(plan.bookings().items()):
        old_bus = booking.vehicle_id
        if booking.status is not RequestStatus.BOOKED or old_bus is None:
            continue
        route = trial.routes[old_bus]
        if any(s.request_id == rider for s in route.stops[:route.committed]):
            continue
        kept = tuple(s for s in route.stops if s.request_id != rider)
        evaluation = trial.evaluate(old_bus, kept)
        if not evaluation.feasible:
            continue
        shorter = trial.with_route(replace(route, stops=kept), evaluation)
        routes, times = shorter.vehicle_routes()
        others = [k for k, r in enumerate(routes) if r.vehicle.id != old_bus]
        pickup, dropoff = (s for s in route.stops if s.request_id == rider)
        found = best_insertion([routes[k] for k in others], pickup, dropoff, plan.legs, weights,
                               [times[k] for k in others])
        if found is None:
            continue
        target = shorter.routes[found.vehicle_id]
        final = shorter.with_route(replace(target, stops=found.stops), found.evaluation)
        changed = {vid: r.stops for vid, r in final.routes.items() if r.stops != plan.routes[vid].stops}
        evaluations = {vid: final.evaluation(vid) for vid in changed}
        starts = [t for s, t in zip(changed[new_bus], evaluations[new_bus].start)
                  if s.request_id == request.id]
        return Placement(new_bus, changed, evaluations, starts[0], starts[1], plain.cost,
                         {rider: found.vehicle_id})
    raise AssertionError("no booked rider can move to another bus in this scenario")


def saved_plan(client: TestClient) -> dict[str, list[tuple[str | None, StopKind]]]:
    """Each bus's planned stops as the database holds them."""
    with Session(client.app.state.engine) as session:
        plan: dict[str, list[tuple[str | None, StopKind]]] = {}
        for row in session.exec(select(PlannedStop).order_by(col(PlannedStop.vehicle_id),
                                                              col(PlannedStop.sequence))):
            plan.setdefault(row.vehicle_id, []).append((row.booking_id, row.kind))
        return plan


def live_plan(client: TestClient) -> dict[str, list[tuple[str | None, StopKind]]]:
    """Each bus's route in force, in the same shape (breaks have no booking)."""
    plan = client.app.state.dispatch.dispatcher.plan
    return {vid: [(None if s.kind is StopKind.BREAK else s.request_id, s.kind) for s in plan.route(vid).stops]
            for vid in plan.vehicles if plan.route(vid).stops}


def saved_buses(client: TestClient) -> dict[str, str | None]:
    """Every booking's bus as the database holds it."""
    with Session(client.app.state.engine) as session:
        return {row.id: row.vehicle_id for row in session.exec(select(Booking))}


def quote_moving_a_rider(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Placement]:
    """Quote trip 9 with the moving search in place; the quote id and the placement its offer holds."""
    monkeypatch.setattr(dispatcher_module, "place", moving_placement)  # a booking that searches again
    monkeypatch.setattr(search_module, "place", moving_placement)  # a quote (through place_request)
    offer = client.post("/v1/quotes", json=trip(9), headers=client.rider)  # type: ignore[attr-defined]
    assert offer.status_code == 200, offer.text
    quote_id = offer.json()["quote_id"]
    placement = client.app.state.dispatch.dispatcher._offers[quote_id].placement
    assert placement.moved and len(placement.routes) >= 2
    return quote_id, placement


def test_a_repaired_booking_saves_every_changed_route_and_moved_booking_in_one_transaction(client,
                                                                                           monkeypatch):
    """Booking the offer answers 201; the database then holds exactly the routes in force on every bus,
    the moved rider on its new bus, and one booking_confirmed event naming the routes changed and who
    moved; every changed route was published (the drivers' push) after the commit."""
    quote_id, placement = quote_moving_a_rider(client, monkeypatch)
    client.published.clear()
    answer = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.rider | {"Idempotency-Key": "repaired"})
    assert answer.status_code == 201, answer.text
    assert saved_plan(client) == live_plan(client)
    buses = saved_buses(client)
    plan = client.app.state.dispatch.dispatcher.plan
    assert buses == {rid: plan.booking(rid).vehicle_id for rid in buses}
    for rider, bus in placement.moved.items():
        assert buses[rider] == bus
    with Session(client.app.state.engine) as session:
        event = session.exec(select(Event).where(Event.kind == EventKind.BOOKING_CONFIRMED,
                                                 Event.request_id == quote_id)).one()
    assert event.payload["bookings_moved"] == dict(placement.moved)
    assert event.payload["routes_changed"] == sorted(placement.routes)
    pushed = {e.vehicle_id for e in client.published if e.kind is EventKind.ROUTE_CHANGED}
    assert pushed == set(placement.routes)


def test_a_repaired_booking_whose_write_fails_rolls_every_route_and_moved_booking_back(client, monkeypatch):
    """When the write fails after the routes were replaced in the transaction, the answer is 503 and
    nothing of it stays: no new booking row, the moved rider on its old bus in the database and in the
    plan, every route as before in both, nothing published, and the quote still open."""
    quote_id, placement = quote_moving_a_rider(client, monkeypatch)
    before_plan, before_buses = live_plan(client), saved_buses(client)
    assert before_plan == saved_plan(client)
    replace_routes = repository._replace_routes

    def fail_after_writing(session, routes):
        replace_routes(session, routes)
        session.flush()
        raise repository.IntegrityViolation("the disk is full")

    monkeypatch.setattr(repository, "_replace_routes", fail_after_writing)
    client.published.clear()
    answer = client.post("/v1/bookings", json={"quote_id": quote_id},
                         headers=client.rider | {"Idempotency-Key": "repaired"})
    assert answer.status_code == 503 and answer.json()["code"] == "integrity_violation"
    assert live_plan(client) == before_plan == saved_plan(client)
    assert saved_buses(client) == before_buses
    plan = client.app.state.dispatch.dispatcher.plan
    for rider in placement.moved:
        assert plan.booking(rider).vehicle_id == before_buses[rider]
    assert quote_id not in plan.bookings() and quote_id in client.app.state.dispatch.quotes
    assert client.published == []
