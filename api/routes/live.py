"""Live streams over WebSocket: drivers get their route whenever the plan changes, riders their
booking's estimates and bus position, operators every change of the fleet.

Authenticate with ``Authorization: Bearer <key>`` or, from a browser, ``?access_token=<key>``. The
server accepts the connection, then closes it with code 4401 (no valid key), 4403 (wrong role or not
yours) or 4404 (unknown booking). Each message is a JSON object with ``kind`` — a domain event kind
(``route_changed``, ``vehicle_moved``, ``booking_confirmed``, ``rider_picked_up``, …) or, first after
connecting, the current state (``route``, ``booking``, ``fleet``) — and ``plan_version``. Any worker
serves the streams: the messages come from the area's event channels (:mod:`api.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from api.auth import authenticate
from api.db.models import Booking, User, UserRole
from api.live.hub import Message
from api.live.layer import LiveLayer

router = APIRouter(tags=["live"])

UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 4401, 4403, 4404


def _token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return websocket.query_params.get("access_token")


async def _accept_user(websocket: WebSocket, *roles: UserRole) -> User | None:
    """Accept the connection and return its user, or close it (4401/4403) and return None."""
    await websocket.accept()
    with Session(websocket.app.state.engine) as session:
        user = authenticate(session, _token(websocket))
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
async def driver_stream(websocket: WebSocket) -> None:
    """A driver's route, then every change concerning their bus (operators: ``?vehicle_id=``)."""
    user = await _accept_user(websocket, UserRole.DRIVER, UserRole.OPERATOR)
    if user is None:
        return
    vehicle_id = user.vehicle_id if user.role is UserRole.DRIVER else websocket.query_params.get("vehicle_id")
    if vehicle_id is None:
        await websocket.close(FORBIDDEN, "no vehicle: drivers need one, operators name it (?vehicle_id=)")
        return
    layer: LiveLayer = websocket.app.state.live
    current = await asyncio.to_thread(layer.store.route, vehicle_id) or {"plan_version": 0, "route": None}
    await _stream(
        websocket,
        {"kind": "route", "vehicle_id": vehicle_id, **current},
        lambda message: message.get("vehicle_id") == vehicle_id,
    )


@router.websocket("/v1/bookings/{booking_id}/stream")
async def booking_stream(websocket: WebSocket, booking_id: str) -> None:
    """A booking's live view (status, planned pickup, estimated arrival, bus position), then each
    update of it (riders: their own bookings; operators: any)."""
    user = await _accept_user(websocket, UserRole.RIDER, UserRole.OPERATOR)
    if user is None:
        return
    with Session(websocket.app.state.engine) as session:
        row = session.get(Booking, booking_id)
    if row is None or (user.role is UserRole.RIDER and row.rider_id != user.id):
        await websocket.close(NOT_FOUND, f"no booking with id {booking_id!r}")
        return
    layer: LiveLayer = websocket.app.state.live
    view = await asyncio.to_thread(layer.store.booking, booking_id) or {
        "id": booking_id,
        "status": row.status.value,
        "vehicle_id": row.vehicle_id,
        "planned_pickup": None,
        "estimated_arrival": None,
        "vehicle_position": None,
    }

    def concerns(message: Message) -> bool:
        return _view_of(message, booking_id) is not None

    def shape(message: Message) -> Message:
        return {
            "kind": message["kind"],
            "plan_version": message["plan_version"],
            "booking": _view_of(message, booking_id),
        }

    await _stream(
        websocket,
        {
            "kind": "booking",
            "plan_version": await asyncio.to_thread(layer.store.plan_version),
            "booking": view,
        },
        concerns,
        shape,
    )


def _view_of(message: Message, booking_id: str) -> dict[str, Any] | None:
    booking = message.get("booking")
    if booking is not None and booking.get("id") == booking_id:
        return booking
    return next((b for b in message.get("bookings", ()) if b.get("id") == booking_id), None)


@router.websocket("/v1/operator/stream")
async def operator_stream(websocket: WebSocket) -> None:
    """The last known position of every bus, then every change of the plan and the fleet."""
    user = await _accept_user(websocket, UserRole.OPERATOR)
    if user is None:
        return
    layer: LiveLayer = websocket.app.state.live
    positions = await asyncio.to_thread(layer.store.positions)
    version = await asyncio.to_thread(layer.store.plan_version)
    await _stream(
        websocket, {"kind": "fleet", "plan_version": version, "positions": positions}, lambda message: True
    )
