"""Live streams over WebSocket: drivers get their route whenever the plan changes, riders their
booking's estimates and bus position (the bus only from the operators' ``bus_visible_minutes`` before
the pickup until drop-off, :func:`api.services.booking_view.for_rider`), operators every change of the
fleet.

Authenticate with a single-use ticket, ``?ticket=<ticket>`` (POST /v1/auth/ws-ticket: browsers), or
``Authorization: Bearer <access token or API key>`` (other clients) — never a key or token in the URL
(:data:`api.deps.StreamCaller`). The server accepts the connection, then closes it with code 4401 (no
valid credentials), 4403 (wrong role or not yours) or 4404 (unknown booking). A stream lives as long as
the credential that opened it: when its session or key is revoked the stream closes with 4401 at once
(:mod:`api.accounts.revocation`), or at the latest at its next re-check (``stream_recheck_s``). Each
message is a JSON object with ``kind`` — a domain event kind
(``route_changed``, ``vehicle_moved``, ``booking_confirmed``, ``rider_picked_up``, …) or, first after
connecting, the current state (``route``, ``booking``, ``fleet``) — and ``plan_version``; a rider's
booking stream also passes on each new notice about the booking (``{"kind": "notice", "notice": …}``,
:mod:`api.services.notifications`), which the other streams leave out. Any worker
serves the streams: the messages come from the area's event channels (:mod:`api.live`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, WebSocket
from sqlalchemy import Engine
from sqlmodel import Session

from api.accounts.revocation import RevocationBoard
from api.accounts.sessions import session_alive
from api.auth import KEY, Caller
from api.db.models import Booking, User, UserRole
from api.deps import StreamCaller
from api.live.hub import Message
from api.live.layer import LiveLayer
from api.live.messages import BookingFirst, BookingUpdate, FleetFirst, RouteFirst, VehiclePosition
from api.schemas import BookingLive
from api.services.booking_view import booking_public, for_rider
from api.services.notice_push import NOTICE_KIND
from api.services.privacy_settings import settings_in_force

router = APIRouter(tags=["live"])

UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 4401, 4403, 4404


async def _admit(websocket: WebSocket, caller: Caller | None, *roles: UserRole) -> Caller | None:
    """Accept the connection; return its caller, or close it (4401/4403) and return None."""
    await websocket.accept()
    if caller is None:
        await websocket.close(UNAUTHENTICATED, "send a valid ticket (POST /v1/auth/ws-ticket)")
        return None
    if caller.user.role not in roles:
        await websocket.close(FORBIDDEN, f"not for the role {caller.user.role.value}")
        return None
    return caller


async def _stream(
    websocket: WebSocket,
    caller: Caller,
    first: Message,
    accepts: Callable[[Message], bool],
    shape: Callable[[Message], Message] = lambda m: m,
) -> None:
    """Send ``first``, then every live message ``accepts`` lets through, until the client leaves or the
    caller's credential ends (then close with 4401)."""
    layer: LiveLayer = websocket.app.state.live
    board: RevocationBoard = websocket.app.state.revocations
    assert caller.user.id is not None, "users come from the database"
    subscription = layer.hub.subscribe(accepts)
    watch = board.watch(caller.user.id, caller.scope)

    async def send_all() -> None:
        await websocket.send_json(first)
        while True:
            await websocket.send_json(shape(await subscription.queue.get()))

    async def receive_all() -> None:
        while True:  # the client says nothing we need; this notices when it leaves
            await websocket.receive_text()

    async def credential_ends() -> None:
        every_s = websocket.app.state.settings.stream_recheck_s
        while True:
            try:
                await asyncio.wait_for(watch.ended.wait(), timeout=every_s)
                return
            except TimeoutError:
                if not await asyncio.to_thread(_still_valid, websocket.app.state.engine, caller,
                                               websocket.app.state.auth_clock()):
                    return

    tasks = [asyncio.create_task(work()) for work in (send_all, receive_all, credential_ends)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if tasks[2] in done:
            await websocket.close(UNAUTHENTICATED, "signed out: the session or key was revoked")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # the client leaving ends one with an error
        layer.hub.unsubscribe(subscription)
        board.unwatch(watch)


def _still_valid(engine: Engine, caller: Caller, now: datetime) -> bool:
    """Whether the credential that opened a stream still holds: its session alive, or its API key the
    user's unexpired key, and the user active."""
    with Session(engine) as session:
        if caller.scope != KEY:
            alive = session_alive(session, caller.scope, now=now)
        else:
            user = session.get(User, caller.user.id)
            expires = user.api_key_expires_at if user else None
            alive = (user is not None and user.active and user.api_key_hash == caller.user.api_key_hash
                     and (expires is None or expires > now))
        session.commit()
        return alive


@router.websocket("/v1/driver/stream")
async def driver_stream(websocket: WebSocket, caller: StreamCaller) -> None:
    """A driver's route, then every change concerning their bus (operators: ``?vehicle_id=``)."""
    admitted = await _admit(websocket, caller, UserRole.DRIVER, UserRole.OPERATOR)
    if admitted is None:
        return
    user = admitted.user
    vehicle_id = user.vehicle_id if user.role is UserRole.DRIVER else websocket.query_params.get("vehicle_id")
    if vehicle_id is None:
        await websocket.close(FORBIDDEN, "no vehicle: drivers need one, operators name it (?vehicle_id=)")
        return
    layer: LiveLayer = websocket.app.state.live
    current = await asyncio.to_thread(layer.store.route, vehicle_id) or {"plan_version": 0, "route": None}
    first = RouteFirst(vehicle_id=vehicle_id, plan_version=current["plan_version"], route=current["route"])
    await _stream(websocket, admitted, first.model_dump(mode="json"),
                  lambda message: message.get("vehicle_id") == vehicle_id)


@router.websocket("/v1/bookings/{booking_id}/stream")
async def booking_stream(websocket: WebSocket, booking_id: str, caller: StreamCaller) -> None:
    """A booking as ``GET /v1/bookings/{id}`` shows it, then each update of its live view (status, planned
    pickup, estimated arrival, bus position). Riders: their own bookings; operators: any."""
    admitted = await _admit(websocket, caller, UserRole.RIDER, UserRole.OPERATOR)
    if admitted is None:
        return
    user = admitted.user
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
        if message.get("kind") == NOTICE_KIND:
            return message.get("booking_id") == booking_id
        return _view_of(message, booking_id) is not None

    def shape(message: Message) -> Message:  # the bus only within the rider's window (booking_view)
        if message.get("kind") == NOTICE_KIND:
            return {"kind": NOTICE_KIND, "notice": message["notice"]}
        update = for_rider(BookingLive.model_validate(_view_of(message, booking_id)),
                           now=clock.now_datetime(), bus_visible=bus_visible)
        return BookingUpdate(kind=message["kind"], plan_version=message["plan_version"],
                             booking=update).model_dump(mode="json")

    first = BookingFirst(plan_version=version, booking=view).model_dump(mode="json")
    await _stream(websocket, admitted, first, concerns, shape)


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
async def operator_stream(websocket: WebSocket, caller: StreamCaller) -> None:
    """The last known position of every bus, then every change of the plan and the fleet."""
    admitted = await _admit(websocket, caller, UserRole.OPERATOR)
    if admitted is None:
        return
    layer: LiveLayer = websocket.app.state.live
    positions = await asyncio.to_thread(layer.store.positions)
    version = await asyncio.to_thread(layer.store.plan_version)
    first = FleetFirst(plan_version=version,
                       positions={vid: VehiclePosition.model_validate(p) for vid, p in positions.items()})
    await _stream(websocket, admitted, first.model_dump(mode="json"),
                  lambda message: message.get("kind") != NOTICE_KIND)  # notices are the riders'
