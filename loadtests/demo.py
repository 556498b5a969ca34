"""Live demo: simulated riders and drivers against a running Rufbus service, so that the operator's map
moves on a fresh machine.

    make run                                            # terminal 1: the service on http://127.0.0.1:8000
    .venv/bin/python -m loadtests.demo --url http://127.0.0.1:8000   # terminal 2

Riders ask for trips between places of the region (:mod:`simulation.generator`) leaving 2–10 minutes
ahead, and book every offer, through the riders' API. Each bus has a simulated driver on the drivers'
API: it reads its route, moves along the road geometry towards the next stop so as to reach it at the
planned time (``POST /v1/driver/positions``), and reports arriving, boardings, alightings and the end of
breaks when they are due. Everything runs in real time on the service's clock.

Keys: ``--rider-key`` (repeatable: trips go to each rider in turn, so that no rider passes the service's
fair-use limits) and ``--driver-key`` (one per bus, repeatable); without them the demo creates
:data:`DEMO_RIDERS` riders and one driver per active bus in the service's database (``DATABASE_URL``,
default: the built-in SQLite file of ``make run``), which only works on the machine the service runs on.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
import numpy as np

log = logging.getLogger("rufbus.demo")
# Simulated buses cover the rest of the way to their next stop twice as fast as planned, then wait there:
# positions at even speed along the geometry would lag the plan on slow roads and break promises.
PACE = 2.0
DEMO_RIDERS = 30  # riders the demo creates: a trip every 10 s is one every 5 minutes per rider


@dataclass
class DemoStats:
    """What the demo did."""

    quotes: int = 0
    bookings: int = 0
    rejections: int = 0
    reports: int = 0  # driver reports the service accepted (positions, arrivals, stop reports)
    refused: int = 0  # driver reports the service refused (e.g. 409 not_next_stop after a re-plan)


Position = tuple[float, float]  # (lat, lon)


def create_demo_users(database_url: str) -> tuple[list[str], list[tuple[str, Position]]]:
    """:data:`DEMO_RIDERS` rider keys and, per active bus, a driver key with the bus's depot, created in
    the service's database."""
    from sqlmodel import Session, col, select

    from api.auth import create_user
    from api.db.models import UserRole, Vehicle
    from api.db.session import create_db_engine

    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            buses = session.exec(select(Vehicle).where(col(Vehicle.active)).order_by(col(Vehicle.id))).all()
            riders = [create_user(session, name=f"Demo simulated rider {k}", role=UserRole.RIDER)[1]
                      for k in range(1, DEMO_RIDERS + 1)]
            drivers = [(create_user(session, name=f"Demo simulated driver {bus.id}", role=UserRole.DRIVER,
                                    vehicle_id=bus.id)[1], (bus.depot_lat, bus.depot_lon)) for bus in buses]
    finally:
        engine.dispose()
    return riders, drivers


def along(coordinates: list[list[float]], fraction: float) -> tuple[float, float]:
    """The (lat, lon) at ``fraction`` of a [lon, lat] polyline's length (planar, fine over a few km)."""
    points = np.asarray(coordinates, dtype=float)
    if len(points) == 1:
        return float(points[0, 1]), float(points[0, 0])
    steps = np.hypot(*(np.diff(points, axis=0) * [math.cos(math.radians(points[0, 1])), 1.0]).T)
    target = fraction * steps.sum()
    done = np.concatenate([[0.0], np.cumsum(steps)])
    k = int(min(np.searchsorted(done, target, side="right") - 1, len(steps) - 1))
    share = 0.0 if steps[k] == 0 else (target - done[k]) / steps[k]
    lon, lat = points[k] + share * (points[k + 1] - points[k])
    return float(lat), float(lon)


class DemoDriver:
    """One bus's simulated driver."""

    def __init__(self, client: httpx.Client, key: str, stats: DemoStats, position: Position | None = None
                 ) -> None:
        self.client, self.headers, self.stats = client, {"Authorization": f"Bearer {key}"}, stats
        self.leg: tuple[tuple, list[list[float]], datetime, datetime] | None = None  # see ``_drive``
        self.position = position  # last reported or served (the depot at first, when known)

    def _move_to(self, lat: float, lon: float, now: datetime) -> None:
        self.position = (lat, lon)
        self._report("positions", {"positions": [{"lat": lat, "lon": lon, "at": now.isoformat()}]})

    def _report(self, path: str, body: dict | None = None) -> bool:
        answer = self.client.post(f"/v1/driver/{path}", json=body, headers=self.headers)
        accepted = answer.status_code in (202, 204)
        self.stats.reports += accepted
        self.stats.refused += not accepted
        return accepted

    def tick(self, now: datetime) -> None:
        """Do what is due at ``now``: report the stop reached, move towards it, or (idle) where the bus
        stands, as a tablet reports its position all the time."""
        answer = self.client.get("/v1/driver/route", headers=self.headers)
        if answer.status_code != 200 or not answer.json()["stops"]:
            self.leg = None
            if answer.status_code == 200 and self.position is not None:
                self._move_to(*self.position, now)
            return
        route = answer.json()
        stop = route["stops"][0]
        if now >= datetime.fromisoformat(stop["planned_start"]):
            self._serve(stop, now)
            self.leg = None
        elif route["geometry"] is not None:
            self._drive(stop, route["geometry"]["coordinates"], now)

    def _drive(self, stop: dict, coordinates: list[list[float]], now: datetime) -> None:
        """Move along the road towards ``stop``. The way is fixed when the stop becomes next (the service
        snaps each position to a road node, so re-reading the way each tick would never leave an edge)."""
        target = (stop["kind"], stop["booking_id"], stop["lat"], stop["lon"])
        if self.leg is None or self.leg[0] != target:
            ends = [math.hypot(lon - stop["lon"], lat - stop["lat"]) for lon, lat in coordinates]
            arrival = datetime.fromisoformat(stop["planned_arrival"])
            self.leg = (target, coordinates[:int(np.argmin(ends)) + 1], now, arrival)
        _, way, since, arrival = self.leg
        fraction = min(1.0, PACE * (now - since) / (arrival - since)) if arrival > since else 1.0
        self._move_to(*along(way, fraction), now)

    def _serve(self, stop: dict, now: datetime) -> None:
        self.position = (stop["lat"], stop["lon"])
        if stop["kind"] == "break":
            if now >= datetime.fromisoformat(stop["planned_departure"]) and self._report("arrived"):
                self._report("break-finished")
            return
        if self._report("arrived"):
            action = "picked-up" if stop["kind"] == "pickup" else "dropped-off"
            self._report(action, {"booking_id": stop["booking_id"]})


class DemoRiders:
    """Simulated riders: one trip request at a time, booked when offered, each by the next rider."""

    def __init__(self, client: httpx.Client, keys: list[str], stats: DemoStats, seed: int) -> None:
        from routing.network import RoadNetwork
        from routing.stops import read_places
        from simulation.generator import DemandProfile, generate_demand

        network = RoadNetwork.load()
        g = network.graph
        self.trips = generate_demand(read_places(network.settings.osm_file), g.node_lat, g.node_lon,
                                     DemandProfile(requests=500), seed, date.today())
        self.rng = np.random.default_rng(seed)
        self.client, self.stats = client, stats
        self.headers = [{"Authorization": f"Bearer {key}"} for key in keys]
        self.next = 0

    def tick(self, now: datetime) -> None:
        """Ask for the next trip, leaving 2–10 minutes from ``now``, and book the offer."""
        trip = self.trips[self.next % len(self.trips)]
        self.next += 1
        leave = now + timedelta(minutes=float(self.rng.uniform(2, 10)))
        body = {"origin": {"lat": trip.origin[0], "lon": trip.origin[1]},
                "destination": {"lat": trip.destination[0], "lon": trip.destination[1]},
                "time_type": "leave_after", "time": leave.isoformat(), "seats": max(1, trip.seats),
                "wheelchairs": 0}
        self.stats.quotes += 1
        headers = self.headers[self.stats.quotes % len(self.headers)]
        offer = self.client.post("/v1/quotes", json=body, headers=headers)
        if offer.status_code != 200:
            self.stats.rejections += 1
            return
        booking = self.client.post("/v1/bookings", json={"quote_id": offer.json()["quote_id"]},
                                   headers=headers | {"Idempotency-Key": uuid.uuid4().hex})
        self.stats.bookings += booking.status_code == 201


def run_demo(url: str, rider_keys: list[str], drivers: list[tuple[str, Position | None]], *,
             duration_s: float, rider_every_s: float, tick_s: float, clock_offset_s: float = 0.0,
             seed: int = 1) -> DemoStats:
    """Drive riders and drivers (key, where the bus stands if known) against the service at ``url`` for
    ``duration_s`` (0: until interrupted). Idle buses whose position is known report it every tick, as
    tablets do, so that new trips are planned from the present and not from their last report."""
    stats = DemoStats()
    with httpx.Client(base_url=url, timeout=30) as client:
        riders = DemoRiders(client, rider_keys, stats, seed)
        simulated = [DemoDriver(client, key, stats, position) for key, position in drivers]
        started = time.monotonic()
        next_rider = started
        while not duration_s or time.monotonic() - started < duration_s:
            now = datetime.now(UTC) + timedelta(seconds=clock_offset_s)
            if time.monotonic() >= next_rider:
                riders.tick(now)
                next_rider += rider_every_s
            for driver in simulated:
                driver.tick(now)
            log.info("%s", stats)
            time.sleep(tick_s)
    return stats


def main() -> None:
    """Parse arguments, create demo users when no keys are given, run until the duration or Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rider-key", action="append", default=[], help="repeatable: riders take turns")
    parser.add_argument("--driver-key", action="append", default=[], help="one per bus; repeat")
    parser.add_argument("--database-url",
                        help="where to create demo users (default: the service's DATABASE_URL)")
    parser.add_argument("--duration", type=float, default=0, help="seconds to run (0: until Ctrl-C)")
    parser.add_argument("--rider-every", type=float, default=10, help="seconds between trip requests")
    parser.add_argument("--tick", type=float, default=2, help="seconds between driver updates")
    parser.add_argument("--clock-offset-s", type=float, default=0, help="the service clock's shift, if any")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    riders = args.rider_key
    drivers: list[tuple[str, Position | None]] = [(key, None) for key in args.driver_key]
    if not riders or not drivers:
        from api.settings import Settings

        riders, known = create_demo_users(args.database_url or Settings().database_url)
        drivers = list(known)
    try:
        stats = run_demo(args.url, riders, drivers, duration_s=args.duration, rider_every_s=args.rider_every,
                         tick_s=args.tick, clock_offset_s=args.clock_offset_s, seed=args.seed)
    except KeyboardInterrupt:
        return
    print(stats)


if __name__ == "__main__":
    main()
