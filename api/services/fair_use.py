"""Fair use: what one rider may hold at once, and the operators' caps on it.

Two caps, set by operators (``PUT /v1/operator/fair-use``, stored as versions in ``fair_use_caps``; the
newest is in force, before any the defaults of the settings, ``RUFBUS_FAIR_USE_*``):

* **open bookings**: bookings booked and not yet picked up whose pickup is not past;
* **seats per slot**: seats and wheelchair spaces in the rider's active bookings whose pickup windows start
  less than ``slot_minutes`` from the new one's.

They are checked when a booking is made, inside its unit of work (under the dispatch lock, before the
dispatcher books it): a burst of bookings is checked one after another, each seeing the ones before. They
count the rider's bookings whoever made them — an operator booking for a caller is held to the caller's
caps. A booking over a cap is a :class:`~api.errors.Conflict` (409): it conflicts with what the rider holds,
and no waiting time helps until a trip ends or is cancelled (rates are :mod:`api.rate_limits`' job, 429).
Quotes hold no seats and are not capped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from api.db.models import ACTIVE_STATUSES, Booking, FairUseCaps, FairUseCapsBase, User
from api.errors import Conflict
from api.schemas import FairUseCapsBody, FairUseCapsPublic
from dispatch.dispatcher import RequestStatus


def caps_in_force(session: Session, defaults: FairUseCapsBase) -> FairUseCaps:
    """The newest stored caps, or ``defaults`` (``id`` None) when operators never set any."""
    row = session.exec(select(FairUseCaps).order_by(col(FairUseCaps.id).desc())).first()
    return row if row is not None else FairUseCaps(**defaults.model_dump())


def read_caps(session: Session, *, defaults: FairUseCapsBase) -> FairUseCapsPublic:
    """The caps in force, with their version (``null`` for the defaults)."""
    return _public(caps_in_force(session, defaults))


def change_caps(session: Session, *, user: User, body: FairUseCapsBody) -> FairUseCapsPublic:
    """Store ``body`` as the caps in force from now on; the next booking is held to them."""
    row = FairUseCaps(**body.model_dump(), changed_by=user.id)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(row)


def check_caps(session: Session, *, defaults: FairUseCapsBase, rider_id: int, pickup_at: datetime,
               passengers: int, now: datetime) -> None:
    """Refuse (:class:`Conflict`) a booking of ``passengers`` picked up from ``pickup_at`` for
    ``rider_id`` if it would take the rider over a cap in force (``defaults`` while operators have set
    none); call it within the booking's unit of work."""
    caps = caps_in_force(session, defaults)
    held = session.exec(select(Booking).where(col(Booking.rider_id) == rider_id,
                                              col(Booking.status).in_(ACTIVE_STATUSES))).all()
    open_bookings = sum(1 for b in held if b.status is RequestStatus.BOOKED
                        and (b.latest_pickup is None or b.latest_pickup >= now))
    if open_bookings >= caps.max_open_bookings:
        raise Conflict("too_many_open_bookings",
                       f"you have {open_bookings} open bookings, the most one rider may hold "
                       f"({caps.max_open_bookings}); cancel one or wait until a trip is done")
    slot = timedelta(minutes=caps.slot_minutes)
    seats = sum(b.seats + b.wheelchairs for b in held
                if b.window_start is None or abs(b.window_start - pickup_at) < slot)
    if seats + passengers > caps.max_seats_per_slot:
        raise Conflict("too_many_seats_in_slot",
                       f"at most {caps.max_seats_per_slot} seats per rider within {caps.slot_minutes} "
                       f"minutes of a pickup; you hold {seats} there and ask for {passengers} more")


def _public(row: FairUseCaps) -> FairUseCapsPublic:
    return FairUseCapsPublic(max_open_bookings=row.max_open_bookings,
                             max_seats_per_slot=row.max_seats_per_slot, slot_minutes=row.slot_minutes,
                             version=row.id,
                             valid_from=row.valid_from if row.id is not None else None)
