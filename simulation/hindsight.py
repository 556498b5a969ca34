"""A day planned in hindsight: every request known before the first bus leaves.

:func:`plan_hindsight` gives the whole day's demand to :func:`dispatch.batch.plan_batch` at once (greedy
insertion, then the optimizer re-plans everything: the large-neighbourhood search from
``dispatch.reoptimize.LNS_MIN_BUDGET_S`` on) and checks the plan it makes with route evaluation on
travel times of its own. What it serves is a bound the real-time dispatcher, which learns of each request
only when it is asked, can be measured against. :func:`hindsight_day` does the same for a simulation
scenario (its fleet, rules and demand), so that the two can be set side by side
(:mod:`simulation.compare`).

The plan does not depend on the width of the promised pickup window: it is made within the requests' time
bounds, and each rider's window is promised around the planned pickup afterwards.

``plan_batch`` raises ``optimizer_failed`` when its optimizer returns no verified plan (a search that
fails, or a plan that breaks a rule). The day is then planned again (``ATTEMPTS`` in all); if every attempt
fails, the result says ``optimizer_failed`` and the figures are those of the empty plan (every request
counted unserved, ``optimizer_failed`` its cause).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch.batch import plan_batch
from dispatch.dispatcher import Dispatcher
from dispatch.evaluation import evaluate_route
from dispatch.kpis import TripOutcome, ready_time
from dispatch.model import Rejection, Request, ServiceRules, Vehicle
from dispatch.plan import BookedTrip, DispatchError
from dispatch.travel import LegTimes, TravelTimes
from routing.network import RoadNetwork
from simulation.compare import DayFigures, day_figures
from simulation.demand_csv import Trip, service_date
from simulation.fleet import central_depot, make_fleet
from simulation.runner import Scenario, scenario_trips, to_requests

ATTEMPTS = 2


@dataclass(frozen=True)
class HindsightResult:
    """A day planned in hindsight: its figures (:class:`~simulation.compare.DayFigures`), every rule the
    plan breaks in words (empty: it is feasible), the optimizer's time limit, the wall time taken, how
    many times the day was planned and whether every attempt came back without a plan (module docstring).
    """

    figures: DayFigures
    violations: tuple[str, ...]
    time_limit_s: float
    wall_s: float
    attempts: int = 1
    optimizer_failed: bool = False

    @property
    def failed(self) -> bool:
        """The plan breaks a rule, or the optimizer gave none."""
        return bool(self.violations) or self.optimizer_failed

    def as_dict(self) -> dict:
        """A JSON-ready dict: the figures, the violations, the time limit, the wall time, the attempts and
        whether the optimizer failed."""
        return self.figures.as_dict() | {
            "violations": list(self.violations), "time_limit_s": self.time_limit_s,
            "wall_s": round(self.wall_s, 2), "attempts": self.attempts,
            "optimizer_failed": self.optimizer_failed}


def plan_hindsight(vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes,
                   requests: Sequence[Request], time_limit_s: float,
                   refused: Mapping[str, int] | None = None) -> HindsightResult:
    """Plan the day of ``requests`` on ``vehicles`` with every request known from the start (the
    earliest submission or shift start), within ``time_limit_s`` of optimizer time, and measure it.
    ``refused``: requests refused before planning (e.g. off the road network), counted by cause among
    the day's requests and rejections."""
    started = time.perf_counter()
    refused = refused or {}
    now = min([r.submitted_at for r in requests] + [v.shift_start for v in vehicles])
    attempts, optimizer_failed = 0, True
    while optimizer_failed and attempts < ATTEMPTS:
        attempts += 1
        dispatcher = Dispatcher(vehicles, rules, travel, now)
        try:
            outcome = plan_batch(dispatcher, requests, now, time_limit_s)
        except DispatchError as error:
            if error.code != "optimizer_failed":
                raise
            outcome = {}
        else:
            optimizer_failed = False
    plan, check_legs = dispatcher.plan, LegTimes(travel)
    violations = plan.check()
    drive_m = 0
    for vehicle_id, vehicle in plan.vehicles.items():
        evaluation = evaluate_route(vehicle, plan.state(vehicle_id), plan.route(vehicle_id).stops, check_legs)
        violations.extend(f"{vehicle_id}: {v.message}" for v in evaluation.violations)
        drive_m += evaluation.drive_m
    trips = []
    for request in requests:
        if not isinstance(outcome.get(request.id), BookedTrip):
            continue
        times, booking = plan.planned_times(request.id), plan.booking(request.id)
        assert times is not None and times.pickup is not None, "a rider planned in hindsight is in a route"
        promise = booking.promise
        ride_s = plan.evaluation(times.vehicle_id).ride_s[request.id]
        trips.append(TripOutcome(
            vehicle_id=times.vehicle_id,
            ready_at=ready_time(request.time_type, request.time, promise.window_start),
            window=(promise.window_start, promise.window_end), arrived_at=times.pickup,
            picked_up_at=times.dropoff - ride_s, dropped_off_at=times.dropoff, passengers=request.passengers,
            direct_s=booking.bounds.direct_s))
    rejected = Counter(o.cause.value for o in outcome.values() if isinstance(o, Rejection)) + Counter(refused)
    if optimizer_failed:
        rejected["optimizer_failed"] += len(requests)
    figures = day_figures(trips, len(requests) + sum(refused.values()), rejected, drive_m)
    return HindsightResult(figures, tuple(violations), time_limit_s, time.perf_counter() - started, attempts,
                           optimizer_failed)


def hindsight_day(scenario: Scenario, network: RoadNetwork, time_limit_s: float,
                  trips: Sequence[Trip] | None = None) -> HindsightResult:
    """The scenario's day (``trips``: its demand, if already drawn) planned in hindsight on the fleet
    :func:`simulation.runner.run_scenario` simulates; trips off the area or the roads count as rejected."""
    trips = list(trips) if trips is not None else scenario_trips(scenario, network)
    requests, refused = to_requests(network, trips, service_date(trips))
    fleet = make_fleet(central_depot(network), scenario.buses, scenario.seats, scenario.wheelchair_spaces)
    return plan_hindsight(fleet, scenario.rules, network, requests, time_limit_s, Counter(refused.values()))
