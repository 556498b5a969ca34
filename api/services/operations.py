"""Operators' work: the fleet at a glance, the service rules and withdrawing a bus (key figures:
:mod:`api.services.kpis`).

Like riders' and drivers' operations, everything that changes the plan is one
:func:`~api.services.live_plan.plan_change`. New rules are written (a new ``service_rules`` row — older
rows are the history — and an event) before the dispatcher takes them; promises already made stay as
they are. Withdrawing a bus re-plans its riders in the dispatcher and writes the outcome in one
transaction; if that write fails the plan is rolled back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from api.db.models import Booking, Event, PlannedStopRow, ServiceRulesVersion, User, Vehicle
from api.db.repository import latest_rules, save_out_of_service, save_rules
from api.errors import Conflict, InvalidRequest, NotFound
from api.schemas import (
    FleetVehiclePublic,
    Load,
    NextStopPublic,
    OutOfServicePublic,
    Point,
    RejectedBooking,
    ReplannedBooking,
    ServiceRulesBody,
    ServiceRulesPublic,
)
from api.services.live_plan import LiveDispatch, actor, plan_change, planned_stops
from api.services.notifications import notify
from api.services.stop_points import at_node, keep_pickup
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import Rejection, RejectionCause, ServiceRules, StopKind

NEXT_STOPS = 3
_RULES_PREFIX = "invalid service rules: "


def fleet(live: LiveDispatch) -> list[FleetVehiclePublic]:
    """Every vehicle: in service or not, position, load on board, next stops, length of its route."""
    graph, dt = live.network.graph, live.clock.to_datetime
    answer = []
    with live.lock:
        dispatcher = live.dispatcher
        for vehicle_id in sorted(dispatcher.plan.vehicles):
            state, route = dispatcher.plan.state(vehicle_id), dispatcher.plan.route(vehicle_id)
            evaluation = dispatcher.plan.evaluation(vehicle_id)
            answer.append(FleetVehiclePublic(
                id=vehicle_id, in_service=state.in_service,
                position=Point(lat=float(graph.node_lat[state.location]),
                               lon=float(graph.node_lon[state.location])),
                load=Load(seats=sum(r.seats for r in state.onboard),
                          wheelchairs=sum(r.wheelchairs for r in state.onboard)),
                next_stops=[NextStopPublic(
                    kind=stop.kind, booking_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                    planned_time=dt(start))
                            for stop, start in list(zip(route.stops, evaluation.start))[:NEXT_STOPS]],
                route_stops=len(route.stops)))
    return answer


def rules_in_force(live: LiveDispatch, session: Session) -> ServiceRulesPublic:
    """The dispatcher's rules, with the version row they came from (none for the built-in defaults)."""
    with live.lock:
        rules = live.dispatcher.rules
        row = latest_rules(session)
    if row is None or row.to_rules() != rules:
        return ServiceRulesPublic(**dataclasses.asdict(rules), version=None, valid_from=None)
    return ServiceRulesPublic(**dataclasses.asdict(rules), version=row.id,
                              valid_from=row.valid_from.astimezone(live.clock.zone))


def change_rules(live: LiveDispatch, session: Session, *, user: User, body: ServiceRulesBody
                 ) -> ServiceRulesPublic:
    """Validate, store as a new version with an event, and put in force for new quotes.

    Contradictory rules are an :class:`InvalidRequest` ``invalid_rules`` whose detail lists every problem."""
    try:
        rules = ServiceRules(**body.model_dump())
    except ValueError as error:
        problems = str(error).removeprefix(_RULES_PREFIX).split("; ")
        raise InvalidRequest("invalid_rules", str(error), detail=problems) from error
    with plan_change(live, session) as now:
        moment = live.clock.to_datetime(now)
        version = ServiceRulesVersion.from_rules(rules, valid_from=moment, changed_by=user.id)
        row = save_rules(session, rules=version,
                         event=Event(time=moment, kind=EventKind.RULES_CHANGED, actor=actor(user),
                                     payload=dataclasses.asdict(rules)))
        live.dispatcher.rules = rules  # promises already made keep their windows
    return ServiceRulesPublic(**dataclasses.asdict(rules), version=row.id,
                              valid_from=row.valid_from.astimezone(live.clock.zone))


def take_out_of_service(live: LiveDispatch, session: Session, *, user: User, vehicle_id: str
                        ) -> OutOfServicePublic:
    """Withdraw ``vehicle_id``: its riders are re-planned onto other buses or rejected
    (``vehicle_out_of_service``); the database gets the bus inactive, the changed bookings, the new
    planned stops of every bus concerned and an event, all or nothing."""
    with plan_change(live, session) as now:
        dispatcher = live.dispatcher
        vehicle = session.get(Vehicle, vehicle_id)
        if vehicle is None:
            raise NotFound("unknown_vehicle", f"no vehicle with id {vehicle_id!r}")
        if not vehicle.active:
            raise Conflict("already_out_of_service", f"vehicle {vehicle_id!r} is already out of service")
        # a bus without a shift today or tomorrow is not planned: it is only marked withdrawn
        planned = vehicle_id in dispatcher.plan.vehicles and dispatcher.plan.state(vehicle_id).in_service
        affected = list(dict.fromkeys(s.request_id for s in dispatcher.plan.route(vehicle_id).stops
                                      if s.kind is not StopKind.BREAK)) if planned else []
        rejections = {r.request_id: r for r in dispatcher.take_out_of_service(vehicle_id, now)} \
            if planned else {}
        moment = live.clock.to_datetime(now)
        rows, vehicles = [], {vehicle_id}
        for request_id in affected:
            row = session.get(Booking, request_id)
            if row is None:
                raise LookupError(f"booking {request_id!r} is in the plan but not in the database")
            rows.append(_apply_outcome(live, row, request_id, rejections.get(request_id), moment))
            if row.vehicle_id is not None:
                vehicles.add(row.vehicle_id)
        routes: dict[str, Sequence[PlannedStopRow]] = {v: planned_stops(live, v) for v in sorted(vehicles)
                                                if v in dispatcher.plan.vehicles}
        event = Event(time=moment, kind=EventKind.VEHICLE_OUT_OF_SERVICE, actor=actor(user),
                      vehicle_id=vehicle_id,
                      payload={"replanned": [r.id for r in rows if r.id not in rejections],
                               "rejected": list(rejections)})
        notify(session, [event], rows)  # riders no other bus can take are told of the cancellation
        save_out_of_service(session, vehicle_id=vehicle_id, bookings=rows, routes=routes, event=event)
    return OutOfServicePublic(
        vehicle_id=vehicle_id,
        replanned=[ReplannedBooking(booking_id=r.id, vehicle_id=r.vehicle_id) for r in rows
                   if r.id not in rejections and r.vehicle_id is not None],
        rejected=[RejectedBooking(booking_id=r.request_id, cause=r.cause.value, message=r.message)
                  for r in rejections.values()])


def _apply_outcome(live: LiveDispatch, row: Booking, request_id: str, rejection: Rejection | None,
                   moment: datetime) -> Booking:
    """The booking row after the withdrawal: ended with the cause, or on its new bus with the dispatcher's
    (possibly new, for riders who were on board) bounds and promise, and unpinned."""
    if rejection is not None:
        row.status, row.vehicle_id, row.pinned = RequestStatus.REJECTED, None, False
        row.rejection_cause, row.ended_at = RejectionCause.VEHICLE_OUT_OF_SERVICE, moment
        return row
    booked, dt = live.dispatcher.plan.booking(request_id), live.clock.to_datetime
    # a pin to the withdrawn bus ends with it: the plan holds no pin on the new bus, nor must the row (a
    # restart would pin the rider to a bus nobody chose)
    row.status, row.vehicle_id = booked.status, booked.vehicle_id
    row.pinned = live.dispatcher.plan.pinned(request_id)
    if booked.request.origin != row.origin_node:  # a rider who was on board is picked up where the bus stands
        graph = live.network.graph
        row.origin_node = booked.request.origin
        row.origin_lat = float(graph.node_lat[row.origin_node])
        row.origin_lon = float(graph.node_lon[row.origin_node])
        keep_pickup(row, at_node(live.network, row.origin_node))
    row.earliest_pickup = dt(booked.bounds.earliest_pickup)
    row.latest_pickup = dt(booked.bounds.latest_pickup)
    row.max_ride_s = booked.bounds.max_ride_s
    row.window_start, row.window_end = dt(booked.promise.window_start), dt(booked.promise.window_end)
    row.latest_dropoff = dt(booked.promise.latest_dropoff)
    return row
