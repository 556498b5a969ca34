"""Tests for dispatch.meeting: requests with meeting points, through the Dispatcher and best insertion.

World (km, driven at 60 km/h, so 1 km = 60 s, times rounded up): the depot at loc 0 (0, 0), a door off
the road at loc 1 (5, 5), a meeting point on the bus's way at loc 2 (5, 0), the destination at loc 3
(10, 0), a second meeting point at loc 4 (5, 1). One bus at the depot from 07:00, T0 = 08:00.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dispatch.dispatcher import BookedTrip, Dispatcher
from dispatch.evaluation import evaluate_route
from dispatch.insertion import CostWeights, RouteTimes, VehicleRoute, best_insertion, best_option_insertion
from dispatch.meeting import choices, resolve
from dispatch.model import (
    Offer,
    PlaceOption,
    Request,
    ServiceRules,
    TimeType,
    Vehicle,
    VehicleState,
    walk_s,
)
from dispatch.rules import request_stops
from dispatch.search import search_options
from dispatch.travel import LegTimes, MatrixTravelTimes
from tests.dispatch.scenarios import leave_after

T0 = 8 * 3600
POINTS = [(0, 0), (5, 5), (5, 0), (10, 0), (5, 1)]
RULES = ServiceRules()
DOOR, ON_THE_WAY, DEST, NEAR = 1, 2, 3, 4


def plane_travel() -> MatrixTravelTimes:
    """Euclidean distances between :data:`POINTS` at 60 km/h, seconds rounded up."""
    pts = np.asarray(POINTS, dtype=float)
    metres = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) * 1000
    return MatrixTravelTimes(np.ceil(metres / (60 / 3.6)).astype(np.int64), np.ceil(metres).astype(np.int64))


def dispatcher() -> Dispatcher:
    """One 4-seat bus at the depot, working 07:00-15:00."""
    return Dispatcher([Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)], RULES, plane_travel(), T0)


def with_points(request: Request, *pickups: PlaceOption, door: bool = True) -> Request:
    """``request`` with these pickup options, its door among them (walk 0) when ``door``."""
    at_door = (PlaceOption(request.origin),) if door else ()
    return replace(request, pickup_options=(*at_door, *pickups))


def quote_and_book(d: Dispatcher, request: Request) -> tuple[Offer, BookedTrip]:
    """Quote and book, insisting both succeed."""
    offer = d.quote(request, T0)
    assert isinstance(offer, Offer), offer
    booked = d.book(request.id, T0)
    assert isinstance(booked, BookedTrip), booked
    return offer, booked


def test_meeting_point_on_the_way_beats_the_door_when_the_detour_saved_outweighs_the_walk():
    """The door (5, 5) costs the bus 0→door→dest = 425 + 425 s against 300 + 300 s through (5, 0): 250 s of
    driving and 125 s of riding (× 0.5) saved, against a 200 m walk (167 s × 1.0). The meeting point wins,
    the bus stops there, and the offer and booking say so."""
    d = dispatcher()
    point = PlaceOption(ON_THE_WAY, 200, "mp-road")
    offer, booked = quote_and_book(d, with_points(leave_after("A", DOOR, DEST, T0), point))
    assert offer.pickup == point and offer.dropoff == PlaceOption(DEST)
    assert booked.booking.request.origin == ON_THE_WAY and booked.booking.request.pickup_walk_m == 200
    assert [s.location for s in d.plan.route("v1").stops] == [ON_THE_WAY, DEST]


def test_door_wins_when_the_walk_costs_more_than_the_detour_saves():
    """Same trip, but the meeting point is 1,000 m away (834 s of walking): the bus goes to the door."""
    d = dispatcher()
    far = PlaceOption(ON_THE_WAY, 1000, "far")
    offer, _ = quote_and_book(d, with_points(leave_after("A", DOOR, DEST, T0), far))
    assert offer.pickup == PlaceOption(DOOR)
    assert [s.location for s in d.plan.route("v1").stops] == [DOOR, DEST]


def test_walk_time_shifts_a_leave_after_riders_earliest_pickup():
    """Leave after 08:00 with 600 m to walk (500 s at 1.2 m/s): the bus could be at (5, 0) by 08:05 but the
    rider reaches it at 08:08:20 only, so that is the earliest pickup, and the wait counts from there."""
    d = dispatcher()
    point = PlaceOption(ON_THE_WAY, 600, "mp")
    offer = d.quote(with_points(leave_after("A", DOOR, DEST, T0), point, door=False), T0)
    assert isinstance(offer, Offer)
    assert walk_s(600) == 500
    assert offer.planned_pickup == T0 + 500
    assert offer.pickup_window[0] >= T0 + 500


def test_walk_time_shifts_an_arrive_by_riders_latest_dropoff():
    """Arrive by 09:00 with 240 m to walk from the drop-off (200 s): the bus must be there by 08:56:40."""
    request = Request("A", ON_THE_WAY, DEST, TimeType.ARRIVE_BY, T0 + 3600, T0,
                      dropoff_options=(PlaceOption(NEAR, 240, "mp-dest"),))
    legs = LegTimes(plane_travel())
    (choice,) = choices(request, T0, RULES, legs, CostWeights())
    assert choice.request.destination == NEAR
    assert choice.bounds.latest_dropoff == T0 + 3600 - 200


def test_stops_only_never_uses_the_door_even_when_it_is_on_the_way():
    """The door (5, 0) lies on the bus's way; the only options are meeting points (stops only), so the bus
    stops at one of them (the nearer, (5, 1)), never at the door."""
    d = dispatcher()
    request = with_points(leave_after("A", ON_THE_WAY, DEST, T0), PlaceOption(NEAR, 100, "near"),
                          PlaceOption(DOOR, 500, "far"), door=False)
    offer, _ = quote_and_book(d, request)
    assert offer.pickup is not None and offer.pickup.meeting_point_id == "near"
    assert ON_THE_WAY not in [s.location for s in d.plan.route("v1").stops]


def test_request_without_options_gets_the_same_offer_as_before():
    """Door to door: no options, no meeting point in the offer, and the same times and cost as the request
    whose only option is its door with no walk (the choice adds nothing)."""
    plain = leave_after("A", DOOR, DEST, T0)
    door_only = with_points(plain, door=True)
    first, second = dispatcher().quote(plain, T0), dispatcher().quote(door_only, T0)
    assert isinstance(first, Offer) and isinstance(second, Offer)
    assert first.pickup is None and first.dropoff is None
    assert (first.planned_pickup, first.estimated_dropoff, first.cost) == \
        (second.planned_pickup, second.estimated_dropoff, second.cost)


def test_option_insertion_is_the_cheapest_single_insertion_plus_its_walk():
    """Over a route with one rider booked (0→3), each option's best insertion plus its walk cost; the
    insertion over all options together is the cheapest of them, and one option alone is plain insertion."""
    legs = LegTimes(plane_travel())
    vehicle = Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)
    booked = resolve(leave_after("B", 0, DEST, T0), PlaceOption(0), PlaceOption(DEST))
    b_options = choices(booked, T0, RULES, legs, CostWeights())
    bounds = b_options[0].bounds
    window = (bounds.earliest_pickup, bounds.latest_pickup)
    b_pick, b_drop = request_stops(b_options[0].request, bounds, window, RULES)
    state = VehicleState("v1", 0, T0)
    route = VehicleRoute(vehicle, state, (b_pick, b_drop))
    times = [RouteTimes(route, evaluate_route(vehicle, state, route.stops, legs), legs)]
    request = with_points(leave_after("A", DOOR, DEST, T0), PlaceOption(ON_THE_WAY, 200, "a"),
                          PlaceOption(NEAR, 50, "b"))
    options = [(*request_stops(c.request, c.bounds, (c.bounds.earliest_pickup, c.bounds.latest_pickup),
                               RULES), c.walk_cost) for c in choices(request, T0, RULES, legs, CostWeights())]
    singles = [best_insertion([route], p, dr, legs, times=times) for p, dr, _ in options]
    expected = min((s.cost + extra, k) for k, (s, (_, _, extra)) in enumerate(zip(singles, options)) if s)
    found = best_option_insertion([route], options, legs, times=times)
    assert found is not None and (found.cost, found.option) == expected
    alone = best_option_insertion([route], [(options[0][0], options[0][1], 0.0)], legs, times=times)
    assert alone == singles[0]


def test_searching_the_options_by_their_cost_bounds_finds_the_pooled_optimum():
    """With a rider booked 0→3, the search that tries the option with the lowest bound (walks + ½ direct
    ride) first and the others only if their bound could beat it finds the same cost as ranking every
    option's candidates together, for a far and a near meeting point alike."""
    for walk_m in (50, 200, 1000):
        d = dispatcher()
        quote_and_book(d, leave_after("B", 0, DEST, T0))
        request = with_points(leave_after("A", DOOR, DEST, T0), PlaceOption(ON_THE_WAY, walk_m, "a"),
                              PlaceOption(NEAR, walk_m // 2, "b"))
        every = choices(request, T0, RULES, d.plan.legs, CostWeights())
        routes, times = d.plan.vehicle_routes()
        pooled = best_option_insertion(routes, [
            (*request_stops(c.request, c.bounds, (c.bounds.earliest_pickup, c.bounds.latest_pickup), RULES),
             c.walk_cost) for c in every], d.plan.legs, CostWeights(), times)
        found = search_options(d.plan, every, RULES, CostWeights())
        assert pooled is not None and found is not None
        assert (found.cost, found.option) == (pooled.cost, pooled.option)
