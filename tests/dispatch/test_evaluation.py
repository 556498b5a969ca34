"""Tests for dispatch.evaluation: the earliest schedule of a route, and every rule it can break.

World: four places on a straight road at 0, 2, 5 and 10 km, driven at 60 km/h (1 km = 60 s):

    loc 0 (depot) --120 s-- loc 1 --180 s-- loc 2 --300 s-- loc 3
"""

from __future__ import annotations

from dispatch.evaluation import ViolationKind, evaluate_route
from dispatch.model import OnboardRider, Stop, StopKind, Vehicle, VehicleState
from tests.dispatch.scenarios import line_world

LEGS = line_world([0, 2, 5, 10])
FAR = 10**6  # a limit that never binds


def bus(seats: int = 2, wheelchairs: int = 1, shift_end: int = FAR) -> Vehicle:
    """A bus based at loc 0."""
    return Vehicle("bus", seats, wheelchairs, 0, 0, shift_end)


def at_depot(t: int = 1000, onboard: tuple[OnboardRider, ...] = ()) -> VehicleState:
    """The bus standing at its depot, free from ``t``."""
    return VehicleState("bus", 0, t, onboard)


def pickup(rid: str, loc: int, earliest: int = 0, latest: int = FAR, service: int = 45, seats: int = 1,
           wheelchairs: int = 0) -> Stop:
    """A pickup with the given window."""
    return Stop(rid, StopKind.PICKUP, loc, earliest, latest, service, seats, wheelchairs)


def dropoff(rid: str, loc: int, latest: int = FAR, service: int = 45, seats: int = 1, wheelchairs: int = 0,
            max_ride: int = FAR) -> Stop:
    """A drop-off with a latest arrival and a max ride time."""
    return Stop(rid, StopKind.DROPOFF, loc, 0, latest, service, seats, wheelchairs, max_ride)


def kinds(evaluation) -> list[tuple[ViolationKind, int, str]]:
    """(kind, stop index, request id) of every violation."""
    return [(v.kind, v.stop_index, v.request_id) for v in evaluation.violations]


def test_pooled_route_schedule_by_hand():
    """Bus free at t=1000 at loc 0. A (seat) boards at 1, B (wheelchair, window from 1500) at 2,
    both alight at 3.

    A: arrive 1000+120=1120, start 1120, leave 1165.  B: arrive 1165+180=1345, waits, start 1500, leave 1560.
    A off: arrive 1560+300=1860, leave 1905 (ride 1860−1165=695).  B off: same place, start 1905, leave 1935
    (ride 1905−1560=345).  Home: 1935+600=2535.  Driving 120+180+300+0+600=1200 s, 2+3+5+0+10=20 km.
    """
    stops = (pickup("A", 1, 1000, 2000), pickup("B", 2, 1500, 3000, 60, seats=0, wheelchairs=1),
             dropoff("A", 3), dropoff("B", 3, service=30, seats=0, wheelchairs=1))
    ev = evaluate_route(bus(), at_depot(1000), stops, LEGS)
    assert ev.arrival == (1120, 1345, 1860, 1905)
    assert ev.start == (1120, 1500, 1860, 1905)
    assert ev.departure == (1165, 1560, 1905, 1935)
    assert ev.loads == ((1, 0), (1, 1), (0, 1), (0, 0))
    assert ev.ride_s == {"A": 695, "B": 345}
    assert ev.end_arrival == 2535
    assert ev.drive_s == 1200
    assert ev.drive_m == 20_000
    assert ev.feasible


def test_bus_waits_at_the_stop_until_the_window_opens():
    """Bus reaches loc 2 at 1300 but the window opens at 2000: service 2000–2045, then 300 s to loc 3.
    Waiting is not driving: drive time stays 300 + 300 + 600."""
    ev = evaluate_route(bus(), at_depot(1000), (pickup("A", 2, 2000, 2500), dropoff("A", 3)), LEGS)
    assert ev.arrival == (1300, 2345)
    assert ev.start == (2000, 2345)
    assert ev.ride_s == {"A": 300}
    assert ev.drive_s == 1200
    assert ev.feasible


def test_empty_route_just_drives_home():
    """No stops, bus free at 1000 at loc 2: home at 1000 + 300, nothing violated."""
    ev = evaluate_route(bus(), VehicleState("bus", 2, 1000), (), LEGS)
    assert (ev.arrival, ev.end_arrival, ev.drive_s, ev.drive_m) == ((), 1300, 300, 5000)
    assert ev.feasible


def test_late_pickup():
    """Loc 3 is 600 s away; a pickup there must start by 1500 but the bus is free only at 1000: 100 s late."""
    ev = evaluate_route(bus(), at_depot(1000), (pickup("A", 3, 1000, 1500), dropoff("A", 2)), LEGS)
    assert kinds(ev) == [(ViolationKind.LATE, 0, "A")]
    on_time = evaluate_route(bus(), at_depot(1000), (pickup("A", 3, 1000, 1600), dropoff("A", 2)), LEGS)
    assert on_time.feasible  # exactly at the latest start is on time


def test_late_dropoff():
    """A boards at loc 1 at 1120 (leaves 1165); loc 3 is 480 s on: arrival 1645 against a limit of 1644."""
    stops = (pickup("A", 1), dropoff("A", 3, latest=1644))
    assert kinds(evaluate_route(bus(), at_depot(1000), stops, LEGS)) == [(ViolationKind.LATE, 1, "A")]


def test_ride_too_long():
    """From loc 1 to loc 3 takes 480 s; with a max ride of 479 s the drop-off breaks it,
    with 480 s it is fine."""
    too_long = evaluate_route(bus(), at_depot(), (pickup("A", 1), dropoff("A", 3, max_ride=479)), LEGS)
    assert kinds(too_long) == [(ViolationKind.RIDE_TOO_LONG, 1, "A")]
    assert evaluate_route(bus(), at_depot(), (pickup("A", 1), dropoff("A", 3, max_ride=480)), LEGS).feasible


def test_ride_time_of_rider_already_on_board_counts_from_their_boarding():
    """A left their pickup at 600; bus free at 1000 at loc 0, 600 s from loc 3: ride 1600 > 1500."""
    rider = OnboardRider("A", 1, 0, departed_pickup_at=600)
    ev = evaluate_route(bus(), at_depot(1000, (rider,)), (dropoff("A", 3, max_ride=1500),), LEGS)
    assert ev.ride_s == {"A": 1000}
    assert ev.feasible
    later = VehicleState("bus", 0, 1600, (rider,))
    ev = evaluate_route(bus(), later, (dropoff("A", 3, max_ride=1500),), LEGS)
    assert kinds(ev) == [(ViolationKind.RIDE_TOO_LONG, 0, "A")]


def test_over_capacity_seats():
    """A 1-seat bus picking up A and then B before dropping A: over capacity at B's pickup (index 1)."""
    stops = (pickup("A", 1), pickup("B", 2), dropoff("A", 3), dropoff("B", 3))
    ev = evaluate_route(bus(seats=1), at_depot(), stops, LEGS)
    assert kinds(ev) == [(ViolationKind.OVER_CAPACITY, 1, "B")]
    assert evaluate_route(bus(seats=2), at_depot(), stops, LEGS).feasible


def test_over_capacity_wheelchairs():
    """A wheelchair user on a bus with seats but no wheelchair space: over capacity at the pickup."""
    stops = (pickup("W", 1, seats=0, wheelchairs=1), dropoff("W", 2, seats=0, wheelchairs=1))
    ev = evaluate_route(bus(seats=8, wheelchairs=0), at_depot(), stops, LEGS)
    assert kinds(ev) == [(ViolationKind.OVER_CAPACITY, 0, "W")]


def test_over_capacity_already_on_board():
    """Two riders reported on board a 1-seat bus: the route as a whole (index −1) is over capacity."""
    riders = (OnboardRider("A", 1, 0, 0), OnboardRider("B", 1, 0, 0))
    ev = evaluate_route(bus(seats=1), at_depot(1000, riders), (dropoff("A", 1), dropoff("B", 1)), LEGS)
    assert kinds(ev) == [(ViolationKind.OVER_CAPACITY, -1, "")]


def test_shift_end():
    """Bus free at 1000: A boards at loc 1 1120–1165, alights at loc 3 1645–1690, home 600 s later at 2290.
    A shift ending at 2290 is kept; one ending at 2289 is not."""
    stops = (pickup("A", 1), dropoff("A", 3))
    assert evaluate_route(bus(shift_end=2290), at_depot(), stops, LEGS).feasible
    ev = evaluate_route(bus(shift_end=2289), at_depot(), stops, LEGS)
    assert ev.end_arrival == 2290
    assert kinds(ev) == [(ViolationKind.SHIFT_END, -1, "")]


def test_break_with_rider_on_board():
    """A break planned between A's pickup and drop-off: the driver would rest with A on board."""
    pause = Stop("break", StopKind.BREAK, 0, 0, FAR, 600)
    stops = (pickup("A", 1), pause, dropoff("A", 3))
    ev = evaluate_route(bus(), at_depot(), stops, LEGS)
    assert kinds(ev) == [(ViolationKind.BREAK_NOT_EMPTY, 1, "break")]
    assert evaluate_route(bus(), at_depot(), (pickup("A", 1), dropoff("A", 3), pause), LEGS).feasible


def test_dropoff_without_pickup():
    """A drop-off for a rider who never boarded is an order violation at that stop."""
    ev = evaluate_route(bus(), at_depot(), (dropoff("A", 2),), LEGS)
    assert kinds(ev) == [(ViolationKind.ORDER, 0, "A")]


def test_dropoff_before_pickup():
    """The drop-off planned before the pickup: order violations at the drop-off, at the pickup that
    follows it, and for A being left on board at the end."""
    ev = evaluate_route(bus(), at_depot(), (dropoff("A", 3), pickup("A", 1)), LEGS)
    assert kinds(ev) == [(ViolationKind.ORDER, 0, "A"), (ViolationKind.ORDER, 1, "A"),
                         (ViolationKind.ORDER, -1, "A")]


def test_pickup_twice():
    """The same rider picked up twice: an order violation at the second pickup."""
    stops = (pickup("A", 1), dropoff("A", 2), pickup("A", 2), dropoff("A", 3))
    ev = evaluate_route(bus(), at_depot(), stops, LEGS)
    assert kinds(ev) == [(ViolationKind.ORDER, 2, "A")]


def test_rider_left_on_board():
    """A picked up and never dropped off: an order violation for the route as a whole (index −1)."""
    ev = evaluate_route(bus(), at_depot(), (pickup("A", 1),), LEGS)
    assert kinds(ev) == [(ViolationKind.ORDER, -1, "A")]


def test_rider_already_on_board_left_on_board():
    """A reported on board but the route has no drop-off for A: A would never get off."""
    ev = evaluate_route(bus(), at_depot(1000, (OnboardRider("A", 1, 0, 900),)), (), LEGS)
    assert kinds(ev) == [(ViolationKind.ORDER, -1, "A")]
