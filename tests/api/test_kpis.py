"""Key figures (api.services.kpis): the pure computation on six hand-made bookings whose figures are
worked out by hand below, and the endpoint on a trip driven through the drivers' API. The shared
definitions themselves are tested in tests/dispatch/test_kpis.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking, Shift
from api.services.kpis import figures
from api.settings import Settings
from dispatch.dispatcher import RequestStatus
from dispatch.model import RejectionCause, TimeType
from tests.api.conftest import NOW as START
from tests.api.conftest import SCHAAN, VADUZ, ZONE, MovableClock

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def t(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def row(booking_id: str, status: RequestStatus, window: tuple[datetime, datetime], *, requested: datetime,
        time_type: TimeType = TimeType.LEAVE_AFTER, picked: datetime | None = None,
        dropped: datetime | None = None, direct_s: int = 600, seats: int = 1, vehicle: str | None = None,
        nodes: tuple[int, int] = (0, 0), cause: RejectionCause | None = None) -> Booking:
    return Booking(id=booking_id, status=status, time_type=time_type, requested_time=requested,
                   submitted_at=t(7), window_start=window[0], window_end=window[1], picked_up_at=picked,
                   dropped_off_at=dropped, direct_s=direct_s, seats=seats, wheelchairs=0, vehicle_id=vehicle,
                   origin_node=nodes[0], destination_node=nodes[1], origin_lat=0, origin_lon=0,
                   destination_lat=0, destination_lon=0, rejection_cause=cause)


C, R = RequestStatus.COMPLETED, RequestStatus.REJECTED
ROWS = [
    # A and B share bus-1 from 08:15 to 08:25
    row("A", C, (t(8), t(8, 10)), requested=t(8), picked=t(8, 5), dropped=t(8, 25), vehicle="bus-1",
        nodes=(1, 3)),
    row("B", C, (t(8, 10), t(8, 20)), requested=t(8, 10), picked=t(8, 15), dropped=t(8, 35), direct_s=900,
        seats=2, vehicle="bus-1", nodes=(2, 4)),
    # C arrives by 10:00, promised 09:20–09:30, picked up late at 09:40
    row("C", C, (t(9, 20), t(9, 30)), requested=t(10), time_type=TimeType.ARRIVE_BY, picked=t(9, 40),
        dropped=t(9, 55), vehicle="bus-2", nodes=(5, 6)),
    row("D", R, (t(10), t(10, 10)), requested=t(10), cause=RejectionCause.VEHICLE_OUT_OF_SERVICE),
    row("E", RequestStatus.CANCELLED, (t(11), t(11, 10)), requested=t(11)),
    # F is on board bus-2 since 12:10, the end of its window
    row("F", RequestStatus.PICKED_UP, (t(12), t(12, 10)), requested=t(12), picked=t(12, 10), vehicle="bus-2",
        nodes=(6, 7)),
]
SHIFTS = [Shift(vehicle_id="bus-1", starts_at=t(4), ends_at=t(14)),  # 8 h inside 06:00–18:00
          Shift(vehicle_id="bus-2", starts_at=t(9), ends_at=t(20))]  # 9 h inside


def test_figures_of_six_bookings_match_the_hand_computation():
    """Waits (A, B, C, F picked up): 300, 300, 1200 (C: 09:40 − window start 09:20), 600 → mean 600,
    p50 450, p95 1110. Rides (A, B, C completed): 1200, 1200, 900 → mean 1100, p50 1200, p95 1200;
    factors 2, 4/3, 1.5 → 1.6111. Windows kept: A, B, F, not C → 75 %. Pooled: A and B of three → 66.7 %.
    Vehicle-hours 8 + 9 = 17; passengers 1 + 2 + 1 = 4 → 4/17 per hour; on board 1·1200 + 2·1200 + 1·900
    = 4500 s → occupancy 4500 / 61200. Vehicle km at 1 km per node step: bus-1 1→2→3→4 = 3 km, bus-2
    5→6 (→6 again) = 1 km → 4 km."""
    result = figures(ROWS, SHIFTS, start=t(6), end=t(18), metres=lambda a, b: 1000 * abs(a - b),
                     refused={"no_vehicle_in_time": 2})
    assert (result.bookings, result.served, result.rejected) == (6, 3, 1)
    assert result.by_status == {"completed": 3, "rejected": 1, "cancelled": 1, "picked_up": 1}
    assert result.by_rejection_cause == {"vehicle_out_of_service": 1}
    assert result.refused_quotes_by_cause == {"no_vehicle_in_time": 2}
    assert result.mean_window_s == 600
    assert result.wait_s.model_dump() == pytest.approx({"count": 4, "mean": 600, "p50": 450, "p95": 1110})
    assert result.ride_s.model_dump() == pytest.approx({"count": 3, "mean": 1100, "p50": 1200, "p95": 1200})
    assert result.ride_time_factor == pytest.approx((2 + 4 / 3 + 1.5) / 3)
    assert result.window_kept_pct == 75
    assert result.pooling_rate_pct == pytest.approx(200 / 3)
    assert result.vehicle_hours == 17
    assert result.passengers_per_vehicle_hour == pytest.approx(4 / 17)
    assert result.occupancy == pytest.approx(4500 / 61200)
    assert result.vehicle_km == 4


def test_figures_without_trips_are_null_not_zero():
    """No bookings and no shifts: counts are 0 and every ratio is null."""
    result = figures([], [], start=t(6), end=t(18), metres=lambda a, b: 0, refused={})
    assert (result.bookings, result.served, result.vehicle_hours, result.vehicle_km) == (0, 0, 0, 0)
    assert result.wait_s is result.ride_s is result.window_kept_pct is result.pooling_rate_pct is None
    assert result.occupancy is result.passengers_per_vehicle_hour is result.ride_time_factor is None


def test_vehicle_hours_of_the_autumn_change_day_are_25():
    """A shift from the evening before to the morning after 25 October, asked for with that day's local
    bounds (midnight to midnight, 25 real hours), counts 25 vehicle-hours, not the 24 of the wall clock."""
    start, end = datetime(2026, 10, 25, tzinfo=ZONE), datetime(2026, 10, 26, tzinfo=ZONE)
    shift = Shift(vehicle_id="bus-1", starts_at=datetime(2026, 10, 24, 18, tzinfo=UTC),
                  ends_at=datetime(2026, 10, 26, 5, tzinfo=UTC))
    result = figures([], [shift], start=start, end=end, metres=lambda a, b: 0, refused={})
    assert result.vehicle_hours == 25


# ----- the endpoint -----------------------------------------------------------------------------------


def test_the_endpoint_reports_a_trip_driven_and_a_refused_quote(tmp_path):
    """One bus: a rider books Vaduz → Schaan at 09:00, the driver picks up at the planned pickup and drops
    off 10 minutes later; a quote for 03:00 is refused (outside_hours), one from Zurich too (outside_area).
    The figures for the day: served 1, the refused quotes by cause, wait = pickup − 09:00, ride 600 s,
    window kept 100 %, nobody pooled, vehicle km = the road distance Vaduz → Schaan."""
    clock = MovableClock(START)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'rufbus.sqlite3'}", demo_buses=1),
                     clock=ServiceClock(ZONE, wall_clock=clock))
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            keys = {role: {"Authorization": "Bearer " + create_user(session, name=role, role=role,
                                                                     vehicle_id=bus)[1]}
                    for role, bus in (("rider", None), ("driver", "bus-1"), ("operator", None))}
        trip = {"origin": VADUZ, "destination": SCHAAN, "time_type": "leave_after", "seats": 1,
                "wheelchairs": 0}
        refused = client.post("/v1/quotes", headers=keys["rider"],
                              json=trip | {"time": (START.replace(hour=3) + timedelta(days=1)).isoformat()})
        assert (refused.status_code, refused.json()["code"]) == (409, "outside_hours")
        zurich = {"lat": 47.3769, "lon": 8.5417}
        far = client.post("/v1/quotes", headers=keys["rider"],
                          json=trip | {"origin": zurich, "time": START.replace(hour=9).isoformat()})
        assert (far.status_code, far.json()["code"]) == (409, "outside_area")
        offer = client.post("/v1/quotes", headers=keys["rider"],
                            json=trip | {"time": START.replace(hour=9).isoformat()})
        booking = client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                              headers=keys["rider"] | {"Idempotency-Key": "k"}).json()
        pickup = datetime.fromisoformat(booking["planned_pickup"])
        for moment, action in ((pickup, "picked-up"), (pickup + timedelta(minutes=10), "dropped-off")):
            clock.moment = moment
            assert client.post("/v1/driver/arrived", headers=keys["driver"]).status_code == 204
            assert client.post(f"/v1/driver/{action}", headers=keys["driver"],
                               json={"booking_id": booking["id"]}).status_code == 204
        answer = client.get("/v1/operator/kpis", headers=keys["operator"],
                            params={"from": START.replace(hour=0).isoformat(),
                                    "to": (START.replace(hour=0) + timedelta(days=1)).isoformat()})
        assert answer.status_code == 200, answer.text
        kpis = answer.json()
        network = app.state.network
        nodes = network.snap([VADUZ["lat"], SCHAAN["lat"]], [VADUZ["lon"], SCHAAN["lon"]]).node
    assert (kpis["served"], kpis["refused_quotes_by_cause"]) == (1, {"outside_hours": 1, "outside_area": 1})
    assert kpis["wait_s"]["mean"] == (pickup - START.replace(hour=9)).total_seconds()
    assert kpis["ride_s"]["p95"] == 600 and kpis["window_kept_pct"] == 100 and kpis["pooling_rate_pct"] == 0
    assert kpis["vehicle_km"] == pytest.approx(network.travel(int(nodes[0]), int(nodes[1]))[1] / 1000)
    assert kpis["vehicle_hours"] == 24 - 5  # the demo shift runs from 05:00 through the day
