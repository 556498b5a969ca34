"""Real-time dispatch benchmark: a seeded rural day on the default region through the real dispatcher.

Requests arrive over the day (about a third pre-booked the evening before, the rest minutes ahead,
with morning and afternoon peaks); each gets an offer by best insertion and books it; the plan is
re-optimized with OR-Tools every ``--reopt-every`` simulated minutes; vehicles serve their stops as
planned. Prints offer latency percentiles, throughput, served share, mean wait, mean ride-time
factor and wall time; ``--json FILE`` writes the figures.

    python bench/realtime.py --buses 20 --requests 2000 --seed 1 --json bench/out/realtime.json

Origins and destinations are road-graph nodes drawn uniformly (``bench/simulate.py`` runs the realistic
demand model of :mod:`simulation.generator`); the figures are about speed and plan validity.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.dispatcher import BookedTrip, Dispatcher
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.model import DAY_S, Offer, Request, ServiceRules, TimeType
from routing.network import RoadNetwork
from simulation.advance import advance_to
from simulation.fleet import central_depot, make_fleet

HOUR = 3600


@dataclass(frozen=True)
class DayDemand:
    """The requests of one day, in order of submission."""

    requests: list[Request]


def generate_day(network: RoadNetwork, count: int, seed: int) -> DayDemand:
    """A seeded day: trip times with peaks at 7–8 h and 16–18 h, 30 % pre-booked the evening before."""
    rng = np.random.default_rng(seed)
    peak = rng.random(count)
    hours = np.where(peak < 0.25, rng.normal(7.5, 0.6, count),
                     np.where(peak < 0.5, rng.normal(17.0, 0.9, count), rng.uniform(6.0, 21.5, count)))
    trip_time = DAY_S + (np.clip(hours, 6.0, 21.9) * HOUR).astype(int)
    prebooked = rng.random(count) < 0.3
    submitted = np.where(prebooked, DAY_S - 6 * HOUR + rng.integers(0, 4 * HOUR, count),
                         trip_time - rng.integers(0, 20 * 60, count))
    arrive_by = rng.random(count) < 0.25
    seats = rng.choice([1, 1, 1, 1, 2, 2, 3], count)
    wheelchair = (rng.random(count) < 0.03).astype(int)
    requests = []
    for k in range(count):
        origin, destination = rng.choice(network.node_count, 2, replace=False)
        time_type = TimeType.ARRIVE_BY if arrive_by[k] else TimeType.LEAVE_AFTER
        at = int(trip_time[k]) + (30 * 60 if arrive_by[k] else 0)
        requests.append(Request(f"r{k:05d}", int(origin), int(destination), time_type, at,
                                int(min(submitted[k], trip_time[k])), int(seats[k]), int(wheelchair[k])))
    requests.sort(key=lambda r: (r.submitted_at, r.id))
    return DayDemand(requests)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of a list, rounded."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(max(values)), 3)}


def infeasible_routes(dispatcher: Dispatcher) -> int:
    """How many routes in force fail route evaluation (must be 0)."""
    plan = dispatcher.plan
    return sum(not evaluate_route(v, plan.state(v.id), plan.route(v.id).stops, dispatcher.legs).feasible
               for v in plan.vehicles.values())


def run(buses: int, requests: int, seed: int, seats: int, reopt_every_min: int, reopt_limit_s: float) -> dict:
    """Run one day and return its figures.

    Offer latency is the time of ``Dispatcher.quote``: for a rejection that includes the search for
    alternative times (up to eight more insertion searches).
    """
    network = RoadNetwork.load()
    demand = generate_day(network, requests, seed)
    rules = ServiceRules()
    first = demand.requests[0].submitted_at
    dispatcher = Dispatcher(make_fleet(central_depot(network), buses, seats), rules, network, first)
    offer_ms, book_ms, reopt_s = [], [], []
    answered_ms: dict[str, list[float]] = {"offer": [], "rejection": []}
    served = 0
    rejected: dict[str, int] = {}
    arrivals: dict[tuple[str, str], int] = {}
    departures: dict[tuple[str, str], int] = {}
    infeasible = reopt_applied = 0
    next_reopt = DAY_S + 5 * HOUR
    started = time.perf_counter()
    for request in demand.requests:
        now = request.submitted_at
        while next_reopt <= now:
            advance_to(dispatcher, next_reopt)
            t0 = time.perf_counter()
            if dispatcher.reoptimize(next_reopt, reopt_limit_s) is not None:
                reopt_applied += 1
            reopt_s.append(time.perf_counter() - t0)
            infeasible += infeasible_routes(dispatcher)
            next_reopt += reopt_every_min * 60
        advance_to(dispatcher, now)
        t0 = time.perf_counter()
        result = dispatcher.quote(request, now)
        offer_ms.append((time.perf_counter() - t0) * 1000)
        answered_ms["offer" if isinstance(result, Offer) else "rejection"].append(offer_ms[-1])
        if isinstance(result, Offer):
            t0 = time.perf_counter()
            booked = dispatcher.book(request.id, now)
            book_ms.append((time.perf_counter() - t0) * 1000)
            if isinstance(booked, BookedTrip):
                served += 1
            else:
                rejected[booked.cause.value] = rejected.get(booked.cause.value, 0) + 1
        else:
            rejected[result.cause.value] = rejected.get(result.cause.value, 0) + 1
        record_events(dispatcher, arrivals, departures)
    advance_to(dispatcher, DAY_S + 23 * HOUR)  # the end of every shift
    record_events(dispatcher, arrivals, departures)
    infeasible += infeasible_routes(dispatcher)
    wall = time.perf_counter() - started
    waits, factors = rider_times(dispatcher, arrivals, departures)
    return {
        "buses": buses, "requests": requests, "seed": seed, "seats": seats,
        "graph_nodes": network.node_count,
        "offer_latency_ms": percentiles(offer_ms),
        "offer_latency_when_offered_ms": percentiles(answered_ms["offer"]),
        "offer_latency_when_rejected_ms": percentiles(answered_ms["rejection"]),
        "booking_latency_ms": percentiles(book_ms),
        "requests_per_s": round(requests / sum(offer_ms) * 1000, 1),
        "served": served, "served_pct": round(100 * served / requests, 2), "rejected": rejected,
        "completed": len(factors),
        "mean_wait_min": round(float(np.mean(waits)) / 60, 2) if waits else None,
        "mean_ride_time_factor": round(float(np.mean(factors)), 3) if factors else None,
        "reoptimizations": len(reopt_s), "reoptimizations_applied": reopt_applied,
        "reopt_s": percentiles(reopt_s), "infeasible_routes_seen": infeasible,
        "wall_s": round(wall, 1),
    }


def record_events(dispatcher: Dispatcher, arrivals: dict, departures: dict) -> None:
    """Note when each rider's pickup service started and when each rider left each stop."""
    for event in dispatcher.drain_events():
        if event.kind is EventKind.VEHICLE_ARRIVED and event.request_id:
            arrivals[(event.request_id, event.data["kind"])] = event.time
        elif event.kind is EventKind.RIDER_PICKED_UP:
            departures[(event.request_id, "pickup")] = event.time


def rider_times(dispatcher: Dispatcher, arrivals: dict, departures: dict) -> tuple[list[int], list[float]]:
    """Waits of leave-after riders (pickup start − requested time) and ride-time factors of all riders."""
    waits, factors = [], []
    for request_id, booking in dispatcher.plan.bookings().items():
        pickup = arrivals.get((request_id, "pickup"))
        dropoff = arrivals.get((request_id, "dropoff"))
        boarded = departures.get((request_id, "pickup"))
        if pickup is None or dropoff is None or boarded is None:
            continue
        if booking.request.time_type is TimeType.LEAVE_AFTER:
            waits.append(pickup - booking.request.time)
        factors.append((dropoff - boarded) / max(1, booking.bounds.direct_s))
    return waits, factors


def main() -> None:
    """Parse arguments, run the day, print and optionally save the figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buses", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seats", type=int, default=8)
    parser.add_argument("--reopt-every", type=int, default=15,
                        help="simulated minutes between re-optimizations")
    parser.add_argument("--reopt-limit", type=float, default=1.0,
                        help="OR-Tools time limit per re-optimization (s)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.buses, args.requests, args.seed, args.seats, args.reopt_every, args.reopt_limit)
    lat = figures["offer_latency_ms"]
    print(f"graph nodes            {figures['graph_nodes']}")
    print(f"buses / requests       {args.buses} / {args.requests} (seed {args.seed})")
    print(f"offer latency ms       p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}")
    for outcome in ("offered", "rejected"):
        part = figures[f"offer_latency_when_{outcome}_ms"]
        print(f"  when {outcome:<9}        p50 {part['p50']}  p95 {part['p95']}  p99 {part['p99']}")
    print(f"booking latency ms     p95 {figures['booking_latency_ms']['p95']}")
    print(f"offers per second      {figures['requests_per_s']}")
    print(f"served                 {figures['served']} ({figures['served_pct']} %), "
          f"rejected {figures['rejected']}")
    print(f"mean wait              {figures['mean_wait_min']} min")
    print(f"mean ride-time factor  {figures['mean_ride_time_factor']}")
    print(f"re-optimizations       {figures['reoptimizations']} "
          f"({figures['reoptimizations_applied']} applied), p95 {figures['reopt_s']['p95']} s")
    print(f"infeasible routes seen {figures['infeasible_routes_seen']}")
    print(f"wall time              {figures['wall_s']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
