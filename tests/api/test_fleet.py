"""api.fleet.dispatch_vehicle: stored shifts within the booking horizon become one dispatch vehicle, gaps
become off-duty breaks."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.clock import ServiceClock
from api.db.models import Shift, ShiftBreak, Vehicle
from api.fleet import dispatch_vehicle
from dispatch.model import DAY_S, Break
from tests.api.conftest import ZONE

CLOCK = ServiceClock(ZONE)
DAY = datetime(2026, 11, 23, tzinfo=ZONE)
HORIZON_S = 2 * DAY_S
BUS = Vehicle(id="bus-1", name="Bus", seats=8, wheelchair_spaces=1, depot_lat=47.14, depot_lon=9.52,
              depot_node=7)


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute) + timedelta(days=days)


def s(moment: datetime) -> int:
    return CLOCK.to_seconds(moment)


def shift(start: datetime, end: datetime, *breaks: tuple[datetime, datetime, int]):
    return (Shift(vehicle_id="bus-1", starts_at=start, ends_at=end),
            [ShiftBreak(shift_id=0, earliest_start=a, latest_start=b, duration_s=d) for a, b, d in breaks])


def test_two_shifts_make_one_vehicle_with_the_gap_as_a_break():
    """At 08:00, shifts 06–10 and 12–16 (a 20-min break from 13:00–13:30) give a vehicle working 06–16
    with a 2-hour break pinned at 10:00 and the 20-min break; capacities and depot are the row's."""
    now = s(at(8))
    shifts = [shift(at(12), at(16), (at(13), at(13, 30), 1200)), shift(at(6), at(10))]
    vehicle = dispatch_vehicle(BUS, shifts, CLOCK, now, HORIZON_S)
    assert vehicle is not None
    assert (vehicle.seats, vehicle.wheelchair_spaces, vehicle.depot) == (8, 1, 7)
    assert (vehicle.shift_start, vehicle.shift_end) == (s(at(6)), s(at(16)))
    assert vehicle.breaks == (Break(s(at(10)), s(at(10)), 7200), Break(s(at(13)), s(at(13, 30)), 1200))


def test_shifts_ended_or_beyond_the_horizon_and_past_breaks_are_left_out():
    """At 14:00 with a 2-day horizon: the shift that ended at 10:00 and one in three days are left out, the
    break whose latest start (13:30) has passed too; without any shift left there is no vehicle."""
    now = s(at(14))
    shifts = [shift(at(6), at(10)), shift(at(12), at(16), (at(13), at(13, 30), 1200)),
              shift(at(6, days=3), at(10, days=3))]
    vehicle = dispatch_vehicle(BUS, shifts, CLOCK, now, HORIZON_S)
    assert vehicle is not None and vehicle.breaks == ()
    assert (vehicle.shift_start, vehicle.shift_end) == (s(at(12)), s(at(16)))
    assert dispatch_vehicle(BUS, [shift(at(6), at(10))], CLOCK, now, HORIZON_S) is None


def test_every_shift_within_the_horizon_is_planned_and_the_horizon_rolls_with_now():
    """One shift 06–20 a day on D … D+11, a 7-day horizon: at D 08:00 the vehicle works from D 06:00 to
    D+7 20:00 (that shift starts before D+7 08:00, the next one after), with seven nights off as breaks; at
    D+3 08:00 it works from D+3 06:00 to D+10 20:00."""
    shifts = [shift(at(6, days=d), at(20, days=d)) for d in range(12)]
    vehicle = dispatch_vehicle(BUS, shifts, CLOCK, s(at(8)), 7 * DAY_S)
    assert vehicle is not None
    assert (vehicle.shift_start, vehicle.shift_end) == (s(at(6)), s(at(20, days=7)))
    assert vehicle.breaks == tuple(Break(s(at(20, days=d)), s(at(20, days=d)), 10 * 3600) for d in range(7))
    later = dispatch_vehicle(BUS, shifts, CLOCK, s(at(8, days=3)), 7 * DAY_S)
    assert later is not None
    assert (later.shift_start, later.shift_end) == (s(at(6, days=3)), s(at(20, days=10)))
