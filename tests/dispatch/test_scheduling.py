"""The search's scheduler against route evaluation: the same stops, the same times, the same verdicts.

Worlds are points on a line, location k at km k, 60 km/h (1 km = 60 s); every stop has 30 s of
service; the bus starts at its depot (location 0) at time 0 and must be back by its shift end. A route's
stops become a :class:`PdptwProblem` whose visit k is stop k, so the scheduler and
:func:`dispatch.evaluation.evaluate_route` judge the very same sequence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.evaluation import RouteEvaluation, ViolationKind, evaluate_route
from dispatch.model import Stop, StopKind, Vehicle, VehicleState
from dispatch.pdptw import PdptwProblem, RequestSpec, VehicleSpec, Visit
from dispatch.scheduling import RouteScheduler
from dispatch.travel import LegTimes
from tests.dispatch.scenarios import line_travel

SERVICE_S = 30
SHIFT_END = 3600
LINE = line_travel(range(8))
LEGS = LegTimes(LINE)
BUS = Vehicle("bus", seats=8, wheelchair_spaces=0, depot=0, shift_start=0, shift_end=SHIFT_END)
AT_DEPOT = VehicleState("bus", location=0, available_at=0)


def pickup(rider: str, location: int, earliest: int = 0, latest: int = SHIFT_END) -> Stop:
    """A one-seat pickup with its window."""
    return Stop(rider, StopKind.PICKUP, location, earliest, latest, SERVICE_S, seats=1)


def dropoff(rider: str, location: int, max_ride_s: int = SHIFT_END, latest: int = SHIFT_END) -> Stop:
    """A one-seat drop-off with the rider's ride limit."""
    return Stop(rider, StopKind.DROPOFF, location, 0, latest, SERVICE_S, seats=1, max_ride_s=max_ride_s)


def as_problem(stops: Sequence[Stop], vehicle: Vehicle = BUS, max_duration: int | None = None
               ) -> PdptwProblem:
    """The stops as a problem over the line: visit k is stop k; a rider's pickup and drop-off form one
    request."""
    seconds = LINE.matrix(range(LINE.size), range(LINE.size)).seconds
    visits = tuple(
        Visit(s.location, s.earliest, s.latest, s.service_s, (s.load_change[0],)) for s in stops
    )
    index = {(s.request_id, s.kind): k for k, s in enumerate(stops)}
    requests = tuple(
        RequestSpec(index[(s.request_id, StopKind.PICKUP)], k, s.max_ride_s)
        for k, s in enumerate(stops) if s.kind is StopKind.DROPOFF
    )
    spec = VehicleSpec(start_location=AT_DEPOT.location, start_time=AT_DEPOT.available_at,
                       end_location=vehicle.depot, end_latest=vehicle.shift_end, capacity=(vehicle.seats,),
                       max_duration=max_duration)
    return PdptwProblem(seconds, seconds, visits, (spec,), requests)


def schedule(stops: Sequence[Stop], max_duration: int | None = None) -> list[int] | None:
    """The scheduler's times for the stops in order: departure, one per stop, arrival at the end."""
    return RouteScheduler(as_problem(stops, max_duration=max_duration)).schedule(0, range(len(stops)))


def evaluate(stops: Sequence[Stop], departure: int = 0) -> RouteEvaluation:
    """Route evaluation of the stops, leaving the depot at ``departure``."""
    return evaluate_route(BUS, replace(AT_DEPOT, available_at=departure), stops, LEGS)


def held(stops: Sequence[Stop], times: Sequence[int]) -> list[Stop]:
    """The stops, each held to start no earlier than its scheduled time (as the re-optimizer holds them)."""
    return [replace(s, earliest=max(s.earliest, t)) for s, t in zip(stops, times[1:-1], strict=True)]


def kinds(evaluation: RouteEvaluation) -> set[ViolationKind]:
    """The kinds of rule the evaluated route breaks."""
    return {v.kind for v in evaluation.violations}


def test_route_without_waiting_gets_the_times_route_evaluation_gives():
    """Depot -> pickup at km 2 -> drop-off at km 5 -> depot: 120, 330, back at 660, as evaluation says."""
    stops = [pickup("a", 2), dropoff("a", 5)]
    times = schedule(stops)
    evaluation = evaluate(stops)
    assert times == [0, 120, 330, 660]
    assert times[1:] == [*evaluation.start, evaluation.end_arrival] and evaluation.feasible


def test_bus_that_would_wait_for_a_window_leaves_later_and_serves_at_the_same_times():
    """A pickup at km 2 opens at 600: evaluation waits there from 120; the scheduler leaves the depot at
    480 instead (no waiting), and every service start and the return are those of evaluation."""
    stops = [pickup("a", 2, earliest=600, latest=900), dropoff("a", 5)]
    times = schedule(stops)
    evaluation = evaluate(stops)
    assert times == [480, 600, 810, 1140]
    assert times[1:] == [*evaluation.start, evaluation.end_arrival]
    assert evaluation.arrival[0] == 120 and evaluate(stops, departure=480).arrival[0] == 600


def test_ride_limit_delays_the_pickup_of_the_rider_who_would_ride_too_long():
    """Rider a boards at km 2 and is dropped last, after b (who cannot board at km 3 before 600). Served as
    early as possible, a rides 600 s, over a's 400 s limit; the scheduler picks a up at 510 instead,
    and evaluation of the stops held to those times finds no violation and the same times."""
    stops = [pickup("c", 1, earliest=60, latest=90), pickup("a", 2), pickup("b", 3, earliest=600, latest=900),
             dropoff("b", 4), dropoff("a", 5, max_ride_s=400), dropoff("c", 6)]
    times = schedule(stops)
    assert kinds(evaluate(stops)) == {ViolationKind.RIDE_TOO_LONG}
    assert times is not None and times[2] == 510
    assert times[5] - (times[2] + SERVICE_S) <= 400
    evaluation = evaluate(held(stops, times), departure=times[0])
    assert evaluation.feasible
    assert times[1:] == [*evaluation.start, evaluation.end_arrival]


def test_pickup_window_missed_on_the_way_gives_no_schedule():
    """A pickup at km 5 that closes at 200 cannot be reached (300 s away): no schedule; evaluation says
    late."""
    stops = [pickup("a", 5, latest=200), dropoff("a", 6)]
    assert schedule(stops) is None
    assert ViolationKind.LATE in kinds(evaluate(stops))


def test_ride_limit_that_no_delay_can_keep_gives_no_schedule():
    """Rider a rides from km 1 via b's trip to km 5 and 6 back to km 2: at least 600 s, over a's
    300 s limit."""
    stops = [pickup("a", 1), pickup("b", 5), dropoff("b", 6), dropoff("a", 2, max_ride_s=300)]
    assert schedule(stops) is None
    assert kinds(evaluate(stops)) == {ViolationKind.RIDE_TOO_LONG}


def test_route_that_cannot_be_back_by_the_shift_end_gives_no_schedule():
    """To km 7 and back takes 900 s with service: a shift ending at 600 s is too short."""
    stops = [pickup("a", 7, latest=10_000), dropoff("a", 6, latest=10_000)]
    short = replace(BUS, shift_end=600)
    problem = as_problem(stops, vehicle=short)
    assert RouteScheduler(problem).schedule(0, [0, 1]) is None
    assert ViolationKind.SHIFT_END in kinds(evaluate_route(short, AT_DEPOT, stops, LEGS))


def test_late_departure_keeps_a_route_within_its_duration_limit():
    """Waiting 480 s for a window makes the earliest route last 1140 s; leaving at 480 it lasts 660 s:
    a 700 s duration limit is kept that way, a 600 s one cannot be."""
    stops = [pickup("a", 2, earliest=600, latest=900), dropoff("a", 5)]
    assert schedule(stops, max_duration=700) == [480, 600, 810, 1140]
    assert schedule(stops, max_duration=600) is None


def test_second_vehicle_route_runs_between_that_vehicles_start_and_end_nodes():
    """Routing nodes are the visits, then the vehicles' starts, then their ends: vehicle 1 of two runs
    from node 3 to node 5, and is scheduled like vehicle 0 from the same depot."""
    problem = as_problem([pickup("a", 2), dropoff("a", 5)])
    two = replace(problem, vehicles=problem.vehicles * 2)
    scheduler = RouteScheduler(two)
    assert scheduler.nodes(1, [0, 1]) == [3, 0, 1, 5]
    assert scheduler.schedule(1, [0, 1]) == [0, 120, 330, 660]


@st.composite
def routes(draw: st.DrawFn) -> list[Stop]:
    """1-3 riders between km 0 and 7 in a random valid order; pickup windows open in route order (so that
    most routes can be served), with random widths and ride limits."""
    riders = draw(st.integers(1, 3))
    # each rider twice: the first time stands for the pickup, the second for the drop-off
    order = draw(st.permutations([k for k in range(riders) for _ in range(2)]))
    openings = iter(sorted(draw(st.lists(st.integers(0, 1500), min_size=riders, max_size=riders))))
    trips = [draw(st.lists(st.integers(0, 7), min_size=2, max_size=2, unique=True)) for _ in range(riders)]
    stops: list[Stop] = []
    for k in order:
        (origin, destination), rider = trips[k], f"r{k}"
        if any(s.request_id == rider for s in stops):
            stops.append(dropoff(rider, destination, draw(st.integers(240, 1500))))
        else:
            opens = next(openings)
            stops.append(pickup(rider, origin, opens, opens + draw(st.integers(0, 900))))
    return stops


@settings(max_examples=300, deadline=None)
@given(stops=routes())
def test_scheduler_agrees_with_route_evaluation_on_random_small_routes(stops):
    """Whatever the scheduler returns is a certificate: evaluation of the stops held to its times, leaving
    at its departure, is feasible with exactly those times. And a route that evaluation finds feasible
    as it stands is never refused by the scheduler."""
    times = schedule(stops)
    if times is not None:
        evaluation = evaluate(held(stops, times), departure=times[0])
        assert evaluation.feasible, evaluation.violations
        assert times[1:] == [*evaluation.start, evaluation.end_arrival]
    if evaluate(stops).feasible:
        assert times is not None
