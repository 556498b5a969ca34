"""A rider's rights over their data: a copy of everything kept about them (export) and its erasure.

Both work through registries, so that every table holding riders' data takes part by adding itself where
it is defined (a module registers at import):

* :func:`exporter` ``("name")`` registers ``f(session, rider_id) -> JSON-ready data``; the export is one
  JSON object with a key per exporter (:func:`export_rider`).
* :func:`eraser` ``("name")`` registers ``f(erasing) -> rows changed``, run in registration order in one
  transaction (:func:`erase_rider`); ``erasing`` (:class:`Erasing`) says whose data, when, and how to
  coarsen a place.

**Erasure**, on the rider's request (``DELETE /v1/rider/me``) or an operator's for a rider who asked them
(``DELETE /v1/operator/riders/{id}``): first the account is closed (deactivated, every session and its
key revoked, open streams closed in every worker — :mod:`api.accounts.revocation` —, so no new booking can
come in), then the rider's open bookings are cancelled through the normal cancel path (the
plan in force no longer holds them, the buses' routes close the gaps), then in one transaction every
eraser runs: bookings lose the link to the rider and their exact places (:mod:`api.services.retention`'s
coarsening), the event log names the rider's own acts ``rider`` instead of their user id, the account
loses name and phone. An :class:`~api.db.models.Erasure` row records when and the counts; erasing again
changes nothing and answers that record. A rider on board is erased after the trip (409 ``rider_on_board``).

Quotes are recorded only coarsened and without who asked (:mod:`api.services.demand`): there is nothing
of a rider to export or erase there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from api.accounts.admin import sign_out_everywhere
from api.accounts.revocation import RevocationBoard
from api.db.models import (
    AuthSession,
    Booking,
    Companion,
    Erasure,
    Event,
    FavouritePlace,
    Notice,
    NotificationPreferences,
    OutboxMessage,
    RecurringOccurrence,
    RecurringTrip,
    RefreshToken,
    SignInCode,
    User,
    UserRole,
    WebSocketTicket,
)
from api.errors import Conflict, NotFound
from api.schemas import ErasurePublic
from api.services.booking import cancel_booking
from api.services.live_plan import ERASED_RIDER, LiveDispatch, actor
from api.services.retention import CellNode, coarsen_booking
from dispatch.dispatcher import RequestStatus

Exporter = Callable[[Session, int], Any]


@dataclass(frozen=True)
class Erasing:
    """One rider's erasure under way: the session to write with, the rider, the time, the cells' nodes."""

    session: Session
    rider_id: int
    now: datetime
    cell_node: CellNode


Eraser = Callable[[Erasing], int]

EXPORTERS: dict[str, Exporter] = {}
ERASERS: dict[str, Eraser] = {}


def exporter(name: str) -> Callable[[Exporter], Exporter]:
    """Register the decorated function as the export of ``name`` (a key of the export's JSON)."""
    def register(function: Exporter) -> Exporter:
        EXPORTERS[name] = function
        return function
    return register


def eraser(name: str) -> Callable[[Eraser], Eraser]:
    """Register the decorated function as the erasure of ``name`` (a key of the erasure's counts)."""
    def register(function: Eraser) -> Eraser:
        ERASERS[name] = function
        return function
    return register


def export_rider(session: Session, *, rider_id: int, now: datetime) -> dict[str, Any]:
    """Everything kept about rider ``rider_id``, by exporter, as JSON-ready values."""
    _rider(session, rider_id)
    data: dict[str, Any] = {"exported_at": now.isoformat()}
    data |= {name: export(session, rider_id) for name, export in EXPORTERS.items()}
    session.commit()  # end the read
    return data


def erase_rider(live: LiveDispatch, session: Session, *, rider_id: int, by: User, cell_node: CellNode,
                board: RevocationBoard | None = None) -> ErasurePublic:
    """Erase rider ``rider_id``'s data on the request of ``by`` (the rider, or an operator): close the
    account, cancel the open bookings through the normal cancel path, then run every eraser in one
    transaction; idempotent."""
    _rider(session, rider_id)
    done = session.get(Erasure, rider_id)
    statuses = session.exec(select(Booking.status).where(col(Booking.rider_id) == rider_id)).all()
    session.commit()  # end the reads: on SQLite a transaction that read cannot write once another wrote
    if done is not None:
        return _public(done, erased_now=False, zone=live.clock.zone)
    if RequestStatus.PICKED_UP in statuses:
        raise Conflict("rider_on_board", "the rider is on board: erase their data after the trip")
    session.exec(update(User).where(col(User.id) == rider_id).values(active=False))  # no new booking
    session.commit()
    account = _rider(session, rider_id)
    for revocation in sign_out_everywhere(session, account, reason="erased", now=live.clock.now_datetime()):
        if board is not None:  # every session and the key end now; open streams close in every worker
            board.announce(revocation)
    open_bookings = session.exec(select(Booking.id).where(col(Booking.rider_id) == rider_id,
                                                          col(Booking.status) == RequestStatus.BOOKED)).all()
    session.commit()
    cancelled = 0
    for booking_id in open_bookings:
        try:
            cancel_booking(live, session, user=by, booking_id=booking_id)
            cancelled += 1
        except Conflict as error:  # booked in the database but no longer in the plan: over already
            if error.code != "not_in_plan":
                raise
    now = live.clock.now_datetime()
    record = Erasure(user_id=rider_id, erased_at=now,
                     requested_by="rider" if by.id == rider_id else actor(by))
    session.add(record)
    session.flush()  # written first, so that the erasers' reads and writes are one writer's transaction
    erasing = Erasing(session, rider_id, now, cell_node)
    counts = {name: erase(erasing) for name, erase in ERASERS.items()}
    record.counts = {"bookings_cancelled": cancelled} | counts
    session.add(record)
    session.commit()
    return _public(record, erased_now=True, zone=live.clock.zone)


def _rider(session: Session, rider_id: int) -> User:
    user = session.get(User, rider_id)
    if user is None or user.role is not UserRole.RIDER:
        raise NotFound("unknown_rider", f"no rider with id {rider_id}")
    return user


def _public(record: Erasure, *, erased_now: bool, zone: tzinfo) -> ErasurePublic:
    return ErasurePublic(rider_id=record.user_id, erased_at=record.erased_at.astimezone(zone),
                         requested_by=record.requested_by, counts=dict(record.counts), erased_now=erased_now)


def _rider_bookings(session: Session, rider_id: int) -> list[Booking]:
    return list(session.exec(select(Booking).where(col(Booking.rider_id) == rider_id)
                             .order_by(col(Booking.submitted_at))).all())


# --- the service's own tables -------------------------------------------------------------------------


@exporter("rider")
def export_profile(session: Session, rider_id: int) -> dict[str, Any]:
    """The account: name, phone, since when, active (never the key, of which only a hash is kept)."""
    user = _rider(session, rider_id)
    return {"id": user.id, "name": user.name, "phone": user.phone, "role": user.role.value,
            "active": user.active, "created_at": user.created_at.isoformat()}


@exporter("bookings")
def export_bookings(session: Session, rider_id: int) -> list[dict[str, Any]]:
    """Every booking of the rider with every stored field."""
    return [row.model_dump(mode="json") for row in _rider_bookings(session, rider_id)]


@exporter("events")
def export_events(session: Session, rider_id: int) -> list[dict[str, Any]]:
    """The event log's entries about the rider's bookings or caused by the rider, oldest first."""
    ids = [row.id for row in _rider_bookings(session, rider_id)]
    rows = session.exec(select(Event).where(or_(col(Event.request_id).in_(ids),
                                                col(Event.actor) == f"user:{rider_id}"))
                        .order_by(col(Event.time), col(Event.id))).all()
    return [{"time": row.time.isoformat(), "kind": row.kind.value, "actor": row.actor,
             "vehicle_id": row.vehicle_id, "booking_id": row.request_id, "data": row.payload} for row in rows]


@eraser("events")
def erase_events(erasing: Erasing) -> int:
    """The rider's own acts in the event log name ``rider`` instead of their user id (run before the
    bookings lose their link, so the reports still tell a rider's cancellation from an operator's)."""
    statement = update(Event).where(col(Event.actor) == f"user:{erasing.rider_id}").values(actor=ERASED_RIDER)
    result = erasing.session.exec(statement)
    return int(result.rowcount)


@eraser("bookings")
def erase_bookings(erasing: Erasing) -> int:
    """The rider's bookings lose the link to them and their exact places (coarsened to grid cells)."""
    rows = _rider_bookings(erasing.session, erasing.rider_id)
    for row in rows:
        if row.coarsened_at is None:
            coarsen_booking(row, erasing.cell_node, erasing.now)
        if row.booked_by == erasing.rider_id:
            row.booked_by = None
        row.rider_id = None
        erasing.session.add(row)
    return len(rows)


@eraser("account")
def erase_account(erasing: Erasing) -> int:
    """The account keeps no name and no phone (it stays, closed, as the record's anchor)."""
    user = erasing.session.get(User, erasing.rider_id)
    assert user is not None, "checked before"
    user.name, user.phone, user.active, user.api_key_hash = "", None, False, None
    erasing.session.add(user)
    return 1


# --- accounts, notices, and the rider's own things (favourites, companions, recurring trips) -----------


@exporter("sign_in")
def export_sign_in(session: Session, rider_id: int) -> dict[str, Any]:
    """The e-mail address signed in with, and the sessions (devices): when made, last used, ended — never
    a token, of which only hashes are kept."""
    user = _rider(session, rider_id)
    sessions = session.exec(select(AuthSession).where(col(AuthSession.user_id) == rider_id)
                            .order_by(col(AuthSession.created_at))).all()
    return {"email": user.email,
            "sessions": [{"created_at": row.created_at.isoformat(),
                          "last_used_at": row.last_used_at.isoformat(),
                          "expires_at": row.expires_at.isoformat(), "provider": row.provider,
                          "device": row.device,
                          "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}
                         for row in sessions]}


@exporter("notices")
def export_notices(session: Session, rider_id: int) -> dict[str, Any]:
    """What the rider was told (in the app and by mail) and their notification settings."""
    notices = session.exec(select(Notice).where(col(Notice.user_id) == rider_id)
                           .order_by(col(Notice.created_at))).all()
    preferences = session.get(NotificationPreferences, rider_id)
    return {"notices": [{"kind": row.kind.value, "booking_id": row.booking_id, "data": row.data,
                         "created_at": row.created_at.isoformat(),
                         "read_at": row.read_at.isoformat() if row.read_at else None} for row in notices],
            "settings": preferences.model_dump(mode="json") if preferences else None}


@exporter("favourite_places")
def export_favourites(session: Session, rider_id: int) -> list[dict[str, Any]]:
    """The rider's named places."""
    rows = session.exec(select(FavouritePlace).where(col(FavouritePlace.rider_id) == rider_id)).all()
    return [row.model_dump(mode="json") for row in rows]


@exporter("companions")
def export_companions(session: Session, rider_id: int) -> list[dict[str, Any]]:
    """The fellow travellers the rider saved."""
    rows = session.exec(select(Companion).where(col(Companion.rider_id) == rider_id)).all()
    return [row.model_dump(mode="json") for row in rows]


@exporter("recurring_trips")
def export_recurring(session: Session, rider_id: int) -> list[dict[str, Any]]:
    """The rider's recurring trips, each with the outcome of every day tried."""
    trips = session.exec(select(RecurringTrip).where(col(RecurringTrip.rider_id) == rider_id)).all()
    return [trip.model_dump(mode="json") | {"days": [
        day.model_dump(mode="json") for day in session.exec(
            select(RecurringOccurrence).where(col(RecurringOccurrence.recurring_trip_id) == trip.id))]}
        for trip in trips]


@eraser("recurring_trips")
def erase_recurring(erasing: Erasing) -> int:
    """The rider's recurring trips and their days go (nothing is booked for the account any more)."""
    session = erasing.session
    trips = [row.id for row in session.exec(select(RecurringTrip)
                                            .where(col(RecurringTrip.rider_id) == erasing.rider_id))]
    session.exec(delete(RecurringOccurrence).where(col(RecurringOccurrence.recurring_trip_id).in_(trips)))
    session.exec(delete(RecurringTrip).where(col(RecurringTrip.rider_id) == erasing.rider_id))
    return len(trips)


@eraser("favourites_and_companions")
def erase_favourites(erasing: Erasing) -> int:
    """The rider's named places and saved companions go."""
    rider = erasing.rider_id
    places = erasing.session.exec(delete(FavouritePlace).where(col(FavouritePlace.rider_id) == rider))
    people = erasing.session.exec(delete(Companion).where(col(Companion.rider_id) == rider))
    return int(places.rowcount) + int(people.rowcount)


@eraser("notices")
def erase_notices(erasing: Erasing) -> int:
    """The rider's notices, their mail in the outbox (sent or not) and their notification settings go."""
    session = erasing.session
    notices = select(Notice.id).where(col(Notice.user_id) == erasing.rider_id)
    session.exec(delete(OutboxMessage).where(col(OutboxMessage.notice_id).in_(notices)))
    gone = session.exec(delete(Notice).where(col(Notice.user_id) == erasing.rider_id))
    session.exec(delete(NotificationPreferences)
                 .where(col(NotificationPreferences.user_id) == erasing.rider_id))
    return int(gone.rowcount)


@eraser("sign_in")
def erase_sign_in(erasing: Erasing) -> int:
    """The sessions (ended at the erasure's start), their refresh tokens, stream tickets and any sign-in
    code mailed to the address go, and then the address itself."""
    session = erasing.session
    user = _rider(session, erasing.rider_id)
    ids = select(AuthSession.id).where(col(AuthSession.user_id) == erasing.rider_id)
    session.exec(delete(RefreshToken).where(col(RefreshToken.session_id).in_(ids)))
    session.exec(delete(WebSocketTicket).where(col(WebSocketTicket.user_id) == erasing.rider_id))
    gone = session.exec(delete(AuthSession).where(col(AuthSession.user_id) == erasing.rider_id))
    session.exec(delete(SignInCode).where(col(SignInCode.for_user_id) == erasing.rider_id))  # a new address
    if user.email is not None:
        session.exec(delete(SignInCode).where(col(SignInCode.email) == user.email))
        user.email = None
        session.add(user)
    return int(gone.rowcount)
