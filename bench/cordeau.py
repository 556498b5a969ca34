"""Cordeau dial-a-ride instances (a, b and pr sets): reading them and mapping them onto a PDPTW.

File format (see ``shared/benchmarks/darp/README.md``): a header ``K X T Q L`` and one line per node
``id x y service load earliest latest``; node 0 is the depot, nodes 1..n the pickups, n+i the
delivery of request i. In a/b files ``X`` is n and node 2n+1 copies the depot as the route end; in
pr files ``X`` is 2n and there is no end copy.

The mapping is static: every request known, every vehicle starts and ends at the depot, travel time
and cost are the Euclidean distance. Times and distances are multiplied by ``scale`` and made
integer so that the integer model is never looser than the real one: travel times are rounded
up, window openings up and closings down, limits down. An integer schedule divided by ``scale`` is
then feasible in real numbers; costs are rounded to the nearest unit and only steer the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dispatch.pdptw import PdptwProblem, PdptwSolution, RequestSpec, VehicleSpec, Visit

DEFAULT_SCALE = 1000


@dataclass(frozen=True)
class CordeauInstance:
    """One instance as read from the file; node lists are indexed by node id (0 = depot)."""

    name: str
    vehicles: int  # K
    requests: int  # n
    max_duration: float  # T
    capacity: float  # Q
    max_ride_time: float  # L
    x: tuple[float, ...]
    y: tuple[float, ...]
    service: tuple[float, ...]
    load: tuple[float, ...]
    earliest: tuple[float, ...]
    latest: tuple[float, ...]
    end_depot: int  # node whose window bounds the route end: 2n+1 in a/b files, 0 in pr files

    def distance(self, i: int, j: int) -> float:
        """Euclidean distance between nodes i and j, in double precision."""
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])


def read_cordeau(path: Path | str) -> CordeauInstance:
    """Read an a/b/pr instance file; raises ValueError on a malformed file."""
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not lines or len(lines[0]) < 5:
        raise ValueError(f"{path}: header must hold K, n (or 2n), T, Q and L")
    k, second = int(lines[0][0]), int(lines[0][1])
    t, q, l_ride = (float(v) for v in lines[0][2:5])
    rows = [[float(v) for v in line[:7]] for line in lines[1:]]
    if len(rows) == 2 * second + 2:
        n, end_depot = second, 2 * second + 1
    elif len(rows) == second + 1 and second % 2 == 0:
        n, end_depot = second // 2, 0
    else:
        raise ValueError(f"{path}: header says {second} but the file lists {len(rows)} nodes")
    if [int(r[0]) for r in rows] != list(range(len(rows))):
        raise ValueError(f"{path}: node ids must run 0, 1, 2, ... in order")
    columns = list(zip(*rows, strict=True))
    return CordeauInstance(
        name=path.name,
        vehicles=k,
        requests=n,
        max_duration=t,
        capacity=q,
        max_ride_time=l_ride,
        x=columns[1],
        y=columns[2],
        service=columns[3],
        load=columns[4],
        earliest=columns[5],
        latest=columns[6],
        end_depot=end_depot,
    )


def to_problem(
    instance: CordeauInstance, *, scale: int = DEFAULT_SCALE, drop_penalty: int | None = None
) -> PdptwProblem:
    """Map the instance onto a PDPTW: visit k is node k+1 (pickups first), request i is node pair i+1, n+i+1.

    ``drop_penalty`` None makes every request mandatory; a value lets the solver leave a request
    out at that price (the checker then rejects the plan, but the search can start from it).
    """
    n = instance.requests
    nodes = range(2 * n + 1)
    travel = np.array([[instance.distance(i, j) * scale for j in nodes] for i in nodes])
    travel_time = np.ceil(travel - 1e-9).astype(np.int64)
    travel_cost = np.rint(travel).astype(np.int64)
    visits = tuple(
        Visit(
            location=node,
            earliest=math.ceil(instance.earliest[node] * scale - 1e-9),
            latest=math.floor(instance.latest[node] * scale + 1e-9),
            service=math.ceil(instance.service[node] * scale - 1e-9),
            demand=(round(instance.load[node]),),
        )
        for node in range(1, 2 * n + 1)
    )
    vehicle = VehicleSpec(
        start_location=0,
        start_time=math.ceil(instance.earliest[0] * scale - 1e-9),
        end_location=0,
        end_latest=math.floor(instance.latest[instance.end_depot] * scale + 1e-9),
        capacity=(math.floor(instance.capacity + 1e-9),),
        max_duration=math.floor(instance.max_duration * scale + 1e-9),
    )
    ride = math.floor(instance.max_ride_time * scale + 1e-9)
    requests = tuple(
        RequestSpec(pickup=i, delivery=n + i, max_ride_time=ride, drop_penalty=drop_penalty) for i in range(n)
    )
    return PdptwProblem(
        travel_time=travel_time,
        travel_cost=travel_cost,
        visits=visits,
        vehicles=(vehicle,) * instance.vehicles,
        requests=requests,
    )


def to_checker_json(
    instance: CordeauInstance, solution: PdptwSolution, *, scale: int = DEFAULT_SCALE
) -> dict:
    """The solution in ``check_darp.py`` format: non-empty routes, node ids, times in file units."""
    routes = []
    for route in solution.routes:
        if not route.visits:
            continue
        stops = [{"node": 0, "time": route.start_time / scale}]
        stops += [{"node": planned.visit + 1, "time": planned.time / scale} for planned in route.visits]
        stops.append({"node": instance.end_depot, "time": route.end_time / scale})
        routes.append({"vehicle": route.vehicle, "stops": stops})
    return {"instance": instance.name, "routes": routes}
