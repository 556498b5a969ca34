"""Manual control benchmark: how long an operator's move of a booking to another bus takes on a full day.

A seeded day (``bench/realtime.py``'s demand on the default region) is booked the evening before through
the real dispatcher, every request at once, so every route holds a whole day. Then ``--moves`` booked
riders, drawn at random, are each moved to a random other bus (:meth:`Dispatcher.move_booking`: best
feasible insertion there, checked by route evaluation, or a refusal naming the rule) and the plan is put
back after each, so every move meets the full day. Prints p50/p99 of the moves that were applied, refused
and all, and that every applied move left the plan whole (:meth:`Plan.check`); ``--json FILE`` writes
the figures. The time is the dispatcher's; the API adds one transaction (two routes, a booking, an audit
entry).

    python bench/manual_control.py --buses 10 --requests 600 --moves 300 --seed 1 --json FILE.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.realtime import generate_day, percentiles
from dispatch.dispatcher import BookedTrip, Dispatcher
from dispatch.manual import ControlRefused
from dispatch.model import DAY_S, Offer, ServiceRules
from dispatch.plan import RequestStatus
from routing.network import RoadNetwork
from simulation.fleet import central_depot, make_fleet

HOUR = 3600


def run(buses: int, requests: int, moves: int, seed: int) -> dict:
    """Book the day, time the moves; the figures."""
    network = RoadNetwork.load()
    demand = generate_day(network, requests, seed)
    now = DAY_S - 6 * HOUR  # the evening before: the whole day is pre-booked
    dispatcher = Dispatcher(make_fleet(central_depot(network), buses, 8), ServiceRules(), network, now)
    booked = 0
    for request in demand.requests:
        request = replace(request, submitted_at=now)
        offer = dispatcher.quote(request, now, with_alternatives=False)
        if isinstance(offer, Offer) and isinstance(dispatcher.book(request.id, now), BookedTrip):
            booked += 1
    plan = dispatcher.plan
    riders = sorted(rid for rid, b in plan.bookings().items() if b.status is RequestStatus.BOOKED)
    rng = np.random.default_rng(seed)
    vehicles = sorted(plan.vehicles)
    applied_ms, refused_ms = [], []
    causes: dict[str, int] = {}
    broken = 0
    for rid in rng.choice(riders, min(moves, len(riders)), replace=False):
        rid = str(rid)
        target = str(rng.choice([v for v in vehicles if v != plan.booking(rid).vehicle_id]))
        checkpoint = dispatcher.checkpoint()
        t0 = time.perf_counter()
        try:
            dispatcher.move_booking(rid, target, now)
        except ControlRefused as refusal:
            refused_ms.append((time.perf_counter() - t0) * 1000)
            causes[refusal.code] = causes.get(refusal.code, 0) + 1
        else:
            applied_ms.append((time.perf_counter() - t0) * 1000)
            broken += bool(dispatcher.plan.check())
        dispatcher.rollback(checkpoint)
    stops = sum(len(plan.route(v).stops) for v in vehicles)
    return {"buses": buses, "requests": requests, "booked": booked, "stops_in_plan": stops, "seed": seed,
            "moves": len(applied_ms) + len(refused_ms), "applied": len(applied_ms), "refused": causes,
            "applied_ms": percentiles(applied_ms), "refused_ms": percentiles(refused_ms),
            "all_ms": percentiles(applied_ms + refused_ms), "plans_broken_by_a_move": broken}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buses", type=int, default=10)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    figures = run(args.buses, args.requests, args.moves, args.seed)
    print(f"{figures['booked']} riders booked on {args.buses} buses ({figures['stops_in_plan']} stops); "
          f"{figures['moves']} moves: {figures['applied']} applied, refused {figures['refused']}")
    for name in ("applied_ms", "refused_ms", "all_ms"):
        p = figures[name]
        print(f"  {name[:-3]:8s} p50 {p['p50']:8.2f} ms  p99 {p['p99']:8.2f} ms  max {p['max']:8.2f} ms")
    print(f"  plans broken by a move: {figures['plans_broken_by_a_move']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
