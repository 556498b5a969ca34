"""The plan in force in this process and the one way to change it.

:class:`LiveDispatch` holds the in-process dispatcher with what the service needs around it (road
network, clock, open quotes, the live layer's hook); one lock serialises every operation on it.
:func:`plan_change` is the unit of work every change of the plan goes through: lock, checkpoint, the
change and its database writes, commit, roll the plan back on any error, and publish only after the
commit. Services import the holder and the unit of work from here, never from one another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from api.clock import ServiceClock
from api.db.models import PlannedStopRow, User
from api.positions import PositionLog
from api.schemas import ChosenMeetingPoint, FarePublic, Point, StopPoint
from api.services.tariff import FaresDue
from dispatch.dispatcher import Dispatcher
from dispatch.evaluation import RouteEvaluation
from dispatch.events import DomainEvent
from dispatch.model import Request, Route, StopKind
from routing.network import RoadNetwork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuoteContext:
    """What the API knows about an open quote beyond the dispatcher's request (places, datetimes)."""

    origin: Point
    destination: Point
    pickup: StopPoint  # where the bus stops for the rider at the origin
    dropoff: StopPoint  # and at the destination
    request: Request
    requested_time: datetime
    submitted_at: datetime
    valid_until: int
    user_id: int  # who asked for it: the booking's rider
    pickup_at: int  # the start of the offered pickup window
    meeting_points: tuple[ChosenMeetingPoint | None, ChosenMeetingPoint | None] = (None, None)  # offered
    fare: FarePublic | None = None  # offered: what the rider pays when booking it


@dataclass(frozen=True)
class EncodedRoute:
    """A route answer encoded as JSON, with the plan values it was made from (compared by identity: the
    dispatcher makes a new route or evaluation object on every change)."""

    route: Route
    evaluation: RouteEvaluation
    location: int
    body: bytes


class DispatchLock:
    """The lock that serialises every operation on the dispatcher, knowing whether anybody waits for it:
    extra effort under it (the repair before a refusal) gives way as soon as another request waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        self._waiting = 0

    def __enter__(self) -> None:
        with self._counting:
            self._waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._counting:
                self._waiting -= 1

    def __exit__(self, *_: object) -> None:
        self._lock.release()

    def locked(self) -> bool:
        """Whether somebody holds the lock."""
        return self._lock.locked()

    def others_waiting(self) -> bool:
        """Whether another thread waits for the lock."""
        return self._waiting > 0


@dataclass
class LiveDispatch:
    """The in-process dispatcher with what the API needs around it."""

    dispatcher: Dispatcher
    network: RoadNetwork
    clock: ServiceClock
    lock: DispatchLock = field(default_factory=DispatchLock)
    quotes: dict[str, QuoteContext] = field(default_factory=dict)
    # The live layer's hook (api.live): receives the drained domain events, under ``lock``.
    on_events: Callable[[list[DomainEvent]], None] | None = None
    # The drivers' route answers as last encoded, by bus (api.services.route_view.encoded_route).
    encoded_routes: dict[str, EncodedRoute] = field(default_factory=dict)
    # When each bus's last position used was taken, and the limits drivers' reports are judged by.
    positions: PositionLog = field(default_factory=PositionLog)
    # What each booking's riders pay, for the drivers' manifests (api.services.route_view).
    fares: FaresDue = field(default_factory=FaresDue)


@contextmanager
def plan_change(live: LiveDispatch, session: Session | None = None) -> Iterator[int]:
    """One change of the plan in force as one unit of work; yields the service time it happens at.

    Under ``live.lock`` the plan is checkpointed, the block changes it and writes what changed through
    ``session``, and ``session`` is committed. If anything fails — a refusal raised by the block, the
    write, the commit — the plan goes back to the checkpoint (its pending events included), the session
    is rolled back and the error propagates: the plan in force and the database never disagree. Only
    after the commit are the plan's events handed to the live layer; a failure there is logged and
    changes nothing, for the change stands in the plan and in the database (the live layer's state is
    rebuilt from the plan with the next change of each bus). A block that returns early commits too.
    """
    with live.lock:
        dispatcher = live.dispatcher
        checkpoint = dispatcher.checkpoint()
        try:
            yield live.clock.now()
            if session is not None:
                session.commit()
        except BaseException:
            dispatcher.rollback(checkpoint)  # the database holds nothing of it: neither does the plan
            if session is not None:
                _roll_back(session)
            raise
        _publish(live, dispatcher.drain_events())


def _roll_back(session: Session) -> None:
    """Roll ``session`` back; a connection that is gone already has nothing to roll back."""
    try:
        session.rollback()
    except SQLAlchemyError as error:
        log.warning("rolling back after a failed plan change failed too: %s", error)


def _publish(live: LiveDispatch, events: list[DomainEvent]) -> None:
    """Hand ``events`` of a committed change to the live layer; a failure is logged, never raised."""
    if not events or live.on_events is None:
        return
    try:
        live.on_events(events)
    except Exception:  # the change is committed: the plan in force stays as it is
        log.exception("publishing %d events of a saved plan change failed", len(events))


def planned_stops(live: LiveDispatch, vehicle_id: str) -> list[PlannedStopRow]:
    """The vehicle's route in force as rows (stops at their road nodes, at their planned start)."""
    dispatcher, graph = live.dispatcher, live.network.graph
    route, evaluation = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
    return [PlannedStopRow(vehicle_id=vehicle_id, sequence=k, kind=stop.kind,
                           booking_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                           lat=float(graph.node_lat[stop.location]), lon=float(graph.node_lon[stop.location]),
                           node=stop.location, planned_time=live.clock.to_datetime(start))
            for k, (stop, start) in enumerate(zip(route.stops, evaluation.start))]


ERASED_RIDER = "rider"  # the actor of an erased rider's own acts, once the link to them is removed


def actor(user: User) -> str:
    """How ``user`` is named as the actor of an event."""
    return f"user:{user.id}"
