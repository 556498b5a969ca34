"""Service start times for one vehicle's visit sequence: the large-neighbourhood search's scheduler.

:class:`RouteScheduler` answers, for a vehicle and the visits it drives through in order, whether
times exist that keep every time window (narrowed, see :mod:`dispatch.windows`), the travel times,
the ride-time limits, the shift end and the route-duration limit; and if so, which. It does not
check capacity (the search's insertion test does) and does not model breaks (the search leaves
problems with breaks to the OR-Tools adapter).

Times follow Cordeau & Laporte (2003): earliest service starts; the departure delayed by as much
forward slack as the waiting along the route allows (shortening the route's duration and its
riders' rides); then the pickup of each rider whose ride is still too long delayed in route order,
and if that is not enough, every pickup in route order. The first schedule that keeps every rule is
returned; the heuristic may miss a feasible schedule in rare cases, never accept an infeasible one.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.pdptw import PdptwProblem, node_matrices
from dispatch.windows import narrow_windows

__all__ = ["RouteScheduler"]

_INFINITY = float("inf")


class RouteScheduler:
    """Schedules visit sequences of one :class:`PdptwProblem`, over the adapter's routing nodes.

    Routing nodes are the visits ``0..V-1``, then one start node and one end node per vehicle.
    ``time[a][b]`` is the service at ``a`` plus the travel from ``a`` to ``b``; ``earliest`` and
    ``latest`` are the narrowed windows of the visits, then the vehicles' start and end bounds;
    ``partner`` links a pickup and its delivery (-1 for a rider on board); ``ride_limit`` bounds,
    on a delivery, its service start minus its pickup's.
    """

    def __init__(self, problem: PdptwProblem) -> None:
        windows = narrow_windows(problem)
        self.n_visits, self.n_vehicles = len(problem.visits), len(problem.vehicles)
        self.time: list[list[int]] = node_matrices(problem)[0].tolist()
        starts = [v.start_time for v in problem.vehicles]
        ends = [v.end_latest for v in problem.vehicles]
        self.earliest = [w[0] for w in windows] + starts + starts
        self.latest = [w[1] for w in windows] + ends + ends
        self.max_duration = [
            _INFINITY if v.max_duration is None else v.max_duration for v in problem.vehicles
        ]
        self.partner = [-1] * self.n_visits  # delivery -> pickup, pickup -> delivery
        self.ride_limit = [_INFINITY] * self.n_visits
        for r in problem.requests:
            if r.pickup is not None:
                self.partner[r.pickup], self.partner[r.delivery] = r.delivery, r.pickup
                if r.max_ride_time is not None:
                    self.ride_limit[r.delivery] = r.max_ride_time + problem.visits[r.pickup].service

    def nodes(self, vehicle: int, route: Sequence[int]) -> list[int]:
        """The routing nodes of ``route``: the vehicle's start node, the visits, its end node."""
        return [self.n_visits + vehicle, *route, self.n_visits + self.n_vehicles + vehicle]

    def schedule(self, vehicle: int, route: Sequence[int]) -> list[int] | None:
        """Service start times (start node first, end node last) keeping every time rule, or None.

        The start node's time is the departure, the end node's the arrival at the end.
        """
        nodes = self.nodes(vehicle, route)
        m = len(nodes)
        pickup_pos: dict[int, int] = {}  # pickup visit -> its position
        ride_of: list[tuple[int, float]] = [(-1, _INFINITY)] * m  # on deliveries: (pickup position, limit)
        partner_of = self.partner
        for k in range(1, m - 1):
            partner = partner_of[nodes[k]]
            if partner == -1:
                continue
            if partner in pickup_pos:
                ride_of[k] = (pickup_pos[partner], self.ride_limit[nodes[k]])
            else:
                pickup_pos[nodes[k]] = k
        start, wait = [0] * m, [0] * m
        if not self._forward(nodes, 0, start, wait, self.earliest[nodes[0]]):
            return None
        self._delay(nodes, 0, start, wait, ride_of)
        late_pickups = sorted(
            p for k, (p, limit) in enumerate(ride_of) if p >= 0 and start[k] - start[p] > limit
        )
        for k in late_pickups:
            self._delay(nodes, k, start, wait, ride_of)
        if self._rides_ok(start, ride_of) and start[-1] - start[0] <= self.max_duration[vehicle]:
            return start
        if not late_pickups:
            return None
        for k in sorted(pickup_pos.values()):
            self._delay(nodes, k, start, wait, ride_of)
        if self._rides_ok(start, ride_of) and start[-1] - start[0] <= self.max_duration[vehicle]:
            return start
        return None

    def _forward(self, nodes: list[int], k0: int, start: list[int], wait: list[int], first: int) -> bool:
        """Earliest service starts from position k0 (served at ``first``); False if a window is missed."""
        t, early, late = self.time, self.earliest, self.latest
        start[k0] = first
        if first > late[nodes[k0]]:
            return False
        previous, now = nodes[k0], first
        for k in range(k0 + 1, len(nodes)):
            node = nodes[k]
            arrival = now + t[previous][node]
            if arrival > late[node]:
                return False
            opening = early[node]
            if arrival < opening:
                now, wait[k] = opening, opening - arrival
            else:
                now, wait[k] = arrival, 0
            start[k] = now
            previous = node
        return True

    def _delay(
        self, nodes: list[int], j: int, start: list[int], wait: list[int], ride_of: list[tuple[int, float]]
    ) -> None:
        """Push the service at position j later by its forward slack, capped by the waiting after it."""
        late = self.latest
        slack: float = late[nodes[j]] - start[j]
        waited = 0
        for k in range(j + 1, len(nodes)):
            waited += wait[k]
            if waited >= slack:
                break
            room: float = late[nodes[k]] - start[k]
            pickup, limit = ride_of[k]
            if 0 <= pickup < j and limit - (start[k] - start[pickup]) < room:
                room = limit - (start[k] - start[pickup])
            room = max(room, 0)
            slack = min(slack, waited + room)
        shift = int(min(slack, waited))
        if shift > 0:
            wait[j] += shift
            self._forward(nodes, j, start, wait, start[j] + shift)

    @staticmethod
    def _rides_ok(start: list[int], ride_of: list[tuple[int, float]]) -> bool:
        return all(start[k] - start[p] <= limit for k, (p, limit) in enumerate(ride_of) if p >= 0)
