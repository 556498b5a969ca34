"""The audit log of operators' manual changes of the plan (table ``audit_log``).

Every manual change (:mod:`api.services.plan_control`) stages one :class:`~api.db.models.AuditEntry` in
the change's own transaction — when, the operator's id and name as they were then, the action, the booking
and buses it concerns, a short summary before and after — so the log holds exactly the changes that were
saved. Operators read it newest first, by local day, booking or bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.clock import ServiceClock
from api.db.models import AuditEntry, User
from api.schemas import AuditEntryPublic


def stage_entry(session: Session, *, at: datetime, operator: User, action: str, booking_id: str | None = None,
                vehicle_id: str | None = None, from_vehicle_id: str | None = None,
                before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None
                ) -> AuditEntry:
    """Add an entry to the session's transaction (committed, or rolled back, with the change it records)."""
    assert operator.id is not None
    entry = AuditEntry(time=at, operator_id=operator.id, operator_name=operator.name, action=action,
                       booking_id=booking_id, vehicle_id=vehicle_id, from_vehicle_id=from_vehicle_id,
                       before=dict(before or {}), after=dict(after or {}))
    session.add(entry)
    session.flush()
    return entry


def read_log(session: Session, clock: ServiceClock, *, day: date | None = None, booking_id: str | None = None,
             vehicle_id: str | None = None, limit: int = 100) -> list[AuditEntryPublic]:
    """Entries newest first: of one local ``day``, one booking, one bus (as the bus acted on or the bus a
    booking was moved from), at most ``limit``."""
    query = select(AuditEntry)
    if day is not None:
        start = datetime.combine(day, time(), tzinfo=clock.zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.zone)
        query = query.where(col(AuditEntry.time) >= start, col(AuditEntry.time) < end)
    if booking_id is not None:
        query = query.where(AuditEntry.booking_id == booking_id)
    if vehicle_id is not None:
        query = query.where(or_(col(AuditEntry.vehicle_id) == vehicle_id,
                                col(AuditEntry.from_vehicle_id) == vehicle_id))
    rows = session.exec(query.order_by(col(AuditEntry.time).desc(), col(AuditEntry.id).desc()).limit(limit))
    return [AuditEntryPublic.model_validate(row, from_attributes=True).model_copy(
        update={"time": row.time.astimezone(clock.zone)}) for row in rows]  # instants in the service's zone
