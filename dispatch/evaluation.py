"""Route evaluation: the one function that says what a route does and whether it keeps every rule.

Insertion, the optimizer's output check, the simulator and the tests all call :func:`evaluate_route`.
The schedule is the earliest one: a bus leaves each stop as soon as service ends and waits at a stop
only until its window opens. A route must also bring the bus back to its depot by the end of its shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dispatch.model import Stop, StopKind, Vehicle, VehicleState
from dispatch.travel import LegTimes


class ViolationKind(StrEnum):
    """Every way a route can break a rule."""

    LATE = "late"  # service starts after the stop's latest time
    RIDE_TOO_LONG = "ride_too_long"
    OVER_CAPACITY = "over_capacity"
    SHIFT_END = "shift_end"  # cannot be back at the depot by the end of the shift
    BREAK_NOT_EMPTY = "break_not_empty"
    ORDER = "order"  # drop-off without pickup, pickup without drop-off, a stop twice, a rider left on board


@dataclass(frozen=True)
class Violation:
    """One broken rule, at a stop (index into the route, or -1 for the route as a whole)."""

    kind: ViolationKind
    stop_index: int
    request_id: str
    message: str


@dataclass(frozen=True)
class RouteEvaluation:
    """Times, loads and ride times of a route, and every rule it breaks."""

    arrival: tuple[int, ...]  # arrival at each stop
    start: tuple[int, ...]  # start of service at each stop
    departure: tuple[int, ...]  # end of service at each stop
    loads: tuple[tuple[int, int], ...]  # (seats, wheelchairs) on board after each stop
    ride_s: dict[str, int]  # request id -> ride time, for riders dropped off in this route
    end_arrival: int  # arrival back at the depot after the last stop
    drive_s: int  # total driving time, start to depot
    drive_m: int  # total driving distance, start to depot
    violations: tuple[Violation, ...]

    @property
    def feasible(self) -> bool:
        """True when the route breaks no rule."""
        return not self.violations


def evaluate_route(
    vehicle: Vehicle, state: VehicleState, stops: Sequence[Stop], legs: LegTimes
) -> RouteEvaluation:
    """Schedule ``stops`` for ``vehicle`` starting from ``state`` and list every violation."""
    violations: list[Violation] = []
    legs.prefetch_legs([state.location, *(s.location for s in stops), vehicle.depot])
    seats = sum(r.seats for r in state.onboard)
    wheelchairs = sum(r.wheelchairs for r in state.onboard)
    boarded_at = {r.request_id: r.departed_pickup_at for r in state.onboard}
    dropped: set[str] = set()
    if seats > vehicle.seats or wheelchairs > vehicle.wheelchair_spaces:
        violations.append(Violation(ViolationKind.OVER_CAPACITY, -1, "", "more riders on board than room"))

    arrival, start, departure, loads = [], [], [], []
    ride: dict[str, int] = {}
    location, time = state.location, state.available_at
    drive_s = drive_m = 0
    for index, stop in enumerate(stops):
        leg_s = legs.seconds(location, stop.location)
        drive_s += leg_s
        drive_m += legs.metres(location, stop.location)
        arrive = time + leg_s
        begin = max(arrive, stop.earliest)
        if begin > stop.latest:
            late_s = begin - stop.latest
            violations.append(Violation(ViolationKind.LATE, index, stop.request_id,
                                        f"{stop.kind} of {stop.request_id} starts {late_s} s late"))
        if stop.kind is StopKind.PICKUP:
            if stop.request_id in boarded_at or stop.request_id in dropped:
                problem = ("picked up twice" if stop.request_id in boarded_at
                           else "picked up after its drop-off")
                violations.append(Violation(ViolationKind.ORDER, index, stop.request_id,
                                            f"{stop.request_id} is {problem}"))
            boarded_at[stop.request_id] = begin + stop.service_s
            seats += stop.seats
            wheelchairs += stop.wheelchairs
        elif stop.kind is StopKind.DROPOFF:
            boarded = boarded_at.pop(stop.request_id, None)
            if boarded is None:
                violations.append(Violation(ViolationKind.ORDER, index, stop.request_id,
                                            f"{stop.request_id} is dropped off but not on board"))
            else:
                ride[stop.request_id] = begin - boarded
                if begin - boarded > stop.max_ride_s:
                    violations.append(Violation(
                        ViolationKind.RIDE_TOO_LONG, index, stop.request_id,
                        f"{stop.request_id} rides {begin - boarded} s, more than {stop.max_ride_s} s"))
            dropped.add(stop.request_id)
            seats -= stop.seats
            wheelchairs -= stop.wheelchairs
        elif seats or wheelchairs:
            violations.append(Violation(ViolationKind.BREAK_NOT_EMPTY, index, stop.request_id,
                                        "a break is planned with riders on board"))
        if seats > vehicle.seats or wheelchairs > vehicle.wheelchair_spaces:
            violations.append(
                Violation(ViolationKind.OVER_CAPACITY, index, stop.request_id,
                          f"load {seats} seats / {wheelchairs} wheelchairs exceeds the vehicle"))
        arrival.append(arrive)
        start.append(begin)
        departure.append(begin + stop.service_s)
        loads.append((seats, wheelchairs))
        location, time = stop.location, begin + stop.service_s

    for request_id in boarded_at:
        violations.append(Violation(ViolationKind.ORDER, -1, request_id,
                                    f"{request_id} is never dropped off"))
    back_s = legs.seconds(location, vehicle.depot)
    end_arrival = time + back_s
    if end_arrival > vehicle.shift_end:
        over_s = end_arrival - vehicle.shift_end
        violations.append(Violation(ViolationKind.SHIFT_END, -1, "",
                                    f"back at the depot {over_s} s after the shift ends"))
    return RouteEvaluation(
        arrival=tuple(arrival), start=tuple(start), departure=tuple(departure), loads=tuple(loads),
        ride_s=ride, end_arrival=end_arrival, drive_s=drive_s + back_s,
        drive_m=drive_m + legs.metres(location, vehicle.depot), violations=tuple(violations),
    )
