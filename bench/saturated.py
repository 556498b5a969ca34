"""Quote latency as the plan fills up: the load test's riders, in process, against the real dispatcher.

The load test's 176 riders ask about 27 quotes a second and book every offer: within minutes the 20 buses
are full for hours and most quotes are refused (each refusal also searches for alternative times). This
replays that stream without HTTP or a database — trips drawn as :func:`loadtests.trips.random_trip` draws
them, the demo fleet (8 seats, 1 wheelchair space, at Vaduz, shifts through the week), the clock
advancing 1/27 s per quote, every offer booked, one booking in five cancelled — and prints quote and
booking latency per block of quotes, so the cost of a quote on a full plan is measured, not guessed.

    python bench/saturated.py --quotes 12000 --block 2000 --seed 1 --json bench/out/saturated.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.clock import ServiceClock
from api.fleet import DEPOT_LAT, DEPOT_LON, SEATS, SHIFT_END_S, SHIFT_START_S, WHEELCHAIR_SPACES
from dispatch.dispatcher import BookedTrip, Dispatcher
from dispatch.model import Offer, Request, ServiceRules, TimeType, Vehicle
from loadtests.run import POINTS
from loadtests.trips import random_trip, road_points
from routing.network import RoadNetwork

ZONE = ZoneInfo("Europe/Vaduz")
QUOTES_PER_S = 27  # what 200 load-test users ask
CANCEL_SHARE = 0.2


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / max of ``values`` in ms (zeros when empty)."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    ms = np.array(values) * 1000
    return {"n": len(values), "p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2), "p99": round(float(np.percentile(ms, 99)), 2),
            "max": round(float(ms.max()), 2)}


def demo_fleet(network: RoadNetwork, buses: int, clock: ServiceClock, now: int) -> list[Vehicle]:
    """The demo fleet as the service plans it: one shift from 05:00 today to 23:00 in six days (local
    wall-clock times: a day over a daylight-saving change is 23 or 25 hours long)."""
    depot = int(network.snap([DEPOT_LAT], [DEPOT_LON]).node[0])
    today = clock.local_date(now)
    start = clock.at_local(today, dt_time(SHIFT_START_S // 3600))
    end = clock.at_local(today + timedelta(days=6), dt_time(SHIFT_END_S // 3600))
    return [Vehicle(f"bus-{k}", SEATS, WHEELCHAIR_SPACES, depot, start, end, ())
            for k in range(1, buses + 1)]


def request_of(body: dict, network: RoadNetwork, clock: ServiceClock, now: int, number: int) -> Request:
    """The dispatch request a ``POST /v1/quotes`` body becomes."""
    snapped = network.snap([body["origin"]["lat"], body["destination"]["lat"]],
                           [body["origin"]["lon"], body["destination"]["lon"]])
    return Request(f"r{number}", int(snapped.node[0]), int(snapped.node[1]), TimeType(body["time_type"]),
                   clock.to_seconds(datetime.fromisoformat(body["time"])), now, body["seats"],
                   body["wheelchairs"])


def run(quotes: int, block: int, buses: int, seed: int) -> dict:
    """Replay ``quotes`` quotes; figures per block of ``block`` quotes."""
    network = RoadNetwork.load()
    clock = ServiceClock(ZONE)
    start = datetime.now(ZONE).replace(hour=8, minute=0, second=0, microsecond=0)
    now = clock.to_seconds(start)
    dispatcher = Dispatcher(demo_fleet(network, buses, clock, now), ServiceRules(), network, now)
    points = road_points(network, POINTS, seed)
    rng = random.Random(seed)
    blocks: list[dict[str, object]] = []
    current: dict[str, list[float]] = {"offered": [], "refused": [], "book": []}
    wall = time.perf_counter()
    for number in range(quotes):
        now = clock.to_seconds(start) + number // QUOTES_PER_S
        moment = start + timedelta(seconds=number / QUOTES_PER_S)
        request = request_of(random_trip(rng, points, moment), network, clock, now, number)
        began = time.perf_counter()
        result = dispatcher.quote(request, now)
        took = time.perf_counter() - began
        if isinstance(result, Offer):
            current["offered"].append(took)
            began = time.perf_counter()
            booked = dispatcher.book(request.id, now)
            current["book"].append(time.perf_counter() - began)
            if isinstance(booked, BookedTrip) and rng.random() < CANCEL_SHARE:
                dispatcher.cancel(request.id, now)
        else:
            current["refused"].append(took)
        dispatcher.drain_events()
        if (number + 1) % block == 0:
            stops = sum(len(dispatcher.plan.route(v).stops) for v in dispatcher.plan.vehicles)
            blocks.append({"quotes": number + 1, "stops_planned": stops,
                           "offered": percentiles(current["offered"]),
                           "refused": percentiles(current["refused"]),
                           "book": percentiles(current["book"])})
            current = {"offered": [], "refused": [], "book": []}
    return {"quotes": quotes, "buses": buses, "seed": seed, "wall_s": round(time.perf_counter() - wall, 1),
            "blocks": blocks}


def main() -> None:
    """Run and print one line per block."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quotes", type=int, default=12000)
    parser.add_argument("--block", type=int, default=2000)
    parser.add_argument("--buses", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.quotes, args.block, args.buses, args.seed)
    print("quotes  stops  offered n p50/p95/p99 ms       refused n p50/p95/p99 ms       book p95 ms")
    for b in figures["blocks"]:
        o, r, k = b["offered"], b["refused"], b["book"]
        print(f"{b['quotes']:6d} {b['stops_planned']:6d}  {o['n']:5d} {o['p50']:6.1f} {o['p95']:6.1f} "
              f"{o['p99']:6.1f}   {r['n']:5d} {r['p50']:6.1f} {r['p95']:6.1f} {r['p99']:6.1f}   "
              f"{k['p95']:6.2f}")
    print(f"wall {figures['wall_s']} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
