"""The plan in force as one value: routes, vehicle states, bookings, and the requests it could not serve.

A :class:`Plan` is never changed once made. The dispatcher makes a new plan for every change, copying
only the tables that change (:meth:`Plan.with_route` and friends), so an older plan is a checkpoint to go
back to and a plan handed out stays true to the moment it was read. What is computed from a route — its
evaluation and the arrays insertion reads — is computed on first use and kept with the plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from dispatch.evaluation import RouteEvaluation, evaluate_route
from dispatch.insertion import RouteTimes, VehicleRoute
from dispatch.model import (
    Promise,
    Rejection,
    Request,
    Route,
    Stop,
    StopKind,
    TimeBounds,
    Vehicle,
    VehicleState,
)
from dispatch.travel import LegTimes

V = TypeVar("V")


class RequestStatus(StrEnum):
    """Where a request is in its life."""

    OFFERED = "offered"
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    REJECTED = "rejected"


class DispatchError(Exception):
    """An operation the plan in force does not allow; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Booking:
    """A booked request: what was asked, its bounds, what was promised, where it stands."""

    request: Request
    bounds: TimeBounds
    promise: Promise
    status: RequestStatus
    vehicle_id: str | None


@dataclass(frozen=True)
class PlannedTimes:
    """When the plan serves a booked request: its bus, the planned start of service at the pickup
    (None once the rider is on board) and the estimated start of service at the drop-off."""

    vehicle_id: str
    pickup: int | None
    dropoff: int


@dataclass(frozen=True)
class BookedTrip:
    """What :meth:`dispatch.dispatcher.Dispatcher.book` returns: the booking as the plan holds it, its
    planned times and the version of the plan that holds it; the vehicles whose routes the booking
    changed, and the booked riders it moved to another bus (request id → new bus: a repaired offer)."""

    booking: Booking
    times: PlannedTimes
    plan_version: int
    routes_changed: tuple[str, ...] = ()
    moved: Mapping[str, str] = field(default_factory=dict)

    @property
    def vehicle_id(self) -> str:
        """The bus planned to serve the trip."""
        return self.times.vehicle_id


class Table(Mapping[str, V]):
    """A read-only mapping that is cheap to change into a new one (:meth:`updated`): the latest changes
    lie over a base shared with older tables, and are merged into a new base once there are many of them,
    so a change costs O(1) amortized however large the table is."""

    __slots__ = ("_added", "_base", "_top")
    MERGE_AT = 64

    def __init__(self, base: Mapping[str, V] | None = None, top: dict[str, V] | None = None,
                 added: int = 0) -> None:
        self._base: Mapping[str, V] = base if base is not None else {}
        self._top: dict[str, V] = top if top is not None else {}
        self._added = added  # keys in the top that are not in the base

    def __getitem__(self, key: str) -> V:
        top = self._top
        return top[key] if key in top else self._base[key]

    def __contains__(self, key: object) -> bool:
        return key in self._top or key in self._base

    def __iter__(self) -> Iterator[str]:
        base = self._base
        yield from base
        yield from (key for key in self._top if key not in base)

    def __len__(self) -> int:
        return len(self._base) + self._added

    def updated(self, items: Iterable[tuple[str, V]]) -> Table[V]:
        """A table with ``items`` added or replaced; this one stays as it is."""
        base, top, added = self._base, dict(self._top), self._added
        for key, value in items:
            if key not in top and key not in base:
                added += 1
            top[key] = value
        if len(top) > self.MERGE_AT:
            return Table({**base, **top})
        return Table(base, top, added)


@dataclass(frozen=True)
class Plan:
    """Every vehicle's state and route, every booking, and the requests taken in but not served (with
    the :class:`Rejection` saying why). ``version`` counts route changes; ``route_versions`` counts them
    per vehicle. The tables are never changed after construction; read them through the methods."""

    legs: LegTimes
    vehicles: Mapping[str, Vehicle]
    states: Mapping[str, VehicleState]
    routes: Mapping[str, Route]
    booking_table: Table[Booking]
    unserved: Mapping[str, Rejection] = field(default_factory=dict)
    version: int = 0
    route_versions: Mapping[str, int] = field(default_factory=dict)
    _evaluations: dict[str, RouteEvaluation] = field(default_factory=dict, repr=False, compare=False)
    _route_times: dict[str, RouteTimes] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def empty(cls, legs: LegTimes) -> Plan:
        """A plan with no vehicle and no booking."""
        return cls(legs, {}, {}, {}, Table())

    # ----- reading -----------------------------------------------------------------------------
    def known_vehicle(self, vehicle_id: str) -> str:
        """``vehicle_id`` if the plan has that vehicle; :class:`DispatchError` ``unknown_vehicle`` if not."""
        if vehicle_id not in self.vehicles:
            raise DispatchError("unknown_vehicle", f"no vehicle with id {vehicle_id!r}")
        return vehicle_id

    def vehicle(self, vehicle_id: str) -> Vehicle:
        """A vehicle."""
        return self.vehicles[self.known_vehicle(vehicle_id)]

    def state(self, vehicle_id: str) -> VehicleState:
        """Where a vehicle is now."""
        return self.states[self.known_vehicle(vehicle_id)]

    def route(self, vehicle_id: str) -> Route:
        """A vehicle's route."""
        return self.routes[self.known_vehicle(vehicle_id)]

    def evaluation(self, vehicle_id: str) -> RouteEvaluation:
        """The evaluation (times, loads, ride times) of a vehicle's route; computed once per plan."""
        evaluation = self._evaluations.get(vehicle_id)
        if evaluation is None:
            vehicle = self.vehicles[self.known_vehicle(vehicle_id)]
            evaluation = evaluate_route(vehicle, self.states[vehicle_id], self.routes[vehicle_id].stops,
                                        self.legs)
            self._evaluations[vehicle_id] = evaluation
        return evaluation

    def evaluate(self, vehicle_id: str, stops: Sequence[Stop]) -> RouteEvaluation:
        """The evaluation of ``stops`` as the route of a vehicle, from where the vehicle stands in this
        plan."""
        return evaluate_route(self.vehicles[vehicle_id], self.states[vehicle_id], stops, self.legs)

    def pinned(self, request_id: str) -> bool:
        """True when an operator pinned the booking ``request_id`` to its bus (:mod:`dispatch.manual`)."""
        booking = self.booking_table.get(request_id)
        route = None if booking is None or booking.vehicle_id is None else self.routes.get(booking.vehicle_id)
        return route is not None and request_id in route.pinned

    def movable(self, request_id: str, vehicle_id: str) -> bool:
        """True when something automatic may take ``request_id`` off ``vehicle_id``'s route: the rider is
        not pinned and the route's order is not locked by an operator."""
        route = self.routes[vehicle_id]
        return request_id not in route.pinned and not route.locked

    def booking(self, request_id: str) -> Booking:
        """A booked request; :class:`DispatchError` ``unknown_request`` if there is none."""
        booking = self.booking_table.get(request_id)
        if booking is None:
            raise DispatchError("unknown_request", f"no booking with id {request_id!r}")
        return booking

    def bookings(self) -> Mapping[str, Booking]:
        """Every booking by request id (read-only)."""
        return self.booking_table

    def planned_times(self, request_id: str) -> PlannedTimes | None:
        """When the plan serves a booking: its bus, planned pickup and estimated drop-off; None when no
        route holds the request (it ended, was cancelled, or its bus holds no stop of it)."""
        vehicle_id = self.booking(request_id).vehicle_id
        if vehicle_id is None or vehicle_id not in self.routes:
            return None
        pickup = dropoff = None
        starts = None
        for k, stop in enumerate(self.routes[vehicle_id].stops):
            if stop.request_id != request_id:
                continue
            starts = starts or self.evaluation(vehicle_id).start
            if stop.kind is StopKind.PICKUP:
                pickup = starts[k]
            elif stop.kind is StopKind.DROPOFF:
                dropoff = starts[k]
        return None if dropoff is None else PlannedTimes(vehicle_id, pickup, dropoff)

    def route_without(self, vehicle_id: str, request_id: str) -> Route:
        """A vehicle's route with a request's stops taken out, keeping everyone else's promises.

        The earliest schedule of the shorter route could pick a later rider up sooner and then keep
        them waiting on board; where that breaks a rule, the remaining pickups are held to their
        previously planned times, which the shorter route can always still make.
        """
        route = self.route(vehicle_id)
        kept = tuple(s for s in route.stops if s.request_id != request_id)
        committed = min(route.committed,
                        sum(1 for s in route.stops[:route.committed] if s.request_id != request_id))
        if not self.evaluate(vehicle_id, kept).feasible:
            starts = self.evaluation(vehicle_id).start
            planned = {(s.request_id, s.kind): start for s, start in zip(route.stops, starts)}
            kept = tuple(replace(s, earliest=max(s.earliest, planned[(s.request_id, s.kind)]))
                         if s.kind is StopKind.PICKUP else s for s in kept)
        return replace(route, stops=kept, committed=committed)

    def vehicle_routes(self) -> tuple[list[VehicleRoute], list[RouteTimes]]:
        """The in-service vehicles' routes as insertion works on them, with their insertion arrays
        (computed once per plan)."""
        routes, times = [], []
        for vehicle_id, vehicle in self.vehicles.items():
            state = self.states[vehicle_id]
            if not state.in_service:
                continue
            route = self.routes[vehicle_id]
            routes.append(VehicleRoute(vehicle, state, route.stops, route.committed, route.pinned,
                                       route.lock))
            cached = self._route_times.get(vehicle_id)
            if cached is None:
                cached = self._route_times[vehicle_id] = RouteTimes(routes[-1], self.evaluation(vehicle_id),
                                                                    self.legs)
            times.append(cached)
        return routes, times

    def check(self) -> list[str]:
        """Every broken rule of every route, and every active booking its vehicle does not serve, in
        words; an empty list means the plan is whole and feasible."""
        problems = [f"{vid}: {v.message}" for vid in self.routes for v in self.evaluation(vid).violations]
        served = {(stop.request_id, vid) for vid, route in self.routes.items() for stop in route.stops}
        served |= {(rider.request_id, vid) for vid, state in self.states.items() for rider in state.onboard}
        for request_id, booking in self.booking_table.items():
            active = booking.status in (RequestStatus.BOOKED, RequestStatus.PICKED_UP)
            if active and (request_id, booking.vehicle_id) not in served:
                problems.append(f"{request_id}: booked on {booking.vehicle_id!r} but not in its route")
        return problems

    # ----- making a changed plan -----------------------------------------------------------------
    def with_vehicle(self, vehicle: Vehicle, state: VehicleState) -> Plan:
        """This plan with ``vehicle`` added or changed, standing as ``state`` (its route is kept)."""
        return self._changed(vehicle.id, vehicles={**self.vehicles, vehicle.id: vehicle},
                             states={**self.states, vehicle.id: state})

    def with_state(self, state: VehicleState) -> Plan:
        """This plan with a vehicle's state replaced (the plan's version stays)."""
        return self._changed(state.vehicle_id, states={**self.states, state.vehicle_id: state})

    def with_route(self, route: Route, evaluation: RouteEvaluation | None = None) -> Plan:
        """This plan with a vehicle's route replaced (``evaluation``: the new route's, if known): a new
        version of the plan and of the route."""
        vehicle_id = route.vehicle_id
        plan = self._changed(vehicle_id, routes={**self.routes, vehicle_id: route}, version=self.version + 1,
                             route_versions={**self.route_versions,
                                             vehicle_id: self.route_versions.get(vehicle_id, 0) + 1})
        if evaluation is not None:
            plan._evaluations[vehicle_id] = evaluation
        return plan

    def with_bookings(self, bookings: Iterable[Booking], unserved: Sequence[Rejection] = ()) -> Plan:
        """This plan with ``bookings`` added or replaced, and ``unserved`` recorded as not served."""
        table = self.booking_table.updated((b.request.id, b) for b in bookings)
        refused = {**self.unserved, **{r.request_id: r for r in unserved}} if unserved else self.unserved
        return Plan(self.legs, self.vehicles, self.states, self.routes, table, refused, self.version,
                    self.route_versions, self._evaluations, self._route_times)

    def restored(self, bookings: Iterable[Booking], states: Mapping[str, VehicleState]) -> Plan:
        """This plan with the active (booked or picked-up) ``bookings`` and the vehicles' ``states`` of a
        saved plan put in; :class:`DispatchError` for a booking it holds already or an unknown vehicle."""
        active = []
        for booking in bookings:
            if booking.request.id in self.booking_table:
                raise DispatchError("duplicate_request", f"request {booking.request.id!r} exists already")
            if booking.status in (RequestStatus.BOOKED, RequestStatus.PICKED_UP):
                active.append(booking)
        plan = self.with_bookings(active)
        for vehicle_id, state in states.items():
            plan = plan.with_state(replace(state, vehicle_id=plan.known_vehicle(vehicle_id)))
        return plan

    def _changed(self, vehicle_id: str, *, vehicles: Mapping[str, Vehicle] | None = None,
                 states: Mapping[str, VehicleState] | None = None, routes: Mapping[str, Route] | None = None,
                 version: int | None = None, route_versions: Mapping[str, int] | None = None) -> Plan:
        """A copy with some tables replaced; what was computed from ``vehicle_id``'s route is dropped."""
        evaluations = dict(self._evaluations)
        evaluations.pop(vehicle_id, None)
        route_times = dict(self._route_times)
        route_times.pop(vehicle_id, None)
        return Plan(self.legs, self.vehicles if vehicles is None else vehicles,
                    self.states if states is None else states, self.routes if routes is None else routes,
                    self.booking_table, self.unserved, self.version if version is None else version,
                    self.route_versions if route_versions is None else route_versions, evaluations,
                    route_times)
