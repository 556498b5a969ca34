"""Background re-optimization of the live plan (api.services.reoptimizer), in process on SQLite with
three buses: what is applied is saved whole (routes, bookings' buses, an event), what fails to save
leaves the plan as it was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.db.models import Booking, Event, PlannedStop
from api.services import reoptimizer as reoptimizer_module
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.model import StopKind
from tests.api.conftest import NOW, RIDER, AppSetup

# Three buses, background rounds off (the tests run them), a rider's key.
CLIENT = AppSetup({"demo_buses": 3, "reoptimize_every_s": 0, "reoptimize_budget_s": 1}, (RIDER,))
PLACES = [
    (47.1410, 9.5215),
    (47.1650, 9.5090),
    (47.2090, 9.5480),
    (47.1730, 9.5330),
    (47.1200, 9.5200),
    (47.2290, 9.5480),
]


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """The module's app (``CLIENT``) with the rider's key in ``client.rider`` and eight trips booked
    between 09:00 and 10:10."""
    client.rider = client.keys["rider"]  # type: ignore[attr-defined]
    booked = 0
    for k in range(8):
        origin, destination = PLACES[k % 6], PLACES[(k * 5 + 2) % 6]
        body = {
            "origin": dict(zip(("lat", "lon"), origin, strict=True)),
            "destination": dict(zip(("lat", "lon"), destination, strict=True)),
            "time_type": "leave_after",
            "time": (NOW.replace(hour=9) + timedelta(minutes=10 * k)).isoformat(),
            "seats": 1,
            "wheelchairs": 0,
        }
        offer = client.post("/v1/quotes", json=body, headers=client.rider)  # type: ignore[attr-defined]
        if offer.status_code == 200:
            answer = client.post(
                "/v1/bookings",
                json={"quote_id": offer.json()["quote_id"]},
                headers=client.rider | {"Idempotency-Key": f"k{k}"},  # type: ignore[attr-defined]
            )
            assert answer.status_code == 201, answer.text
            booked += 1
    assert booked >= 4, "the scenario needs several riders to pool"
    return client


def saved_plan(client: TestClient) -> dict[str, list[tuple[str | None, StopKind]]]:
    """Each bus's planned stops as the database holds them."""
    with Session(client.app.state.engine) as session:
        rows = session.exec(
            select(PlannedStop).order_by(col(PlannedStop.vehicle_id), col(PlannedStop.sequence))
        )
        plan: dict[str, list[tuple[str | None, StopKind]]] = {}
        for row in rows:
            plan.setdefault(row.vehicle_id, []).append((row.booking_id, row.kind))
        return plan


def live_plan(client: TestClient) -> dict[str, list[tuple[str | None, StopKind]]]:
    """Each bus's route in force, in the same shape (breaks have no booking)."""
    plan = client.app.state.dispatch.dispatcher.plan
    return {
        vid: [(None if s.kind is StopKind.BREAK else s.request_id, s.kind) for s in plan.route(vid).stops]
        for vid in plan.vehicles
        if plan.route(vid).stops
    }


def test_an_applied_round_is_saved_whole(client):
    """A round applies a plan that every route's evaluation accepts; the database then holds exactly the
    routes in force, every booking on the bus the plan puts it on, and a plan_reoptimized event whose
    driving time after is no more than before."""
    assert client.app.state.reoptimizer.run_once()
    dispatcher = client.app.state.dispatch.dispatcher
    for vid, vehicle in dispatcher.plan.vehicles.items():
        assert evaluate_route(
            vehicle, dispatcher.plan.state(vid), dispatcher.plan.route(vid).stops, dispatcher.legs
        ).feasible
    assert saved_plan(client) == live_plan(client)
    with Session(client.app.state.engine) as session:
        for row in session.exec(select(Booking)):
            assert row.vehicle_id == dispatcher.plan.booking(row.id).vehicle_id
        event = session.exec(select(Event).where(Event.kind == EventKind.PLAN_REOPTIMIZED)).one()
    assert event.payload["drive_s_after"] <= event.payload["drive_s_before"]


def test_a_round_that_cannot_be_saved_leaves_the_plan_as_it_was(client, monkeypatch):
    """When writing the new plan fails, the dispatcher is rolled back: routes and the saved plan are the
    ones from before the round, and no plan_reoptimized event is stored."""

    def failing_save(*args, **kwargs):
        raise RuntimeError("database gone")

    before = live_plan(client)
    monkeypatch.setattr(reoptimizer_module, "save_plan", failing_save)
    with pytest.raises(RuntimeError, match="database gone"):
        client.app.state.reoptimizer.run_once()
    assert live_plan(client) == before == saved_plan(client)
    with Session(client.app.state.engine) as session:
        assert session.exec(select(Event).where(Event.kind == EventKind.PLAN_REOPTIMIZED)).all() == []
