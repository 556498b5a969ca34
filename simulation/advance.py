"""Drivers who follow the plan to the second: the clock moves every bus of a dispatcher forward.

Real buses report what they do; simulations and tests let :func:`advance_to` report for them, through
the dispatcher's public driver calls.
"""

from __future__ import annotations

from dispatch.dispatcher import Dispatcher
from dispatch.model import StopKind


def advance_to(dispatcher: Dispatcher, now: int) -> None:
    """Let every vehicle serve, as planned, the stops whose service has started by ``now``.

    A vehicle leaves for its next stop at the last moment that still reaches it by its planned start;
    once it has left it is committed to that stop (:meth:`Dispatcher.depart`). Until then it stands where
    it is and new stops may still be put first. An idle vehicle whose shift is ending drives back to its
    depot.
    """
    for vehicle_id in dispatcher.plan.vehicles:
        if not dispatcher.plan.state(vehicle_id).in_service:
            continue
        _serve_started_stops(dispatcher, vehicle_id, now)
        plan = dispatcher.plan
        route, state, vehicle = plan.route(vehicle_id), plan.state(vehicle_id), plan.vehicle(vehicle_id)
        if route.committed or state.available_at >= now:
            continue
        if route.stops:
            must_leave_at = plan.evaluation(vehicle_id).start[0] - dispatcher.legs.seconds(
                state.location, route.stops[0].location)
            if now >= must_leave_at:
                dispatcher.depart(vehicle_id, now)
                continue
        else:
            back = dispatcher.legs.seconds(state.location, vehicle.depot)
            if now + back >= vehicle.shift_end:  # shift over: drive home and stay there
                arrival = max(min(now, vehicle.shift_end - back), state.available_at) + back
                dispatcher.vehicle_position(vehicle_id, vehicle.depot, arrival)
                continue
        dispatcher.vehicle_position(vehicle_id, state.location, now)


def _serve_started_stops(dispatcher: Dispatcher, vehicle_id: str, now: int) -> None:
    """Arrive at, and serve, each stop of the vehicle's route whose planned start is not after ``now``."""
    plan = dispatcher.plan
    evaluation = plan.evaluation(vehicle_id)
    for stop, start, leave in zip(plan.route(vehicle_id).stops, evaluation.start, evaluation.departure):
        if start > now:
            break
        dispatcher.arrive(vehicle_id, start)
        if stop.kind is StopKind.PICKUP:
            dispatcher.pick_up(vehicle_id, stop.request_id, leave)
        elif stop.kind is StopKind.DROPOFF:
            dispatcher.drop_off(vehicle_id, stop.request_id, leave)
        else:
            dispatcher.finish_break(vehicle_id, leave)
