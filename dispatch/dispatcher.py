"""The dispatcher: the plan in force, and every operation that changes it.

A :class:`Dispatcher` holds the vehicles, their states and routes, and the requests with their
promises. Riders get offers by best insertion (:mod:`dispatch.insertion`); booking re-validates the
offer against the plan in force; drivers' reports and the clock move the plan forward; the
optimizer (:mod:`dispatch.reoptimize`) replaces routes only with ones route evaluation accepts.
Every change is recorded as a :class:`DomainEvent` that :meth:`Dispatcher.drain_events` hands out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Mapping, Sequence

from dispatch.evaluation import RouteEvaluation, evaluate_route
from dispatch.events import DomainEvent, EventKind
from dispatch.insertion import (CostWeights, Insertion, RouteTimes, VehicleRoute, best_insertion,
                               prefetch_legs)
from dispatch.model import (
    DAY_S, Offer, OnboardRider, Promise, Rejection, RejectionCause, Request, Route, ServiceRules, Stop,
    StopKind, TimeBounds, TimeType, Vehicle, VehicleState, promise_for, time_bounds,
)
from dispatch.pdptw import PdptwSolution, SearchBudget
from dispatch.reoptimize import (NewRequest, OptimizedPlan, PlanRejectedError, PreparedProblem, finish, optimize,
                                 prepare, solve_prepared)
from dispatch.travel import LegTimes, TravelTimes

ALTERNATIVE_STEP_S = 15 * 60
ALTERNATIVE_STEPS = 4
MAX_OPEN_OFFERS = 1000  # past this many open offers, expired ones are forgotten


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
class _PendingOffer:
    offer: Offer
    request: Request
    bounds: TimeBounds
    insertion: Insertion
    route_version: int


@dataclass(frozen=True)
class ReoptimizationJob:
    """A re-optimization under way: the problem made of the plan, and the plan version it was made of."""

    prepared: PreparedProblem
    plan_version: int


@dataclass(frozen=True)
class Checkpoint:
    """The plan in force at one moment (:meth:`Dispatcher.checkpoint`), to go back to."""

    version: int
    tables: tuple[dict, ...]
    events: tuple[DomainEvent, ...]


_PLAN_TABLES = ("_vehicles", "_states", "_routes", "_evaluations", "_route_times", "_route_versions",
                "_bookings", "_offers")


class Dispatcher:
    """The live plan of one service area."""

    def __init__(self, vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes, now: int,
                 weights: CostWeights = CostWeights()) -> None:
        self.rules = rules
        self.weights = weights
        self.legs = LegTimes(travel)
        self.version = 0
        self._vehicles: dict[str, Vehicle] = {}
        self._states: dict[str, VehicleState] = {}
        self._routes: dict[str, Route] = {}
        self._evaluations: dict[str, RouteEvaluation] = {}
        self._route_times: dict[str, RouteTimes] = {}
        self._route_versions: dict[str, int] = {}
        self._bookings: dict[str, Booking] = {}
        self._offers: dict[str, _PendingOffer] = {}
        self._events: list[DomainEvent] = []
        for vehicle in vehicles:
            self.add_vehicle(vehicle, now)

    # ----- reading the plan -------------------------------------------------------------------
    @property
    def vehicles(self) -> dict[str, Vehicle]:
        """Vehicles by id."""
        return dict(self._vehicles)

    def state(self, vehicle_id: str) -> VehicleState:
        """Where a vehicle is now."""
        return self._states[self._known_vehicle(vehicle_id)]

    def route(self, vehicle_id: str) -> Route:
        """A vehicle's route in force."""
        return self._routes[self._known_vehicle(vehicle_id)]

    def evaluation(self, vehicle_id: str) -> RouteEvaluation:
        """The evaluation (times, loads, ride times) of a vehicle's route in force."""
        vehicle_id = self._known_vehicle(vehicle_id)
        if vehicle_id not in self._evaluations:
            self._evaluations[vehicle_id] = evaluate_route(
                self._vehicles[vehicle_id], self._states[vehicle_id], self._routes[vehicle_id].stops, self.legs)
        return self._evaluations[vehicle_id]

    def booking(self, request_id: str) -> Booking:
        """A booked request."""
        if request_id not in self._bookings:
            raise DispatchError("unknown_request", f"no booking with id {request_id!r}")
        return self._bookings[request_id]

    def bookings(self) -> dict[str, Booking]:
        """Every booking by request id."""
        return dict(self._bookings)

    def drain_events(self) -> list[DomainEvent]:
        """Hand out the events recorded since the last call."""
        events, self._events = self._events, []
        return events

    def checkpoint(self) -> Checkpoint:
        """The plan as it stands, for :meth:`rollback` when the consequences of the next operation
        cannot be recorded elsewhere (e.g. the database refuses them). Cheap: shallow copies of maps
        whose values are immutable."""
        return Checkpoint(self.version, tuple(dict(getattr(self, name)) for name in _PLAN_TABLES),
                          tuple(self._events))

    def rollback(self, checkpoint: Checkpoint) -> None:
        """Put the plan back as it was at ``checkpoint``, events included."""
        self.version = checkpoint.version
        for name, table in zip(_PLAN_TABLES, checkpoint.tables):
            setattr(self, name, dict(table))
        self._events = list(checkpoint.events)

    # ----- fleet ------------------------------------------------------------------------------
    def add_vehicle(self, vehicle: Vehicle, now: int) -> None:
        """Put a vehicle into service at its depot, with its breaks planned."""
        if vehicle.id in self._vehicles:
            raise DispatchError("duplicate_vehicle", f"vehicle {vehicle.id!r} exists already")
        self._vehicles[vehicle.id] = vehicle
        self._states[vehicle.id] = VehicleState(vehicle.id, vehicle.depot, max(now, vehicle.shift_start))
        breaks = tuple(Stop(f"break:{vehicle.id}:{k}", StopKind.BREAK, vehicle.depot, b.earliest_start,
                            b.latest_start, b.duration_s) for k, b in enumerate(vehicle.breaks))
        self._set_route(Route(vehicle.id, breaks), now)

    def replace_vehicle(self, vehicle: Vehicle, now: int) -> None:
        """Change a vehicle's capacities, depot, shift or breaks (an operator's edit), keeping its riders.

        Unchanged breaks stay where they are planned. Otherwise the breaks not yet begun are planned again:
        each new break (except one already taken and any whose latest start has passed) goes at the first
        place in the route where the route stays feasible. A bus not yet under way (nobody on board, nothing
        committed, standing at its old depot) starts again from the new depot at the new shift start. If the
        changed vehicle cannot keep its route — a rider over capacity, a promise late, a break with no place
        — nothing changes and :class:`DispatchError` ``vehicle_change_infeasible`` names the broken rules.
        """
        old = self._vehicles[self._known_vehicle(vehicle.id)]
        state, route = self._states[vehicle.id], self._routes[vehicle.id]
        head, rest = route.stops[:route.committed], route.stops[route.committed:]
        planned = {(s.earliest, s.latest, s.service_s) for s in route.stops if s.kind is StopKind.BREAK}
        taken = {(b.earliest_start, b.latest_start, b.duration_s) for b in old.breaks} - planned
        if not state.onboard and not route.committed and state.location == old.depot:
            state = replace(state, location=vehicle.depot, available_at=max(now, vehicle.shift_start))
        stops = [*head, *(s for s in rest if s.kind is not StopKind.BREAK)]
        new_breaks = sorted(vehicle.breaks, key=lambda b: b.earliest_start)
        if set(new_breaks) == set(old.breaks):  # the same breaks stay where they are planned
            stops, new_breaks = list(route.stops), []
        for k, b in enumerate(new_breaks):
            if (b.earliest_start, b.latest_start, b.duration_s) in taken or b.latest_start < now:
                continue
            stop = Stop(f"break:{vehicle.id}:v{self.version}:{k}", StopKind.BREAK, vehicle.depot,
                        b.earliest_start, b.latest_start, b.duration_s)  # ids unique across changes
            place = next((i for i in range(len(head), len(stops) + 1) if evaluate_route(
                vehicle, state, (*stops[:i], stop, *stops[i:]), self.legs).feasible), None)
            if place is None:
                raise DispatchError("vehicle_change_infeasible",
                                    f"vehicle {vehicle.id!r}: no place for the break from {b.earliest_start}")
            stops.insert(place, stop)
        evaluation = evaluate_route(vehicle, state, tuple(stops), self.legs)
        if not evaluation.feasible:
            raise DispatchError("vehicle_change_infeasible", f"vehicle {vehicle.id!r}: " +
                                "; ".join(v.message for v in evaluation.violations))
        self._vehicles[vehicle.id] = vehicle
        self._states[vehicle.id] = state
        self._set_route(replace(route, stops=tuple(stops)), now, evaluation)

    def return_to_service(self, vehicle_id: str, now: int) -> None:
        """A withdrawn vehicle serves again, from where it stands, from ``now`` (its breaks stay planned)."""
        state = self.state(vehicle_id)
        if state.in_service:
            raise DispatchError("already_in_service", f"vehicle {vehicle_id!r} is in service")
        self._states[vehicle_id] = replace(state, in_service=True, available_at=max(now, state.available_at))
        self._set_route(self._routes[vehicle_id], now)
        self._events.append(DomainEvent(EventKind.VEHICLE_IN_SERVICE, now, vehicle_id))

    def restore(self, bookings: Sequence[Booking], routes: Mapping[str, Route],
                states: Mapping[str, VehicleState], now: int) -> list[str]:
        """Install a plan saved by another dispatcher (after a restart): the bookings with their
        promises, each vehicle's state and route.

        Only booked and picked-up bookings are installed (ended ones are history). Every route is
        checked by :func:`evaluate_route`; a route that breaks a rule is still installed (its riders
        were promised a trip) and each broken rule is returned, as is every booking its vehicle does
        not serve. An empty list means the plan came back whole and feasible.
        """
        problems: list[str] = []
        active = (RequestStatus.BOOKED, RequestStatus.PICKED_UP)
        for booking in bookings:
            request_id = booking.request.id
            if request_id in self._bookings:
                raise DispatchError("duplicate_request", f"request {request_id!r} exists already")
            if booking.status in active:
                self._bookings[request_id] = booking
        for vehicle_id, state in states.items():
            self._states[self._known_vehicle(vehicle_id)] = state
            self._forget(vehicle_id)
        for vehicle_id, route in routes.items():
            if route.vehicle_id != self._known_vehicle(vehicle_id):
                raise DispatchError("route_mismatch",
                                    f"route of {route.vehicle_id!r} given for {vehicle_id!r}")
            self._set_route(route, now)
            problems.extend(f"{vehicle_id}: {v.message}" for v in self.evaluation(vehicle_id).violations)
        served = {(stop.request_id, vid) for vid, route in self._routes.items() for stop in route.stops}
        served |= {(rider.request_id, vid) for vid, state in self._states.items()
                   for rider in state.onboard}
        for booking in bookings:
            if booking.status in active and (booking.request.id, booking.vehicle_id) not in served:
                problems.append(f"{booking.request.id}: booked on {booking.vehicle_id!r} "
                                "but not in its route")
        return problems

    def _forget(self, vehicle_id: str) -> None:
        """Drop what was computed from a vehicle's route or state; it changed."""
        self._evaluations.pop(vehicle_id, None)
        self._route_times.pop(vehicle_id, None)

    def _known_vehicle(self, vehicle_id: str) -> str:
        if vehicle_id not in self._vehicles:
            raise DispatchError("unknown_vehicle", f"no vehicle with id {vehicle_id!r}")
        return vehicle_id

    def _set_route(self, route: Route, now: int, evaluation: RouteEvaluation | None = None) -> None:
        self._routes[route.vehicle_id] = route
        self._forget(route.vehicle_id)
        if evaluation is not None:
            self._evaluations[route.vehicle_id] = evaluation
        self._route_versions[route.vehicle_id] = self._route_versions.get(route.vehicle_id, 0) + 1
        self.version += 1
        self._events.append(DomainEvent(EventKind.ROUTE_CHANGED, now, route.vehicle_id,
                                        data={"plan_version": self.version, "stops": len(route.stops)}))

    def _vehicle_routes(self) -> tuple[list[VehicleRoute], list[RouteTimes]]:
        """The in-service vehicles' routes, with their insertion arrays (cached until the route changes)."""
        routes, times = [], []
        for vehicle_id, vehicle in self._vehicles.items():
            state = self._states[vehicle_id]
            if not state.in_service:
                continue
            route = self._routes[vehicle_id]
            routes.append(VehicleRoute(vehicle, state, route.stops, route.committed))
            cached = self._route_times.get(vehicle_id)
            if cached is None:
                cached = self._route_times[vehicle_id] = RouteTimes(routes[-1], self.evaluation(vehicle_id), self.legs)
            times.append(cached)
        return routes, times

    # ----- riders -----------------------------------------------------------------------------
    def _stops_for(self, request: Request, bounds: TimeBounds, window: tuple[int, int]) -> tuple[Stop, Stop]:
        dwell = self.rules.dwell_s(request.passengers)
        pickup = Stop(request.id, StopKind.PICKUP, request.origin, window[0], window[1], dwell,
                      request.seats, request.wheelchairs)
        dropoff = Stop(request.id, StopKind.DROPOFF, request.destination, 0, bounds.latest_dropoff, dwell,
                       request.seats, request.wheelchairs, bounds.max_ride_s)
        return pickup, dropoff

    def _check_request(self, request: Request, now: int) -> tuple[TimeBounds | None, Rejection | None]:
        """Rule checks that need no route: returns the request's bounds, or why it is refused."""
        def refuse(cause: RejectionCause, message: str) -> tuple[None, Rejection]:
            return None, Rejection(request.id, cause, message)

        rules = self.rules
        if request.id in self._bookings:
            raise DispatchError("duplicate_request", f"request {request.id!r} exists already")
        if request.origin == request.destination:
            return refuse(RejectionCause.SAME_ORIGIN_DESTINATION, "pickup and drop-off are the same place")
        if not any(request.seats <= v.seats and request.wheelchairs <= v.wheelchair_spaces
                   for v in self._vehicles.values()):
            return refuse(RejectionCause.CAPACITY,
                          f"no bus has {request.seats} seats and {request.wheelchairs} wheelchair spaces")
        direct = self.legs.seconds(request.origin, request.destination)
        bounds = time_bounds(request, direct, rules)
        if bounds.latest_pickup < now:
            return refuse(RejectionCause.TIME_IN_PAST, "the requested time has already passed")
        if request.time > now + rules.booking_horizon_s:
            return refuse(RejectionCause.BEYOND_HORIZON,
                          f"trips can be booked at most {rules.booking_horizon_s // 3600} h ahead")
        if bounds.latest_pickup < now + rules.min_notice_s:
            return refuse(RejectionCause.TOO_SHORT_NOTICE,
                          f"trips must be booked at least {rules.min_notice_s // 60} min ahead")
        time_of_day = request.time % DAY_S
        if not rules.service_start_s <= time_of_day <= rules.service_end_s:
            return refuse(RejectionCause.OUTSIDE_HOURS, "the service does not run at that time")
        if bounds.earliest_pickup < now:
            bounds = replace(bounds, earliest_pickup=now)
        return bounds, None

    def quote(self, request: Request, now: int, with_alternatives: bool = True) -> Offer | Rejection:
        """Offer a trip for ``request`` (valid for ``rules.offer_validity_s``), or say why not."""
        bounds, rejection = self._check_request(request, now)
        if rejection is not None:
            self._events.append(DomainEvent(EventKind.REQUEST_REJECTED, now, request_id=request.id,
                                            data={"cause": rejection.cause.value}))
            return rejection
        assert bounds is not None
        found = self._search(request, bounds, (bounds.earliest_pickup, bounds.latest_pickup))
        if found is None:
            alternatives = self._alternatives(request, now) if with_alternatives else ()
            self._events.append(DomainEvent(EventKind.REQUEST_REJECTED, now, request_id=request.id,
                                            data={"cause": RejectionCause.NO_VEHICLE_IN_TIME.value}))
            return Rejection(request.id, RejectionCause.NO_VEHICLE_IN_TIME,
                             "no bus can take this trip at that time", alternatives)
        promise = promise_for(bounds, found.pickup_start, self.rules)
        offer = Offer(request.id, found.vehicle_id, (promise.window_start, promise.window_end),
                      found.pickup_start, found.dropoff_start, promise.latest_dropoff,
                      now + self.rules.offer_validity_s, self.version, found.cost)
        if len(self._offers) >= MAX_OPEN_OFFERS:
            self._offers = {k: p for k, p in self._offers.items() if p.offer.valid_until >= now}
        self._offers[request.id] = _PendingOffer(offer, request, bounds, found,
                                                 self._route_versions[found.vehicle_id])
        self._events.append(DomainEvent(EventKind.OFFER_MADE, now, found.vehicle_id, request.id))
        return offer

    def _search(self, request: Request, bounds: TimeBounds, window: tuple[int, int], *,
                prefetched: tuple[list[VehicleRoute], list[RouteTimes]] | None = None) -> Insertion | None:
        """The best insertion of ``request`` into the routes in force; ``prefetched``: those routes as
        :meth:`_vehicle_routes` gave them, with this search's legs already fetched (a refused quote's
        searches at other times read the plan once)."""
        pickup, dropoff = self._stops_for(request, bounds, window)
        routes, times = prefetched or self._vehicle_routes()
        return best_insertion(routes, pickup, dropoff, self.legs, self.weights, times,
                              prefetched=prefetched is not None)

    def _alternatives(self, request: Request, now: int) -> tuple[int, ...]:
        """The nearest later and earlier request times (15-min steps, up to 1 h) that would get an offer.
        The legs every one of those searches reads are fetched at once, before the first."""
        sign = 1 if request.time_type is TimeType.LEAVE_AFTER else -1
        shifted: dict[int, list[tuple[Request, TimeBounds]]] = {}
        for direction in (sign, -sign):
            for step in range(1, ALTERNATIVE_STEPS + 1):
                other = replace(request, time=request.time + direction * step * ALTERNATIVE_STEP_S)
                bounds, rejection = self._check_request(other, now)
                if rejection is None and bounds is not None:
                    shifted.setdefault(direction, []).append((other, bounds))
        every = [bounds for tries in shifted.values() for _, bounds in tries]
        if not every:
            return ()
        plan = self._vehicle_routes()
        widest = replace(every[0], earliest_pickup=min(b.earliest_pickup for b in every),
                         latest_pickup=max(b.latest_pickup for b in every),
                         latest_dropoff=max(b.latest_dropoff for b in every))
        window = (widest.earliest_pickup, widest.latest_pickup)
        prefetch_legs(*plan, *self._stops_for(request, widest, window), self.legs)
        found: list[int] = []
        for tries in shifted.values():
            for other, bounds in tries:
                window = (bounds.earliest_pickup, bounds.latest_pickup)
                if self._search(other, bounds, window, prefetched=plan):
                    found.append(other.time)
                    break
        return tuple(sorted(found))

    def book(self, request_id: str, now: int) -> Offer | Rejection:
        """Book an offer. It is re-validated against the plan in force: a seat is never promised twice."""
        pending = self._offers.pop(request_id, None)
        if pending is None:
            raise DispatchError("unknown_offer", f"no open offer for request {request_id!r}")
        if now > pending.offer.valid_until:
            return Rejection(request_id, RejectionCause.OFFER_EXPIRED, "the offer has expired; ask again")
        offer = pending.offer
        promise = Promise(offer.pickup_window[0], offer.pickup_window[1], pending.bounds.latest_dropoff,
                          pending.bounds.max_ride_s)
        pickup, dropoff = self._stops_for(pending.request, pending.bounds, offer.pickup_window)
        insertion = pending.insertion
        vehicle_id = insertion.vehicle_id
        stops = tuple(pickup if s.request_id == request_id and s.kind is StopKind.PICKUP else s
                      for s in insertion.stops)
        evaluation = None
        if self._route_versions[vehicle_id] == pending.route_version and self._states[vehicle_id].in_service:
            evaluation = evaluate_route(self._vehicles[vehicle_id], self._states[vehicle_id], stops, self.legs)
        if evaluation is None or not evaluation.feasible:
            found = self._search(pending.request, pending.bounds, offer.pickup_window)
            if found is None:
                return Rejection(request_id, RejectionCause.OFFER_NO_LONGER_FEASIBLE,
                                 "the bus is no longer available for this offer; ask again")
            vehicle_id, stops, evaluation = found.vehicle_id, found.stops, found.evaluation
        route = self._routes[vehicle_id]
        self._bookings[request_id] = Booking(pending.request, pending.bounds, promise, RequestStatus.BOOKED,
                                             vehicle_id)
        self._set_route(replace(route, stops=stops), now, evaluation)
        self._events.append(DomainEvent(EventKind.BOOKING_CONFIRMED, now, vehicle_id, request_id,
                                        {"window": list(offer.pickup_window)}))
        pickup_index, dropoff_index = (k for k, s in enumerate(stops) if s.request_id == request_id)
        return replace(offer, vehicle_id=vehicle_id, planned_pickup=evaluation.start[pickup_index],
                       estimated_dropoff=evaluation.start[dropoff_index], plan_version=self.version)

    def cancel(self, request_id: str, now: int) -> None:
        """A rider cancels a booking that has not been picked up."""
        booking = self.booking(request_id)
        if booking.status is not RequestStatus.BOOKED:
            raise DispatchError("not_cancellable", f"booking {request_id!r} is {booking.status.value}")
        self._remove_stops(booking.vehicle_id, request_id, now)
        self._bookings[request_id] = replace(booking, status=RequestStatus.CANCELLED, vehicle_id=None)
        self._events.append(DomainEvent(EventKind.BOOKING_CANCELLED, now, booking.vehicle_id, request_id))

    def _remove_stops(self, vehicle_id: str | None, request_id: str, now: int) -> None:
        """Take a request's stops out of a route, keeping everyone else's promises.

        The earliest schedule of the shorter route could pick a later rider up sooner and then keep
        them waiting on board; where that breaks a rule, the remaining pickups are held to their
        previously planned times, which the shorter route can always still make.
        """
        if vehicle_id is None:
            return
        route = self._routes[vehicle_id]
        before = self.evaluation(vehicle_id)
        kept = tuple(s for s in route.stops if s.request_id != request_id)
        committed = min(route.committed, sum(1 for s in route.stops[:route.committed] if s.request_id != request_id))
        vehicle, state = self._vehicles[vehicle_id], self._states[vehicle_id]
        if not evaluate_route(vehicle, state, kept, self.legs).feasible:
            planned = {(s.request_id, s.kind): start for s, start in zip(route.stops, before.start)}
            kept = tuple(replace(s, earliest=max(s.earliest, planned[(s.request_id, s.kind)]))
                         if s.kind is StopKind.PICKUP else s for s in kept)
        self._set_route(replace(route, stops=kept, committed=committed), now)

    # ----- drivers ----------------------------------------------------------------------------
    def _next_stop(self, vehicle_id: str) -> Stop:
        route = self.route(vehicle_id)
        if not route.stops:
            raise DispatchError("no_next_stop", f"vehicle {vehicle_id!r} has no stop to serve")
        return route.stops[0]

    def vehicle_position(self, vehicle_id: str, location: int, at: int) -> None:
        """The vehicle reports where it is (or the next node it will reach, and when). A report of the
        place and time it is known at already changes nothing (its plan stays computed)."""
        state = self.state(vehicle_id)
        if (state.location, state.available_at) == (location, at):
            return
        self._states[vehicle_id] = replace(state, location=location, available_at=at)
        self._forget(vehicle_id)
        self._events.append(DomainEvent(EventKind.VEHICLE_MOVED, at, vehicle_id, data={"location": location}))

    def arrive(self, vehicle_id: str, now: int) -> Stop:
        """The vehicle arrived at its next stop: the stop is committed and the vehicle stands there."""
        stop = self._next_stop(vehicle_id)
        state = self._states[vehicle_id]
        self._states[vehicle_id] = replace(state, location=stop.location, available_at=now)
        route = self._routes[vehicle_id]
        self._set_route(replace(route, committed=max(1, route.committed)), now)
        self._events.append(DomainEvent(EventKind.VEHICLE_ARRIVED, now, vehicle_id, stop.request_id,
                                        {"kind": stop.kind.value}))
        return stop

    def _serve_next(self, vehicle_id: str, request_id: str, kind: StopKind, now: int) -> Stop:
        stop = self._next_stop(vehicle_id)
        if stop.request_id != request_id or stop.kind is not kind:
            raise DispatchError("not_next_stop",
                                f"the next stop of {vehicle_id!r} is the {stop.kind.value} of {stop.request_id!r}")
        route = self._routes[vehicle_id]
        state = self._states[vehicle_id]
        onboard = state.onboard
        if kind is StopKind.PICKUP:
            onboard = (*onboard, OnboardRider(request_id, stop.seats, stop.wheelchairs, now))
        elif kind is StopKind.DROPOFF:
            onboard = tuple(r for r in onboard if r.request_id != request_id)
        self._states[vehicle_id] = replace(state, location=stop.location, available_at=now, onboard=onboard)
        self._set_route(replace(route, stops=route.stops[1:], committed=0), now)
        return stop

    def pick_up(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider boarded; the vehicle leaves the stop at ``now``."""
        self._serve_next(vehicle_id, request_id, StopKind.PICKUP, now)
        self._bookings[request_id] = replace(self.booking(request_id), status=RequestStatus.PICKED_UP)
        self._events.append(DomainEvent(EventKind.RIDER_PICKED_UP, now, vehicle_id, request_id))

    def drop_off(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider alighted; the vehicle leaves the stop at ``now``."""
        self._serve_next(vehicle_id, request_id, StopKind.DROPOFF, now)
        self._bookings[request_id] = replace(self.booking(request_id), status=RequestStatus.COMPLETED)
        self._events.append(DomainEvent(EventKind.RIDER_DROPPED_OFF, now, vehicle_id, request_id))

    def finish_break(self, vehicle_id: str, now: int) -> None:
        """The driver's break at the head of the route is over."""
        stop = self._next_stop(vehicle_id)
        self._serve_next(vehicle_id, stop.request_id, StopKind.BREAK, now)

    def no_show(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider did not come: allowed once the bus has waited ``no_show_wait_s`` into the window."""
        stop = self._next_stop(vehicle_id)
        if stop.request_id != request_id or stop.kind is not StopKind.PICKUP:
            raise DispatchError("not_next_stop", f"{request_id!r} is not the next pickup of {vehicle_id!r}")
        allowed_from = max(stop.earliest, self._states[vehicle_id].available_at) + self.rules.no_show_wait_s
        if now < allowed_from:
            raise DispatchError("too_early_for_no_show",
                                f"wait until {allowed_from} before reporting a no-show ({allowed_from - now} s)")
        state = self._states[vehicle_id]
        self._states[vehicle_id] = replace(state, location=stop.location, available_at=now)
        self._forget(vehicle_id)
        self._remove_stops(vehicle_id, request_id, now)
        self._bookings[request_id] = replace(self.booking(request_id), status=RequestStatus.NO_SHOW)
        self._events.append(DomainEvent(EventKind.RIDER_NO_SHOW, now, vehicle_id, request_id))

    def take_out_of_service(self, vehicle_id: str, now: int) -> list[Rejection]:
        """A vehicle breaks down or is withdrawn: its riders are re-planned onto other vehicles.

        Riders waiting for it keep their promised windows if another bus can keep them; riders on
        board get a new pickup where the vehicle stands. Those nobody can take are returned as
        rejections (cause ``vehicle_out_of_service``) and their bookings end.
        """
        state = self.state(vehicle_id)
        route = self._routes[vehicle_id]
        self._states[vehicle_id] = replace(state, in_service=False, onboard=())
        self._set_route(replace(route, stops=tuple(s for s in route.stops if s.kind is StopKind.BREAK),
                                committed=0), now)
        self._events.append(DomainEvent(EventKind.VEHICLE_OUT_OF_SERVICE, now, vehicle_id))
        failed = []
        stranded = {r.request_id for r in state.onboard}
        for request_id in dict.fromkeys(s.request_id for s in route.stops if s.kind is not StopKind.BREAK):
            booking = self._bookings[request_id]
            if request_id in stranded:
                request = replace(booking.request, origin=state.location, time_type=TimeType.LEAVE_AFTER,
                                  time=max(now, state.available_at))
                bounds = time_bounds(request, self.legs.seconds(request.origin, request.destination), self.rules)
                window = (bounds.earliest_pickup, bounds.latest_pickup)
            else:
                request, bounds = booking.request, booking.bounds
                window = (booking.promise.window_start, booking.promise.window_end)
            found = self._search(request, bounds, window)
            if found is None:
                self._bookings[request_id] = replace(booking, status=RequestStatus.REJECTED, vehicle_id=None)
                failed.append(Rejection(request_id, RejectionCause.VEHICLE_OUT_OF_SERVICE,
                                        "the bus broke down and no other bus can take this trip"))
                continue
            stops = found.stops
            promise = booking.promise
            if request_id in stranded:
                promise = promise_for(bounds, found.pickup_start, self.rules)
                stops = _keep_promise(stops, request_id, promise)
            self._bookings[request_id] = replace(booking, request=request, bounds=bounds, promise=promise,
                                                 status=RequestStatus.BOOKED, vehicle_id=found.vehicle_id)
            self._set_route(replace(self._routes[found.vehicle_id], stops=stops), now)
        return failed

    # ----- the clock --------------------------------------------------------------------------
    def advance_to(self, now: int) -> None:
        """Let every vehicle serve, as planned, the stops whose service has started by ``now``.

        Used by simulations (real vehicles report instead). A vehicle leaves for its next stop at the
        last moment that still reaches it by its planned start; once it has left it is committed to
        that stop. Until then it stands where it is and new stops may still be put first. An idle
        vehicle whose shift is ending drives back to its depot.
        """
        for vehicle_id in self._vehicles:
            state = self._states[vehicle_id]
            if not state.in_service:
                continue
            evaluation = self.evaluation(vehicle_id)
            route = self._routes[vehicle_id]
            for stop, start, leave in zip(route.stops, evaluation.start, evaluation.departure):
                if start > now:
                    break
                self.arrive(vehicle_id, start)
                if stop.kind is StopKind.PICKUP:
                    self.pick_up(vehicle_id, stop.request_id, leave)
                elif stop.kind is StopKind.DROPOFF:
                    self.drop_off(vehicle_id, stop.request_id, leave)
                else:
                    self.finish_break(vehicle_id, leave)
            route = self._routes[vehicle_id]
            state = self._states[vehicle_id]
            if route.committed or state.available_at >= now:
                continue
            if route.stops:
                must_leave_at = self.evaluation(vehicle_id).start[0] - self.legs.seconds(
                    state.location, route.stops[0].location)
                if now >= must_leave_at:
                    self._set_route(replace(route, committed=1), now)
                    continue
            if not route.stops:
                vehicle = self._vehicles[vehicle_id]
                back = self.legs.seconds(state.location, vehicle.depot)
                if now + back >= vehicle.shift_end:  # shift over: drive home and stay there
                    arrival = max(min(now, vehicle.shift_end - back), state.available_at) + back
                    state = replace(state, location=vehicle.depot, available_at=arrival)
                    self._states[vehicle_id] = state
                    self._forget(vehicle_id)
                    continue
            self._states[vehicle_id] = replace(state, available_at=max(now, state.available_at))
            self._forget(vehicle_id)

    # ----- the slow path ----------------------------------------------------------------------
    def reoptimize(self, now: int, time_limit_s: float, solution_limit: int | None = None
                   ) -> OptimizedPlan | None:
        """Re-optimize all routes with OR-Tools; apply the answer only if it is verified and no worse.
        ``solution_limit`` makes the search repeatable (see :func:`dispatch.reoptimize.solve_prepared`).

        Returns the applied plan, or None when the plan in force was kept (the reason is in the
        ``plan_reoptimized`` event).
        """
        try:
            job = self.prepare_reoptimization()
            solution = solve_prepared(job.prepared, SearchBudget(time_limit_s, solution_limit))
        except PlanRejectedError as error:
            self._events.append(DomainEvent(EventKind.PLAN_REOPTIMIZED, now, data={"applied": False,
                                                                                   "reason": str(error)}))
            return None
        return self.apply_reoptimization(job, solution, now)

    def prepare_reoptimization(self) -> ReoptimizationJob:
        """The plan in force as a solver problem, stamped with the plan version. Solve it with
        :func:`dispatch.reoptimize.solve_prepared` — on another thread if need be: it reads nothing of the
        dispatcher — and hand the solution to :meth:`apply_reoptimization`.

        Raises :class:`PlanRejectedError` when the plan in force cannot warm-start the solver."""
        routes, _ = self._vehicle_routes()
        return ReoptimizationJob(prepare(routes, self.legs), self.version)

    def apply_reoptimization(self, job: ReoptimizationJob, solution: PdptwSolution, now: int
                             ) -> OptimizedPlan | None:
        """Apply ``solution`` of ``job`` if the plan has not changed since the job was prepared, every
        route passes evaluation from where its bus is now, and the plan drives no more than before.

        Returns the applied plan, or None when the plan in force was kept (the reason is in the
        ``plan_reoptimized`` event)."""
        def keep(reason: str) -> None:
            self._events.append(DomainEvent(EventKind.PLAN_REOPTIMIZED, now, data={"applied": False,
                                                                                   "reason": reason}))

        if job.plan_version != self.version:
            keep("the plan changed while the optimizer ran")
            return None
        try:
            result = finish(job.prepared, solution, self.legs)
        except PlanRejectedError as error:
            keep(str(error))
            return None
        evaluations = {vid: evaluate_route(self._vehicles[vid], self._states[vid], stops, self.legs)
                       for vid, stops in result.stops.items()}
        broken = next((vid for vid, e in evaluations.items() if not e.feasible), None)
        if broken is not None:  # a bus moved while the optimizer ran
            keep(f"vehicle {broken}: {evaluations[broken].violations[0].message}")
            return None
        result = replace(result, evaluations=evaluations,
                         drive_s_after=sum(e.drive_s for e in evaluations.values()))
        applied = result.drive_s_after <= result.drive_s_before
        if applied:
            self._apply(result, now)
        self._events.append(DomainEvent(EventKind.PLAN_REOPTIMIZED, now, data={
            "applied": applied, "drive_s_before": result.drive_s_before, "drive_s_after": result.drive_s_after}))
        return result if applied else None

    def _apply(self, result: OptimizedPlan, now: int) -> None:
        for vehicle_id, stops in result.stops.items():
            route = self._routes[vehicle_id]
            if stops != route.stops:
                self._set_route(replace(route, stops=stops), now, result.evaluations[vehicle_id])
            for stop in stops:
                booking = self._bookings.get(stop.request_id)
                if booking is not None and booking.vehicle_id != vehicle_id:
                    self._bookings[stop.request_id] = replace(booking, vehicle_id=vehicle_id)

    def book_batch(self, requests: Sequence[Request], now: int, time_limit_s: float
                   ) -> dict[str, Offer | Rejection]:
        """Plan many requests at once (e.g. tomorrow's pre-bookings) and book those that fit.

        Each request is first inserted greedily (the warm start), then OR-Tools re-plans everything
        together; requests that cannot be served come back as rejections with their cause.
        """
        outcome: dict[str, Offer | Rejection] = {}
        candidates: list[tuple[Request, TimeBounds, NewRequest]] = []
        for request in requests:
            bounds, rejection = self._check_request(request, now)
            if rejection is not None:
                outcome[request.id] = rejection
                continue
            assert bounds is not None
            pickup, dropoff = self._stops_for(request, bounds, (bounds.earliest_pickup, bounds.latest_pickup))
            candidates.append((request, bounds, NewRequest(pickup, dropoff)))
        routes, _ = self._vehicle_routes()
        try:
            result = optimize(routes, self.legs, time_limit_s, [c[2] for c in candidates])
        except PlanRejectedError:
            result = None
        unserved = set(result.unserved) if result is not None else {c[0].id for c in candidates}
        if result is not None:
            self._apply(result, now)
        for request, bounds, _ in candidates:
            if request.id in unserved:
                outcome[request.id] = Rejection(request.id, RejectionCause.NO_VEHICLE_IN_TIME,
                                                "no bus can take this trip at that time")
                continue
            outcome[request.id] = self._confirm_planned(request, bounds, now)
        return outcome

    def _confirm_planned(self, request: Request, bounds: TimeBounds, now: int) -> Offer:
        """Book a request the optimizer placed: promise a window around its planned pickup."""
        vehicle_id, index = next((v, k) for v, route in self._routes.items()
                                 for k, s in enumerate(route.stops)
                                 if s.request_id == request.id and s.kind is StopKind.PICKUP)
        evaluation = self.evaluation(vehicle_id)
        planned = evaluation.start[index]
        promise = promise_for(bounds, planned, self.rules)
        route = self._routes[vehicle_id]
        stops = _keep_promise(route.stops, request.id, promise)
        self._set_route(replace(route, stops=stops), now)
        self._bookings[request.id] = Booking(request, bounds, promise, RequestStatus.BOOKED, vehicle_id)
        dropoff = next(k for k, s in enumerate(stops) if s.request_id == request.id and s.kind is StopKind.DROPOFF)
        self._events.append(DomainEvent(EventKind.BOOKING_CONFIRMED, now, vehicle_id, request.id,
                                        {"window": [promise.window_start, promise.window_end]}))
        return Offer(request.id, vehicle_id, (promise.window_start, promise.window_end), planned,
                     evaluation.start[dropoff], promise.latest_dropoff, now, self.version, 0.0)


def _keep_promise(stops: tuple[Stop, ...], request_id: str, promise: Promise) -> tuple[Stop, ...]:
    """Narrow a request's pickup stop to its promised window (a hold already inside it stays)."""
    return tuple(replace(s, earliest=max(s.earliest, promise.window_start), latest=min(s.latest, promise.window_end))
                 if s.request_id == request_id and s.kind is StopKind.PICKUP else s for s in stops)
