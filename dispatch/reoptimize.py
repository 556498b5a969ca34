"""The slow path: re-optimize the plan in force, and accept only what evaluation accepts.

The routes in force become a :class:`PdptwProblem`: each vehicle starts where it is (after its
committed stops) at the time it is free, ends at its depot by its shift end, and carries its riders
on board, whom only it may drop off. Booked riders keep their promised pickup window, latest arrival
and maximum ride time; breaks stay with their vehicle, at the depot, with nobody on board. The
current routes warm-start the search, so the answer is never worse than the plan in force. Short
budgets (live re-optimization) go to the OR-Tools adapter alone; budgets of ``LNS_MIN_BUDGET_S`` or
more (batch planning) to the large-neighbourhood search of :mod:`dispatch.improve`, which wraps the
same adapter (:func:`solver_for`).
Live re-optimization (the service's background rounds and the simulator alike) follows one
:class:`ReoptimizationPolicy`: every ``every_s`` seconds a round of ``iterations`` ruin-and-recreate
iterations of the large-neighbourhood search (:meth:`dispatch.improve.LnsSolver.improve`, :func:`solve_round`)
starts from the plan in force. A round's answer may arrive after the plan changed (a booking, a
cancellation, a bus that moved on); :func:`rebase` then carries the answer over to the plan now in force
instead of throwing it away, and :func:`verify_answer` decides whether the answer replaces that plan.
New requests (batch mode, e.g. tomorrow's pre-bookings) are optional: those the solver cannot fit
come back unserved. Every route of the answer is checked with :func:`evaluate_route` before it is
returned; a plan that fails is never applied. Evaluation schedules every stop as early as possible;
where the solver delays a pickup to keep someone's ride short, that pickup is held to the solver's
time (its ``earliest`` is raised, still inside the promised window).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from dispatch.disturbance import relax_late_routes
from dispatch.evaluation import RouteEvaluation, ViolationKind, evaluate_route
from dispatch.improve import LnsSolver
from dispatch.insertion import VehicleRoute, best_insertion
from dispatch.manual import control_broken
from dispatch.model import OnboardRider, RouteLock, Stop, StopKind
from dispatch.ortools_adapter import OrToolsSolver
from dispatch.pdptw import (
    PdptwProblem,
    PdptwSolution,
    PdptwSolver,
    RequestSpec,
    SearchBudget,
    SolveFailedError,
    VehicleSpec,
    Visit,
)
from dispatch.plan import Plan
from dispatch.travel import LegTimes

UNSERVED_PENALTY_S = 24 * 3600  # leaving a new request out costs more than any detour
LNS_MIN_BUDGET_S = 5.0  # from this budget on, ruin-and-recreate rounds around OR-Tools pay off
NO_BETTER_PLAN = "the optimizer found no better plan"  # the reason an answer that changes no route is kept


@dataclass(frozen=True)
class ReoptimizationPolicy:
    """How the plan in force is re-optimized while the service runs: one policy, read by the live service
    (:mod:`api.settings` defaults to it) and by the simulator (:class:`simulation.engine.SimulationConfig`).

    ``every_s``: seconds from the start of one round to the start of the next (simulated seconds in the
    simulator; 0: never). ``iterations``: ruin-and-recreate iterations of one round — a fixed count, so
    a round does the same work live and simulated, and repeats exactly for its seed. ``budget_s``: the
    wall-time cap of a live round (a slow machine ends a round early); the simulator applies each round's
    answer this many simulated seconds after the round started, as the live service would at worst, so
    its answers are rebased onto a plan that changed meanwhile as live ones are.
    """

    every_s: float = 600.0
    iterations: int = 200
    budget_s: float = 60.0

    def __post_init__(self) -> None:
        if self.every_s < 0 or self.iterations < 1 or not self.budget_s > 0:
            raise ValueError("every_s must not be negative, iterations and budget_s must be positive")


@dataclass(frozen=True)
class NewRequest:
    """A request that is not yet in any route: its two stops, with the bounds it must keep."""

    pickup: Stop
    dropoff: Stop


@dataclass(frozen=True)
class OptimizedPlan:
    """The optimizer's outcome, already checked by route evaluation."""

    stops: dict[str, tuple[Stop, ...]]  # vehicle id -> its new stops (committed prefix included)
    evaluations: dict[str, RouteEvaluation]
    unserved: tuple[str, ...]  # ids of new requests left out
    drive_s_before: int
    drive_s_after: int
    status: str
    seconds: float


class PlanRejectedError(RuntimeError):
    """The optimizer's answer failed route evaluation or lost a request; the plan in force stays."""


@dataclass
class _Builder:
    """Collects locations, visits and requests while translating routes into a problem."""

    locations: dict[int, int]
    visits: list[Visit]
    stops: list[Stop]
    requests: list[RequestSpec]

    def location(self, node: int) -> int:
        return self.locations.setdefault(node, len(self.locations))

    def visit(self, stop: Stop, latest: int | None = None) -> int:
        sign = -1 if stop.kind is StopKind.DROPOFF else 1
        self.visits.append(Visit(self.location(stop.location), stop.earliest,
                                 stop.latest if latest is None else latest, stop.service_s,
                                 (sign * stop.seats, sign * stop.wheelchairs),
                                 require_empty=stop.kind is StopKind.BREAK))
        self.stops.append(stop)
        return len(self.visits) - 1


def _after_committed(route: VehicleRoute, evaluation: RouteEvaluation) -> tuple[int, int, list[OnboardRider]]:
    """Where and when the vehicle is free after its committed stops, and who is then on board."""
    location, time = route.state.location, route.state.available_at
    onboard = list(route.state.onboard)
    for k in range(route.committed):
        stop = route.stops[k]
        location, time = stop.location, evaluation.departure[k]
        if stop.kind is StopKind.PICKUP:
            onboard.append(OnboardRider(stop.request_id, stop.seats, stop.wheelchairs, time))
        elif stop.kind is StopKind.DROPOFF:
            onboard = [r for r in onboard if r.request_id != stop.request_id]
    return location, time, onboard


def build_problem(routes: Sequence[VehicleRoute], evaluations: Sequence[RouteEvaluation],
                  unplaced: Sequence[NewRequest], optional: set[str], legs: LegTimes
                  ) -> tuple[PdptwProblem, list[Stop], list[list[int]], list[str]]:
    """Translate routes into a problem, its visits' stops, and the warm start (the routes' order).

    Requests whose id is in ``optional`` may be left out (at a penalty); ``unplaced`` requests are in
    no route yet and are optional too.
    """
    builder = _Builder({}, [], [], [])
    vehicles, initial = [], []
    request_ids: list[str] = []
    for v, (route, evaluation) in enumerate(zip(routes, evaluations, strict=True)):
        location, time, onboard = _after_committed(route, evaluation)
        boarded = {r.request_id: r.departed_pickup_at for r in onboard}
        pickups: dict[str, int] = {}
        order = []
        for stop in route.stops[route.committed:]:
            if stop.kind is StopKind.PICKUP:
                pickups[stop.request_id] = builder.visit(stop)
                order.append(pickups[stop.request_id])
            elif stop.kind is StopKind.DROPOFF and stop.request_id in pickups:
                index = builder.visit(stop)
                penalty = UNSERVED_PENALTY_S if stop.request_id in optional else None
                bus = v if stop.request_id in route.pinned else None  # an operator's pin
                builder.requests.append(RequestSpec(pickups.pop(stop.request_id), index, stop.max_ride_s,
                                                    vehicle=bus, drop_penalty=penalty))
                request_ids.append(stop.request_id)
                order.append(index)
            else:  # a rider on board, or a break: only this vehicle can serve it
                latest = None
                if stop.kind is StopKind.DROPOFF:
                    latest = min(stop.latest, boarded[stop.request_id] + stop.max_ride_s)
                index = builder.visit(stop, latest)
                builder.requests.append(RequestSpec(None, index, None, vehicle=v))
                request_ids.append(stop.request_id)
                order.append(index)
        initial.append(order)
        vehicle = route.vehicle
        end_latest = vehicle.shift_end
        if not route.takes_riders:  # closed by an operator: back to the depot from its last stop, no detour
            end_latest = min(end_latest, time + legs.seconds(location, vehicle.depot))
        vehicles.append(VehicleSpec(
            start_location=builder.location(location), start_time=time,
            end_location=builder.location(vehicle.depot), end_latest=end_latest,
            capacity=vehicle.capacity,
            initial_load=(sum(r.seats for r in onboard), sum(r.wheelchairs for r in onboard))))
    for new in unplaced:
        pickup, dropoff = builder.visit(new.pickup), builder.visit(new.dropoff)
        builder.requests.append(RequestSpec(pickup, dropoff, new.dropoff.max_ride_s,
                                            drop_penalty=UNSERVED_PENALTY_S))
        request_ids.append(new.pickup.request_id)
    nodes = list(builder.locations)
    seconds = legs.source.matrix(nodes, nodes).seconds
    problem = PdptwProblem(seconds, seconds, tuple(builder.visits), tuple(vehicles), tuple(builder.requests))
    return problem, builder.stops, initial, request_ids


def _insert_greedily(routes: list[VehicleRoute], new_requests: Sequence[NewRequest], legs: LegTimes
                     ) -> list[NewRequest]:
    """Insert each new request at its best place (in order) into ``routes``; return those that fit nowhere."""
    unplaced = []
    for new in new_requests:
        found = best_insertion(routes, new.pickup, new.dropoff, legs)
        if found is None:
            unplaced.append(new)
            continue
        routes[:] = [replace(r, stops=found.stops) if r.vehicle.id == found.vehicle_id else r for r in routes]
    return unplaced


@dataclass(frozen=True)
class PreparedProblem:
    """The plan in force as a solver problem, with what it takes to turn a solution back into routes.

    Built from the plan (:func:`prepare`), solved on its own (:func:`solve_prepared`: it touches only the
    problem's matrices, so it may run on another thread while the plan serves riders), and turned into a
    verified plan (:func:`finish`)."""

    routes: tuple[VehicleRoute, ...]  # the routes in force, new requests greedily inserted
    problem: PdptwProblem
    stops: tuple[Stop, ...]  # visit index -> stop
    initial: list[list[int]]
    request_ids: tuple[str, ...]
    drive_s_before: int
    kept: frozenset[str]  # requests of the routes in force: the answer must keep every one


@dataclass(frozen=True)
class ReoptimizationJob:
    """A re-optimization under way: the problem made of the plan, and the plan version it was made of."""

    prepared: PreparedProblem
    plan_version: int


def prepare(routes: Sequence[VehicleRoute], legs: LegTimes, new_requests: Sequence[NewRequest] = ()
            ) -> PreparedProblem:
    """The problem that re-optimizes ``routes`` (and fits ``new_requests``), warm-started from them.

    An operator's pins and locks hold (:mod:`dispatch.manual`): a pinned rider may be served by its bus
    only, a locked route is kept whole (as if every stop were committed), a closed one gets nothing new.
    A route of the plan in force that already breaks a time rule (a bus running late that was not
    re-timed, :mod:`dispatch.disturbance`) does not stop the round: its broken bounds are relaxed to what it
    achieves now (:func:`~dispatch.disturbance.relax_late_routes`), so the answer makes nobody later than
    the plan in force does, and every other bound stays.
    """
    before = [evaluate_route(r.vehicle, r.state, r.stops, legs) for r in routes]
    scratch = [replace(r, committed=len(r.stops)) if r.lock is not RouteLock.NONE else r  # an operator's
               for r in relax_late_routes(routes, before)]  # locked order: the optimizer keeps all of it
    unplaced = _insert_greedily(scratch, new_requests, legs)
    evaluations = [evaluate_route(r.vehicle, r.state, r.stops, legs) for r in scratch]
    optional = {new.pickup.request_id for new in new_requests}
    problem, stops, initial, request_ids = build_problem(scratch, evaluations, unplaced, optional, legs)
    kept = frozenset(stop.request_id for route in routes for stop in route.stops)
    return PreparedProblem(tuple(scratch), problem, tuple(stops), initial, tuple(request_ids),
                           sum(e.drive_s for e in before), kept)


def solver_for(budget: SearchBudget) -> PdptwSolver:
    """The solver for ``budget``: the large-neighbourhood search from ``LNS_MIN_BUDGET_S`` on, else OR-Tools
    alone."""
    return LnsSolver() if budget.time_limit_s >= LNS_MIN_BUDGET_S else OrToolsSolver()


def solve_prepared(prepared: PreparedProblem, budget: SearchBudget) -> PdptwSolution:
    """Solve ``prepared`` within ``budget`` with :func:`solver_for` the budget.

    A budget with a solution limit is a search that repeats exactly (simulations use it): OR-Tools
    descends greedily until it has found that many solutions or reaches a local optimum, or the time is
    up (see :mod:`dispatch.ortools_adapter`).
    Raises :class:`PlanRejectedError` when the solver finds nothing."""
    return solve_problem(prepared.problem, prepared.initial, budget)


def solve_problem(problem: PdptwProblem, initial: Sequence[Sequence[int]] | None, budget: SearchBudget
                  ) -> PdptwSolution:
    """:func:`solve_prepared` on the parts of a prepared problem the search needs (plain, picklable values:
    another process may run it)."""
    try:
        return solver_for(budget).solve(problem, budget, initial)
    except SolveFailedError as error:
        raise PlanRejectedError(str(error)) from error


def solve_round(problem: PdptwProblem, initial: Sequence[Sequence[int]], policy: ReoptimizationPolicy,
                seed: int = 0) -> PdptwSolution:
    """One round of live re-optimization: :meth:`LnsSolver.improve` for the policy's iterations from the
    plan in force (``initial``), capped at its ``budget_s``; repeats exactly for ``seed`` unless capped.
    Plain, picklable values: the service's solver process runs it.

    Raises :class:`PlanRejectedError` when the search cannot start from the plan in force."""
    try:
        return LnsSolver().improve(problem, initial, policy.iterations, seed, policy.budget_s)
    except SolveFailedError as error:
        raise PlanRejectedError(str(error)) from error


def rebase(solved: Mapping[str, Sequence[Stop]], solved_from: Sequence[VehicleRoute],
           routes: Sequence[VehicleRoute], legs: LegTimes) -> dict[str, tuple[Stop, ...]]:
    """Carry an optimizer's routes ``solved`` (found for the routes ``solved_from``) over to the routes in
    force now, ``routes`` (in-service vehicles), which changed meanwhile.

    Each bus keeps its committed stops and then serves, in the order of ``solved``, the stops it was
    given there that are still to serve now; served and cancelled requests drop out. A rider on board,
    a request whose pickup is committed and a break stay with the bus they are on now; where ``solved``
    put them elsewhere, their stops go to the cheapest feasible place on that bus — and if there is none,
    that bus keeps its route in force, and the requests on it stay with it. Requests ``solved`` does not
    hold for the bus that gets them (booked meanwhile, on a bus that left or joined service, displaced by
    a bus that kept its route) are placed by best insertion. A stop that changed meanwhile (a stranded
    rider's new pickup) is taken as it is now; one that did not is taken from ``solved`` (the optimizer
    may have held a pickup later in its window). The routes returned are only candidates: the caller
    evaluates each from where its bus is now.

    Raises :class:`PlanRejectedError` naming the request that fits nowhere any more.
    """
    kept = {r.vehicle.id for r in routes if r.lock is not RouteLock.NONE}  # locked by an operator
    while True:
        try:
            return _rebase(solved, solved_from, routes, legs, kept)
        except _KeepRoute as conflict:
            if conflict.vehicle_id in kept:
                raise PlanRejectedError(str(conflict)) from conflict
            kept.add(conflict.vehicle_id)


class _KeepRoute(PlanRejectedError):
    """A rider who must stay on a bus does not fit into the bus's rebased route."""

    def __init__(self, vehicle_id: str, message: str) -> None:
        super().__init__(message)
        self.vehicle_id = vehicle_id


def _rebase(solved: Mapping[str, Sequence[Stop]], solved_from: Sequence[VehicleRoute],
            routes: Sequence[VehicleRoute], legs: LegTimes, kept: set[str]) -> dict[str, tuple[Stop, ...]]:
    """:func:`rebase`, with the buses of ``kept`` keeping their routes in force."""
    before = {(s.request_id, s.kind): s for r in solved_from for s in r.stops}
    now_stops: dict[tuple[str, StopKind], Stop] = {}
    owner: dict[tuple[str, StopKind], str] = {}
    pinned: dict[str, str] = {}  # request -> the bus it must stay on
    for route in routes:
        vid = route.vehicle.id
        pinned.update((r.request_id, vid) for r in route.state.onboard)
        pinned.update((s.request_id, vid) for s in route.stops[:route.committed])
        for stop in route.stops[route.committed:]:
            now_stops[(stop.request_id, stop.kind)] = stop
            owner[(stop.request_id, stop.kind)] = vid
            if stop.kind is StopKind.BREAK or vid in kept or stop.request_id in route.pinned:
                pinned[stop.request_id] = vid
    placed: set[tuple[str, StopKind]] = set()
    scratch: list[VehicleRoute] = []
    for route in routes:
        vid = route.vehicle.id
        if vid in kept:
            scratch.append(route)
            placed.update((s.request_id, s.kind) for s in route.stops[route.committed:])
            continue
        sequence = list(route.stops[:route.committed])
        for stop in solved.get(vid, ()):
            key = (stop.request_id, stop.kind)
            if key not in now_stops or key in placed or pinned.get(stop.request_id, vid) != vid:
                continue
            current = now_stops[key]
            sequence.append(stop if before.get(key) == current else current)
            placed.add(key)
        scratch.append(replace(route, stops=tuple(sequence)))
    missing = [key for key in now_stops if key not in placed]
    if not missing:
        return {r.vehicle.id: r.stops for r in scratch}
    index = {r.vehicle.id: k for k, r in enumerate(scratch)}
    for key in [k for k in missing if k[0] in pinned]:  # stays on its bus: cheapest feasible place there
        k = index[pinned[key[0]]]
        stops = _insert_stop(scratch[k], now_stops[key], legs)
        if stops is None:
            raise _KeepRoute(pinned[key[0]], f"{key[0]} ({key[1].value}) no longer fits on {pinned[key[0]]}")
        scratch[k] = replace(scratch[k], stops=stops)
    for route in scratch:  # best insertion needs feasible routes
        evaluation = evaluate_route(route.vehicle, route.state, route.stops, legs)
        if not evaluation.feasible:
            raise PlanRejectedError(f"vehicle {route.vehicle.id}: {evaluation.violations[0].message}")
    for request_id in dict.fromkeys(k[0] for k in missing if k[0] not in pinned):
        pickup, dropoff = now_stops[(request_id, StopKind.PICKUP)], now_stops[(request_id, StopKind.DROPOFF)]
        found = best_insertion(scratch, pickup, dropoff, legs)
        if found is None:
            raise PlanRejectedError(f"{request_id} (on {owner[(request_id, StopKind.PICKUP)]} now) fits "
                                    "nowhere in the optimizer's plan")
        k = index[found.vehicle_id]
        scratch[k] = replace(scratch[k], stops=found.stops)
    return {r.vehicle.id: r.stops for r in scratch}


def _insert_stop(route: VehicleRoute, stop: Stop, legs: LegTimes) -> tuple[Stop, ...] | None:
    """``route``'s stops with ``stop`` at its cheapest feasible place after the committed stops (a drop-off
    after its pickup), or None."""
    stops = route.stops
    first = route.committed
    if stop.kind is StopKind.DROPOFF:
        first = max([first] + [k + 1 for k, s in enumerate(stops)
                               if s.request_id == stop.request_id and s.kind is StopKind.PICKUP])
    best: tuple[int, tuple[Stop, ...]] | None = None
    for k in range(first, len(stops) + 1):
        trial = (*stops[:k], stop, *stops[k:])
        evaluation = evaluate_route(route.vehicle, route.state, trial, legs)
        if evaluation.feasible and (best is None or evaluation.drive_s < best[0]):
            best = (evaluation.drive_s, trial)
    return None if best is None else best[1]


def finish(prepared: PreparedProblem, solution: PdptwSolution, legs: LegTimes) -> OptimizedPlan:
    """The routes ``solution`` stands for, each checked by route evaluation.

    Raises :class:`PlanRejectedError` when a route breaks a rule or a request of the plan is lost."""
    stops = prepared.stops
    new_stops: dict[str, tuple[Stop, ...]] = {}
    new_evaluations: dict[str, RouteEvaluation] = {}
    for solved in solution.routes:
        route = prepared.routes[solved.vehicle]
        sequence = (*route.stops[:route.committed], *(stops[p.visit] for p in solved.visits))
        evaluation = evaluate_route(route.vehicle, route.state, sequence, legs)
        if not evaluation.feasible:
            # The solver may delay a pickup to shorten someone's ride: hold those pickups to its times.
            held = tuple(replace(stops[p.visit], earliest=max(stops[p.visit].earliest, p.time))
                         if stops[p.visit].kind is StopKind.PICKUP else stops[p.visit] for p in solved.visits)
            sequence = (*route.stops[:route.committed], *held)
            evaluation = evaluate_route(route.vehicle, route.state, sequence, legs)
        if not evaluation.feasible:
            raise PlanRejectedError(f"vehicle {route.vehicle.id}: {evaluation.violations[0].message}")
        new_stops[route.vehicle.id] = sequence
        new_evaluations[route.vehicle.id] = evaluation
    broken = control_broken(prepared.routes, new_stops)
    if broken is not None:
        raise PlanRejectedError(broken)
    unserved = tuple(prepared.request_ids[r] for r in solution.unserved)
    kept = {s.request_id for seq in new_stops.values() for s in seq}
    if not prepared.kept <= kept or kept & set(unserved):
        raise PlanRejectedError(f"the optimizer lost requests {sorted(prepared.kept - kept)}")
    return OptimizedPlan(new_stops, new_evaluations, unserved, prepared.drive_s_before,
                         sum(e.drive_s for e in new_evaluations.values()), solution.status, solution.seconds)


def verify_answer(plan: Plan, job: ReoptimizationJob, solution: PdptwSolution) -> OptimizedPlan | str:
    """The answer ``solution`` to ``job`` checked against ``plan``, the plan in force: the routes it
    stands for (:func:`finish`), rebased onto ``plan`` if the plan changed since the job was prepared
    (:func:`rebase`), each evaluated from where its bus is now against the promised windows, latest
    arrivals and ride times, with the drive time of the plan in force and of the answer. The caller applies
    it if it drives no more than the plan in force.

    Returns the reason the plan in force is kept instead: a route that breaks a rule, a request lost or
    fitting nowhere any more, or an answer that changes no route."""
    try:
        result = finish(job.prepared, solution, plan.legs)
    except PlanRejectedError as error:
        return str(error)
    stops = result.stops
    if job.plan_version != plan.version:
        try:
            stops = rebase(result.stops, job.prepared.routes, plan.vehicle_routes()[0], plan.legs)
        except PlanRejectedError as error:
            return f"the plan changed while the optimizer ran and its answer does not fit it: {error}"
        broken_control = control_broken(plan.vehicle_routes()[0], stops)  # pinned or locked meanwhile
        if broken_control is not None:
            return f"the plan changed while the optimizer ran and its answer breaks {broken_control}"
    evaluations = {vid: plan.evaluate(vid, s) for vid, s in stops.items()}
    broken = next((vid for vid, e in evaluations.items() if not _keeps_rules(plan, vid, e)), None)
    if broken is not None:  # a bus moved, or a booking came, while the optimizer ran
        return f"vehicle {broken}: {evaluations[broken].violations[0].message}"
    if stops == {vid: plan.routes[vid].stops for vid in stops}:
        return NO_BETTER_PLAN
    return replace(result, stops=stops, evaluations=evaluations,
                   drive_s_before=sum(plan.evaluation(vid).drive_s for vid in stops),
                   drive_s_after=sum(e.drive_s for e in evaluations.values()))


def _keeps_rules(plan: Plan, vehicle_id: str, evaluation: RouteEvaluation) -> bool:
    """Whether a route of an answer keeps every rule — a bus that is late back at its depot in the plan in
    force (:func:`~dispatch.disturbance.relax_late_routes`) may stay so, but not get back later."""
    return all(v.kind is ViolationKind.SHIFT_END
               and evaluation.end_arrival <= plan.evaluation(vehicle_id).end_arrival
               for v in evaluation.violations)


def optimize(routes: Sequence[VehicleRoute], legs: LegTimes, time_limit_s: float,
             new_requests: Sequence[NewRequest] = ()) -> OptimizedPlan:
    """Re-optimize ``routes`` (and fit ``new_requests``) within ``time_limit_s``; verified before return.

    New requests are first inserted greedily, which gives the solver a feasible warm start.
    Raises :class:`PlanRejectedError` when no verified plan comes out; the caller keeps its plan.
    """
    prepared = prepare(routes, legs, new_requests)
    return finish(prepared, solve_prepared(prepared, SearchBudget(time_limit_s)), legs)
