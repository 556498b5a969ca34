"""The fleet the dispatcher plans: vehicles and their shifts as stored, turned into dispatch vehicles and
put in force on the dispatcher; and the demo fleet a new database is seeded with.

A vehicle is planned (:func:`dispatch_vehicle`) with every shift within the booking horizon: those that
have not ended by ``now`` and start before ``now`` plus the rules' ``booking_horizon_s`` (a rolling
horizon: :mod:`api.services.horizon` plans it anew as time passes). Its dispatch shift runs from the
first one's start to the last one's end, and each gap between two shifts is a break pinned to the earlier
shift's end, lasting the gap (off duty at the depot, nobody on board); the shifts' own breaks whose latest
start has not passed are planned too. Shift times are the stored instants on the service clock, so a
local day of 23 or 25 hours changes nothing here.

The demo fleet (``RUFBUS_DEMO_BUSES`` minibuses, 8 seats and 1 wheelchair space each, based at the road
node nearest Vaduz centre) is written into an empty ``vehicles`` table only, each with one shift from
05:00 local today to 23:00 on the last of :data:`DEMO_DAYS` days (a demo simplification: the buses are
there whenever the service runs that week); after that, operators manage vehicles and shifts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from itertools import pairwise

from sqlmodel import Session, select

from api.clock import ServiceClock
from api.db import models
from api.db.repository import ShiftWithBreaks
from api.errors import Conflict
from dispatch.dispatcher import Dispatcher
from dispatch.model import Break, StopKind, Vehicle
from routing.network import RoadNetwork

DEPOT_LAT, DEPOT_LON = 47.1410, 9.5215  # Vaduz centre
SEATS, WHEELCHAIR_SPACES = 8, 1
SHIFT_START_S, SHIFT_END_S = 5 * 3600, 23 * 3600  # local time of day
DEMO_DAYS = 7  # the default booking horizon


def seed_demo_fleet(session: Session, network: RoadNetwork, clock: ServiceClock, now: int, buses: int
                    ) -> bool:
    """Write the demo buses and their shifts if the ``vehicles`` table is empty; whether it did."""
    if session.exec(select(models.Vehicle)).first() is not None:
        return False
    depot = int(network.snap([DEPOT_LAT], [DEPOT_LON]).node[0])
    graph, today = network.graph, clock.to_datetime(now).date()
    midnight = datetime.combine(today, time(), tzinfo=clock.zone)  # wall-clock arithmetic from here
    start = midnight + timedelta(seconds=SHIFT_START_S)
    end = midnight + timedelta(days=DEMO_DAYS - 1, seconds=SHIFT_END_S)
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


def dispatch_vehicle(row: models.Vehicle, shifts: Sequence[ShiftWithBreaks], clock: ServiceClock, now: int,
                     horizon_s: int) -> Vehicle | None:
    """The dispatch vehicle ``row`` is with ``shifts`` (which must not overlap), as of ``now``, planned with
    the shifts that end after ``now`` and start before ``now + horizon_s``; ``None`` when there is none."""
    s = clock.to_seconds
    horizon = now + horizon_s
    spans = sorted((s(shift.starts_at), s(shift.ends_at), breaks) for shift, breaks in shifts
                   if s(shift.ends_at) > now and s(shift.starts_at) < horizon)
    if not spans:
        return None
    planned = [Break(end, end, start - end)  # off duty between two shifts
               for (_, end, _), (start, _, _) in pairwise(spans) if start > end]
    planned += [Break(s(b.earliest_start), s(b.latest_start), b.duration_s, b.node)
                for _, _, breaks in spans for b in breaks if s(b.latest_start) >= now]
    return Vehicle(row.id, row.seats, row.wheelchair_spaces, row.depot_node, spans[0][0], spans[-1][1],
                   tuple(sorted(planned, key=lambda b: b.earliest_start)))


def sync_vehicle(dispatcher: Dispatcher, row: models.Vehicle, shifts: Sequence[ShiftWithBreaks],
                 clock: ServiceClock, now: int) -> bool:
    """Make the dispatcher's vehicle what ``row`` and ``shifts`` say as of ``now`` (its riders kept, or
    :class:`~dispatch.plan.DispatchError` ``vehicle_change_infeasible``); whether the dispatcher has it.

    A vehicle with no shift left in the horizon goes out of service (409 ``vehicle_has_riders`` while
    riders are planned on it); one that has shifts again and is not withdrawn (``row.active``) comes back.
    """
    desired = dispatch_vehicle(row, shifts, clock, now, dispatcher.rules.booking_horizon_s)
    known = row.id in dispatcher.plan.vehicles
    if desired is None:
        if known and dispatcher.plan.state(row.id).in_service:
            if dispatcher.plan.state(row.id).onboard or any(s.kind is not StopKind.BREAK
                                                       for s in dispatcher.plan.route(row.id).stops):
                raise Conflict("vehicle_has_riders", f"riders are planned on {row.id!r}: take it out of "
                                                     "service first, so that they move to other buses")
            dispatcher.take_out_of_service(row.id, now)
        return known
    if known:
        dispatcher.replace_vehicle(desired, now)
    else:
        dispatcher.add_vehicle(desired, now)
    in_service = dispatcher.plan.state(row.id).in_service
    if row.active and not in_service:
        dispatcher.return_to_service(row.id, now)
    elif in_service and not row.active:
        dispatcher.take_out_of_service(row.id, now)  # a withdrawn bus has no riders to re-plan
    return True


def vehicle_is_current(dispatcher: Dispatcher, row: models.Vehicle, shifts: Sequence[ShiftWithBreaks],
                       clock: ServiceClock, now: int) -> bool:
    """Whether the dispatcher plans ``row`` as :func:`sync_vehicle` would as of ``now`` already."""
    desired = dispatch_vehicle(row, shifts, clock, now, dispatcher.rules.booking_horizon_s)
    plan = dispatcher.plan
    if row.id not in plan.vehicles:
        return desired is None
    in_service = plan.state(row.id).in_service
    if desired is None:
        return not in_service
    return plan.vehicle(row.id) == desired and in_service == row.active
