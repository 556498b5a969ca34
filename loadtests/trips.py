"""Valid trips on the service's region for simulated riders: origins and destinations drawn from road
nodes, times inside service hours and the fleet's shifts (today and tomorrow), a realistic mix of
immediate and pre-booked trips, leave-after and arrive-by, party sizes and wheelchairs."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from routing.network import RoadNetwork

Point = tuple[float, float]  # (lat, lon)
LAST_PICKUP = time(21, 30)  # leave room before the service ends (23:00) and the bus must be home
FIRST_PICKUP = time(6, 0)


def road_points(network: RoadNetwork, count: int, seed: int = 1) -> list[Point]:
    """``count`` road nodes of ``network`` drawn at random (fixed ``seed``), as (lat, lon)."""
    graph = network.graph
    rng = random.Random(seed)
    nodes = [rng.randrange(graph.node_count) for _ in range(count)]
    return [(round(float(graph.node_lat[n]), 6), round(float(graph.node_lon[n]), 6)) for n in nodes]


def trip_time(rng: random.Random, now: datetime) -> datetime:
    """When a rider wants to travel: right now (15 %), soon (45 %: within 30 min), later today (15 %:
    within 3 h), the rest pre-booked for tomorrow between 06:00 and 21:30 local; never after 21:30 local."""
    draw = rng.random()
    if draw < 0.15:
        moment = now
    elif draw < 0.60:
        moment = now + timedelta(seconds=rng.uniform(0, 30 * 60))
    elif draw < 0.75:
        moment = now + timedelta(seconds=rng.uniform(30 * 60, 3 * 3600))
    else:
        moment = None
    if moment is None or moment.time() > LAST_PICKUP or moment.date() != now.date():
        tomorrow = datetime.combine(now.date() + timedelta(days=1), FIRST_PICKUP, tzinfo=now.tzinfo)
        span = (datetime.combine(tomorrow.date(), LAST_PICKUP, tzinfo=now.tzinfo) - tomorrow).total_seconds()
        moment = tomorrow + timedelta(seconds=rng.uniform(0, span))
    return moment.replace(microsecond=0)


def random_trip(rng: random.Random, points: list[Point], now: datetime) -> dict:
    """A quote body (``POST /v1/quotes``): two different road points, a trip time (arrive-by 20 % of the
    time, 40 min after the departure drawn), 1–3 seats, a wheelchair now and then."""
    origin, destination = rng.sample(points, 2)
    moment = trip_time(rng, now)
    time_type = "leave_after"
    if rng.random() < 0.20:
        time_type, moment = "arrive_by", moment + timedelta(minutes=40)
    seats = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    wheelchairs = 1 if seats == 1 and rng.random() < 0.03 else 0
    return {"origin": {"lat": origin[0], "lon": origin[1]},
            "destination": {"lat": destination[0], "lon": destination[1]},
            "time_type": time_type, "time": moment.isoformat(), "seats": seats, "wheelchairs": wheelchairs}
