"""The rolling horizon: while the service runs, every shift within the booking horizon is in the plan.

A vehicle is planned with its shifts that end after now and start before now plus the rules'
``booking_horizon_s`` (:func:`api.fleet.dispatch_vehicle`). That set moves with time, so the plan is
brought up to date at start (:mod:`api.services.startup`), on every fleet change
(:mod:`api.services.fleet_admin`) and by :class:`HorizonTimer`, which rolls the horizon every
``RUFBUS_REPLAN_EVERY_S`` seconds of service time (at most an hour) on the worker that dispatches.

Rolling changes only vehicles whose planned shifts changed (:func:`api.fleet.vehicle_is_current`), each
as one :func:`~api.services.live_plan.plan_change`: the vehicle is replaced keeping its riders (booked
and on board) and promises, its route and a ``horizon_rolled`` event are written; a vehicle whose last
shift ended goes out of service, one whose next shift comes into the horizon back in. A vehicle the
dispatcher cannot change (a new break with no place in its route) keeps its plan, and is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from api.db.models import Event
from api.db.repository import list_vehicles, save_route, vehicle_shifts
from api.errors import ServiceError
from api.fleet import sync_vehicle, vehicle_is_current
from api.services.live_plan import LiveDispatch, plan_change, planned_stops
from dispatch.events import EventKind
from dispatch.plan import DispatchError

logger = logging.getLogger(__name__)


def roll_horizon(live: LiveDispatch, session: Session) -> list[str]:
    """Plan every stored vehicle with its shifts within the booking horizon as of now; the ids of the
    vehicles whose plan changed."""
    with live.lock:
        rows = list(list_vehicles(session))
    changed = []
    for row in rows:
        try:
            with plan_change(live, session) as now:
                shifts = vehicle_shifts(session, vehicle_id=row.id)
                dispatcher = live.dispatcher
                if vehicle_is_current(dispatcher, row, shifts, live.clock, now):
                    continue
                sync_vehicle(dispatcher, row, shifts, live.clock, now)
                vehicle = dispatcher.plan.vehicle(row.id)
                in_service = dispatcher.plan.state(row.id).in_service
                save_route(session, vehicle_id=row.id, route=planned_stops(live, row.id), event=Event(
                    time=live.clock.to_datetime(now), kind=EventKind.HORIZON_ROLLED, actor="dispatcher",
                    vehicle_id=row.id, payload={
                        "shift_start": live.clock.to_datetime(vehicle.shift_start).isoformat(),
                        "shift_end": live.clock.to_datetime(vehicle.shift_end).isoformat(),
                        "in_service": in_service}))
                changed.append(row.id)
        except (DispatchError, ServiceError) as error:
            logger.warning("rolling the horizon left %s as it was: %s", row.id, error)
    return changed


class HorizonTimer:
    """A thread that rolls the horizon of ``live`` every ``every_s`` seconds of service time while
    ``is_dispatcher()``, looking at the service clock every ``poll_s`` seconds; ``session_info`` goes into
    the sessions it writes with (the fence of :mod:`api.live.fencing`)."""

    def __init__(self, live: LiveDispatch, engine: Engine, *, every_s: float, poll_s: float,
                 is_dispatcher: Callable[[], bool], session_info: dict[str, object] | None = None) -> None:
        self._live, self._engine = live, engine
        self._every_s, self._poll_s = every_s, poll_s
        self._is_dispatcher, self._session_info = is_dispatcher, dict(session_info or {})
        self._last = live.clock.now()  # the dispatcher was built with the horizon as of now
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-horizon", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the roll under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def due(self) -> bool:
        """Whether ``every_s`` of service time have passed since the last roll (or the clock went back)."""
        now = self._live.clock.now()
        return not self._last <= now < self._last + self._every_s

    def run_once(self) -> list[str]:
        """Roll the horizon now; the vehicles whose plan changed."""
        self._last = self._live.clock.now()
        with Session(self._engine, expire_on_commit=False) as session:
            session.info.update(self._session_info)  # e.g. the fence of api.live
            return roll_horizon(self._live, session)

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            if self._is_dispatcher() and self.due():
                try:
                    changed = self.run_once()
                except Exception:  # one failed roll must not end the timer; the next one tries again
                    logger.exception("rolling the horizon failed")
                else:
                    if changed:
                        logger.info("horizon rolled: %s planned anew", ", ".join(changed))
