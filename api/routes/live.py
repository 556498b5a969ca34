"""Live streams over WebSocket: drivers get their route whenever the plan changes, riders their
booking's estimates and bus position (the bus only from the operators' ``bus_visible_minutes`` before
the pickup until drop-off, :func:`api.services.booking_view.for_rider`), operators every change of the
fleet.

Authenticate with ``Authorization: Bearer <key>`` or, from a browser, ``?access_token=<key>``; keys are
looked up as for HTTP (:data:`api.deps.StreamUser`: the key cache, the database off the event loop). The
server accepts the connection, then closes it with code 4401 (no valid key), 4403 (wrong role or not
yours) or 4404 (unknown booking). Each message is a JSON object with ``kind`` — a domain event kind
(``route_changed``, ``vehicle_moved``, ``booking_confirmed``, ``rider_picked_up``, …) or, first after
connecting, the current state (``route``, ``booking``, ``fleet``) — and ``plan_version``. Any worker
serves the streams: the messages come from the area's event channels (:mod:`api.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy import Engine
from sqlmodel import Session

from api.db.models import Booking, User, UserRole
from api.deps import StreamUser
from api.live.hub import Message
from api.live.layer import LiveLayer
from api.live.messages import BookingFirst, BookingUpdate, FleetFirst, RouteFirst, VehiclePosition
from api.schemas import BookingLive
from api.services.booking_view import booking_public, for_rider
from api.services.privacy_settings import settings_in_force

router = APIRouter(tags=["live"])

UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 4401, 4403, 4404


async def _admit(websocket: WebSocket, user: User | None, *roles: UserRole) -> User | None:
    """Accept the connection; return its user, or close it (4401/4403) and return None."""
    await websocket.accept()
    if user is None:
        await websocket.close(UNAUTHENTICATED, "send a valid API key")
        return None
    if user.role not in roles:
        await websocket.close(FORBIDDEN, f"not for the role {user.role.value}")
        return None
    return user


async def _stream(
    websocket: WebSocket,
    first: Message,
    accepts: Callable[[Message], bool],
    shape: Callable[[Message], Message] = lambda m: m,
) -> None:
    """Send ``first``, then every live message ``accepts`` lets through, until the client leaves."""
    layer: LiveLayer = websocket.app.state.live
    subscription = layer.hub.subscribe(accepts)

    async def send_all() -> None:
        await websocket.send_json(first)
        while True:
            await websocket.send_json(shape(await subscription.queue.get()))

    sender = asyncio.create_task(send_all())
    try:
        while True:  # the client says nothing we need; this notices when it leaves
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        layer.hub.unsubscribe(subscription)


@router.websocket("/v1/driver/stream")
async def driver_stream(websocket: WebSocket, caller: StreamUser) -> None:
    """A driver's route, then every change concerning their bus (operators: ``?vehicle_id=``)."""
    user = await _admit(websocket, caller, UserRole.DRIVER, UserRole.OPERATOR)
    if user is None:
        return
    vehicle_id = user.vehicle_id if user.role is UserRole.DRIVER else websocket.query_params.get("vehicle_id")
    if vehicle_id is None:
        await websocket.close(FORBIDDEN, "no vehicle: drivers need one, operators name it (?vehicle_id=)")
        return
    layer: LiveLayer = websocket.app.state.live
    current = await asyncio.to_thread(layer.store.route, vehicle_id) or {"plan_version": 0, "route": None}
    first = RouteFirst(vehicle_id=vehicle_id, plan_version=current["plan_version"], route=current["route"])
    await _stream(websocket, first.model_dump(mode="json"),
                  lambda message: message.get("vehicle_id") == vehicle_id)


@router.websocket("/v1/bookings/{booking_id}/stream")
async def booking_stream(websocket: WebSocket, booking_id: str, caller: StreamUser) -> None:
    """A booking as ``GET /v1/bookings/{id}`` shows it, then each update of its live view (status, planned
    pickup, estimated arrival, bus position). Riders: their own bookings; operators: any."""
    user = await _admit(websocket, caller, UserRole.RIDER, UserRole.OPERATOR)
    if user is None:
        return
    row, bus_visible = await asyncio.to_thread(_load_booking, websocket.app.state.engine, booking_id)
    if row is None or (user.role is UserRole.RIDER and row.rider_id != user.id):
        await websocket.close(NOT_FOUND, f"no booking with id {booking_id!r}")
        return
    layer: LiveLayer = websocket.app.state.live
    stored = await asyncio.to_thread(layer.store.booking, booking_id)
    clock = websocket.app.state.dispatch.clock
    view = booking_public(row, BookingLive.model_validate(stored) if stored else None, clock.zone,
                          now=clock.now_datetime(), bus_visible=bus_visible)
    version = await asyncio.to_thread(layer.store.plan_version)

    def concerns(message: Message) -> bool:
        return _view_of(message, booking_id) is not None

    def shape(message: Message) -> Message:  # the bus only within the rider's window (booking_view)
        update = for_rider(BookingLive.model_validate(_view_of(message, booking_id)),
                           now=clock.now_datetime(), bus_visible=bus_visible)
        return BookingUpdate(kind=message["kind"], plan_version=message["plan_version"],
                             booking=update).model_dump(mode="json")

    await _stream(websocket, BookingFirst(plan_version=version, booking=view).model_dump(mode="json"),
                  concerns, shape)


def _load_booking(engine: Engine, booking_id: str) -> tuple[Booking | None, timedelta]:
    """The booking, and how long before a pickup its rider sees the bus (as the stream starts)."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Booking, booking_id)
        bus_visible = timedelta(minutes=settings_in_force(session).bus_visible_minutes)
        session.commit()  # end the read: on SQLite an open read would hold up writers
        return row, bus_visible


def _view_of(message: Message, booking_id: str) -> dict[str, Any] | None:
    booking = message.get("booking")
    if booking is not None and booking.get("id") == booking_id:
        return booking
    return next((b for b in message.get("bookings", ()) if b.get("id") == booking_id), None)


@router.websocket("/v1/operator/stream")
async def operator_stream(websocket: WebSocket, caller: StreamUser) -> None:
    """The last known position of every bus, then every change of the plan and the fleet."""
    if await _admit(websocket, caller, UserRole.OPERATOR) is None:
        return
    layer: LiveLayer = websocket.app.state.live
    positions = await asyncio.to_thread(layer.store.positions)
    version = await asyncio.to_thread(layer.store.plan_version)
    first = FleetFirst(plan_version=version,
                       positions={vid: VehiclePosition.model_validate(p) for vid, p in positions.items()})
    await _stream(websocket, first.model_dump(mode="json"), lambda message: True)
