"""Riders' notifications: what a rider is told about their bookings, in the app and by e-mail.

A change that concerns a rider logs an event (:class:`api.db.models.Event`); :func:`notify` turns the
events of one change into :class:`~api.db.models.Notice` rows and their deliveries, in the change's own
transaction (the caller's unit of work, :func:`~api.services.live_plan.plan_change`, commits them with the
change or rolls them back with it): an e-mail, when the rider has an address on file and has not opted out
of that kind, as an :class:`~api.db.models.OutboxMessage` row that the sender (:mod:`api.services.outbox`)
delivers afterwards; and a push to the rider's booking stream, published the moment the change commits
(:mod:`api.services.notice_push`). So a committed change always has its notices, and a rolled-back one has
none.

What riders are told:

- ``booking_confirmed``: a ``booking_confirmed`` event (the rider's own booking, or one an operator made
  for a caller);
- ``pickup_changed``: a ``promise_changed`` event — a late bus re-timed the plan and the rider got a new
  pickup window (:func:`api.services.driving` applies :func:`dispatch.disturbance.retime`). Re-optimization,
  the rolling horizon and fleet changes never change a promised window (the first two keep every promise,
  the last is refused when it would break one), so they tell nobody anything;
- ``booking_cancelled``: a ``booking_cancelled`` event whose actor is not the rider (an operator cancelled
  on the rider's behalf at the desk), and every booking a ``vehicle_out_of_service`` event rejected (the
  bus was withdrawn and no other bus could take the rider).

The rider's list (``GET /v1/rider/notices``) renders each notice in the rider's language
(:mod:`api.services.notice_texts`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from api.db.models import (
    Booking,
    Channel,
    Event,
    Notice,
    NoticeKind,
    NotificationPreferences,
    User,
)
from api.db.models import OutboxMessage as Outbox
from api.errors import NotFound
from api.schemas import NoticePublic, NoticesPage, NotificationSettingsBody, NotificationSettingsPublic
from api.services.notice_push import stage_push
from api.services.notice_texts import NoticeTexts, notice_public
from dispatch.events import EventKind

STAGED = "rufbus.notices_staged"  # session.info key: this transaction wrote e-mails to the outbox
_WANTS = {NoticeKind.BOOKING_CONFIRMED: "email_booking_confirmed",
          NoticeKind.PICKUP_CHANGED: "email_pickup_changed",
          NoticeKind.BOOKING_CANCELLED: "email_booking_cancelled"}


def notify(session: Session, events: Sequence[Event], bookings: Iterable[Booking]) -> list[Notice]:
    """Stage the notices ``events`` give the riders of ``bookings`` (the rows the change wrote, by id), with
    their deliveries, in ``session``'s open transaction — call it before the change commits. The notices
    staged (none for events that tell riders nothing)."""
    rows = {row.id: row for row in bookings}
    staged, mailed = [], False
    for event in events:
        for booking_id, kind, extra in _notices_of(event):
            row = rows.get(booking_id)
            if row is None:
                raise LookupError(f"booking {booking_id!r} of a {event.kind.value} event was not passed on")
            if kind is NoticeKind.BOOKING_CANCELLED and event.actor == f"user:{row.rider_id}":
                continue  # riders who cancel know it
            if row.rider_id is not None:
                notice, mail = _stage(session, row, kind, extra, event.time)
                staged.append(notice)
                mailed = mailed or mail
    if mailed:
        session.info[STAGED] = True
    return staged


def _notices_of(event: Event) -> Iterator[tuple[str, NoticeKind, dict[str, Any]]]:
    """(booking id, kind, data beyond the booking's) of each notice ``event`` gives."""
    payload = event.payload or {}
    if event.kind is EventKind.BOOKING_CONFIRMED and event.request_id:
        yield event.request_id, NoticeKind.BOOKING_CONFIRMED, {}
    elif event.kind is EventKind.PROMISE_CHANGED and event.request_id:
        yield event.request_id, NoticeKind.PICKUP_CHANGED, {
            "previous_window_end": payload["previous_window_end"],
            "planned_pickup": payload.get("planned_pickup")}
    elif event.kind is EventKind.BOOKING_CANCELLED and event.request_id:
        yield event.request_id, NoticeKind.BOOKING_CANCELLED, {"reason": "operator"}
    elif event.kind is EventKind.VEHICLE_OUT_OF_SERVICE:
        for booking_id in payload.get("rejected", ()):
            yield booking_id, NoticeKind.BOOKING_CANCELLED, {"reason": "vehicle_out_of_service"}


def _stage(session: Session, row: Booking, kind: NoticeKind, extra: dict[str, Any], at: datetime
           ) -> tuple[Notice, bool]:
    """Add the notice of ``kind`` about ``row`` to the session, its push to the commit and its e-mail (if
    the rider has an address and wants this kind by mail) to the outbox; the notice, and whether it is
    mailed."""
    assert row.rider_id is not None
    rider = session.get(User, row.rider_id)
    preferences = session.get(NotificationPreferences, row.rider_id)
    notice = Notice(id=uuid.uuid4().hex, user_id=row.rider_id, booking_id=row.id, kind=kind,
                    data=booking_data(row) | extra, created_at=at)
    session.add(notice)
    stage_push(session, notice, preferences.language if preferences is not None else None)
    address = rider.email if rider is not None else None
    if not address or not getattr(preferences, _WANTS[kind], True):
        return notice, False
    session.add(Outbox(notice_id=notice.id, channel=Channel.EMAIL, recipient=address,
                       message_id=make_msgid(domain="rufbus"), next_attempt_at=at, created_at=at))
    return notice, True


def booking_data(row: Booking) -> dict[str, Any]:
    """What every notice about ``row`` says: its reference, where the rider boards and alights (by name:
    the meeting point, else the street; never coordinates), the promised window and latest arrival."""
    assert row.window_start is not None and row.window_end is not None and row.latest_dropoff is not None
    return {"reference": row.id, "window": [_instant(row.window_start), _instant(row.window_end)],
            "latest_arrival": _instant(row.latest_dropoff),
            "pickup": _place(row.pickup_meeting_point, row.pickup_street),
            "dropoff": _place(row.dropoff_meeting_point, row.dropoff_street)}


def _place(meeting_point: dict[str, Any] | None, street: str | None) -> str:
    if meeting_point is not None and meeting_point.get("name"):
        return str(meeting_point["name"])
    return street or ""


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# ----- the rider's list and settings ---------------------------------------------------------------------

def list_notices(session: Session, *, user: User, texts: NoticeTexts, unread_only: bool, limit: int,
                 offset: int) -> NoticesPage:
    """A page of ``user``'s notices, newest first (only the unread ones if asked), in their language."""
    mine = col(Notice.user_id) == user.id
    where = [mine, col(Notice.read_at).is_(None)] if unread_only else [mine]
    total = session.exec(select(func.count()).select_from(Notice).where(*where)).one()
    unread = session.exec(select(func.count()).select_from(Notice)
                          .where(mine, col(Notice.read_at).is_(None))).one()
    rows = session.exec(select(Notice).where(*where).order_by(col(Notice.created_at).desc(), col(Notice.id))
                        .offset(offset).limit(limit)).all()
    language = texts.language(session.get(NotificationPreferences, user.id))
    following = offset + len(rows)
    return NoticesPage(items=[notice_public(row, texts, language) for row in rows], unread=unread,
                       total=total, limit=limit, offset=offset,
                       next_offset=following if following < total else None)


def mark_read(session: Session, *, user: User, texts: NoticeTexts, notice_id: str, now: datetime
              ) -> NoticePublic:
    """Mark ``user``'s notice read (again: no change); another rider's is as unknown as a missing one.
    Written before anything is read: on SQLite a transaction that reads first cannot write once the sender
    wrote meanwhile."""
    session.execute(update(Notice).where(col(Notice.id) == notice_id, col(Notice.user_id) == user.id,
                                         col(Notice.read_at).is_(None)).values(read_at=now))
    session.commit()
    row = session.get(Notice, notice_id)
    if row is None or row.user_id != user.id:
        raise NotFound("unknown_notice", f"no notice with id {notice_id!r}")
    return notice_public(row, texts, texts.language(session.get(NotificationPreferences, user.id)))


def read_settings(session: Session, *, user: User) -> NotificationSettingsPublic:
    """``user``'s notification choices (the defaults until they change them)."""
    row = session.get(NotificationPreferences, user.id) or NotificationPreferences(user_id=user.id or 0)
    return _settings_public(session, row, user)


def change_settings(session: Session, *, user: User, body: NotificationSettingsBody
                    ) -> NotificationSettingsPublic:
    """Store ``user``'s notification choices; they apply to notices written from now on (written before
    anything is read, as :func:`mark_read`)."""
    assert user.id is not None, "users come from the database"
    values = body.model_dump()
    changed = session.execute(update(NotificationPreferences)
                              .where(col(NotificationPreferences.user_id) == user.id).values(**values))
    if not getattr(changed, "rowcount", 0):
        session.add(NotificationPreferences(user_id=user.id, **values))
    session.commit()
    return _settings_public(session, NotificationPreferences(user_id=user.id, **values), user)


def _settings_public(session: Session, row: NotificationPreferences, user: User
                     ) -> NotificationSettingsPublic:
    """The choices of ``row``, and whether ``user`` has an address on file as the database says now (the
    caller's user may come from the key cache, older than a change of address)."""
    email = session.exec(select(User.email).where(col(User.id) == user.id)).first()
    session.commit()
    return NotificationSettingsPublic(language=row.language,
                                      email_booking_confirmed=row.email_booking_confirmed,
                                      email_pickup_changed=row.email_pickup_changed,
                                      email_booking_cancelled=row.email_booking_cancelled,
                                      has_email=bool(email))
