"""A discrete-event simulation of one service day through the real :class:`~dispatch.dispatcher.Dispatcher`.

The clock jumps from event to event: a rider asks (quote, then book), a rider cancels, a round of
re-optimization starts or its answer comes back, a bus breaks down. Before each event every bus is driven
up to that moment the way a driver follows the plan: it waits where it is until the last moment that still
reaches its next stop at the planned start, drives there along the road path (reporting positions on the
way), waits for the stop's window if it came early, arrives, lets riders board or alight (the rules'
dwell), takes its break, or waits for a rider who does not come as long as the driver's route says
(``no_show_wait_s``, capped by what the later stops absorb: :func:`dispatch.disturbance.no_show_wait`).
Idle buses report where they stand, and drive home when their shift ends. No-shows and cancellations
are drawn per request from the seed before the day starts, so two runs with the same seed (and fleets of
different sizes) see the same riders behave alike.

The config's :class:`~simulation.street.Street` says how actual driving differs from the plan: each leg at
its own speed, hour-of-day traffic, varying dwell (calm by default: exactly the plan). The dispatcher
learns of it only as the live service does, through the drivers' calls — positions with their times,
arrivals, pickups, drop-offs, no-shows, breaks — and a bus that breaks down is taken out of service by
the operator's call (:meth:`~dispatch.dispatcher.Dispatcher.take_out_of_service`), which re-plans or
refuses its riders.

Re-optimization runs the live service's :class:`~dispatch.reoptimize.ReoptimizationPolicy` (the
config's ``reoptimization``, by default the very policy the service defaults to): every ``every_s``
simulated seconds a round of ``iterations`` ruin-and-recreate iterations starts from the plan in force
(:func:`dispatch.reoptimize.solve_round`), and its answer is applied ``budget_s`` simulated seconds later —
as late as a live round's answer comes back at worst — rebased onto whatever changed meanwhile
(:meth:`Dispatcher.apply_reoptimization`). A round counts iterations, not seconds, so everything is
deterministic for a seed whatever the machine's speed (only a round cut short by ``budget_s`` of wall
time on a very slow machine would differ).
"""

from __future__ import annotations

import heapq
import math
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from itertools import accumulate

import numpy as np

from dispatch.calendar import LocalCalendar
from dispatch.dispatcher import Dispatcher, ReoptimizationJob, RequestStatus
from dispatch.disturbance import no_show_wait
from dispatch.evaluation import Violation, evaluate_route
from dispatch.events import DomainEvent, EventKind
from dispatch.model import Offer, Rejection, Request, ServiceRules, Stop, StopKind, TimeType, Vehicle
from dispatch.pdptw import PdptwSolution
from dispatch.reoptimize import NO_BETTER_PLAN, PlanRejectedError, ReoptimizationPolicy, solve_round
from dispatch.reposition import IdleVehicle, RepositionPolicy, choose_targets, demand_zones
from dispatch.travel import LegTimes, TravelTimes
from simulation.street import Breakdown, Disturbances, Street

PathFinder = Callable[[int, int], Sequence[int]]  # road nodes from one location to another, both included
# The dispatcher's announcement to a rider that the promised window changed, once it makes one.
PROMISE_CHANGED: EventKind | None = next((k for k in EventKind if k.name == "PROMISE_CHANGED"), None)


@dataclass(frozen=True)
class SimulationConfig:
    """How riders, drivers and the optimizer behave. Probabilities in [0, 1], durations in seconds.
    ``reoptimization`` is the live service's policy unless a study changes it (``every_s=0``: never)."""

    no_show_p: float = 0.03
    cancel_p: float = 0.05
    reoptimization: ReoptimizationPolicy = field(default_factory=ReoptimizationPolicy)
    position_every_s: int = 60  # a moving bus reports its position at most this often
    check_every: int = 0  # check every route in force after every n-th event (0: never)
    seed: int = 0
    street: Street = field(default_factory=Street)  # how driving differs from the plan (calm: not at all)
    reposition: RepositionPolicy | None = None  # idle buses driven towards expected demand (None: they stay)

    def __post_init__(self) -> None:
        if not (0 <= self.no_show_p <= 1 and 0 <= self.cancel_p <= 1):
            raise ValueError("no_show_p and cancel_p must lie in [0, 1]")
        if min(self.position_every_s, self.check_every) < 0:
            raise ValueError("intervals must not be negative")


@dataclass(frozen=True)
class RecordedBehaviour:
    """What riders did on a recorded day, replayed instead of the config's random draws: who did not come
    (``no_shows``) and when a booking was cancelled (``cancelled_at``, simulation seconds; a cancellation
    before the booking is replayed right after it)."""

    no_shows: frozenset[str] = frozenset()
    cancelled_at: dict[str, int] = field(default_factory=dict)


@dataclass
class RiderRecord:
    """What happened to one request."""

    request: Request
    outcome: str = "pending"  # completed, rejected, cancelled, no_show (or booked/on_board if the day ended)
    cause: str | None = None  # the rejection cause
    vehicle_id: str | None = None  # the bus offered, then the bus that came for the rider
    window: tuple[int, int] | None = None  # promised pickup window
    bus_arrived: int | None = None  # start of service at the (first) pickup (the bus is there)
    boarded: int | None = None  # the bus left the pickup with the rider
    dropped_off: int | None = None  # start of service at the drop-off
    direct_s: int = 0
    direct_m: int = 0
    announced_at: int | None = None  # when the dispatcher first announced a change of the promise
    pickup_walk_m: int = 0  # the walk to the pickup and from the drop-off the booking chose (meeting points)
    dropoff_walk_m: int = 0
    options: tuple[int, int] = (0, 0)  # pickup and drop-off options the quote weighed (0: the door only)


class QuoteOutcome(StrEnum):
    """How a quote was answered: an offer from plain insertion (the immediate answer), an offer the repair
    before refusal found, or a refusal (after the repair tried)."""

    OFFER = "offer"
    REPAIRED = "repaired"
    REFUSAL = "refusal"

    @classmethod
    def of(cls, answer: Offer | Rejection) -> QuoteOutcome:
        """The outcome of the dispatcher's ``answer``."""
        if isinstance(answer, Rejection):
            return cls.REFUSAL
        return cls.REPAIRED if answer.repaired else cls.OFFER


@dataclass(frozen=True)
class Leg:
    """A stretch a bus drove: between two road nodes, when, how far, with how many people on board."""

    vehicle_id: str
    origin: int
    destination: int
    depart: int
    arrive: int
    metres: int
    passengers: int


@dataclass
class SimulationResult:
    """The outcome of a simulated day: every rider, every leg driven, and the plan checks."""

    vehicles: list[Vehicle]
    rules: ServiceRules
    config: SimulationConfig
    riders: dict[str, RiderRecord]
    legs: list[Leg] = field(default_factory=list)
    plan_checks: int = 0
    violations: list[tuple[int, str, Violation]] = field(default_factory=list)  # (when, vehicle, what)
    reoptimizations: int = 0  # rounds started
    reoptimizations_applied: int = 0
    reoptimizations_rebased: int = 0  # applied onto a plan that changed while the round ran
    reoptimization_iterations: int = 0  # ruin-and-recreate iterations of all rounds
    reoptimizations_skipped: dict[str, int] = field(default_factory=dict)  # rounds without effect, by cause
    breakdowns: list[tuple[int, str, list[Rejection]]] = field(default_factory=list)  # when, bus, refused
    repositions: int = 0  # drives of idle buses towards expected demand begun
    wall_s: float = 0.0
    quotes: list[tuple[float, QuoteOutcome]] = field(default_factory=list)  # (seconds the quote took, answer)


class _Kind(IntEnum):
    REOPTIMIZE = 0
    CANCEL = 1
    REQUEST = 2
    REOPTIMIZED = 3  # a round's answer comes back
    BREAKDOWN = 4
    REPOSITION = 5  # idle buses get targets


@dataclass
class _Drive:
    """A bus under way to ``target``: the road nodes it passes, and when (actual times, the street's)."""

    target: int
    nodes: list[int]
    times: list[int]

    def passed(self, now: int) -> int:
        """The index of the last node passed by ``now`` (0: still at the start)."""
        return max(0, bisect_right(self.times, now) - 1)


def simulate(vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes,
             requests: Sequence[Request], config: SimulationConfig = SimulationConfig(),
             paths: PathFinder | None = None, progress: Callable[[int], None] | None = None,
             calendar: LocalCalendar | None = None, behaviour: RecordedBehaviour | None = None
             ) -> SimulationResult:
    """Run the day of ``requests`` with ``vehicles``; ``progress(n)`` is told of each handled request.
    ``calendar``: the service calendar the dispatcher reads (None: the rules' hours); ``behaviour``:
    riders' recorded no-shows and cancellations, replayed on top of the config's random ones."""
    return _Simulation(vehicles, rules, travel, requests, config, paths, progress, calendar, behaviour).run()


class _Simulation:
    def __init__(self, vehicles: Sequence[Vehicle], rules: ServiceRules, travel: TravelTimes,
                 requests: Sequence[Request], config: SimulationConfig, paths: PathFinder | None,
                 progress: Callable[[int], None] | None, calendar: LocalCalendar | None = None,
                 behaviour: RecordedBehaviour | None = None) -> None:
        ordered = sorted(requests, key=lambda r: (r.submitted_at, r.id))
        self.start = min([r.submitted_at for r in ordered] + [v.shift_start for v in vehicles])
        self.end = max(v.shift_end for v in vehicles)
        self.dispatcher = Dispatcher(vehicles, rules, travel, self.start, calendar=calendar)
        self.legs = self.dispatcher.legs
        self.check_legs = LegTimes(travel)  # the checker's own memo: independent of the dispatcher's
        self.road = LegTimes(travel)  # the drivers' own memo, for their times on the way
        self.paths = paths or (lambda a, b: (a, b))
        self.progress = progress
        self.config = config
        rng = np.random.default_rng(config.seed)
        no_show = rng.random(len(ordered)) < config.no_show_p
        cancel = rng.random(len(ordered)) < config.cancel_p
        cancel_at = rng.random(len(ordered))
        self.no_show = {r.id for r, flag in zip(ordered, no_show) if flag}
        self.cancel = {r.id: float(u) for r, flag, u in zip(ordered, cancel, cancel_at) if flag}
        self.recorded = behaviour or RecordedBehaviour()
        self.no_show |= self.recorded.no_shows
        self.result = SimulationResult(list(vehicles), rules, config, {r.id: RiderRecord(r) for r in ordered})
        self.waiting: dict[str, tuple[str, int]] = {}  # vehicle -> (no-show rider, when the wait is over)
        self.drives: dict[str, _Drive] = {}  # vehicle -> where it is driving now
        self.disturbances = Disturbances(config.street, config.seed, [v.id for v in vehicles])
        self.events: list[tuple[int, int, int, str]] = []
        for k, request in enumerate(ordered):
            self._push(request.submitted_at, _Kind.REQUEST, k, request.id)
        self.policy = config.reoptimization
        self.rounds: dict[str, tuple[ReoptimizationJob, PdptwSolution]] = {}  # round -> its job and answer
        if self.policy.every_s:  # as live: whenever some route holds stops, pre-bookings at night too
            self._push(self.start + int(self.policy.every_s), _Kind.REOPTIMIZE, 0, "")
        unknown = {b.vehicle_id for b in config.street.breakdowns} - {None, *(v.id for v in vehicles)}
        if unknown:
            raise ValueError(f"breakdowns of unknown vehicles: {sorted(map(str, unknown))}")
        for k, breakdown in enumerate(config.street.breakdowns):
            self._push(breakdown.at, _Kind.BREAKDOWN, k, str(k))
        self.requests = {r.id: r for r in ordered}
        self.steps = 0
        self.targets: dict[str, tuple[int, Stop | None]] = {}  # vehicle -> (reposition target, its next stop)
        if config.reposition is not None:
            self._push(max(self.start, min(v.shift_start for v in vehicles)), _Kind.REPOSITION, 0, "")

    def _push(self, at: int, kind: _Kind, order: int, key: str) -> None:
        heapq.heappush(self.events, (at, kind, order, key))

    def run(self) -> SimulationResult:
        started = time.perf_counter()
        while self.events:
            at, kind, _, key = heapq.heappop(self.events)
            self._drive_all(at)
            if kind is _Kind.REQUEST:
                self._ask(self.requests[key], at)
            elif kind is _Kind.CANCEL:
                self._cancel(key, at)
            elif kind is _Kind.REOPTIMIZE:
                self._reoptimize(at)
            elif kind is _Kind.REOPTIMIZED:
                self._reoptimized(key, at)
            elif kind is _Kind.REPOSITION:
                self._reposition(at)
            else:
                self._break_down(self.config.street.breakdowns[int(key)], at)
            for event in self.dispatcher.drain_events():
                self._observe(event)
            self.steps += 1
            if self.config.check_every and self.steps % self.config.check_every == 0:
                self._check(at)
        self._drive_all(self.end)
        self._check(self.end)
        for record in self.result.riders.values():
            if record.outcome == "pending" and record.vehicle_id is not None:
                record.outcome = "booked" if record.boarded is None else "on_board"
        self.result.wall_s = time.perf_counter() - started
        return self.result

    # ----- riders -------------------------------------------------------------------------------
    def _ask(self, request: Request, now: int) -> None:
        record = self.result.riders[request.id]
        record.direct_s = self.legs.seconds(request.origin, request.destination)
        record.direct_m = self.legs.metres(request.origin, request.destination)
        record.options = (len(request.pickup_options), len(request.dropoff_options))
        asked = time.perf_counter()
        offer = self.dispatcher.quote(request, now, with_alternatives=False)
        self.result.quotes.append((time.perf_counter() - asked, QuoteOutcome.of(offer)))
        answer = self.dispatcher.book(request.id, now) if isinstance(offer, Offer) else offer
        if progress := self.progress:
            progress(1)
        if isinstance(answer, Rejection):
            record.outcome, record.cause = "rejected", answer.cause.value
            return
        promise = answer.booking.promise
        booked = answer.booking.request
        record.pickup_walk_m, record.dropoff_walk_m = booked.pickup_walk_m, booked.dropoff_walk_m
        record.vehicle_id, record.window = answer.vehicle_id, (promise.window_start, promise.window_end)
        share = self.cancel.get(request.id)
        if share is not None:
            self._push(now + int(share * max(0, promise.window_start - now)), _Kind.CANCEL, 0, request.id)
        elif request.id in self.recorded.cancelled_at:
            self._push(max(now, self.recorded.cancelled_at[request.id]), _Kind.CANCEL, 0, request.id)

    def _cancel(self, request_id: str, now: int) -> None:
        waited_for = {rider for rider, _ in self.waiting.values()}  # already a no-show at the stop
        booked = self.dispatcher.plan.booking(request_id).status is RequestStatus.BOOKED
        if request_id not in waited_for and booked:
            self.dispatcher.cancel(request_id, now)
            self.result.riders[request_id].outcome = "cancelled"

    def _reoptimize(self, now: int) -> None:
        """A round starts from the plan in force; its answer comes back ``budget_s`` later."""
        policy, d = self.policy, self.dispatcher
        rounds = self.result.reoptimizations
        self.result.reoptimizations += 1
        answer_at = now + max(1, math.ceil(policy.budget_s))
        if any(d.plan.route(v).stops for v in d.plan.vehicles):
            started = self._start_round(rounds)
            if started is not None:
                self.result.reoptimization_iterations += started[1].stats.get("lns_iterations", 0)
                self.rounds[str(rounds)] = started
                self._push(answer_at, _Kind.REOPTIMIZED, rounds, str(rounds))
        following = now + max(int(policy.every_s), answer_at - now)  # one round at a time, as live
        if following <= self.end:
            self._push(following, _Kind.REOPTIMIZE, 0, "")

    def _start_round(self, round_no: int) -> tuple[ReoptimizationJob, PdptwSolution] | None:
        """The job and answer of one round from the plan in force; None (the round skipped, counted by
        cause) when the plan in force cannot start the search, or the search finds nothing."""
        try:
            job = self.dispatcher.prepare_reoptimization()
        except PlanRejectedError:
            self._skipped("plan_in_force_infeasible")
            return None
        try:
            return job, solve_round(job.prepared.problem, job.prepared.initial, self.policy, seed=round_no)
        except PlanRejectedError:
            self._skipped("solver_failed")
            return None

    def _reoptimized(self, key: str, now: int) -> None:
        job, solution = self.rounds.pop(key)
        rebased = job.plan_version != self.dispatcher.plan.version
        if self.dispatcher.apply_reoptimization(job, solution, now) is not None:
            self.result.reoptimizations_applied += 1
            self.result.reoptimizations_rebased += rebased

    def _skipped(self, cause: str) -> None:
        skipped = self.result.reoptimizations_skipped
        skipped[cause] = skipped.get(cause, 0) + 1

    def _observe(self, event: DomainEvent) -> None:
        """Take note of what the dispatcher tells the world: refused answers of the optimizer, and
        announcements of changed promises."""
        refused = event.data.get("reason") not in (None, NO_BETTER_PLAN)
        if event.kind is EventKind.PLAN_REOPTIMIZED and refused:
            self._skipped("answer_refused")
        elif event.kind is PROMISE_CHANGED and event.request_id in self.result.riders:
            record = self.result.riders[event.request_id]
            if record.announced_at is None:
                record.announced_at = event.time

    def _check(self, now: int) -> None:
        """Evaluate every route in force with the checker's own travel times; record each violation."""
        self.result.plan_checks += 1
        d = self.dispatcher
        for vehicle in d.plan.vehicles.values():
            stops = d.plan.route(vehicle.id).stops
            evaluation = evaluate_route(vehicle, d.plan.state(vehicle.id), stops, self.check_legs)
            self.result.violations.extend((now, vehicle.id, v) for v in evaluation.violations)

    # ----- drivers ------------------------------------------------------------------------------
    def _drive_all(self, now: int) -> None:
        for vehicle_id in self.dispatcher.plan.vehicles:
            if self.dispatcher.plan.state(vehicle_id).in_service:
                self._drive(vehicle_id, now)

    def _drive(self, vehicle_id: str, now: int) -> None:
        """Follow the plan of one bus up to ``now``."""
        d = self.dispatcher
        while True:
            if vehicle_id in self.waiting:
                request_id, until = self.waiting[vehicle_id]
                if until > now:
                    return
                allowed = self._no_show_allowed(vehicle_id)  # the plan may have changed while the bus waited
                if allowed != until:
                    self.waiting[vehicle_id] = (request_id, allowed)
                    continue
                del self.waiting[vehicle_id]
                d.no_show(vehicle_id, request_id, until)
                self.result.riders[request_id].outcome = "no_show"
                continue
            route = d.plan.route(vehicle_id)
            if vehicle_id in self.targets and self._drive_to_target(vehicle_id, now):
                return
            if not route.stops:
                self.drives.pop(vehicle_id, None)  # under way to a stop no longer planned: stands where seen
                self._idle(vehicle_id, now)
                return
            stop = route.stops[0]
            start = self._approach(vehicle_id, stop, now)
            if start is None:
                return
            d.arrive(vehicle_id, start)
            if stop.kind is StopKind.BREAK:
                d.finish_break(vehicle_id, start + stop.service_s)
                continue
            leave = start + self.disturbances.dwell_s(vehicle_id, stop.service_s)
            record = self.result.riders[stop.request_id]
            if stop.kind is StopKind.PICKUP:
                record.vehicle_id = vehicle_id  # re-plans may have moved the rider
                if record.bus_arrived is None:  # a rider stranded by a breakdown keeps the first pickup
                    record.bus_arrived = start
                if stop.request_id in self.no_show:
                    self.waiting[vehicle_id] = (stop.request_id, self._no_show_allowed(vehicle_id))
                    continue
                d.pick_up(vehicle_id, stop.request_id, leave)
                if record.boarded is None:
                    record.boarded = leave
            else:
                d.drop_off(vehicle_id, stop.request_id, leave)
                record.dropped_off, record.outcome = start, "completed"

    def _no_show_allowed(self, vehicle_id: str) -> int:
        """When the bus standing at a pickup may give its absent rider up: the wait the driver's route shows
        (:func:`dispatch.disturbance.no_show_wait`, ``no_show_wait_s`` capped by what the later stops absorb)
        from the start of the pickup's window or the bus's arrival, whichever is later."""
        d = self.dispatcher
        start = max(d.plan.route(vehicle_id).stops[0].earliest, d.plan.state(vehicle_id).available_at)
        return start + no_show_wait(d.plan, vehicle_id, d.rules)

    def _approach(self, vehicle_id: str, stop: Stop, now: int) -> int | None:
        """Drive towards the next stop up to ``now`` as a driver follows the plan: wait where the bus stands
        until the last moment that reaches the stop at its planned start, then drive there at the street's
        speed, reporting positions on the way; a bus that comes early waits for the stop's window. Returns
        the start of service at the stop once it is due by ``now`` (the bus reports its arrival then), else
        None.

        Re-planned while under way (another first stop), the bus sets off again from where it last
        reported its position, at the time it reported it: a driver turns at most ``position_every_s``
        later than the dispatcher thinks."""
        d = self.dispatcher
        state = d.plan.state(vehicle_id)
        drive = self.drives.get(vehicle_id)
        if drive is not None and drive.target != stop.location:
            del self.drives[vehicle_id]
            drive = None
        if drive is None and state.location != stop.location:
            drive = self._set_off(vehicle_id, stop, now)
            if drive is None:
                return None
        if drive is not None:
            if drive.times[-1] > now:
                self._report_progress(vehicle_id, drive, now)
                return None
            del self.drives[vehicle_id]
            arrival = drive.times[-1]
            self._move(vehicle_id, stop.location, arrival, self._departed(drive, vehicle_id))
            start = max(arrival, stop.earliest)
            if start > now:  # early: it waits there for the window
                d.vehicle_position(vehicle_id, stop.location, arrival)
            return start if start <= now else None
        start = max(state.available_at, stop.earliest)  # standing at the stop
        if start > now and state.available_at < now:
            d.vehicle_position(vehicle_id, state.location, now)
        return start if start <= now else None

    def _set_off(self, vehicle_id: str, stop: Stop, now: int) -> _Drive | None:
        """The drive to ``stop`` from where the dispatcher knows the bus to be, leaving at the last moment
        that reaches it at its planned start — if that moment has come by ``now``; until then the bus
        stands there (and says so)."""
        d = self.dispatcher
        state = d.plan.state(vehicle_id)
        travel = self.legs.seconds(state.location, stop.location)
        leave_at = d.plan.evaluation(vehicle_id).start[0] - travel
        if now < leave_at:
            if state.available_at < now:
                d.vehicle_position(vehicle_id, state.location, now)
            return None
        drive = self.drives[vehicle_id] = self._road_drive(vehicle_id, stop.location, leave_at)
        return drive

    def _road_drive(self, vehicle_id: str, target: int, leave_at: int) -> _Drive:
        """The drive along the road path from where the dispatcher knows the bus to be to ``target``,
        leaving at ``leave_at``, at the street's speed."""
        origin = self.dispatcher.plan.state(vehicle_id).location
        nodes = list(self.paths(origin, target))
        travel = self.legs.seconds(origin, target)
        factor = self.disturbances.leg_factor(vehicle_id, leave_at)
        remaining = self.road.to(nodes, target)
        times = list(accumulate((leave_at + round(factor * (travel - r)) for r in remaining), max))
        return _Drive(target, nodes, times)

    def _report_progress(self, vehicle_id: str, drive: _Drive, now: int) -> None:
        """Report the last node on the way passed by ``now``, at most every ``position_every_s``."""
        k = drive.passed(now)
        at = drive.times[k]
        if k and at - self.dispatcher.plan.state(vehicle_id).available_at >= self.config.position_every_s:
            self._move(vehicle_id, drive.nodes[k], at, self._departed(drive, vehicle_id))
            self.dispatcher.vehicle_position(vehicle_id, drive.nodes[k], at)

    def _departed(self, drive: _Drive, vehicle_id: str) -> int:
        """When the bus passed the place it last reported, on its way (or set off from it)."""
        return drive.times[drive.nodes.index(self.dispatcher.plan.state(vehicle_id).location)]

    def _break_down(self, breakdown: Breakdown, now: int) -> None:
        """A bus stops for good: it reports where it stands, and the operator takes it out of service
        (:meth:`Dispatcher.take_out_of_service`, as the operator's service does), which re-plans its
        riders onto other buses or refuses them."""
        d = self.dispatcher
        vehicle_id = breakdown.vehicle_id or self._busiest()
        if vehicle_id is None or not d.plan.state(vehicle_id).in_service:
            return
        drive = self.drives.pop(vehicle_id, None)
        if drive is not None:
            k = drive.passed(now)
            self._move(vehicle_id, drive.nodes[k], drive.times[k], self._departed(drive, vehicle_id))
            d.vehicle_position(vehicle_id, drive.nodes[k], max(now, d.plan.state(vehicle_id).available_at))
        self.waiting.pop(vehicle_id, None)
        refused = d.take_out_of_service(vehicle_id, now)
        for rejection in refused:
            record = self.result.riders[rejection.request_id]
            record.outcome, record.cause = "rejected", rejection.cause.value
        self.result.breakdowns.append((now, vehicle_id, refused))

    def _busiest(self) -> str | None:
        """The bus in service with the most riders on board or waiting for it (the first by id on a tie)."""
        plan = self.dispatcher.plan
        riders = {v: len(plan.state(v).onboard) + sum(s.kind is StopKind.PICKUP for s in plan.route(v).stops)
                  for v in sorted(plan.vehicles) if plan.state(v).in_service}
        return max(riders, key=riders.__getitem__, default=None)

    def _idle(self, vehicle_id: str, now: int) -> None:
        """No stop to serve: stand where the bus is, or drive home when the shift ends."""
        d = self.dispatcher
        state, vehicle = d.plan.state(vehicle_id), d.plan.vehicles[vehicle_id]
        back = self.legs.seconds(state.location, vehicle.depot)
        if state.location != vehicle.depot and now + back >= vehicle.shift_end:
            arrival = max(min(now, vehicle.shift_end - back), state.available_at) + back
            self._move(vehicle_id, vehicle.depot, arrival)
            d.vehicle_position(vehicle_id, vehicle.depot, arrival)
        elif state.available_at < now:
            d.vehicle_position(vehicle_id, state.location, now)

    def _reposition(self, now: int) -> None:
        """Choose targets for the idle buses (:mod:`dispatch.reposition`) from the pickups of the requests
        seen so far that fall in [now - lookback, now + horizon]; the next choice is ``every_s`` later."""
        d, policy = self.dispatcher, self.config.reposition
        assert policy is not None, "repositioning is configured"
        if now + policy.every_s <= self.end:
            self._push(now + policy.every_s, _Kind.REPOSITION, 0, "")
        pickups = [(r.origin, 1.0) for r in self._seen(now)
                   if now - policy.lookback_s <= self._pickup_estimate(r) <= now + policy.horizon_s]
        idle = [v for v in (self._idle_vehicle(vid, policy) for vid in d.plan.vehicles)
                if v is not None and v.free_from <= now]
        if not idle:
            return
        targets = choose_targets([replace(v, free_from=now) for v in idle],
                                 demand_zones(pickups, policy.radius_s, self.legs), policy, self.legs)
        for vehicle_id, target in targets.items():
            stops = d.plan.route(vehicle_id).stops
            self.drives[vehicle_id] = self._road_drive(vehicle_id, target, now)
            self.targets[vehicle_id] = (target, stops[0] if stops else None)
            self.result.repositions += 1

    def _seen(self, now: int) -> list[Request]:
        return [r for r in self.requests.values() if r.submitted_at <= now]

    def _pickup_estimate(self, request: Request) -> int:
        if request.time_type is TimeType.LEAVE_AFTER:
            return request.time
        return request.time - self.result.riders[request.id].direct_s

    def _idle_vehicle(self, vehicle_id: str, policy: RepositionPolicy) -> IdleVehicle | None:
        """The bus as an idle one if it stands (no stop committed), is not on its way to a target already
        and has no rider to serve (or, with ``policy.waiting_buses``, waits for its next stop). It must be at
        its next stop by the stop's planned start (a break's: its earliest), or home by its shift end."""
        d = self.dispatcher
        route, state, vehicle = d.plan.route(vehicle_id), d.plan.state(vehicle_id), d.plan.vehicle(vehicle_id)
        busy = vehicle_id in self.targets or vehicle_id in self.waiting or route.committed
        if busy or not state.in_service or (
                not policy.waiting_buses and any(s.kind is not StopKind.BREAK for s in route.stops)):
            return None
        if route.stops:
            return IdleVehicle(vehicle_id, state.location, state.available_at, route.stops[0].location,
                               d.plan.evaluation(vehicle_id).start[0])
        return IdleVehicle(vehicle_id, state.location, state.available_at, vehicle.depot, vehicle.shift_end)

    def _drive_to_target(self, vehicle_id: str, now: int) -> bool:
        """Drive a repositioning bus towards its target at the street's speed, reporting positions on the
        way; True while it is still on its way. A new next stop (the plan gave the bus work), or the time
        to leave for the next stop, ends the drive where the bus last reported its position."""
        d = self.dispatcher
        target, first = self.targets[vehicle_id]
        stops, location = d.plan.route(vehicle_id).stops, d.plan.state(vehicle_id).location
        leave_by = d.plan.evaluation(vehicle_id).start[0] - self.legs.seconds(location, stops[0].location) \
            if stops else self.end
        drive = self.drives.get(vehicle_id)
        replanned = (stops[0] if stops else None) != first
        if drive is None or drive.target != target or replanned or leave_by <= now:
            del self.targets[vehicle_id]  # new work, or time to leave for the next stop
            return False
        if drive.times[-1] > now:
            self._report_progress(vehicle_id, drive, now)
            return True
        del self.targets[vehicle_id], self.drives[vehicle_id]
        self._move(vehicle_id, target, drive.times[-1], self._departed(drive, vehicle_id))
        d.vehicle_position(vehicle_id, target, drive.times[-1])
        return False

    def _move(self, vehicle_id: str, destination: int, arrive: int, depart: int | None = None) -> None:
        """Record the drive from where the bus is to ``destination``, arriving at ``arrive`` (having left at
        ``depart``; by default as long before as planned)."""
        state = self.dispatcher.plan.state(vehicle_id)
        if state.location == destination:
            return
        if depart is None:
            depart = arrive - self.legs.seconds(state.location, destination)
        passengers = sum(r.seats + r.wheelchairs for r in state.onboard)
        self.result.legs.append(Leg(vehicle_id, state.location, destination, depart, arrive,
                                    self.legs.metres(state.location, destination), passengers))
