"""The static GTFS feed of the on-demand service, with GTFS-Flex: what a journey planner needs to offer
the bus (planners such as OpenTripPlanner read GTFS-Flex), built from plain values and zipped
deterministically.

The feed describes one agency and one route (an on-demand bus, ``route_type`` 3) and, per **service
pattern** — a set of local dates with the same hours —, trips whose stop times name no stop but a
place to be picked up or dropped off within a window of local times:

- ``<pattern>-area``: anywhere in the service area, the one zone of ``locations.geojson``;
- ``<pattern>-stops``: at the named stops (``stops.txt``), grouped in ``location_groups.txt`` and
  ``location_group_stops.txt`` (only when the area has named stops).

Each such trip has two stop times on the same place, as the GTFS-Flex examples model a zone served
within itself: the first to be picked up (``pickup_type`` 2, booking needed; no drop-off), the second
to be dropped off (``drop_off_type`` 2; no pickup), both with the pattern's hours as
``start_pickup_drop_off_window`` / ``end_pickup_drop_off_window`` (service-day local times, the feed's
time zone being the service's) and the booking rule. The windows are the hours in which the bus picks
riders up; a ride that starts at the last minute ends a little later than the drop-off window says, so
a planner only ever underestimates the service.

``calendar.txt`` holds one row per weekday pattern over the feed period; ``calendar_dates.txt`` the
calendar's exceptions within it: the date removed from its weekday's pattern (``exception_type`` 2,
closed days and days of special hours) and added to the pattern of its special hours (1). A pattern
used only on exceptions has no ``calendar.txt`` row.

``booking_rules.txt`` holds one rule from the service rules' minimum notice and booking horizon: less
than a day of notice is a same-day booking (``booking_type`` 1) with ``prior_notice_duration_min``/
``_max`` in minutes, exactly the rules; a day or more is a prior-day booking (2) with the last and first
day and time before travel, chosen so that every booking the feed allows is one the service takes (the
earliest opening and the latest closing of the hours bound them).
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient

from dispatch.calendar import DayHours, ServiceCalendar
from dispatch.model import DAY_S

AGENCY_ID = "rufbus"
ROUTE_ID = "on-demand"
AREA_ID = "service-area"  # the zone of locations.geojson
STOPS_GROUP_ID = "named-stops"  # the location group of the named stops
BOOKING_RULE_ID = "booking"
ROUTE_TYPE_BUS = 3
PHONE_AGENCY = 2  # pickup_type / drop_off_type: must phone (book) the agency
NONE = 1  # pickup_type / drop_off_type: no pickup (drop-off) here
SAME_DAY, PRIOR_DAYS = 1, 2  # booking_type
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every zip entry's timestamp: the same feed gives the same bytes


@dataclass(frozen=True)
class Agency:
    """Who runs the service: the agency of ``agency.txt`` and the publisher of ``feed_info.txt``."""

    name: str
    url: str
    timezone: str
    lang: str
    phone: str | None = None


@dataclass(frozen=True)
class FlexStop:
    """A named stop riders may be picked up at or dropped off at."""

    id: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Booking:
    """How trips are booked: the service rules' minimum notice and booking horizon (seconds), the page
    that books (``booking_url``), the page that tells about the service (``info_url``), the phone."""

    notice_s: int
    horizon_s: int
    booking_url: str
    info_url: str
    phone: str | None = None


@dataclass(frozen=True)
class FlexService:
    """Everything the feed says: agency, route name, area (a GeoJSON Polygon or MultiPolygon in WGS 84),
    named stops, calendar with the standard hours, booking, and the feed period (both days included)."""

    agency: Agency
    route_name: str
    area: Mapping[str, Any]
    area_name: str
    stops: tuple[FlexStop, ...]
    calendar: ServiceCalendar
    standard: DayHours
    booking: Booking
    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("the feed period ends before it starts")


def feed_zip(service: FlexService) -> bytes:
    """The feed as a zip archive: the same service gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in sorted(feed_files(service).items()):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return buffer.getvalue()


def feed_files(service: FlexService) -> dict[str, bytes]:
    """The feed's files by name."""
    patterns = service_patterns(service.calendar, service.standard, service.first_day, service.last_day)
    trips = [(pattern, place) for pattern in sorted(patterns.hours)
             for place in (("area", "stops") if service.stops else ("area",))]
    files = {
        "agency.txt": _agency(service),
        "feed_info.txt": _feed_info(service),
        "routes.txt": _table(("route_id", "agency_id", "route_short_name", "route_long_name", "route_type"),
                             [(ROUTE_ID, AGENCY_ID, "", service.route_name, ROUTE_TYPE_BUS)]),
        "trips.txt": _table(("route_id", "service_id", "trip_id"),
                            [(ROUTE_ID, pattern, f"{pattern}-{place}") for pattern, place in trips]),
        "stop_times.txt": _stop_times(trips, patterns.hours),
        "calendar.txt": _table(
            ("service_id", *WEEKDAY_COLUMNS, "start_date", "end_date"),
            [(pattern, *(int(day in days) for day in range(7)), _gtfs_date(service.first_day),
              _gtfs_date(service.last_day)) for pattern, days in sorted(patterns.weekdays.items())]),
        "calendar_dates.txt": _table(
            ("service_id", "date", "exception_type"),
            [(pattern, _gtfs_date(day), kind) for day, pattern, kind in patterns.dates]),
        "booking_rules.txt": _booking_rules(service.booking, patterns.hours.values()),
        "locations.geojson": _locations(service),
    }
    if service.stops:
        files["stops.txt"] = _table(("stop_id", "stop_name", "stop_lat", "stop_lon"),
                                    [(s.id, s.name, f"{s.lat:.6f}", f"{s.lon:.6f}") for s in service.stops])
        files["location_groups.txt"] = _table(("location_group_id", "location_group_name"),
                                              [(STOPS_GROUP_ID, f"{service.route_name}: named stops")])
        files["location_group_stops.txt"] = _table(("location_group_id", "stop_id"),
                                                   [(STOPS_GROUP_ID, s.id) for s in service.stops])
    return files


WEEKDAY_COLUMNS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ServicePatterns:
    """The service patterns of a feed period: each pattern's hours, the weekdays (0 = Monday) of the
    patterns ``calendar.txt`` lists, and the dated exceptions as (date, pattern, exception_type)."""

    hours: dict[str, DayHours]
    weekdays: dict[str, frozenset[int]]
    dates: list[tuple[date, str, int]]


def service_patterns(calendar: ServiceCalendar, standard: DayHours, first_day: date, last_day: date
                     ) -> ServicePatterns:
    """Group the days from ``first_day`` to ``last_day`` by their hours: one pattern per distinct hours,
    weekdays from the calendar's weekday hours, exceptions in that period as dated additions (1) and
    removals (2)."""
    hours: dict[str, DayHours] = {}
    weekdays: dict[str, set[int]] = {}
    for weekday in range(7):
        day_hours = calendar.weekdays.get(weekday, standard)
        if day_hours is not None:
            pattern = pattern_id(day_hours)
            hours[pattern] = day_hours
            weekdays.setdefault(pattern, set()).add(weekday)
    dates = []
    for exception in calendar.exceptions:
        if not first_day <= exception.day <= last_day:
            continue
        usual = calendar.weekdays.get(exception.day.weekday(), standard)
        if usual == exception.hours:
            continue
        if usual is not None:
            dates.append((exception.day, pattern_id(usual), 2))
        if exception.hours is not None:
            pattern = pattern_id(exception.hours)
            hours[pattern] = exception.hours
            dates.append((exception.day, pattern, 1))
    return ServicePatterns(hours, {p: frozenset(d) for p, d in weekdays.items()}, dates)


def pattern_id(hours: DayHours) -> str:
    """The service id of the days with ``hours``, e.g. ``hours-0500-2300``."""
    return f"hours-{_hhmm(hours.start_s)}-{_hhmm(hours.end_s)}"


def booking_rule(booking: Booking, hours: Iterable[DayHours]) -> dict[str, str]:
    """The fields of the booking rule (empty ones left out) for a service running ``hours``."""
    rule: dict[str, str] = {"booking_rule_id": BOOKING_RULE_ID}
    if booking.notice_s < DAY_S:
        rule |= {"booking_type": str(SAME_DAY),
                 "prior_notice_duration_min": str(math.ceil(booking.notice_s / 60)),
                 "prior_notice_duration_max": str(booking.horizon_s // 60)}
    else:
        all_hours = list(hours) or [DayHours(0, DAY_S)]
        opens, closes = min(h.start_s for h in all_hours), max(h.end_s for h in all_hours)
        # The last moment that gives every trip of the day its notice: before its earliest opening.
        last_day = math.ceil((booking.notice_s - opens) / DAY_S)
        last_time = opens - booking.notice_s + last_day * DAY_S
        rule |= {"booking_type": str(PRIOR_DAYS), "prior_notice_last_day": str(last_day),
                 "prior_notice_last_time": _clock(last_time // 60 * 60)}
        # The first moment from which every trip of the day lies within the horizon: its latest closing.
        start_day = math.ceil((booking.horizon_s - closes) / DAY_S)
        start_time = -(-(closes - booking.horizon_s + start_day * DAY_S) // 60) * 60
        if start_day > last_day or (start_day == last_day and start_time < last_time):
            rule |= {"prior_notice_start_day": str(start_day), "prior_notice_start_time": _clock(start_time)}
    rule |= {"message": "Book your trip in the app or by phone.", "info_url": booking.info_url,
             "booking_url": booking.booking_url}
    if booking.phone:
        rule["phone_number"] = booking.phone
    return rule


# ----- files -----------------------------------------------------------------------------------------

BOOKING_COLUMNS = ("booking_rule_id", "booking_type", "prior_notice_duration_min",
                   "prior_notice_duration_max",
                   "prior_notice_last_day", "prior_notice_last_time", "prior_notice_start_day",
                   "prior_notice_start_time", "message", "phone_number", "info_url", "booking_url")
STOP_TIME_COLUMNS = ("trip_id", "stop_sequence", "location_id", "location_group_id",
                     "start_pickup_drop_off_window", "end_pickup_drop_off_window", "pickup_type",
                     "drop_off_type", "pickup_booking_rule_id", "drop_off_booking_rule_id")


def _agency(service: FlexService) -> bytes:
    agency = service.agency
    return _table(("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang",
                   "agency_phone"),
                  [(AGENCY_ID, agency.name, agency.url, agency.timezone, agency.lang, agency.phone or "")])


def _feed_info(service: FlexService) -> bytes:
    agency = service.agency
    return _table(("feed_publisher_name", "feed_publisher_url", "feed_lang", "feed_start_date",
                   "feed_end_date", "feed_version", "feed_contact_url"),
                  [(agency.name, agency.url, agency.lang, _gtfs_date(service.first_day),
                    _gtfs_date(service.last_day), service.first_day.isoformat(), agency.url)])


def _stop_times(trips: Sequence[tuple[str, str]], hours: Mapping[str, DayHours]) -> bytes:
    rows = []
    for pattern, place in trips:
        window = (_clock(hours[pattern].start_s), _clock(hours[pattern].end_s))
        where = (AREA_ID, "") if place == "area" else ("", STOPS_GROUP_ID)
        trip = f"{pattern}-{place}"
        rows.append((trip, 1, *where, *window, PHONE_AGENCY, NONE, BOOKING_RULE_ID, ""))
        rows.append((trip, 2, *where, *window, NONE, PHONE_AGENCY, "", BOOKING_RULE_ID))
    return _table(STOP_TIME_COLUMNS, rows)


def _booking_rules(booking: Booking, hours: Iterable[DayHours]) -> bytes:
    rule = booking_rule(booking, hours)
    return _table(BOOKING_COLUMNS, [tuple(rule.get(column, "") for column in BOOKING_COLUMNS)])


def _locations(service: FlexService) -> bytes:
    geometry = shape(service.area)
    if isinstance(geometry, Polygon):
        geometry = orient(geometry)  # RFC 7946: exterior rings counterclockwise
    elif isinstance(geometry, MultiPolygon):
        geometry = MultiPolygon([orient(part) for part in geometry.geoms])
    else:
        raise ValueError("the service area must be a Polygon or MultiPolygon")
    feature = {"id": AREA_ID, "type": "Feature",
               "properties": {"stop_name": service.area_name,
                              "stop_desc": f"{service.route_name}: pickup and drop-off anywhere in the area"},
               "geometry": mapping(geometry)}
    collection = {"type": "FeatureCollection", "features": [feature]}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue().encode()


def _gtfs_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _clock(seconds: int) -> str:
    """A GTFS time (may pass 24:00:00)."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _hhmm(seconds: int) -> str:
    """``HHMM``, with the seconds appended where there are any (ids stay distinct)."""
    text = f"{seconds // 3600:02d}{seconds % 3600 // 60:02d}"
    return text + f"{seconds % 60:02d}" if seconds % 60 else text


def feed_days(first_day: date, days: int) -> tuple[date, date]:
    """The feed period of ``days`` days from ``first_day``: its first and last day."""
    return first_day, first_day + timedelta(days=days - 1)
