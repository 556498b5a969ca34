"""The published feeds as the service fills them in: the GTFS feed with Flex from what the database holds
in force (rules, calendar, area) and the deployment's settings (agency, phone, links), and the
GTFS-Realtime vehicle positions from the positions the live store keeps.

The GTFS feed reads the database, the source of truth every worker shares, so ``GET /feeds/gtfs.zip``
on any worker and ``rufbus gtfs export`` write the same feed for the same day. Its period starts on the
given local day and lasts ``RUFBUS_GTFS_DAYS``. The named stops published are those of the service's
stop directory that lie in the area in force.

Agency, phone and links are settings (``RUFBUS_AGENCY_*``, ``RUFBUS_PUBLIC_URL``), not an operator's
stored setting: like the time zone they describe the deployment, change with a contract rather than
during the day, and must be the same on every worker — an environment variable does that with no table,
migration or endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session

from api.clock import ServiceClock
from api.db.repository import latest_rules, latest_service_area
from api.feeds.gtfs_flex import Agency, Booking, FlexService, FlexStop, feed_days, feed_zip
from api.feeds.gtfs_rt import BusFix, vehicle_positions
from api.live.store import LiveStore
from api.services.service_calendar import stored_calendar
from api.settings import Settings
from dispatch.calendar import standard_hours
from dispatch.model import ServiceRules
from routing.stops import NamedStop

DEFAULT_AREA_NAME = "Service area"


def gtfs_feed(session: Session, *, settings: Settings, clock: ServiceClock, built_in_area: BaseGeometry,
              stops: Iterable[NamedStop], first_day: date) -> bytes:
    """The GTFS zip of the service in force, its period starting on the local day ``first_day``;
    ``built_in_area`` is the area in force when none is stored."""
    return feed_zip(flex_service(session, settings=settings, clock=clock, built_in_area=built_in_area,
                                 stops=stops, first_day=first_day))


def flex_service(session: Session, *, settings: Settings, clock: ServiceClock, built_in_area: BaseGeometry,
                 stops: Iterable[NamedStop], first_day: date) -> FlexService:
    """The plain values the feed is built from (see :func:`gtfs_feed`)."""
    stored_rules = latest_rules(session)
    rules = stored_rules.to_rules() if stored_rules else ServiceRules()
    row = latest_service_area(session)
    area = shape(json.loads(row.geojson)) if row else built_in_area
    agency_url = settings.agency_url or settings.public_url
    public = settings.public_url.rstrip("/")
    first, last = feed_days(first_day, settings.gtfs_days)
    return FlexService(
        agency=Agency(settings.agency_name, agency_url, settings.timezone, settings.agency_lang,
                      settings.agency_phone),
        route_name=settings.route_name, area=mapping(area),
        area_name=row.name if row and row.name else DEFAULT_AREA_NAME,
        stops=tuple(FlexStop(s.id, s.name, s.lat, s.lon) for s in stops if area.covers(Point(s.lon, s.lat))),
        calendar=stored_calendar(session, clock).calendar, standard=standard_hours(rules),
        booking=Booking(rules.min_notice_s, rules.booking_horizon_s, booking_url=f"{public}/app",
                        info_url=agency_url, phone=settings.agency_phone),
        first_day=first, last_day=last)


def vehicle_positions_feed(store: LiveStore, *, now: datetime) -> bytes:
    """The GTFS-Realtime vehicle positions of every bus the live store has a position of."""
    fixes = [BusFix(vid, float(p["lat"]), float(p["lon"]), datetime.fromisoformat(p["at"]))
             for vid, p in store.positions().items()]
    return vehicle_positions(fixes, now=now)
