"""The fleet the dispatcher plans: vehicles and their shifts as stored, turned into dispatch vehicles; and
the demo fleet a new database is seeded with.

A vehicle is planned (:func:`dispatch_vehicle`) with the shifts that have not ended by ``now`` and start
before the end of tomorrow: its dispatch shift runs from the first one's start to the last one's end, and
each gap between two shifts is a break pinned to the earlier shift's end, lasting the gap (off duty at
the depot, nobody on board); the shifts' own breaks whose latest start has not passed are planned too.

The demo fleet (``RUFBUS_DEMO_BUSES`` minibuses, 8 seats and 1 wheelchair space each, based at the road
node nearest Vaduz centre) is written into an empty ``vehicles`` table only, each with one shift from
05:00 local today to 23:00 on the last of :data:`DEMO_DAYS` days (a demo simplification: the buses are
there whenever the service runs that week); after that, operators manage vehicles and shifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from sqlmodel import Session, select

from api.clock import ServiceClock
from api.db import models
from api.db.repository import ShiftWithBreaks
from dispatch.model import DAY_S, Break, Vehicle
from routing.network import RoadNetwork

DEPOT_LAT, DEPOT_LON = 47.1410, 9.5215  # Vaduz centre
SEATS, WHEELCHAIR_SPACES = 8, 1
SHIFT_START_S, SHIFT_END_S = 5 * 3600, 23 * 3600
DEMO_DAYS = 7  # the default booking horizon
PLANNED_DAYS = 2  # today and tomorrow


def seed_demo_fleet(session: Session, network: RoadNetwork, clock: ServiceClock, now: int, buses: int
                    ) -> bool:
    """Write the demo buses and their shifts if the ``vehicles`` table is empty; whether it did."""
    if session.exec(select(models.Vehicle)).first() is not None:
        return False
    depot = int(network.snap([DEPOT_LAT], [DEPOT_LON]).node[0])
    graph, today = network.graph, clock.day_start(now)
    start = clock.to_datetime(today + SHIFT_START_S)
    end = clock.to_datetime(today + (DEMO_DAYS - 1) * DAY_S + SHIFT_END_S)
    for k in range(1, buses + 1):
        vehicle_id = f"bus-{k}"
        session.add(models.Vehicle(id=vehicle_id, name=f"Rufbus {vehicle_id}", seats=SEATS,
                                   wheelchair_spaces=WHEELCHAIR_SPACES, depot_node=depot,
                                   depot_lat=float(graph.node_lat[depot]),
                                   depot_lon=float(graph.node_lon[depot])))
        session.flush()
        session.add(models.Shift(vehicle_id=vehicle_id, starts_at=start, ends_at=end))
    session.commit()
    return True


def dispatch_vehicle(row: models.Vehicle, shifts: Sequence[ShiftWithBreaks], clock: ServiceClock, now: int
                     ) -> Vehicle | None:
    """The dispatch vehicle ``row`` is with ``shifts`` (which must not overlap), as of ``now``; ``None``
    when no shift is left today or tomorrow."""
    s = clock.to_seconds
    horizon = clock.day_start(now) + PLANNED_DAYS * DAY_S
    spans = sorted((s(shift.starts_at), s(shift.ends_at), breaks) for shift, breaks in shifts
                   if s(shift.ends_at) > now and s(shift.starts_at) < horizon)
    if not spans:
        return None
    planned = [Break(end, end, start - end)  # off duty between two shifts
               for (_, end, _), (start, _, _) in pairwise(spans) if start > end]
    planned += [Break(s(b.earliest_start), s(b.latest_start), b.duration_s)
                for _, _, breaks in spans for b in breaks if s(b.latest_start) >= now]
    return Vehicle(row.id, row.seats, row.wheelchair_spaces, row.depot_node, spans[0][0], spans[-1][1],
                   tuple(sorted(planned, key=lambda b: b.earliest_start)))
