"""The embedded demo fleet the service starts with until operators manage vehicles and shifts.

Six minibuses by default (``RUFBUS_DEMO_BUSES``), 8 seats and 1 wheelchair space each, based at the
road node nearest Vaduz centre. Their shift runs from 05:00 local today to 23:00 local tomorrow, so
that trips can be booked for the rest of today and pre-booked for tomorrow (the dispatcher refuses
requests outside service hours anyway). A restart on the same day gets the same vehicles and shifts.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from api.db import models
from dispatch.model import DAY_S, Vehicle
from routing.network import RoadNetwork

DEPOT_LAT, DEPOT_LON = 47.1410, 9.5215  # Vaduz centre
BUSES, SEATS, WHEELCHAIR_SPACES = 6, 8, 1
SHIFT_START_S, SHIFT_END_S = 5 * 3600, 23 * 3600
SHIFT_DAYS = 2


def demo_fleet(network: RoadNetwork, now: int, buses: int = BUSES) -> tuple[list[Vehicle], int]:
    """The ``buses`` demo vehicles for the service day containing ``now``, and their depot's road node."""
    depot = int(network.snap([DEPOT_LAT], [DEPOT_LON]).node[0])
    today = now - now % DAY_S
    start, end = today + SHIFT_START_S, today + (SHIFT_DAYS - 1) * DAY_S + SHIFT_END_S
    vehicles = [Vehicle(f"bus-{k}", SEATS, WHEELCHAIR_SPACES, depot, start, end) for k in range(1, buses + 1)]
    return vehicles, depot


def register_vehicles(engine: Engine, network: RoadNetwork, vehicles: list[Vehicle]) -> None:
    """Insert the vehicles into the ``vehicles`` table unless they are there already."""
    graph = network.graph
    with Session(engine) as session:
        for vehicle in vehicles:
            if session.get(models.Vehicle, vehicle.id) is None:
                session.add(models.Vehicle(
                    id=vehicle.id, name=f"Rufbus {vehicle.id}", seats=vehicle.seats,
                    wheelchair_spaces=vehicle.wheelchair_spaces, depot_node=vehicle.depot,
                    depot_lat=float(graph.node_lat[vehicle.depot]),
                    depot_lon=float(graph.node_lon[vehicle.depot])))
        session.commit()
