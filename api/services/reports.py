"""Reports for the county: key figures per local day, week or month of a date range, and every booking
of the range as CSV rows without personal data.

**Which period a trip belongs to**: the local calendar date of its requested time (the trip's day, not
the day it was booked); a day is a local day of 23, 24 or 25 hours (:mod:`api.clock`). A week is an
ISO week (Monday to Sunday), a month a calendar month; periods are cut to the range asked for.

**Figures of a period** (trip figures as in :mod:`api.services.kpis` / :mod:`dispatch.kpis`):

- **refused**: quotes refused for trips of the period (the coarsened demand records, by the local hour
  of the trip asked for); **booked**: bookings made for it; **trips asked**: booked + refused (a quote
  offered but never booked is the rider's choice, not a trip asked of the service).
- **served**: bookings completed; **cancelled**, **no-shows**, **rejected** (booked, then dropped by the
  service): bookings that ended so. **Passengers**: people (seats and wheelchairs) of the served trips.
- **served %**: served ÷ trips asked × 100.
- **wait** (mean, 95th percentile) and **ride-time factor**: :mod:`dispatch.kpis`.
- **vehicle-hours**: the shifts' hours inside the period, up to now (planned shifts still ahead are not
  counted); **vehicle-km**: the fastest roads between each
  bus's consecutive served stops of the period (from and back to the depot not counted).
- **cost**: vehicle-hours × cost per vehicle-hour + vehicle-km × cost per vehicle-km (the settings in
  force, :mod:`api.services.costs`; empty while none are set); **cost per trip**: cost ÷ served.
- **fares**: what the riders of the served trips paid, the fare each booking was offered (no-shows and
  cancelled trips pay nothing), in units of **fare currency**; empty while no served trip had a price, and
  when the served trips were priced in several currencies (the fare currency then names them all, e.g.
  ``CHF+EUR``). **Net cost per trip**: (cost − fares) ÷ served, when the fares are in the costs' currency:
  what the county pays per trip.

**The bookings' rows** keep no personal data: no names or phone numbers (the rider is their user id, a
pseudonym only the service can resolve), no exact places (the ~300 m grid cells of :mod:`api.grid`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from api.clock import ServiceClock
from api.db.models import Booking, DemandRecord, Event, PlannedStop, Shift
from api.db.repository import shifts_between
from api.errors import InvalidRequest
from api.grid import cell_of
from api.schemas import FIRST_YEAR, LAST_YEAR, CostSettingsPublic
from api.services.kpis import FIGURE_FIELDS, figures, pickup_arrivals, served_legs
from api.services.live_plan import ERASED_RIDER
from dispatch.dispatcher import RequestStatus
from dispatch.events import EventKind
from dispatch.model import StopKind
from dispatch.travel import TravelMatrix

MAX_DAYS = 366  # the longest range one report covers
CSV_DELIMITER = ";"  # Excel in German and Swiss locales splits on ";" (the comma is their decimal mark)
MINOR_UNITS = 100  # cents (or Rappen) per unit of the tariffs' currencies, EUR and CHF
CSV_BOM = "\ufeff"  # Excel reads a file as UTF-8 (umlauts intact) only when it starts with this mark


class Distances(Protocol):
    """Road distances, many at a time (:class:`routing.network.RoadNetwork` is one)."""

    def matrix(self, origins: Sequence[int], destinations: Sequence[int]) -> TravelMatrix: ...


class RoadMetres:
    """Metres along the fastest roads between road nodes, fetched a row per origin for many legs at once
    (:meth:`prefetch`) and kept: a month's vehicle-km needs tens of thousands of legs, and one matrix
    call per leg costs more than the rest of the report."""

    def __init__(self, roads: Distances) -> None:
        self.roads = roads
        self.known: dict[tuple[int, int], int] = {}

    def prefetch(self, legs: Iterable[tuple[int, int]]) -> None:
        """Fetch the legs not known yet, one matrix row per origin."""
        missing: dict[int, set[int]] = defaultdict(set)
        for a, b in legs:
            if (a, b) not in self.known:
                missing[a].add(b)
        for origin, ends in missing.items():
            destinations = sorted(ends)
            row = self.roads.matrix([origin], destinations).metres[0]
            self.known.update(((origin, b), int(m)) for b, m in zip(destinations, row, strict=True))

    def __call__(self, a: int, b: int) -> int:
        """The metres of the leg ``a`` → ``b``."""
        if (a, b) not in self.known:
            self.prefetch([(a, b)])
        return self.known[(a, b)]


class Grouping(StrEnum):
    """The periods of a report."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Local dates ``first`` to ``last``, both included."""

    first: date
    last: date

    @classmethod
    def checked(cls, first: date, last: date) -> DateRange:
        """The range, or 422 ``invalid_range`` when ``last`` lies before ``first`` or it spans more than
        :data:`MAX_DAYS` days."""
        if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
            raise InvalidRequest("invalid_range", f"dates must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
        if last < first:
            raise InvalidRequest("invalid_range", "'to' must not lie before 'from'")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidRequest("invalid_range", f"a report covers at most {MAX_DAYS} days")
        return cls(first, last)

    def instants(self, clock: ServiceClock) -> tuple[datetime, datetime]:
        """The range as instants ``[start, end)``: local midnight of ``first`` to that after ``last``."""
        return _midnight(clock, self.first), _midnight(clock, self.last + timedelta(days=1))


def month_range(month: str) -> DateRange:
    """The days of ``month`` (``YYYY-MM``); 422 ``invalid_month`` for anything else."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise ValueError(month)
        first = datetime.strptime(month + "-01", "%Y-%m-%d").date()
    except ValueError as error:
        raise InvalidRequest("invalid_month", f"{month!r} is no month (YYYY-MM)") from error
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise InvalidRequest("invalid_month", f"the month must lie in the years {FIRST_YEAR} to {LAST_YEAR}")
    return DateRange(first, _next_month(first) - timedelta(days=1))


def periods(days: DateRange, by: Grouping) -> list[DateRange]:
    """The days, weeks (Monday to Sunday) or calendar months of ``days``, cut to it, in order."""
    result, first = [], days.first
    while first <= days.last:
        if by is Grouping.DAY:
            last = first
        elif by is Grouping.WEEK:
            last = first + timedelta(days=6 - first.weekday())
        else:
            last = _next_month(first) - timedelta(days=1)
        result.append(DateRange(first, min(last, days.last)))
        first = result[-1].last + timedelta(days=1)
    return result


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """The figures of the module docstring for one period (days ``first`` to ``last``)."""

    first: date
    last: date
    trips_asked: int
    refused: int
    booked: int
    served: int
    cancelled: int
    no_shows: int
    rejected: int
    passengers: int
    served_pct: float | None
    wait_mean_s: float | None
    wait_p95_s: float | None
    ride_time_factor: float | None
    vehicle_hours: float
    vehicle_km: float
    cost: float | None
    cost_per_trip: float | None
    fares: float | None
    fare_currency: str | None
    net_cost_per_trip: float | None


@dataclass(frozen=True, slots=True)
class RangeRecords:
    """What the figures of a range of days read, loaded once (one query per table): the bookings (the
    columns of :data:`api.services.kpis.FIGURE_FIELDS`) and the refused quotes by local day, the shifts
    overlapping the range, and the buses' first arrival at each booking's pickup."""

    days: DateRange
    bookings: dict[date, list[Any]]
    refused: dict[date, int]
    shifts: Sequence[Shift]
    arrivals: dict[str, datetime]


def load_records(session: Session, *, clock: ServiceClock, days: DateRange) -> RangeRecords:
    """The records of the trips of ``days``."""
    start, end = days.instants(clock)
    fare_currency = col(Booking.fare)["currency"].as_string().label("fare_currency")
    columns = (*(getattr(Booking, name) for name in FIGURE_FIELDS), col(Booking.fare_total), fare_currency)
    rows = session.execute(select(*columns)
                           .where(col(Booking.requested_time) >= start, col(Booking.requested_time) < end)
                           ).all()
    by_day: dict[date, list[Any]] = defaultdict(list)
    for row in rows:
        by_day[row.requested_time.astimezone(clock.zone).date()].append(row)
    return RangeRecords(days=days, bookings=dict(by_day),
                        refused=_refused_by_day(session, start=start, end=end, zone=clock.zone),
                        shifts=shifts_between(session, start=start, end=end),
                        arrivals=pickup_arrivals(session, start=start, end=end, by="requested_time"))


def period_figures(records: RangeRecords, *, clock: ServiceClock, metres: RoadMetres, by: Grouping,
                   costs: CostSettingsPublic, days: DateRange | None = None) -> list[PeriodFigures]:
    """The figures of every period of ``days`` (default: the records' whole range; else a part of it),
    the road distances of every period's legs fetched in one batch."""
    now = clock.now_datetime()
    grouped = [(period, [row for day in _days(period) for row in records.bookings.get(day, ())])
               for period in periods(days or records.days, by)]
    metres.prefetch(leg for _, period_rows in grouped for leg in served_legs(period_rows))
    result = []
    for period, period_rows in grouped:
        refused = sum(records.refused.get(day, 0) for day in _days(period))
        result.append(_figures(period, period_rows, refused, records.shifts, clock=clock, metres=metres,
                               arrivals=records.arrivals, costs=costs, now=now))
    return result


def _figures(period: DateRange, rows: Sequence[Any], refused: int, shifts: Sequence[Shift], *,
             clock: ServiceClock, metres: RoadMetres, arrivals: dict[str, datetime],
             costs: CostSettingsPublic, now: datetime) -> PeriodFigures:
    start, end = period.instants(clock)
    end = max(start, min(end, now))  # shifts count as far as they have been driven
    trips = figures(rows, shifts, start=start, end=end, metres=metres, refused={}, arrivals=arrivals)
    status = Counter(row.status for row in rows)
    asked = len(rows) + refused
    cost = None
    if costs.version is not None:
        cost = trips.vehicle_hours * costs.per_vehicle_hour + trips.vehicle_km * costs.per_vehicle_km
    fares, fare_currency = _fares(rows)
    net = None
    if cost is not None and fares is not None and fare_currency == costs.currency and trips.served:
        net = (cost - fares) / trips.served
    return PeriodFigures(
        first=period.first, last=period.last, trips_asked=asked, refused=refused, booked=len(rows),
        served=trips.served, cancelled=status[RequestStatus.CANCELLED],
        no_shows=status[RequestStatus.NO_SHOW],
        rejected=status[RequestStatus.REJECTED],
        passengers=sum(row.seats + row.wheelchairs for row in rows if row.status is RequestStatus.COMPLETED),
        served_pct=100 * trips.served / asked if asked else None,
        wait_mean_s=trips.wait_s.mean if trips.wait_s else None,
        wait_p95_s=trips.wait_s.p95 if trips.wait_s else None, ride_time_factor=trips.ride_time_factor,
        vehicle_hours=trips.vehicle_hours, vehicle_km=trips.vehicle_km, cost=cost,
        cost_per_trip=cost / trips.served if cost is not None and trips.served else None,
        fares=fares, fare_currency=fare_currency, net_cost_per_trip=net)


def _fares(rows: Sequence[Any]) -> tuple[float | None, str | None]:
    """What the riders of the served trips among ``rows`` paid (currency units) and in which currency."""
    paid = [(row.fare_total, row.fare_currency) for row in rows
            if row.status is RequestStatus.COMPLETED and row.fare_total is not None]
    currencies = sorted({currency for _, currency in paid})
    if not currencies:
        return None, None
    if len(currencies) > 1:
        return None, "+".join(currencies)
    return sum(total for total, _ in paid) / MINOR_UNITS, currencies[0]


def _refused_by_day(session: Session, *, start: datetime, end: datetime, zone: tzinfo) -> dict[date, int]:
    """Quotes refused for trips in ``[start, end)``, by the local date of the trip's hour."""
    hour = col(DemandRecord.trip_hour)
    counted = session.exec(select(hour, func.count())
                           .where(col(DemandRecord.cause).is_not(None), hour >= start, hour < end)
                           .group_by(hour)).all()
    result: Counter[date] = Counter()
    for moment, number in counted:
        result[moment.astimezone(zone).date()] += int(number)
    return dict(result)


# --- CSV -------------------------------------------------------------------------------------------------

KPI_COLUMNS = tuple(f.name for f in fields(PeriodFigures))
BOOKING_COLUMNS = (
    "id", "local_date", "status", "cause", "booked_by", "rider", "time_type", "requested_time",
    "window_start", "window_end", "planned_pickup", "picked_up_at", "planned_dropoff", "dropped_off_at",
    "seats", "wheelchairs", "vehicle_id", "origin_cell", "origin_cell_lat", "origin_cell_lon",
    "destination_cell", "destination_cell_lat", "destination_cell_lon")
_BOOKING_FIELDS = ("id", "status", "rejection_cause", "rider_id", "booked_by", "time_type", "requested_time",
                   "window_start", "window_end", "picked_up_at", "dropped_off_at", "seats", "wheelchairs",
                   "vehicle_id", "origin_lat", "origin_lon", "destination_lat", "destination_lon")
ROWS_PER_CHUNK = 500  # bookings per piece of the streamed answer
_FETCH = 2000  # rows the database hands over at a time


def kpis_csv(figures_: Iterable[PeriodFigures], currency: str) -> str:
    """The periods' figures as CSV (header row; numbers with a decimal point, rounded)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([*KPI_COLUMNS, "currency"])
    for period in figures_:
        writer.writerow([_cell(getattr(period, name)) for name in KPI_COLUMNS] + [currency])
    return CSV_BOM + buffer.getvalue()


def bookings_csv(engine: Engine, *, clock: ServiceClock, days: DateRange) -> Iterator[str]:
    """Every booking for a trip in ``days`` (by requested time, then id) as CSV, a chunk at a time, read
    in a session of its own (the answer is streamed after the request's session has closed)."""
    start, end = days.instants(clock)
    zone = clock.zone
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(BOOKING_COLUMNS)
    yield CSV_BOM + _drain(buffer)
    with Session(engine) as session:
        planned = _planned_times(session, start=start, end=end)
        cancelled_by = _cancellers(session, start=start, end=end)
        query = (select(*(getattr(Booking, name) for name in _BOOKING_FIELDS))
                 .where(col(Booking.requested_time) >= start, col(Booking.requested_time) < end)
                 .order_by(col(Booking.requested_time), col(Booking.id))
                 .execution_options(yield_per=_FETCH))
        for n, row in enumerate(session.execute(query), start=1):
            writer.writerow(_booking_row(row, zone, planned.get(row.id, {}), cancelled_by.get(row.id)))
            if n % ROWS_PER_CHUNK == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def _booking_row(row: Any, zone: tzinfo, planned: dict[StopKind, datetime], canceller: str | None
                 ) -> list[str]:
    def local(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(zone).isoformat()

    origin, destination = cell_of(row.origin_lat, row.origin_lon), cell_of(row.destination_lat,
                                                                          row.destination_lon)
    return [row.id, row.requested_time.astimezone(zone).date().isoformat(), row.status.value,
            _cause(row, canceller), _booked_by(row), _cell(row.rider_id), row.time_type.value,
            local(row.requested_time), local(row.window_start), local(row.window_end),
            local(planned.get(StopKind.PICKUP)), local(row.picked_up_at),
            local(planned.get(StopKind.DROPOFF)),
            local(row.dropped_off_at), str(row.seats), str(row.wheelchairs), row.vehicle_id or "",
            origin.id, f"{origin.lat:.5f}", f"{origin.lon:.5f}", destination.id, f"{destination.lat:.5f}",
            f"{destination.lon:.5f}"]


def _cause(row: Any, canceller: str | None) -> str:
    """Why the trip did not happen: the rejection's cause, or who cancelled it."""
    if row.rejection_cause is not None:
        return row.rejection_cause.value
    if row.status is RequestStatus.CANCELLED and canceller is not None:
        by_rider = canceller in (f"user:{row.rider_id}", ERASED_RIDER)
        return "cancelled_by_rider" if by_rider else "cancelled_by_operator"
    return ""


def _booked_by(row: Any) -> str:
    if row.booked_by is None:
        return ""
    return "rider" if row.booked_by == row.rider_id else "operator"


def _planned_times(session: Session, *, start: datetime, end: datetime
                   ) -> dict[str, dict[StopKind, datetime]]:
    """The planned pickup and drop-off times still in the plan, of bookings for trips in ``[start, end)``."""
    query = (select(PlannedStop.booking_id, PlannedStop.kind, PlannedStop.planned_time)
             .join(Booking, col(Booking.id) == col(PlannedStop.booking_id))
             .where(col(Booking.requested_time) >= start, col(Booking.requested_time) < end))
    result: dict[str, dict[StopKind, datetime]] = defaultdict(dict)
    for booking_id, kind, planned_time in session.exec(query).all():
        result[str(booking_id)][StopKind(kind)] = planned_time
    return result


def _cancellers(session: Session, *, start: datetime, end: datetime) -> dict[str, str]:
    """Who cancelled (the event's actor) each cancelled booking for a trip in ``[start, end)``."""
    query = (select(Event.request_id, Event.actor)
             .join(Booking, col(Booking.id) == col(Event.request_id))
             .where(Event.kind == EventKind.BOOKING_CANCELLED, col(Booking.requested_time) >= start,
                    col(Booking.requested_time) < end))
    return {str(request_id): str(who) for request_id, who in session.exec(query).all() if who is not None}


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: object) -> str:
    """A CSV cell: empty for None, dates as ISO, floats rounded to 3 decimals (a decimal point)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _days(period: DateRange) -> Iterator[date]:
    day = period.first
    while day <= period.last:
        yield day
        day += timedelta(days=1)


def _midnight(clock: ServiceClock, day: date) -> datetime:
    return clock.to_datetime(clock.at_local(day, time()))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
