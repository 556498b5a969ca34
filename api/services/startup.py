"""The dispatcher a service (or a worker taking over the dispatch) starts from: the fleet (vehicles and
shifts), the rules in force and the plan saved in the database.

Called at start and again whenever a worker becomes the one dispatcher of its area (:mod:`api.live`),
so it builds everything from the database, the source of truth, and keeps nothing from before.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import Session

from api.clock import ServiceClock
from api.db.repository import latest_rules, list_vehicles, vehicle_shifts
from api.fleet import dispatch_vehicle, seed_demo_fleet
from api.services.recovery import recover_plan
from api.services.service_area import apply_stored_area
from api.services.service_calendar import stored_calendar
from api.settings import Settings
from dispatch.dispatcher import Dispatcher
from dispatch.model import ServiceRules
from routing.network import RoadNetwork

logger = logging.getLogger(__name__)


def build_dispatcher(engine: Engine, network: RoadNetwork, clock: ServiceClock, settings: Settings
                     ) -> Dispatcher:
    """A dispatcher with the fleet stored (each vehicle with its shifts within the booking horizon; the
    demo fleet is written first into an empty ``vehicles`` table), vehicles withdrawn by an operator out of
    service, the newest service rules, service calendar and service area stored (else the defaults; the
    area is put on ``network``) and every booking and route saved; what cannot be restored is logged as a
    warning."""
    now = clock.now()
    with Session(engine) as session:
        if seed_demo_fleet(session, network, clock, now, settings.demo_buses):
            logger.info("no vehicles stored: the demo fleet of %d buses was written", settings.demo_buses)
        stored = latest_rules(session)  # the newest version an operator put in force, if any
        rules = stored.to_rules() if stored else ServiceRules()
        vehicles, withdrawn = [], []
        for row in list_vehicles(session):
            vehicle = dispatch_vehicle(row, vehicle_shifts(session, vehicle_id=row.id), clock, now,
                                       rules.booking_horizon_s)
            if vehicle is not None:
                vehicles.append(vehicle)
                if not row.active:
                    withdrawn.append(row.id)
        apply_stored_area(session, network)
        dispatcher = Dispatcher(vehicles, rules, network, now, calendar=stored_calendar(session, clock))
        for vehicle_id in withdrawn:  # their riders were re-planned when they were withdrawn
            dispatcher.take_out_of_service(vehicle_id, now)
        for problem in recover_plan(session, dispatcher=dispatcher, clock=clock, now=now):
            logger.warning("restart recovery: %s", problem)
    dispatcher.drain_events()  # restoring is not news
    return dispatcher
