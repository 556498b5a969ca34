"""Tables: service rules mirror the dispatch value, enums and datetimes come back typed."""

from __future__ import annotations

import dataclasses
from datetime import timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, col, select

from api.db.models import (
    Booking,
    ServiceArea,
    ServiceRulesBase,
    ServiceRulesVersion,
    Shift,
    ShiftBreak,
    User,
    UserRole,
)
from dispatch.dispatcher import RequestStatus
from dispatch.model import RejectionCause, ServiceRules, TimeType
from tests.api.db.rows import T0, make_booking, make_vehicle


def test_service_rules_columns_mirror_the_dispatch_rules() -> None:
    """Every field of dispatch.model.ServiceRules has a column of the same name, and no other rule does."""
    assert set(ServiceRulesBase.model_fields) == {field.name for field in dataclasses.fields(ServiceRules)}


def test_newest_service_rules_version_is_in_force(session: Session) -> None:
    """Two versions stored: the later one is current, the first stays as history, both round-trip."""
    session.add(ServiceRulesVersion.from_rules(ServiceRules(), valid_from=T0))
    session.add(ServiceRulesVersion.from_rules(ServiceRules(max_wait_s=1200, ride_alpha=1.8),
                                               valid_from=T0 + timedelta(days=1)))
    session.commit()
    versions = session.exec(select(ServiceRulesVersion).order_by(col(ServiceRulesVersion.id).desc())).all()
    assert versions[0].to_rules() == ServiceRules(max_wait_s=1200, ride_alpha=1.8)
    assert versions[1].to_rules() == ServiceRules()


def test_shift_with_a_break_belongs_to_its_vehicle(session: Session) -> None:
    """A 06:00–14:00 shift of bus-1 with a 30-minute break starting 10:00–11:00."""
    session.add(make_vehicle())
    session.flush()  # no relationships are mapped, so parents are flushed first
    shift = Shift(vehicle_id="bus-1", starts_at=T0 - timedelta(hours=2), ends_at=T0 + timedelta(hours=6))
    session.add(shift)
    session.flush()
    session.add(ShiftBreak(shift_id=shift.id, earliest_start=T0 + timedelta(hours=2),
                           latest_start=T0 + timedelta(hours=3), duration_s=1800))
    session.commit()
    stored = session.exec(select(ShiftBreak).where(ShiftBreak.shift_id == shift.id)).one()
    assert (stored.latest_start - stored.earliest_start, stored.duration_s) == (timedelta(hours=1), 1800)


def test_rejected_request_keeps_its_cause_and_enums_come_back_typed(session: Session) -> None:
    """A request rejected for capacity: status, cause and time type are read back as enum members."""
    booking = make_booking("r9", vehicle_id=None, status=RequestStatus.REJECTED)
    booking.rejection_cause = RejectionCause.CAPACITY
    session.add(booking)
    session.commit()
    session.expire_all()
    stored = session.get(Booking, "r9")
    assert stored.status is RequestStatus.REJECTED
    assert stored.rejection_cause is RejectionCause.CAPACITY
    assert stored.time_type is TimeType.LEAVE_AFTER


def test_datetimes_come_back_aware_in_utc(session: Session) -> None:
    """10:00 at UTC+2 is stored and read back as 08:00 UTC, with its time zone."""
    booking = make_booking("r1", vehicle_id=None)
    booking.requested_time = T0.astimezone(timezone(timedelta(hours=2)))
    session.add(booking)
    session.commit()
    session.expire_all()
    stored = session.get(Booking, "r1")
    assert stored.requested_time == T0
    assert stored.requested_time.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(session: Session) -> None:
    """A datetime without a time zone never reaches the database."""
    booking = make_booking("r1", vehicle_id=None)
    booking.requested_time = T0.replace(tzinfo=None)
    session.add(booking)
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_booking_for_an_unknown_vehicle_is_refused(session: Session) -> None:
    """Foreign keys hold on both backends (SQLite enforces them only when switched on)."""
    session.add(make_booking("r1", vehicle_id="no-such-bus"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_two_users_cannot_share_an_api_key_hash(session: Session) -> None:
    """The key hash identifies the user: it is unique."""
    session.add(User(name="Ann", role=UserRole.RIDER, api_key_hash="h1"))
    session.add(User(name="Bob", role=UserRole.OPERATOR, api_key_hash="h1"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_driver_is_linked_to_a_vehicle_and_area_is_geojson_text(session: Session) -> None:
    """A driver of bus-1; a service area stored as its GeoJSON text, unchanged."""
    session.add(make_vehicle())
    session.flush()
    session.add(User(name="Dora", role=UserRole.DRIVER, api_key_hash="h2", vehicle_id="bus-1"))
    polygon = '{"type": "Polygon", "coordinates": [[[9.5, 47.1], [9.6, 47.1], [9.6, 47.2], [9.5, 47.1]]]}'
    session.add(ServiceArea(name="Unterland", geojson=polygon, valid_from=T0))
    session.commit()
    driver = session.exec(select(User).where(User.role == UserRole.DRIVER)).one()
    assert (driver.vehicle_id, driver.role) == ("bus-1", UserRole.DRIVER)
    assert session.exec(select(ServiceArea)).one().geojson == polygon
