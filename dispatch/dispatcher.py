"""The dispatcher: holds the plan in force, and every operation that changes it.

A :class:`Dispatcher` holds one :class:`~dispatch.plan.Plan` value — the vehicles, their states and
routes, the bookings with their promises — and replaces it with a new one on every change. Riders get
offers by best insertion (:mod:`dispatch.insertion`) after the rule checks of :mod:`dispatch.rules`;
booking re-validates the offer against the plan in force; drivers' reports move the plan forward; the
optimizer (:mod:`dispatch.reoptimize`) replaces routes only with ones route evaluation accepts. Every
change is recorded as a :class:`DomainEvent` that :meth:`Dispatcher.drain_events` hands out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dispatch import manual
from dispatch.breaks import route_for_changed_vehicle
from dispatch.calendar import LocalCalendar
from dispatch.disturbance import Retiming, no_show_wait, retime
from dispatch.evaluation import RouteEvaluation
from dispatch.events import DomainEvent, EventKind
from dispatch.insertion import CostWeights
from dispatch.model import (
    Break,
    Offer,
    OnboardRider,
    Promise,
    Rejection,
    RejectionCause,
    Request,
    Route,
    RouteLock,
    ServiceRules,
    Stop,
    StopKind,
    TimeBounds,
    Vehicle,
    VehicleState,
    promise_for,
)
from dispatch.open_offers import forget_expired
from dispatch.pdptw import PdptwSolution, SearchBudget
from dispatch.plan import BookedTrip, Booking, DispatchError, Plan, PlannedTimes, RequestStatus
from dispatch.reoptimize import (
    OptimizedPlan,
    PlanRejectedError,
    ReoptimizationJob,
    prepare,
    solve_prepared,
    verify_answer,
)
from dispatch.repair import Placement, RepairOptions, revalidate
from dispatch.rules import check_request, request_stops
from dispatch.search import alternatives, place, place_request, replan_riders
from dispatch.travel import LegTimes, TravelTimes

__all__ = [
    "BookedTrip",
    "Booking",
    "Checkpoint",
    "DispatchError",
    "Dispatcher",
    "ReoptimizationJob",
    "RequestStatus",
]

@dataclass(frozen=True)
class _PendingOffer:
    offer: Offer
    request: Request
    bounds: TimeBounds
    placement: Placement
    route_versions: Mapping[str, int]  # of every route the placement changes, when it was made


@dataclass(frozen=True)
class Checkpoint:
    """The plan in force at one moment (:meth:`Dispatcher.checkpoint`), to go back to."""

    plan: Plan
    offers: Mapping[str, _PendingOffer]
    events: tuple[DomainEvent, ...]


class Dispatcher:
    """The live plan of one service area."""

    def __init__(self, vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes, now: int,
                 weights: CostWeights | None = None, repair: RepairOptions | None = None,
                 calendar: LocalCalendar | None = None) -> None:
        self.rules = rules
        self.calendar = calendar  # the service calendar (None: the rules' hours on a synthetic day)
        self.weights = weights or CostWeights()
        self.repair = repair or RepairOptions()  # the bounds of the repair before a refusal
        self.legs = LegTimes(travel)
        self._plan = Plan.empty(self.legs)
        self._offers: dict[str, _PendingOffer] = {}
        self._events: list[DomainEvent] = []
        for vehicle in vehicles:
            self.add_vehicle(vehicle, now)

    @property
    def plan(self) -> Plan:
        """The plan in force (a value: later changes make a new plan)."""
        return self._plan

    def drain_events(self) -> list[DomainEvent]:
        """Hand out the events recorded since the last call."""
        events, self._events = self._events, []
        return events

    def checkpoint(self) -> Checkpoint:
        """The plan as it stands, for :meth:`rollback` when the consequences of the next operation
        cannot be recorded elsewhere (e.g. the database refuses them). Cheap: the plan is a value."""
        return Checkpoint(self._plan, dict(self._offers), tuple(self._events))

    def rollback(self, checkpoint: Checkpoint) -> None:
        """Put the plan back as it was at ``checkpoint``, events and open offers included."""
        self._plan = checkpoint.plan
        self._offers = dict(checkpoint.offers)
        self._events = list(checkpoint.events)

    # ----- fleet ------------------------------------------------------------------------------
    def add_vehicle(self, vehicle: Vehicle, now: int) -> None:
        """Put a vehicle into service at its depot, with its breaks planned."""
        if vehicle.id in self._plan.vehicles:
            raise DispatchError("duplicate_vehicle", f"vehicle {vehicle.id!r} exists already")
        state = VehicleState(vehicle.id, vehicle.depot, max(now, vehicle.shift_start))
        self._plan = self._plan.with_vehicle(vehicle, state)
        breaks = tuple(Stop(f"break:{vehicle.id}:{k}", StopKind.BREAK, b.place(vehicle.depot),
                            b.earliest_start, b.latest_start, b.duration_s)
                       for k, b in enumerate(vehicle.breaks))
        self._set_route(Route(vehicle.id, breaks), now)

    def replace_vehicle(self, vehicle: Vehicle, now: int) -> None:
        """Change a vehicle's capacities, depot, shift or breaks (an operator's edit), keeping its riders;
        its breaks are planned again (:func:`dispatch.breaks.route_for_changed_vehicle`). If the changed
        vehicle cannot keep its route, nothing changes and :class:`DispatchError`
        ``vehicle_change_infeasible`` names the broken rules."""
        plan = self._plan
        state, route, evaluation = route_for_changed_vehicle(
            plan.vehicle(vehicle.id), vehicle, plan.state(vehicle.id), plan.route(vehicle.id), self.legs, now,
            plan.version)
        self._plan = plan.with_vehicle(vehicle, state)
        self._set_route(route, now, evaluation)

    def return_to_service(self, vehicle_id: str, now: int) -> None:
        """A withdrawn vehicle serves again, from where it stands, from ``now`` (its breaks stay planned)."""
        state = self._plan.state(vehicle_id)
        if state.in_service:
            raise DispatchError("already_in_service", f"vehicle {vehicle_id!r} is in service")
        self._plan = self._plan.with_state(
            replace(state, in_service=True, available_at=max(now, state.available_at)))
        self._set_route(self._plan.route(vehicle_id), now)
        self._emit(EventKind.VEHICLE_IN_SERVICE, now, vehicle_id)

    def restore(self, bookings: Sequence[Booking], routes: Mapping[str, Route],
                states: Mapping[str, VehicleState], now: int) -> list[str]:
        """Install a plan saved by another dispatcher (after a restart): the bookings with their
        promises, each vehicle's state and route.

        Only booked and picked-up bookings are installed (ended ones are history). Every route is
        checked by :func:`evaluate_route`; a route that breaks a rule is still installed (its riders
        were promised a trip) and each broken rule is returned, as is every booking its vehicle does
        not serve (:meth:`Plan.check`). An empty list means the plan came back whole and feasible.
        """
        self._plan = self._plan.restored(bookings, states)
        for vehicle_id, route in routes.items():
            if route.vehicle_id != self._plan.known_vehicle(vehicle_id):
                raise DispatchError("route_mismatch",
                                    f"route of {route.vehicle_id!r} given for {vehicle_id!r}")
            self._set_route(route, now)
        return self._plan.check()

    def _set_route(self, route: Route, now: int, evaluation: RouteEvaluation | None = None) -> None:
        self._plan = self._plan.with_route(route, evaluation)
        self._emit(EventKind.ROUTE_CHANGED, now, route.vehicle_id, plan_version=self._plan.version,
                   stops=len(route.stops))

    def _emit(self, kind: EventKind, time: int, /, vehicle_id: str | None = None,
              request_id: str | None = None, **data: Any) -> None:
        self._events.append(DomainEvent(kind, time, vehicle_id, request_id, data))

    def _book(self, booking: Booking) -> None:
        self._plan = self._plan.with_bookings((booking,))

    # ----- riders -----------------------------------------------------------------------------
    def quote(self, request: Request, now: int, with_alternatives: bool = True,
              give_way: Callable[[], bool] | None = None) -> Offer | Rejection:
        """Offer a trip for ``request`` (valid for ``rules.offer_validity_s``), or say why not.

        The offer is the best insertion into the routes in force; when none fits, a bounded repair
        (:mod:`dispatch.repair`, bounds in ``self.repair``) may find a place by moving a few booked riders
        within their promises, which booking then applies; it stops early once ``give_way`` says others wait.
        Only when that fails too is it refused."""
        if request.id in self._plan.booking_table:
            raise DispatchError("duplicate_request", f"request {request.id!r} exists already")
        bounds = check_request(request, now, self.rules, self._plan.vehicles.values(), self.legs,
                               self.calendar)
        placed = None if isinstance(bounds, Rejection) else place_request(
            self._plan, request, bounds, now, self.rules, self.weights, self.repair, give_way)
        if placed is None or isinstance(bounds, Rejection):
            rejection = bounds if isinstance(bounds, Rejection) else Rejection(
                request.id, RejectionCause.NO_VEHICLE_IN_TIME, "no bus can take this trip at that time",
                alternatives(self._plan, request, now, self.rules, self.weights, self.calendar)
                if with_alternatives else ())
            self._emit(EventKind.REQUEST_REJECTED, now, request_id=request.id, cause=rejection.cause.value)
            return rejection
        found, request, bounds = placed  # the request resolved to the places the bus serves
        promise = promise_for(bounds, found.pickup_start, self.rules)
        offer = Offer(request.id, found.vehicle_id, (promise.window_start, promise.window_end),
                      found.pickup_start, found.dropoff_start, promise.latest_dropoff,
                      now + self.rules.offer_validity_s, self._plan.version, found.cost, found.repaired,
                      *((request.pickup_options[0], request.dropoff_options[0]) if request.resolved else ()))
        forget_expired(self._offers, now, lambda pending: pending.offer.valid_until)
        versions = {vid: self._plan.route_versions[vid] for vid in found.routes}
        self._offers[request.id] = _PendingOffer(offer, request, bounds, found, versions)
        moves = dict(repaired=True, routes_changed=sorted(found.routes), bookings_moved=dict(found.moved))
        self._emit(EventKind.OFFER_MADE, now, found.vehicle_id, request.id,
                   **(moves if found.repaired else {}))
        return offer

    def book(self, request_id: str, now: int, give_way: Callable[[], bool] | None = None
             ) -> BookedTrip | Rejection:
        """Book an offer. It is re-validated against the plan in force: a seat is never promised twice.
        An offer that moves booked riders (a repair) changes every route it involves at once, and only if
        none of them changed since the quote and each still passes evaluation; otherwise the place is
        searched again (insertion, then repair) within the offered window. Returns the booking with its
        planned times, the routes changed and the bookings moved, or why the offer can no longer be
        booked."""
        pending = self._offers.pop(request_id, None)
        if pending is None:
            raise DispatchError("unknown_offer", f"no open offer for request {request_id!r}")
        if now > pending.offer.valid_until:
            return Rejection(request_id, RejectionCause.OFFER_EXPIRED, "the offer has expired; ask again")
        offer = pending.offer
        promise = Promise(offer.pickup_window[0], offer.pickup_window[1], pending.bounds.latest_dropoff,
                          pending.bounds.max_ride_s)
        pickup, _ = request_stops(pending.request, pending.bounds, offer.pickup_window, self.rules)
        routes = revalidate(self._plan, pending.placement, pending.route_versions, pickup, now)
        if routes is None:
            found = place(self._plan, pending.request, pending.bounds, offer.pickup_window, now, self.rules,
                          self.weights, self.repair, give_way)
            if found is None:
                return Rejection(request_id, RejectionCause.OFFER_NO_LONGER_FEASIBLE,
                                 "the bus is no longer available for this offer; ask again")
            routes = {vid: (stops, found.evaluations[vid]) for vid, stops in found.routes.items()}
            placement = found
        else:
            placement = pending.placement
        vehicle_id = placement.vehicle_id
        booking = Booking(pending.request, pending.bounds, promise, RequestStatus.BOOKED, vehicle_id)
        table = self._plan.booking_table
        self._plan = self._plan.with_bookings(
            (booking, *(replace(table[rid], vehicle_id=vid) for rid, vid in placement.moved.items())))
        for vid, (stops, evaluation) in routes.items():
            self._set_route(replace(self._plan.routes[vid], stops=stops), now, evaluation)
        window = list(offer.pickup_window)
        moves = dict(routes_changed=sorted(routes), bookings_moved=dict(placement.moved))
        self._emit(EventKind.BOOKING_CONFIRMED, now, vehicle_id, request_id, window=window,
                   **(moves if placement.repaired else {}))
        stops, evaluation = routes[vehicle_id]
        pickup_index, dropoff_index = (k for k, s in enumerate(stops) if s.request_id == request_id)
        times = PlannedTimes(vehicle_id, evaluation.start[pickup_index], evaluation.start[dropoff_index])
        return BookedTrip(booking, times, self._plan.version, tuple(sorted(routes)), dict(placement.moved))

    def cancel(self, request_id: str, now: int) -> None:
        """A rider cancels a booking that has not been picked up."""
        booking = self._plan.booking(request_id)
        if booking.status is not RequestStatus.BOOKED:
            raise DispatchError("not_cancellable", f"booking {request_id!r} is {booking.status.value}")
        self._remove_stops(booking.vehicle_id, request_id, now)
        self._book(replace(booking, status=RequestStatus.CANCELLED, vehicle_id=None))
        self._emit(EventKind.BOOKING_CANCELLED, now, booking.vehicle_id, request_id)

    def _remove_stops(self, vehicle_id: str | None, request_id: str, now: int) -> None:
        """Take a request's stops out of its bus's route (:meth:`Plan.route_without`)."""
        if vehicle_id is not None:
            self._set_route(self._plan.route_without(vehicle_id, request_id), now)

    # ----- drivers ----------------------------------------------------------------------------
    def _next_stop(self, vehicle_id: str) -> Stop:
        route = self._plan.route(vehicle_id)
        if not route.stops:
            raise DispatchError("no_next_stop", f"vehicle {vehicle_id!r} has no stop to serve")
        return route.stops[0]

    def vehicle_position(self, vehicle_id: str, location: int, at: int, *, retiming: bool = True) -> None:
        """The vehicle reports where it is (or the next node it will reach, and when), and the plan is
        re-timed from there (:meth:`retime`; ``retiming=False``: not yet, e.g. while a plan loaded from the
        database is put back where its buses were). A report of the place and time it is known at already
        changes nothing (its plan stays computed)."""
        state = self._plan.state(vehicle_id)
        if (state.location, state.available_at) == (location, at):
            return
        self._plan = self._plan.with_state(replace(state, location=location, available_at=at))
        self._emit(EventKind.VEHICLE_MOVED, at, vehicle_id, location=location)
        if retiming:
            self.retime(vehicle_id, at)

    def retime(self, vehicle_id: str, now: int) -> Retiming:
        """Re-time the plan from the vehicle's reported state (every report of the bus does): riders whose
        promise it can no longer keep move to another bus or place that keeps it, or get a new promise at
        once — a ``promise_changed`` event each (:func:`dispatch.disturbance.retime`)."""
        retiming = retime(self._plan, vehicle_id, self.rules)
        self._plan = self._plan.with_bookings(retiming.bookings)
        for vid, (stops, evaluation) in retiming.routes.items():
            self._set_route(replace(self._plan.routes[vid], stops=stops), now, evaluation)
        for change in retiming.promises:
            promise = change.booking.promise
            self._emit(EventKind.PROMISE_CHANGED, now, change.booking.vehicle_id, change.booking.request.id,
                       window=[promise.window_start, promise.window_end],
                       latest_dropoff=promise.latest_dropoff,
                       previous_window=[change.previous.window_start, change.previous.window_end],
                       previous_latest_dropoff=change.previous.latest_dropoff,
                       planned_pickup=change.planned_pickup, estimated_dropoff=change.estimated_dropoff)
        return retiming

    def depart(self, vehicle_id: str, now: int) -> None:
        """The vehicle has left for its next stop: nothing may be put before that stop any more."""
        self._next_stop(vehicle_id)
        route = self._plan.routes[vehicle_id]
        self._set_route(replace(route, committed=max(1, route.committed)), now)

    def arrive(self, vehicle_id: str, now: int) -> Stop:
        """The vehicle arrived at its next stop: the stop is committed and the vehicle stands there."""
        stop = self._next_stop(vehicle_id)
        self._plan = self._plan.with_state(replace(self._plan.states[vehicle_id], location=stop.location,
                                                   available_at=now))
        route = self._plan.routes[vehicle_id]
        self._set_route(replace(route, committed=max(1, route.committed)), now)
        self._emit(EventKind.VEHICLE_ARRIVED, now, vehicle_id, stop.request_id, kind=stop.kind.value)
        self.retime(vehicle_id, now)
        return stop

    def _serve_next(self, vehicle_id: str, request_id: str, kind: StopKind, now: int) -> Stop:
        stop = self._next_stop(vehicle_id)
        if stop.request_id != request_id or stop.kind is not kind:
            raise DispatchError("not_next_stop", f"the next stop of {vehicle_id!r} is the "
                                                 f"{stop.kind.value} of {stop.request_id!r}")
        route, state = self._plan.routes[vehicle_id], self._plan.states[vehicle_id]
        onboard = state.onboard
        if kind is StopKind.PICKUP:
            onboard = (*onboard, OnboardRider(request_id, stop.seats, stop.wheelchairs, now))
        elif kind is StopKind.DROPOFF:
            onboard = tuple(r for r in onboard if r.request_id != request_id)
        self._plan = self._plan.with_state(
            replace(state, location=stop.location, available_at=now, onboard=onboard))
        self._set_route(replace(route, stops=route.stops[1:], committed=0), now)
        return stop

    def pick_up(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider boarded; the vehicle leaves the stop at ``now``."""
        self._serve_next(vehicle_id, request_id, StopKind.PICKUP, now)
        self._book(replace(self._plan.booking(request_id), status=RequestStatus.PICKED_UP))
        self._emit(EventKind.RIDER_PICKED_UP, now, vehicle_id, request_id)
        self.retime(vehicle_id, now)

    def drop_off(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider alighted; the vehicle leaves the stop at ``now``."""
        self._serve_next(vehicle_id, request_id, StopKind.DROPOFF, now)
        self._book(replace(self._plan.booking(request_id), status=RequestStatus.COMPLETED))
        self._emit(EventKind.RIDER_DROPPED_OFF, now, vehicle_id, request_id)
        self.retime(vehicle_id, now)

    def finish_break(self, vehicle_id: str, now: int) -> None:
        """The driver's break at the head of the route is over."""
        stop = self._next_stop(vehicle_id)
        self._serve_next(vehicle_id, stop.request_id, StopKind.BREAK, now)
        self.retime(vehicle_id, now)

    def no_show(self, vehicle_id: str, request_id: str, now: int) -> None:
        """The rider did not come: allowed once the bus has waited ``no_show_wait_s`` into the window, or less
        when the stops after it cannot absorb that wait (:func:`dispatch.disturbance.no_show_wait`)."""
        stop = self._next_stop(vehicle_id)
        if stop.request_id != request_id or stop.kind is not StopKind.PICKUP:
            raise DispatchError("not_next_stop", f"{request_id!r} is not the next pickup of {vehicle_id!r}")
        state = self._plan.states[vehicle_id]
        wait = no_show_wait(self._plan, vehicle_id, self.rules)
        allowed_from = max(stop.earliest, state.available_at) + wait
        if now < allowed_from:
            raise DispatchError(
                "too_early_for_no_show",
                f"wait until {allowed_from} before reporting a no-show ({allowed_from - now} s)")
        self._plan = self._plan.with_state(replace(state, location=stop.location, available_at=now))
        self._remove_stops(vehicle_id, request_id, now)
        self._book(replace(self._plan.booking(request_id), status=RequestStatus.NO_SHOW))
        self._emit(EventKind.RIDER_NO_SHOW, now, vehicle_id, request_id)
        self.retime(vehicle_id, now)

    def take_out_of_service(self, vehicle_id: str, now: int) -> list[Rejection]:
        """A vehicle breaks down or is withdrawn: its riders are re-planned onto other vehicles.

        Riders waiting for it keep their promised windows if another bus can keep them; riders on
        board get a new pickup where the vehicle stands. Those nobody can take are returned as
        rejections (cause ``vehicle_out_of_service``), their bookings end and the plan lists them as
        unserved.
        """
        state, route = self._plan.state(vehicle_id), self._plan.routes[vehicle_id]
        self._plan = self._plan.with_state(replace(state, in_service=False, onboard=()))
        self._set_route(replace(route, stops=tuple(s for s in route.stops if s.kind is StopKind.BREAK),
                                committed=0), now)
        self._emit(EventKind.VEHICLE_OUT_OF_SERVICE, now, vehicle_id)
        moved, refused = replan_riders(self._plan, state, route, now, self.rules, self.weights)
        for booking, stops in moved:
            assert booking.vehicle_id is not None, "a re-planned rider has a bus"
            self._book(booking)
            self._set_route(replace(self._plan.routes[booking.vehicle_id], stops=stops), now)
        rejections = [rejection for _, rejection in refused]
        self._plan = self._plan.with_bookings((booking for booking, _ in refused), rejections)
        return rejections

    # ----- operators' manual control (dispatch.manual) -----------------------------------------
    def move_booking(self, request_id: str, vehicle_id: str, now: int, *, pin: bool = False) -> Booking:
        """Move a booking not yet picked up to ``vehicle_id`` (pinned there with ``pin``), keeping its
        promise; :class:`~dispatch.manual.ControlRefused` names the rule its best place there breaks."""
        moved = manual.move_booking(self._plan, request_id, vehicle_id, now, pin=pin)
        self._book(moved.booking)
        for route, evaluation in moved.routes.values():
            self._set_route(route, now, evaluation)
        return moved.booking

    def pin_booking(self, request_id: str, now: int, *, pinned: bool = True) -> None:
        """Pin a booking to its bus (``pinned=False``: unpin it): nothing automatic moves it to another."""
        route = manual.pin_booking(self._plan, request_id, pinned)
        if route != self._plan.routes[route.vehicle_id]:
            self._set_route(route, now, self._plan.evaluation(route.vehicle_id))

    def lock_route(self, vehicle_id: str, lock: RouteLock, now: int) -> None:
        """Lock a route's order as ``lock`` (``RouteLock.NONE``: unlock it)."""
        route = manual.set_lock(self._plan, vehicle_id, lock)
        if route != self._plan.routes[vehicle_id]:
            self._set_route(route, now, self._plan.evaluation(vehicle_id))

    def add_break(self, vehicle_id: str, pause: Break, now: int, *, move_riders: bool = False
                  ) -> tuple[Booking, ...]:
        """Add an ad-hoc break to a bus's shift at its best feasible place; with ``move_riders`` the riders
        whose promise it would break go to other buses. Returns their bookings as they become."""
        placed = manual.add_break(self._plan, vehicle_id, pause, now, move_riders=move_riders)
        vehicle = self._plan.vehicle(vehicle_id)
        breaks = tuple(sorted((*vehicle.breaks, pause), key=lambda b: b.earliest_start))
        self._plan = self._plan.with_vehicle(replace(vehicle, breaks=breaks), self._plan.states[vehicle_id])
        self._plan = self._plan.with_bookings(placed.moved)
        for route, evaluation in placed.routes.values():
            self._set_route(route, now, evaluation)
        return placed.moved

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
            self._emit(EventKind.PLAN_REOPTIMIZED, now, applied=False, reason=str(error))
            return None
        return self.apply_reoptimization(job, solution, now)

    def prepare_reoptimization(self) -> ReoptimizationJob:
        """The plan in force as a solver problem, stamped with the plan version. Solve it with
        :func:`dispatch.reoptimize.solve_prepared` or :func:`~dispatch.reoptimize.solve_round` — on another
        thread or process if need be: it reads nothing of the dispatcher — and hand the solution to
        :meth:`apply_reoptimization`.

        A late route does not stop it (:func:`dispatch.reoptimize.prepare` relaxes its broken bounds)."""
        routes, _ = self._plan.vehicle_routes()
        return ReoptimizationJob(prepare(routes, self.legs), self._plan.version)

    def apply_reoptimization(self, job: ReoptimizationJob, solution: PdptwSolution, now: int
                             ) -> OptimizedPlan | None:
        """Apply ``solution`` of ``job`` if it passes :func:`dispatch.reoptimize.verify_answer` against the
        plan in force — rebased onto it if the plan changed since the job was prepared (bookings,
        cancellations, buses that moved on), every route evaluated against the promises from where its bus
        is now: promises are never loosened — and drives no more than the plan in force.

        Returns the applied plan, or None when the plan in force was kept (the reason is in the
        ``plan_reoptimized`` event)."""
        result = verify_answer(self._plan, job, solution)
        if isinstance(result, str):
            self._emit(EventKind.PLAN_REOPTIMIZED, now, applied=False, reason=result)
            return None
        rebased = job.plan_version != self._plan.version
        applied = result.drive_s_after <= result.drive_s_before
        if applied:
            self._apply(result, now)
        self._emit(EventKind.PLAN_REOPTIMIZED, now, applied=applied, drive_s_before=result.drive_s_before,
                   drive_s_after=result.drive_s_after, rebased=rebased)
        return result if applied else None

    def _apply(self, result: OptimizedPlan, now: int) -> None:
        moved = []
        for vehicle_id, stops in result.stops.items():
            route = self._plan.routes[vehicle_id]
            if stops != route.stops:
                self._set_route(replace(route, stops=stops), now, result.evaluations[vehicle_id])
            for stop in stops:
                booking = self._plan.booking_table.get(stop.request_id)
                if booking is not None and booking.vehicle_id != vehicle_id:
                    moved.append(replace(booking, vehicle_id=vehicle_id))
        if moved:
            self._plan = self._plan.with_bookings(moved)

    def adopt(self, result: OptimizedPlan | None, bookings: Sequence[Booking], unserved: Sequence[Rejection],
              now: int) -> None:
        """Put in force an optimizer's plan of the routes in force plus new requests, with the bookings of
        the new requests it serves, and record ``unserved`` (see :func:`dispatch.batch.plan_batch`, which
        checks the requests and promises the windows)."""
        if result is not None:
            self._apply(result, now)
        self._plan = self._plan.with_bookings(bookings, unserved)
        for booking in bookings:
            self._emit(EventKind.BOOKING_CONFIRMED, now, booking.vehicle_id, booking.request.id,
                       window=[booking.promise.window_start, booking.promise.window_end])
