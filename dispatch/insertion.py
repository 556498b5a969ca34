"""Best insertion of a new request into the routes in force: the fast path behind every offer.

For each vehicle, every (pickup position i, drop-off position j ≥ i) pair is tried, where position 0
is the vehicle's current place and position k the k-th stop of its route. Each pair costs O(1):

- the pickup and the stops between pickup and drop-off are checked exactly, with the delay the
  insertion causes propagated stop by stop (waiting at a stop absorbs delay);
- the rest of the route is checked against its *slack*, the largest arrival delay its windows and
  the shift end can absorb (Gschwind & Drexl; MATSim's insertion search). Slack ignores ride-time
  limits, so it never rejects a feasible insertion.

Candidates that pass are taken in order of cost. Each is then checked exactly by walking only the stops
whose times it changes (:func:`keeps_every_rule`: up to where waiting has absorbed its delay), and the
first one that passes, confirmed by :func:`evaluate_route`, wins: the result is exactly the cheapest
feasible insertion that brute-force enumeration would find. Cost (seconds) = added driving time +
``wait_weight`` × the new rider's wait beyond the earliest pickup + ``ride_weight`` × the new rider's
ride time + ``delay_weight`` × how much later the riders already booked are dropped off + ``slack_weight`` ×
how much later every stop already planned starts (the slack the insertion burns; see :class:`CostWeights`).

The delays of the stops between pickup and drop-off come with the O(1) walk; those after the drop-off are
walked only for candidates that could still win (best first, their cost without them as a lower bound), up
to where waiting absorbs the delay.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush

from dispatch.evaluation import RouteEvaluation, evaluate_route
from dispatch.model import RouteLock, Stop, StopKind, Vehicle, VehicleState
from dispatch.travel import LegTimes

PLACES_KEPT = 16  # per route: the legs to and from the pickup and drop-off places of the last few quotes
# (a quote with meeting points reads up to 5 places each side)

# An insertion that passed the O(1) checks: (cost, order of its route, i, j, added drive, the new rider's
# wait, the new rider's ride, how much later the booked drop-offs and all planned stops between pickup and
# drop-off start, how much later than planned the bus reaches the stop after the drop-off, and which of the
# request's (pickup, drop-off) options it places).
Candidate = tuple[float, int, int, int, int, int, int, int, int, int, int]


@dataclass(frozen=True)
class CostWeights:
    """How rider time, and the time the insertion takes from riders already booked, weigh against vehicle time
    in the insertion cost.

    ``delay_weight``: per second a booked rider is dropped off later than planned (the rider time the
    insertion costs others). ``walk_weight``: per second the new rider walks to a meeting point and from
    one (only when the request has options, see :mod:`dispatch.meeting`). ``slack_weight``: per second any
    stop already planned starts later than planned
    (the slack the insertion burns, which later requests would have used).

    Defaults measured on generated days replayed online (758 requests, seeds 1-5 x 8 buses, seed 1 x 6 and
    10 buses): ``delay_weight`` 0.5, booked riders' time weighed like the new rider's. Before repair before
    refusal it served more than 0 on all seven runs (+1 to +15), about as much as 0.75 or 1 (0.25: less),
    with fewer vehicle-km per passenger; with repair, +44 riders over the five 8-bus days (-9 to +23 each,
    vehicle-km per passenger -5 % to +4 %), -7 and -3 at 6 and 10 buses. ``slack_weight`` 0.25 or 0.5 did
    not add to it.

    ``walk_weight`` 1.0: twice the weight of a second riding (0.5), as transport studies value walking
    time at 1.5-2 times in-vehicle time (Wardman 2004, UK meta-analysis: walk 1.66 x in-vehicle); it is a
    second of the rider's own effort, with no bus or other rider gaining it back.
    """

    wait_weight: float = 0.5
    ride_weight: float = 0.5
    delay_weight: float = 0.5
    slack_weight: float = 0.0
    walk_weight: float = 1.0

    @property
    def values_booked(self) -> bool:
        """True when the cost counts the delay the insertion causes to the stops already planned."""
        return bool(self.delay_weight or self.slack_weight)

    def cost(self, added_drive_s: int, wait_s: int, ride_s: int, dropoff_delay_s: int = 0,
             stop_delay_s: int = 0) -> float:
        """Cost of an insertion, in weighted seconds: ``dropoff_delay_s`` sums how much later the booked
        drop-offs start, ``stop_delay_s`` how much later every planned stop starts."""
        return (added_drive_s + self.wait_weight * wait_s + self.ride_weight * ride_s
                + self.delay_weight * dropoff_delay_s + self.slack_weight * stop_delay_s)


@dataclass(frozen=True)
class VehicleRoute:
    """A vehicle, where it is, and the stops it will serve: the unit insertion works on."""

    vehicle: Vehicle
    state: VehicleState
    stops: tuple[Stop, ...]
    committed: int = 0  # leading stops that nothing may be inserted before
    pinned: frozenset[str] = frozenset()  # riders an operator pinned to this bus (Route.pinned)
    lock: RouteLock = RouteLock.NONE  # how an operator locked the order (Route.lock)

    @property
    def takes_riders(self) -> bool:
        """True when insertion may add new riders (a route closed by an operator takes none)."""
        return self.lock is not RouteLock.CLOSED


@dataclass(frozen=True)
class Insertion:
    """Where a request goes: pickup after position ``pickup_after``, drop-off after ``dropoff_after``.

    Positions count the vehicle's current place as 0 and the k-th route stop as k; both refer to the
    route *before* insertion, so ``dropoff_after == pickup_after`` means right after the pickup.
    """

    vehicle_id: str
    pickup_after: int
    dropoff_after: int
    cost: float
    added_drive_s: int
    pickup_start: int
    dropoff_start: int
    stops: tuple[Stop, ...]  # the vehicle's stops with the request inserted
    evaluation: RouteEvaluation
    option: int = 0  # which of the (pickup, drop-off) options searched it places


def insert_stops(stops: Sequence[Stop], pickup: Stop, dropoff: Stop, i: int, j: int) -> tuple[Stop, ...]:
    """The stop sequence with ``pickup`` after position ``i`` and ``dropoff`` after position ``j``."""
    before, middle, after = stops[:i], stops[i:j], stops[j:]
    return (*before, pickup, *middle, dropoff, *after)


class PlaceLegs:
    """Travel times between the positions of a route and one place: ``to[k]`` from position k to the
    place, ``back[k]`` from the place to position k. Only positions ``lo`` … ``hi - 1`` are filled (a
    search reads the positions around its pickup time; a route planned two days ahead has hundreds more)."""

    __slots__ = ("back", "hi", "lo", "to")

    def __init__(self, size: int, at: int) -> None:
        self.to = [0] * size
        self.back = [0] * size
        self.lo = self.hi = at

    def covers(self, lo: int, hi: int) -> bool:
        """True when positions ``lo`` … ``hi - 1`` are filled."""
        return self.lo <= lo and hi <= self.hi


class RouteTimes:
    """Per-position arrays of a feasible route that the O(1) checks read (cache it with the route)."""

    __slots__ = ("_legs_with", "arr", "base", "boarded", "chairs", "dep", "earliest", "kind", "latest", "loc",
                 "max_ride", "pickup_pos", "reach", "seats", "service", "slack", "start", "wait")

    def __init__(self, route: VehicleRoute, evaluation: RouteEvaluation, legs: LegTimes) -> None:
        stops, state, vehicle = route.stops, route.state, route.vehicle
        n = len(stops)
        self.loc = [state.location, *(s.location for s in stops), vehicle.depot]
        legs.prefetch_legs(self.loc)
        self.base = [legs.seconds(a, b) for a, b in zip(self.loc, self.loc[1:])]
        self.dep = [state.available_at, *evaluation.departure]
        self.arr = [state.available_at, *evaluation.arrival, evaluation.end_arrival]
        self.start = [state.available_at, *evaluation.start, evaluation.end_arrival]
        self.earliest = [0, *(s.earliest for s in stops), 0]
        self.latest = [state.available_at, *(s.latest for s in stops), vehicle.shift_end]
        self.service = [0, *(s.service_s for s in stops)]
        self.wait = [b - a for a, b in zip(self.arr, self.start)]
        seats0 = sum(r.seats for r in state.onboard)
        chairs0 = sum(r.wheelchairs for r in state.onboard)
        self.seats = [seats0, *(load[0] for load in evaluation.loads)]
        self.chairs = [chairs0, *(load[1] for load in evaluation.loads)]
        self.kind = [None, *(s.kind for s in stops)]
        self.max_ride = [0, *(s.max_ride_s for s in stops)]
        boarded = {r.request_id: (r.departed_pickup_at, 0) for r in state.onboard}
        self.boarded = [0] * (n + 1)
        self.pickup_pos = [0] * (n + 1)
        for k, stop in enumerate(stops, start=1):
            if stop.kind is StopKind.PICKUP:
                boarded[stop.request_id] = (self.dep[k], k)
            elif stop.kind is StopKind.DROPOFF:
                self.boarded[k], self.pickup_pos[k] = boarded[stop.request_id]
        slack = [0] * (n + 2)
        slack[n + 1] = vehicle.shift_end - evaluation.end_arrival
        for k in range(n, 0, -1):
            slack[k] = self.wait[k] + min(self.latest[k] - self.start[k], slack[k + 1])
        self.slack = slack
        # The latest arrival at position k the rest of the route absorbs: min(latest[k], start[k] +
        # slack[k + 1]), never decreasing along the route, so the positions a pickup could come before are
        # found by bisection.
        self.reach = [self.arr[k] + slack[k] if k else -1 for k in range(n + 2)]
        self._legs_with: dict[int, PlaceLegs] = {}

    def legs_with(self, place: int, legs: LegTimes, lo: int, hi: int) -> PlaceLegs:
        """The travel times between ``place`` and at least positions ``lo`` … ``hi - 1`` of the route.

        Kept for the last :data:`PLACES_KEPT` places asked, and widened when a search needs more next to
        them (only the positions asked are fetched): a refused quote searches again at other times with
        the same places on the same route."""
        hi = min(hi, len(self.loc))
        found = self._legs_with.get(place)
        if found is not None and found.covers(lo, hi):
            return found
        if found is None or hi < found.lo or found.hi < lo:  # nothing kept next to these positions
            if len(self._legs_with) >= PLACES_KEPT:
                self._legs_with.clear()
            found = self._legs_with[place] = PlaceLegs(len(self.loc), lo)
        lo, hi = min(lo, found.lo), max(hi, found.hi)
        for a, b in ((lo, found.lo), (found.hi, hi)):
            if a < b:
                part = self.loc[a:b]
                found.to[a:b], found.back[a:b] = legs.to(part, place), legs.from_(place, part)
        found.lo, found.hi = lo, hi
        return found


def _search_span(route: VehicleRoute, times: RouteTimes, pickup: Stop, dropoff: Stop) -> tuple[int, int, int]:
    """The positions a search reads: the pickup goes after one of ``first`` … ``last``, the drop-off
    after one of them or a later one up to about ``last_drop`` (``last < first``: none).

    After position i only if stop i + 1 can still be reached after the pickup's earliest time
    (``reach`` never decreases); only while the bus leaves i before the pickup window closes, or, for the
    drop-off, before the latest arrival (departures only get later along the route)."""
    n = len(route.stops)
    first = max(route.committed, bisect_left(times.reach, pickup.earliest, 1) - 1)
    last = min(n, bisect_right(times.dep, pickup.latest) - 1)
    last_drop = min(n, bisect_right(times.dep, dropoff.latest) - 1)
    return first, last, last_drop


def _candidates(route: VehicleRoute, times: RouteTimes, pickup: Stop, dropoff: Stop, legs: LegTimes,
                weights: CostWeights, order: int, option: int = 0, extra: float = 0.0) -> Iterable[Candidate]:
    """Yield a :data:`Candidate` for every insertion that passes the O(1) checks: its cost counts the delay
    of the stops between pickup and drop-off, not yet that of the stops after the drop-off, plus ``extra``
    (the cost of the option's walks)."""
    n = len(route.stops)
    dep, arr, slack = times.dep, times.arr, times.slack
    seats_cap = route.vehicle.seats - pickup.seats
    chairs_cap = route.vehicle.wheelchair_spaces - pickup.wheelchairs
    o, d = pickup.location, dropoff.location
    od = legs.seconds(o, d)
    base = times.base
    ride_limit, latest_drop = dropoff.max_ride_s, dropoff.latest
    first, last, last_drop = _search_span(route, times, pickup, dropoff)
    if last < first:
        return
    legs_o = times.legs_with(o, legs, first, last + 2)
    legs_d = times.legs_with(d, legs, first, max(last, last_drop) + 2)
    to_o, from_o, to_d, from_d = legs_o.to, legs_o.back, legs_d.to, legs_d.back
    for i in range(first, last + 1):
        if times.seats[i] > seats_cap or times.chairs[i] > chairs_cap:
            continue
        pickup_start = max(dep[i] + to_o[i], pickup.earliest)
        if pickup_start > pickup.latest:
            continue
        pickup_dep = pickup_start + pickup.service_s
        wait_s = pickup_start - pickup.earliest
        # Drop-off right after the pickup.
        drop_start = pickup_dep + od
        if drop_start - pickup_dep <= ride_limit and drop_start <= latest_drop:
            delay = drop_start + dropoff.service_s + from_d[i + 1] - arr[i + 1]
            if delay <= slack[i + 1]:
                added = to_o[i] + od + from_d[i + 1] - base[i]
                ride_s = drop_start - pickup_dep
                yield (weights.cost(added, wait_s, ride_s) + extra, order, i, i, added, wait_s, ride_s, 0, 0,
                       delay, option)
        if i == n:
            continue
        # Drop-off after a later stop k: walk the stops between, propagating the delay exactly.
        delay = pickup_dep + from_o[i + 1] - arr[i + 1]
        if delay > slack[i + 1]:
            continue
        pickup_detour = to_o[i] + from_o[i + 1] - base[i]
        dropoffs_late = stops_late = 0  # how much later the stops between pickup and drop-off start
        for k in range(i + 1, n + 1):
            if times.kind[k] is StopKind.BREAK or times.seats[k] > seats_cap or times.chairs[k] > chairs_cap:
                break
            begin = max(arr[k] + delay, times.earliest[k])
            if begin > times.latest[k]:
                break
            if times.kind[k] is StopKind.DROPOFF and times.pickup_pos[k] <= i \
                    and begin - times.boarded[k] > times.max_ride[k]:
                break
            leave = begin + times.service[k]
            if leave > latest_drop:
                break  # so are later departures, and a drop-off after them
            if begin > times.start[k]:
                stops_late += begin - times.start[k]
                if times.kind[k] is StopKind.DROPOFF:
                    dropoffs_late += begin - times.start[k]
            if k + 1 >= legs_d.hi:  # a walk past the span of departures (travel times that break the
                times.legs_with(d, legs, first, 2 * k + 2 - first)  # triangle inequality): fill further
            drop_start = leave + to_d[k]
            ride_s = drop_start - pickup_dep
            if ride_s > ride_limit:
                break  # a later drop-off only rides longer
            if drop_start <= latest_drop:
                tail_delay = drop_start + dropoff.service_s + from_d[k + 1] - arr[k + 1]
                if tail_delay <= slack[k + 1]:
                    added = pickup_detour + to_d[k] + from_d[k + 1] - base[k]
                    yield (weights.cost(added, wait_s, ride_s, dropoffs_late, stops_late) + extra, order, i,
                           k, added, wait_s, ride_s, dropoffs_late, stops_late, tail_delay, option)
            delay = leave - dep[k]


def _delays_after(times: RouteTimes, position: int, delay: int) -> tuple[int, int]:
    """How much later (summed) the booked drop-offs and all planned stops from ``position`` on start when the
    bus reaches ``position`` ``delay`` s later than planned: walked until waiting has absorbed the delay."""
    kind, arr, earliest, start = times.kind, times.arr, times.earliest, times.start
    dropoffs_late = stops_late = 0
    for k in range(position, len(kind)):
        late = max(arr[k] + delay, earliest[k]) - start[k]
        if late <= 0:
            break
        stops_late += late
        if kind[k] is StopKind.DROPOFF:
            dropoffs_late += late
        delay = late
    return dropoffs_late, stops_late


def keeps_every_rule(route: VehicleRoute, times: RouteTimes, pickup: Stop, dropoff: Stop, i: int, j: int,
                     legs: LegTimes) -> bool | None:
    """Whether the route with ``pickup`` after position ``i`` and ``dropoff`` after position ``j`` keeps
    every rule — what :func:`evaluate_route` would say of it — found by walking only the stops whose times
    change: from the pickup to where waiting has absorbed the delay, or to the depot.

    The route as it stands must be feasible. Once a stop starts when it did before, every later time is
    as before, so the rest keeps its rules (rides can only be shorter: no pickup left earlier). None
    when the walk cannot tell: a stop started *earlier* than before (travel times that break the
    triangle inequality), which could make a later ride longer; the caller evaluates the whole route.
    """
    vehicle, n = route.vehicle, len(route.stops)
    seats, chairs = vehicle.seats - pickup.seats, vehicle.wheelchair_spaces - pickup.wheelchairs
    if times.seats[i] > seats or times.chairs[i] > chairs:
        return False
    legs_o = times.legs_with(pickup.location, legs, i, i + 2)
    legs_d = times.legs_with(dropoff.location, legs, j, j + 2)
    picked = max(times.dep[i] + legs_o.to[i], pickup.earliest)
    if picked > pickup.latest:
        return False
    picked = leave = picked + pickup.service_s
    left_pickup: dict[int, int] = {}  # position of a pickup walked past -> its new departure

    def drop_off(leave: int) -> int | None:
        """Departure from the new drop-off after ``j`` reached from the stop before it, None if late."""
        begin = leave + (legs_d.to[j] if j > i else legs.seconds(pickup.location, dropoff.location))
        begin = max(begin, dropoff.earliest)
        if begin > dropoff.latest or begin - picked > dropoff.max_ride_s:
            return None
        return begin + dropoff.service_s

    for k in range(i + 1, n + 1):
        if k == j + 1:
            dropped = drop_off(leave)
            if dropped is None:
                return False
            arrive = dropped + legs_d.back[k]
        else:
            arrive = leave + (legs_o.back[k] if k == i + 1 else times.base[k - 1])
        begin = max(arrive, times.earliest[k])
        if begin < times.start[k]:
            return None
        if k > j and begin == times.start[k]:
            return True
        if begin > times.latest[k]:
            return False
        kind = times.kind[k]
        if k <= j and (kind is StopKind.BREAK or times.seats[k] > seats or times.chairs[k] > chairs):
            return False  # the new rider is on board here
        if kind is StopKind.DROPOFF:
            p = times.pickup_pos[k]
            if begin - (left_pickup[p] if p > i else times.boarded[k]) > times.max_ride[k]:
                return False
        leave = begin + times.service[k]
        if kind is StopKind.PICKUP:
            left_pickup[k] = leave
    if j == n:  # the new drop-off is the last stop
        dropped = drop_off(leave)
        return dropped is not None and dropped + legs_d.back[n + 1] <= vehicle.shift_end
    return leave + times.base[n] <= vehicle.shift_end


def prefetch_legs(routes: Sequence[VehicleRoute], times: Sequence[RouteTimes], pickup: Stop, dropoff: Stop,
                  legs: LegTimes) -> None:
    """Fetch in two matrix calls the legs between ``pickup``/``dropoff`` and the positions an insertion
    search of them reads in the routes whose arrays are ``times`` (a wider window for a wider pickup)."""
    prefetch_option_legs(routes, times, ((pickup, dropoff),), legs)


def prefetch_option_legs(routes: Sequence[VehicleRoute], times: Sequence[RouteTimes],
                         options: Sequence[tuple[Stop, Stop]], legs: LegTimes) -> None:
    """:func:`prefetch_legs` for several (pickup, drop-off) options at once: still two matrix calls."""
    locations: set[int] = set()
    for route, route_times in zip(routes, times):
        for pickup, dropoff in options:
            first, last, last_drop = _search_span(route, route_times, pickup, dropoff)
            if first <= last:
                locations.update(route_times.loc[first:max(last, last_drop) + 2])
    places = list(dict.fromkeys(place for pair in options for place in (pair[0].location, pair[1].location)))
    wanted = list(locations)
    legs.prefetch(places, wanted)
    legs.fetch_to(wanted, places)


def best_insertion(routes: Sequence[VehicleRoute], pickup: Stop, dropoff: Stop, legs: LegTimes,
                   weights: CostWeights = CostWeights(), times: Sequence[RouteTimes] | None = None, *,
                   prefetched: bool = False) -> Insertion | None:
    """The cheapest feasible insertion of ``pickup``/``dropoff`` into any route, or None.

    ``times`` are the routes' :class:`RouteTimes` (computed when not given); every route must be
    feasible as it stands. ``prefetched``: the caller already ran :func:`prefetch_legs` for these routes
    and places (a search repeated at other times); legs missing after all are still fetched.
    """
    return best_option_insertion(routes, ((pickup, dropoff, 0.0),), legs, weights, times,
                                 prefetched=prefetched)


def best_option_insertion(routes: Sequence[VehicleRoute], options: Sequence[tuple[Stop, Stop, float]],
                          legs: LegTimes, weights: CostWeights = CostWeights(),
                          times: Sequence[RouteTimes] | None = None, *, prefetched: bool = False
                          ) -> Insertion | None:
    """The cheapest feasible insertion of one request whose stops may be any of ``options`` — (pickup,
    drop-off, extra cost) — into any route, or None; its ``option`` says which. Every option's candidates
    are ranked together, each cost plus its option's extra (the rider's walks), so the answer is the
    cheapest over every option, as :func:`best_insertion` of each and the minimum would give it."""
    if times is None:
        times = [RouteTimes(r, evaluate_route(r.vehicle, r.state, r.stops, legs), legs) for r in routes]
    if not prefetched:
        prefetch_option_legs(routes, times, [(p, d) for p, d, _ in options], legs)
    candidates: list[Candidate] = []
    for order, (route, route_times) in enumerate(zip(routes, times)):
        if not route.takes_riders:
            continue
        for option, (pickup, dropoff, extra) in enumerate(options):
            if pickup.seats > route.vehicle.seats or pickup.wheelchairs > route.vehicle.wheelchair_spaces:
                break
            candidates.extend(_candidates(route, route_times, pickup, dropoff, legs, weights, order, option,
                                          extra))
    if weights.values_booked:
        return _cheapest_valuing_booked(routes, times, candidates, options, legs, weights)
    candidates.sort()
    for cost, order, i, j, added, *rest in candidates:
        pickup, dropoff, _ = options[rest[-1]]
        found = _confirmed(routes[order], times[order], pickup, dropoff, i, j, legs, cost, added, rest[-1])
        if found is not None:
            return found
    return None


def _confirmed(route: VehicleRoute, times: RouteTimes, pickup: Stop, dropoff: Stop, i: int, j: int,
               legs: LegTimes, cost: float, added: int, option: int = 0) -> Insertion | None:
    """The insertion (i, j) of ``route`` when it keeps every rule, else None."""
    if keeps_every_rule(route, times, pickup, dropoff, i, j, legs) is False:
        return None
    stops = insert_stops(route.stops, pickup, dropoff, i, j)
    evaluation = evaluate_route(route.vehicle, route.state, stops, legs)
    if not evaluation.feasible:
        return None
    return Insertion(route.vehicle.id, i, j, cost, added, evaluation.start[i], evaluation.start[j + 1], stops,
                     evaluation, option)


def _cheapest_valuing_booked(routes: Sequence[VehicleRoute], times: Sequence[RouteTimes],
                             candidates: list[Candidate], options: Sequence[tuple[Stop, Stop, float]],
                             legs: LegTimes, weights: CostWeights) -> Insertion | None:
    """The cheapest feasible candidate when the cost counts the delay of the stops after the drop-off too.

    A candidate's cost without them is a lower bound (delays are never negative), so candidates are taken
    best first from a heap: one met for the first time has its delays after the drop-off walked and goes
    back with its full cost; one met with its full cost is cheaper than every other, and wins if feasible."""
    heap = [(c[0], c[1], c[2], c[3], False, c) for c in candidates]
    heapify(heap)
    while heap:
        cost, order, i, j, full, candidate = heappop(heap)
        _, _, _, _, added, wait_s, ride_s, dropoffs_late, stops_late, tail_delay, option = candidate
        pickup, dropoff, extra = options[option]
        if full:
            found = _confirmed(routes[order], times[order], pickup, dropoff, i, j, legs, cost, added, option)
            if found is not None:
                return found
            continue
        more_dropoffs, more_stops = _delays_after(times[order], j + 1, tail_delay)
        if more_dropoffs or more_stops:
            cost = weights.cost(added, wait_s, ride_s, dropoffs_late + more_dropoffs,
                                stops_late + more_stops) + extra
        heappush(heap, (cost, order, i, j, True, candidate))
    return None
