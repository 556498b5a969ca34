"""The rule checks that need no route: whether a request may be served at all, and its stops.

Pure functions of the request, the clock, the service rules, the fleet and the travel times: a request
gets its time bounds, or a :class:`Rejection` naming the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dispatch.calendar import LocalCalendar
from dispatch.model import (
    DAY_S,
    Promise,
    Rejection,
    RejectionCause,
    Request,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    Vehicle,
    time_bounds,
)
from dispatch.travel import LegTimes


def check_request(request: Request, now: int, rules: ServiceRules, vehicles: Iterable[Vehicle],
                  legs: LegTimes, calendar: LocalCalendar | None = None) -> TimeBounds | Rejection:
    """The request's time bounds (the earliest pickup not before ``now``), or why it is refused: same
    origin and destination, no bus big enough, a time past, beyond the booking horizon, too short notice,
    or outside the service hours (checked in that order).

    The service hours are those of ``calendar`` (a closed day or outside that day's hours, named in the
    message); without one, the standard hours of ``rules`` on a synthetic day whose zero is a midnight
    (the simulator's)."""
    def refuse(cause: RejectionCause, message: str) -> Rejection:
        return Rejection(request.id, cause, message)

    if request.origin == request.destination:
        return refuse(RejectionCause.SAME_ORIGIN_DESTINATION, "pickup and drop-off are the same place")
    if not any(request.seats <= v.seats and request.wheelchairs <= v.wheelchair_spaces for v in vehicles):
        return refuse(RejectionCause.CAPACITY,
                      f"no bus has {request.seats} seats and {request.wheelchairs} wheelchair spaces")
    bounds = time_bounds(request, legs.seconds(request.origin, request.destination), rules)
    if bounds.latest_pickup < now:
        return refuse(RejectionCause.TIME_IN_PAST, "the requested time has already passed")
    if request.time > now + rules.booking_horizon_s:
        return refuse(RejectionCause.BEYOND_HORIZON,
                      f"trips can be booked at most {rules.booking_horizon_s // 3600} h ahead")
    if bounds.latest_pickup < now + rules.min_notice_s:
        return refuse(RejectionCause.TOO_SHORT_NOTICE,
                      f"trips must be booked at least {rules.min_notice_s // 60} min ahead")
    if calendar is not None:
        if (closed := calendar.refusal(request.time, rules)) is not None:
            return refuse(RejectionCause.OUTSIDE_HOURS, closed)
    elif not rules.service_start_s <= request.time % DAY_S <= rules.service_end_s:
        return refuse(RejectionCause.OUTSIDE_HOURS, "the service does not run at that time")
    if bounds.earliest_pickup < now:
        bounds = replace(bounds, earliest_pickup=now)
    return bounds


def request_stops(request: Request, bounds: TimeBounds, window: tuple[int, int], rules: ServiceRules
                  ) -> tuple[Stop, Stop]:
    """The pickup (its start inside ``window``) and drop-off (by the latest drop-off, within the longest
    ride) of a request, each with its dwell."""
    dwell = rules.dwell_s(request.passengers)
    pickup = Stop(request.id, StopKind.PICKUP, request.origin, window[0], window[1], dwell,
                  request.seats, request.wheelchairs)
    dropoff = Stop(request.id, StopKind.DROPOFF, request.destination, 0, bounds.latest_dropoff, dwell,
                   request.seats, request.wheelchairs, bounds.max_ride_s)
    return pickup, dropoff


def keep_promise(stops: tuple[Stop, ...], request_id: str, promise: Promise) -> tuple[Stop, ...]:
    """Narrow a request's pickup stop to its promised window (a hold already inside it stays)."""
    return tuple(replace(s, earliest=max(s.earliest, promise.window_start),
                         latest=min(s.latest, promise.window_end))
                 if s.request_id == request_id and s.kind is StopKind.PICKUP else s for s in stops)
