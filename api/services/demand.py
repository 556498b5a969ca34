"""Unmet demand: every quote asked for is recorded coarsened — the grid cells of its ends
(:mod:`api.grid`), the hour it was asked in, the hour of the trip, the passengers, and the cause if it was
refused — and counted per cell and hour with the bookings made (asked, served, refused by cause).

A record is written after the dispatch lock is released, in its own short transaction of the same
request: a refused quote costs the riders behind it no wait. SQLite lets one writer in and a booking
that read before another write commits could not write any more, so there the write takes the lock.
A record that cannot be written is logged and lost: the rider still gets their answer.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from api.db.models import Booking, DemandRecord, Event
from api.errors import InvalidRequest
from api.grid import CELL_M, cell, cell_of
from api.schemas import DemandCellPublic, DemandPublic, Point
from api.services.live_plan import LiveDispatch
from dispatch.model import RejectionCause

log = logging.getLogger(__name__)
MAX_RANGE = timedelta(days=31)  # the longest range one answer counts


class End(StrEnum):
    """Which end of the trips the demand is counted at."""

    ORIGIN = "origin"
    DESTINATION = "destination"


def local_hour(moment: datetime, zone: tzinfo) -> datetime:
    """The start of the local hour ``moment`` falls in, as an aware datetime in ``zone``."""
    return moment.astimezone(zone).replace(minute=0, second=0, microsecond=0)


def demand_record(*, asked_at: datetime, trip_time: datetime, origin: Point, destination: Point,
                  passengers: int, cause: RejectionCause | None, zone: tzinfo) -> DemandRecord:
    """The coarsened record of a quote (``cause`` None: offered): cells and hours, nothing exact."""
    return DemandRecord(asked_hour=local_hour(asked_at, zone), trip_hour=local_hour(trip_time, zone),
                        origin_cell=cell_of(origin.lat, origin.lon).id,
                        destination_cell=cell_of(destination.lat, destination.lon).id,
                        seats=passengers, cause=cause)


def write_demand(live: LiveDispatch, session: Session, record: DemandRecord, event: Event | None = None
                 ) -> None:
    """Write ``record`` (and the refusal's ``event``, if any) in one transaction; call it without holding
    ``live.lock``. Failures are logged, not raised."""
    try:
        if session.get_bind().dialect.name == "sqlite":
            with live.lock:
                _write(session, record, event)
        else:
            _write(session, record, event)
    except SQLAlchemyError as error:
        log.warning("demand record (cause %s) not written: %s", record.cause, error)


def _write(session: Session, record: DemandRecord, event: Event | None) -> None:
    try:
        session.add(record)
        if event is not None:
            session.add(event)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise


@dataclass
class DemandCount:
    """What was asked in one cell and hour."""

    asked: int = 0
    served: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def demand(session: Session, *, live: LiveDispatch, start: datetime, end: datetime, at: End = End.ORIGIN
           ) -> DemandPublic:
    """Per cell (of the trips' ``at`` end) and local trip hour in ``[start, end)``: quotes asked, bookings
    made (served), refused quotes by cause, with the cell's centre; by hour, then cell."""
    if end <= start:
        raise InvalidRequest("invalid_range", "'to' must lie after 'from'")
    if end - start > MAX_RANGE:
        raise InvalidRequest("invalid_range", f"at most {MAX_RANGE.days} days at once")
    zone = live.clock.zone
    cell_column = DemandRecord.origin_cell if at is End.ORIGIN else DemandRecord.destination_cell
    counts: dict[tuple[datetime, str], DemandCount] = defaultdict(DemandCount)
    asked = session.exec(select(DemandRecord.trip_hour, cell_column, DemandRecord.cause, func.count())
                         .where(col(DemandRecord.trip_hour) >= start, col(DemandRecord.trip_hour) < end)
                         .group_by(col(DemandRecord.trip_hour), col(cell_column),
                                   col(DemandRecord.cause))).all()
    for hour, cell_id, cause, number in asked:
        count = counts[(hour.astimezone(zone), str(cell_id))]
        count.asked += int(number)
        if cause is not None:
            count.refused[RejectionCause(cause).value] += int(number)
    for hour, cell_id in _served(session, start=start, end=end, at=at, zone=zone):
        counts[(hour, cell_id)].served += 1
    cells = [DemandCellPublic(cell=cell_id, lat=centre.lat, lon=centre.lon, hour=hour, asked=count.asked,
                              served=count.served, refused=sum(count.refused.values()),
                              refused_by_cause=dict(count.refused))
             for (hour, cell_id), count in sorted(counts.items()) for centre in (cell(cell_id),)]
    return DemandPublic(start=start.astimezone(zone), end=end.astimezone(zone), cell_m=CELL_M, at=at.value,
                        cells=cells)


def _served(session: Session, *, start: datetime, end: datetime, at: End, zone: tzinfo
            ) -> Iterable[tuple[datetime, str]]:
    """The local trip hour and cell of each booking made for a trip in ``[start, end)``."""
    lat, lon = ((Booking.origin_lat, Booking.origin_lon) if at is End.ORIGIN
                else (Booking.destination_lat, Booking.destination_lon))
    rows = session.exec(select(Booking.requested_time, lat, lon)
                        .where(col(Booking.booked_at).is_not(None), col(Booking.requested_time) >= start,
                               col(Booking.requested_time) < end)).all()
    for moment, row_lat, row_lon in rows:
        yield local_hour(moment, zone), cell_of(row_lat, row_lon).id


def demand_totals(session: Session, *, start: datetime, end: datetime) -> tuple[int, int]:
    """Quotes asked and quotes refused in ``[start, end)`` (by the hour they were asked in)."""
    where = (col(DemandRecord.asked_hour) >= start, col(DemandRecord.asked_hour) < end)
    asked = session.exec(select(func.count()).select_from(DemandRecord).where(*where)).one()
    refused = session.exec(select(func.count()).select_from(DemandRecord)
                           .where(*where, col(DemandRecord.cause).is_not(None))).one()
    return int(asked), int(refused)

