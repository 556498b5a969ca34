"""A day planned in hindsight: every request known before the first bus leaves.

:func:`plan_hindsight` gives the whole day's demand to :func:`dispatch.batch.plan_batch` at once (greedy
insertion, then OR-Tools re-plans everything) and checks the plan it makes with route evaluation on
travel times of its own. What it serves is a bound the real-time dispatcher, which learns of each request
only when it is asked, can be measured against.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.batch import plan_batch
from dispatch.dispatcher import Dispatcher
from dispatch.evaluation import evaluate_route
from dispatch.model import Rejection, Request, ServiceRules, TimeType, Vehicle
from dispatch.travel import LegTimes, TravelTimes


@dataclass(frozen=True)
class HindsightResult:
    """The figures of a day planned in hindsight.

    ``wait_mean_s``: for leave-after riders, planned start of service at the pickup minus the requested
    time; ``ride_time_factor``: mean over served riders of planned ride time / direct drive time (None
    when nobody is served). ``violations``: every rule the plan breaks, in words (empty: it is feasible).
    """

    requests: int
    served: int
    passengers_served: int
    rejected: dict[str, int]
    vehicle_km: float
    wait_mean_s: float | None
    ride_time_factor: float | None
    violations: tuple[str, ...]


def plan_hindsight(vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes,
                   requests: Sequence[Request], time_limit_s: float) -> HindsightResult:
    """Plan the day of ``requests`` on ``vehicles`` with every request known from the start (the
    earliest submission or shift start), within ``time_limit_s`` of optimizer time, and measure it."""
    now = min([r.submitted_at for r in requests] + [v.shift_start for v in vehicles])
    dispatcher = Dispatcher(vehicles, rules, travel, now)
    outcome = plan_batch(dispatcher, requests, now, time_limit_s)
    plan, check_legs = dispatcher.plan, LegTimes(travel)
    violations = plan.check()
    drive_m = 0
    for vehicle_id, vehicle in plan.vehicles.items():
        evaluation = evaluate_route(vehicle, plan.state(vehicle_id), plan.route(vehicle_id).stops, check_legs)
        violations.extend(f"{vehicle_id}: {v.message}" for v in evaluation.violations)
        drive_m += evaluation.drive_m
    served = [request for request in requests if not isinstance(outcome[request.id], Rejection)]
    waits, factors = [], []
    for request in served:
        times, booking = plan.planned_times(request.id), plan.booking(request.id)
        assert times is not None and times.pickup is not None, "a rider planned in hindsight is in a route"
        if request.time_type is TimeType.LEAVE_AFTER:
            waits.append(times.pickup - request.time)
        ride_s = plan.evaluation(times.vehicle_id).ride_s[request.id]
        factors.append(ride_s / max(1, booking.bounds.direct_s))
    return HindsightResult(
        requests=len(requests), served=len(served), passengers_served=sum(r.passengers for r in served),
        rejected=dict(Counter(o.cause.value for o in outcome.values() if isinstance(o, Rejection))),
        vehicle_km=drive_m / 1000, wait_mean_s=sum(waits) / len(waits) if waits else None,
        ride_time_factor=sum(factors) / len(factors) if factors else None, violations=tuple(violations))
