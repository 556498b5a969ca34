"""The dispatcher a service (or a worker taking over the dispatch) starts from: the fleet, the rules in
force and the plan saved in the database.

Called at start and again whenever a worker becomes the one dispatcher of its area (:mod:`api.live`),
so it builds everything from the database, the source of truth, and keeps nothing from before.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import Session

from api.clock import ServiceClock
from api.db.repository import latest_rules
from api.fleet import demo_fleet, register_vehicles
from api.services.recovery import recover_plan
from api.settings import Settings
from dispatch.dispatcher import Dispatcher
from dispatch.model import ServiceRules
from routing.network import RoadNetwork

logger = logging.getLogger(__name__)


def build_dispatcher(engine: Engine, network: RoadNetwork, clock: ServiceClock, settings: Settings
                     ) -> Dispatcher:
    """A dispatcher with the fleet, the newest service rules stored (else the defaults) and every booking
    and route saved; what cannot be restored is logged as a warning."""
    now = clock.now()
    vehicles, _ = demo_fleet(network, now, settings.demo_buses)
    register_vehicles(engine, network, vehicles)
    with Session(engine) as session:
        stored = latest_rules(session)  # the newest version an operator put in force, if any
        dispatcher = Dispatcher(vehicles, stored.to_rules() if stored else ServiceRules(), network, now)
        for problem in recover_plan(session, dispatcher=dispatcher, clock=clock, now=now):
            logger.warning("restart recovery: %s", problem)
    dispatcher.drain_events()  # restoring is not news
    return dispatcher
