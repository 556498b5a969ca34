"""From the dispatcher's drained domain events to published live messages.

:meth:`LivePublisher.capture` runs under the dispatcher's lock, right after a change was saved: it copies
what the messages need (the changed routes, the affected bookings' live views) — cheap, immutable
values. A single thread then raises the plan version, keeps the latest routes, positions and booking
views in the :class:`~api.live.store.LiveStore` and publishes one message per event, in order, on the
channel named after the event's kind. A route's road geometry is drawn only for a message someone can
receive; otherwise the store draws it when the route is first read.

A message is a :class:`~api.live.messages.LiveMessage` published as JSON; the bookings' live views in
it are built by :func:`api.services.booking_view.live_views`, as the riders' REST answers are.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.live.messages import LiveMessage, VehiclePosition
from api.live.store import LiveStore
from api.schemas import BookingLive
from api.services.booking_view import live_views
from api.services.live_plan import LiveDispatch
from api.services.route_view import RouteSnapshot, route_json, route_public, route_snapshot
from dispatch.events import DomainEvent, EventKind
from dispatch.model import StopKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capture:
    """What one change of the plan publishes, copied under the dispatcher's lock."""

    events: tuple[DomainEvent, ...]
    routes: dict[str, RouteSnapshot]  # buses whose route changed
    bookings: dict[str, BookingLive]  # live views of the bookings concerned, by id
    riders: dict[str, tuple[str, ...]]  # bus → the bookings on its route
    positions: dict[str, VehiclePosition]  # buses that moved → where they are


class LivePublisher:
    """Publishes captured changes on a thread of its own, in the order they were captured."""

    def __init__(self, live: LiveDispatch, store: LiveStore) -> None:
        self._live, self._store = live, store
        self._queue: queue.Queue[Capture | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="rufbus-live-publisher", daemon=True)
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        """Start the publishing thread."""
        self._thread.start()

    def stop(self) -> None:
        """Publish what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until everything captured so far is published (tests, orderly hand-over)."""
        return self._idle.wait(timeout)

    def capture(self, events: list[DomainEvent]) -> None:
        """Copy what ``events`` publish and queue it; the caller holds the dispatcher's lock."""
        if not events:
            return
        live, plan = self._live, self._live.dispatcher.plan
        changed = {e.vehicle_id for e in events if e.kind is EventKind.ROUTE_CHANGED and e.vehicle_id}
        moved = {e.vehicle_id for e in events if e.kind is EventKind.VEHICLE_MOVED and e.vehicle_id}
        routes = {vid: route_snapshot(live, vid) for vid in sorted(changed) if vid in plan.vehicles}
        riders = {
            vid: tuple(
                dict.fromkeys(
                    s.request_id for s in plan.route(vid).stops if s.kind is not StopKind.BREAK
                )
            )
            for vid in sorted(changed | moved)
            if vid in plan.vehicles
        }
        wanted = {e.request_id for e in events if e.request_id} | {b for ids in riders.values() for b in ids}
        bookings = live_views(live, sorted(wanted))
        graph = live.network.graph
        positions = {}
        for vid in sorted(moved):
            state = plan.state(vid)
            positions[vid] = VehiclePosition(lat=float(graph.node_lat[state.location]),
                                             lon=float(graph.node_lon[state.location]),
                                             at=live.clock.to_datetime(state.available_at))
        self._idle.clear()
        self._queue.put(Capture(tuple(events), routes, bookings, riders, positions))

    def _run(self) -> None:
        while True:
            try:
                capture = self._queue.get(timeout=0.5)
            except queue.Empty:
                self._idle.set()
                continue
            if capture is None:
                self._idle.set()
                return
            try:
                self._publish(capture)
            except Exception:  # a lost Redis must not stop the thread; the database holds the truth
                logger.exception("publishing a plan change failed")
            if self._queue.empty():
                self._idle.set()

    def _publish(self, capture: Capture) -> None:
        store, live = self._store, self._live
        version = store.next_plan_version() if capture.routes else store.plan_version()
        for vid, position in capture.positions.items():
            store.put_position(vid, position.model_dump(mode="json"))
        for bid, view in capture.bookings.items():
            store.put_booking(bid, view.model_dump(mode="json"))
        for event in capture.events:
            if event.kind is EventKind.ROUTE_CHANGED:
                continue  # one message per changed route follows, with the route
            message = _message(live, event, version)
            if event.request_id in capture.bookings:
                message.booking = capture.bookings[event.request_id]
            if event.kind is EventKind.VEHICLE_MOVED and event.vehicle_id in capture.positions:
                message.position = capture.positions[event.vehicle_id]
                message.bookings = _views(capture, event.vehicle_id)
            store.publish(event.kind.value, message.to_json())
        for vid, snapshot in capture.routes.items():
            render = _route_renderer(live, snapshot, version)
            store.put_route(vid, render)
            if not store.has_listeners():
                continue  # nobody to tell: the route is drawn when first asked for
            last = [e for e in capture.events if e.kind is EventKind.ROUTE_CHANGED and e.vehicle_id == vid][
                -1
            ]
            message = _message(live, last, version)
            message.route, message.bookings = render()["route"], _views(capture, vid)
            store.publish(EventKind.ROUTE_CHANGED.value, message.to_json())


def _route_renderer(live: LiveDispatch, snapshot: RouteSnapshot,
                    version: int) -> Callable[[], dict[str, Any]]:
    """A function that draws ``snapshot`` (stops and roads, as ``GET /v1/driver/route`` answers) once."""

    @functools.cache
    def render() -> dict[str, Any]:
        return {"plan_version": version, "route": route_json(route_public(live, snapshot))}

    return render


def _views(capture: Capture, vehicle_id: str) -> list[BookingLive]:
    return [capture.bookings[b] for b in capture.riders.get(vehicle_id, ()) if b in capture.bookings]


def _message(live: LiveDispatch, event: DomainEvent, version: int) -> LiveMessage:
    return LiveMessage(kind=event.kind.value, time=live.clock.to_datetime(event.time),
                       vehicle_id=event.vehicle_id, request_id=event.request_id, data=event.data,
                       plan_version=version)
