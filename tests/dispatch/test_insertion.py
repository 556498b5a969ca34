"""Tests for dispatch.insertion: the fast path equals brute force, and it keeps every rule."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.evaluation import evaluate_route
from dispatch.insertion import (
    PLACES_KEPT,
    CostWeights,
    RouteTimes,
    VehicleRoute,
    best_insertion,
    insert_stops,
    keeps_every_rule,
)
from dispatch.model import (
    OnboardRider,
    Request,
    ServiceRules,
    Stop,
    StopKind,
    TimeType,
    Vehicle,
    VehicleState,
)
from dispatch.travel import LegTimes, MatrixTravelTimes
from tests.dispatch.scenarios import leave_after, line_world, minutes, plane_world, request_stops

RULES = ServiceRules()


def brute_force(routes, pickup, dropoff, legs, weights=CostWeights()):
    """Every vehicle, every (i, j): evaluate the whole route and keep the cheapest feasible one."""
    best = None
    for order, route in enumerate(routes):
        before = evaluate_route(route.vehicle, route.state, route.stops, legs)
        n = len(route.stops)
        for i in range(route.committed, n + 1):
            for j in range(i, n + 1):
                stops = insert_stops(route.stops, pickup, dropoff, i, j)
                ev = evaluate_route(route.vehicle, route.state, stops, legs)
                if not ev.feasible:
                    continue
                added = ev.drive_s - before.drive_s
                wait = ev.start[i] - pickup.earliest
                kept = [k for k in range(n + 2) if k not in (i, j + 1)]  # new index of each planned stop
                late = [max(0, ev.start[new] - old) for new, old in zip(kept, before.start)]
                dropoffs_late = sum(d for d, stop in zip(late, route.stops) if stop.kind is StopKind.DROPOFF)
                cost = weights.cost(added, wait, ev.ride_s[pickup.request_id], dropoffs_late, sum(late))
                key = (cost, order, i, j)
                if best is None or key < best[0]:
                    best = (key, route.vehicle.id, stops)
    return best


def random_request(rng: random.Random, rid: str, n_points: int) -> Request:
    """A leave-after or arrive-by request between two random points within the first two hours."""
    o, d = rng.sample(range(n_points), 2)
    time_type = rng.choice([TimeType.LEAVE_AFTER, TimeType.LEAVE_AFTER, TimeType.ARRIVE_BY])
    at = rng.randint(0, minutes(90)) + (minutes(40) if time_type is TimeType.ARRIVE_BY else 0)
    return Request(rid, o, d, time_type, at, 0, rng.choice([1, 1, 2]), rng.choice([0, 0, 0, 1]))


def build_world(seed: int, n_points: int, n_vehicles: int, n_requests: int, seats: int):
    """Random plane world with breaks; routes built by insertion, then some first pickups boarded."""
    rng = random.Random(seed)
    points = [(rng.uniform(0, 20), rng.uniform(0, 20)) for _ in range(n_points)]
    legs = plane_world(points)
    routes = []
    for v in range(n_vehicles):
        vehicle = Vehicle(f"v{v}", seats, 1, v % n_points, 0, minutes(rng.choice([150, 600])))
        stops = ()
        if rng.random() < 0.5:
            start = rng.randint(minutes(30), minutes(120))
            stops = (Stop(f"break{v}", StopKind.BREAK, vehicle.depot, start, start + minutes(30),
                          minutes(15)),)
        routes.append(VehicleRoute(vehicle, VehicleState(f"v{v}", v % n_points, rng.randint(0, minutes(20))),
                                   stops))
    for r in range(n_requests):
        pickup, dropoff = request_stops(random_request(rng, f"r{r}", n_points), legs, RULES)
        found = best_insertion(routes, pickup, dropoff, legs)
        if found is not None:
            routes = [VehicleRoute(rt.vehicle, rt.state, found.stops)
                      if rt.vehicle.id == found.vehicle_id else rt
                      for rt in routes]
    return rng, legs, [board_first_pickup(rt, legs) if rng.random() < 0.5 else rt for rt in routes], points


def board_first_pickup(route: VehicleRoute, legs) -> VehicleRoute:
    """Serve the route's first stop if it is a pickup: the rider is on board, the next stop committed."""
    if not route.stops or route.stops[0].kind is not StopKind.PICKUP:
        return route
    ev = evaluate_route(route.vehicle, route.state, route.stops, legs)
    first = route.stops[0]
    rider = OnboardRider(first.request_id, first.seats, first.wheelchairs, ev.departure[0])
    state = VehicleState(route.vehicle.id, first.location, ev.departure[0], (rider,))
    return VehicleRoute(route.vehicle, state, route.stops[1:], committed=1)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), n_vehicles=st.integers(1, 3), n_requests=st.integers(0, 9),
       seats=st.integers(1, 4))
def test_fast_insertion_equals_brute_force_on_random_worlds(seed, n_vehicles, n_requests, seats):
    """On random small worlds the fast search finds exactly the brute-force optimum (or both find none)."""
    rng, legs, routes, points = build_world(seed, 12, n_vehicles, n_requests, seats)
    pickup, dropoff = request_stops(random_request(rng, "new", len(points)), legs, RULES)
    fast = best_insertion(routes, pickup, dropoff, legs)
    slow = brute_force(routes, pickup, dropoff, legs)
    if slow is None:
        assert fast is None
    else:
        assert fast is not None
        assert (fast.cost, fast.vehicle_id, fast.stops) == (slow[0][0], slow[1], slow[2])


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), n_vehicles=st.integers(1, 3), n_requests=st.integers(0, 9),
       seats=st.integers(1, 4), delay_weight=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
       slack_weight=st.sampled_from([0.0, 0.25, 1.0]))
def test_insertion_valuing_booked_riders_equals_brute_force(seed, n_vehicles, n_requests, seats, delay_weight,
                                                            slack_weight):
    """With the delay of booked drop-offs and of every planned stop in the cost, the fast search still finds
    exactly the brute-force optimum (or both find none)."""
    weights = CostWeights(delay_weight=delay_weight, slack_weight=slack_weight)
    rng, legs, routes, points = build_world(seed, 12, n_vehicles, n_requests, seats)
    pickup, dropoff = request_stops(random_request(rng, "new", len(points)), legs, RULES)
    fast = best_insertion(routes, pickup, dropoff, legs, weights)
    slow = brute_force(routes, pickup, dropoff, legs, weights)
    assert (fast is None) == (slow is None)
    if slow is not None:
        assert (fast.cost, fast.vehicle_id, fast.stops) == (slow[0][0], slow[1], slow[2])


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), n_vehicles=st.integers(1, 3), n_requests=st.integers(0, 9),
       seats=st.integers(1, 4))
def test_the_latest_reachable_arrival_never_decreases_along_a_route(seed, n_vehicles, n_requests, seats):
    """The search bisects ``RouteTimes.reach``; that is exact only if it never decreases along a route, and
    it must equal min(latest, start + slack of the next position) at every stop."""
    _, legs, routes, _ = build_world(seed, 12, n_vehicles, n_requests, seats)
    for route in routes:
        times = RouteTimes(route, evaluate_route(route.vehicle, route.state, route.stops, legs), legs)
        reach = times.reach[1:]
        assert all(a <= b for a, b in pairwise(reach)), reach
        assert times.reach[-1] == route.vehicle.shift_end
        for k in range(1, len(route.stops) + 1):
            assert times.reach[k] == min(times.latest[k], times.start[k] + times.slack[k + 1])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_vehicles=st.integers(1, 3), n_requests=st.integers(0, 9),
       seats=st.integers(1, 4))
def test_searches_at_other_times_on_kept_route_arrays_equal_brute_force(seed, n_vehicles, n_requests, seats):
    """A refused quote searches again at other times on the same route arrays, which keep the legs to
    and from its places: each of those searches still finds exactly the brute-force optimum."""
    rng, legs, routes, points = build_world(seed, 12, n_vehicles, n_requests, seats)
    times = [RouteTimes(r, evaluate_route(r.vehicle, r.state, r.stops, legs), legs) for r in routes]
    request = random_request(rng, "new", len(points))
    for shift in (0, minutes(15), minutes(30), -minutes(15), minutes(60)):
        pickup, dropoff = request_stops(replace(request, time=max(0, request.time + shift)), legs, RULES)
        fast = best_insertion(routes, pickup, dropoff, legs, times=times)
        slow = brute_force(routes, pickup, dropoff, legs)
        assert (fast is None) == (slow is None)
        if slow is not None:
            assert (fast.cost, fast.vehicle_id, fast.stops) == (slow[0][0], slow[1], slow[2])


def test_route_arrays_keep_the_legs_of_a_few_places_only():
    """The legs kept for a place equal the memo's own over the positions asked for, grow when more are
    asked for on either side (and are reused when fewer are), and no more than PLACES_KEPT places are kept
    at a time."""
    _, legs, routes, points = build_world(3, 12, 1, 6, 4)
    route = routes[0]
    times = RouteTimes(route, evaluate_route(route.vehicle, route.state, route.stops, legs), legs)
    loc = times.loc
    assert len(loc) > 4
    kept = times.legs_with(5, legs, 2, 4)
    assert (kept.lo, kept.hi) == (2, 4)
    assert kept.to[2:4] == legs.to(loc[2:4], 5) and kept.back[2:4] == legs.from_(5, loc[2:4])
    assert times.legs_with(5, legs, 3, 4) is kept
    assert times.legs_with(5, legs, 0, 5) is kept and kept.lo == 0 and kept.hi >= 5
    whole = times.legs_with(5, legs, 0, len(loc))
    assert whole is kept and (kept.lo, kept.hi) == (0, len(loc))
    assert kept.to == legs.to(loc, 5) and kept.back == legs.from_(5, loc)
    for place in range(len(points)):
        times.legs_with(place, legs, 0, len(loc))
        assert len(times._legs_with) <= PLACES_KEPT


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), n_vehicles=st.integers(1, 3), n_requests=st.integers(0, 9),
       seats=st.integers(1, 4))
def test_the_walk_over_changed_stops_says_what_evaluating_the_whole_route_says(seed, n_vehicles, n_requests,
                                                                              seats):
    """For every pickup and drop-off position of a new request, ``keeps_every_rule`` (which walks only the
    stops whose times change) answers exactly as evaluating the whole new route does, or defers to it."""
    rng, legs, routes, points = build_world(seed, 12, n_vehicles, n_requests, seats)
    pickup, dropoff = request_stops(random_request(rng, "new", len(points)), legs, RULES)
    undecided = 0
    for route in routes:
        times = RouteTimes(route, evaluate_route(route.vehicle, route.state, route.stops, legs), legs)
        n = len(route.stops)
        for i in range(route.committed, n + 1):
            for j in range(i, n + 1):
                walk = keeps_every_rule(route, times, pickup, dropoff, i, j, legs)
                whole = evaluate_route(route.vehicle, route.state,
                                       insert_stops(route.stops, pickup, dropoff, i, j), legs).feasible
                undecided += walk is None
                assert walk in (None, whole), (i, j, whole)
    assert undecided == 0  # these worlds keep the triangle inequality: the walk always decides


def test_the_walk_defers_when_a_stop_would_start_earlier_than_before():
    """Travel times that break the triangle inequality can make a stop start earlier after an insertion
    (a later ride could grow): the walk says None and the whole route is evaluated instead."""
    seconds = [[0, 600, 100, 600],
               [600, 0, 600, 600],
               [1, 1, 0, 600],  # from 2 everything is near: 0 -> 2 -> 1 beats 0 -> 1
               [600, 600, 600, 0]]
    legs = LegTimes(MatrixTravelTimes(np.array(seconds)))
    bus = Vehicle("bus", 4, 0, 0, 0, minutes(600))
    a_pick, a_drop = request_stops(leave_after("A", 1, 3, 0), legs, RULES)
    route = VehicleRoute(bus, VehicleState("bus", 0, 0), (a_pick, a_drop))
    times = RouteTimes(route, evaluate_route(bus, route.state, route.stops, legs), legs)
    b_pick, b_drop = request_stops(leave_after("B", 2, 0, 0), legs, RULES)
    # A picked up at 146 s, not 600 s
    assert keeps_every_rule(route, times, b_pick, b_drop, 0, 1, legs) is None


def test_inserted_route_is_feasible_and_keeps_existing_promises():
    """A route built by ten insertions passes evaluation, and every earlier pickup stays in its window."""
    _, legs, routes, _ = build_world(7, 15, 2, 10, 3)
    for route in routes:
        ev = evaluate_route(route.vehicle, route.state, route.stops, legs)
        assert ev.feasible, ev.violations
        for stop, start in zip(route.stops, ev.start):
            assert stop.earliest <= start <= stop.latest


def test_full_bus_cannot_pick_up_before_dropoff():
    """A 1-seat bus taking A from 0 to 10 km must drop A before it picks up B at 2 km (B to 12 km)."""
    legs = line_world([0, 2, 10, 12])
    bus = Vehicle("bus", 1, 0, 0, 0, minutes(600))
    a_pick, a_drop = request_stops(leave_after("A", 0, 2, 0), legs, RULES)
    route = VehicleRoute(bus, VehicleState("bus", 0, 0), (a_pick, a_drop))
    b_pick, b_drop = request_stops(leave_after("B", 1, 3, minutes(10)), legs, RULES)
    found = best_insertion([route], b_pick, b_drop, legs)
    assert found is not None
    assert found.pickup_after >= 2  # after A's drop-off
    assert [s.request_id for s in found.stops] == ["A", "A", "B", "B"]
    early_b = request_stops(leave_after("B", 1, 3, 0), legs, RULES)
    assert best_insertion([route], *early_b, legs) is None  # B's window closes before A is dropped


def test_counting_the_booked_riders_delay_drops_the_first_rider_first():
    """A 0→5 km is booked on a bus at 0; B 1→6 km boards on the way (+105 s; 60 s per km, 45 s dwell).
    Both drop-off orders add 120 s of driving. Counting only B: B off first rides 300 s, not 345 s, so
    120 + ½ × 105 + ½ × 300 = 322.5. Counting A's delay too (½ per second): B off first delays A 210 s,
    A off first only 45 s, so A first wins at 120 + ½ × 105 + ½ × 345 + ½ × 45 = 367.5."""
    legs = line_world([0, 1, 2, 3, 4, 5, 6])
    bus = Vehicle("bus", 4, 0, 0, 0, minutes(600))
    a_stops = request_stops(leave_after("A", 0, 5, 0), legs, RULES)
    route = VehicleRoute(bus, VehicleState("bus", 0, 0), a_stops)
    b_pick, b_drop = request_stops(leave_after("B", 1, 6, 0), legs, RULES)
    blind = best_insertion([route], b_pick, b_drop, legs, CostWeights(delay_weight=0.0))
    caring = best_insertion([route], b_pick, b_drop, legs, CostWeights(delay_weight=0.5))
    assert blind is not None and caring is not None
    assert [s.request_id for s in blind.stops] == ["A", "B", "B", "A"]
    assert blind.cost == 322.5
    assert [s.request_id for s in caring.stops] == ["A", "B", "A", "B"]
    assert caring.cost == 367.5
