"""Reports for the county (api.routes.reports, api.services.reports, api.services.costs,
api.services.monthly_report) through the real app on SQLite and on PostgreSQL: bookings of two months
(September and October 2026, the 25-hour day of 25 October included) written into the app's database,
counted per local day in both CSVs; a tiny fleet's day whose vehicle-hours, vehicle-km and cost per trip
are worked out by hand; the CSV free of names, phone numbers and exact places; the monthly page with its
figures and SVG charts; bad ranges, months and costs answered 422 (who may call what:
tests/api/test_auth.py)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.auth import create_user
from api.clock import ServiceClock
from api.db.models import Booking, DemandRecord, Shift, User
from api.grid import cell_of
from api.settings import Settings
from dispatch.dispatcher import RequestStatus
from dispatch.model import RejectionCause, TimeType
from tests.api.conftest import ZONE, MovableClock
from tests.api.test_plan_change import database_url  # noqa: F401 (fixture: SQLite file or PostgreSQL schema)

REPORTS = "/v1/operator/reports"
# Exact places with more decimals than any cell centre written (5): neither may appear in a report.
HOME = (47.141234, 9.521567)  # in Vaduz
WORK = (47.165012, 9.509034)  # in Schaan
RIDER_NAME, RIDER_PHONE = "Rita Reportrider", "+4237778899"
DST_DAY = date(2026, 10, 25)  # clocks go back: 25 hours


@pytest.fixture
def client(database_url: str, app_clock: MovableClock) -> Iterator[TestClient]:  # noqa: F811
    """The app with one bus (bus-1); the operator's key in ``client.keys``, the rider's and operator's
    user ids in ``client.ids``."""
    app = create_app(Settings(database_url=database_url, demo_buses=1),
                     clock=ServiceClock(ZONE, wall_clock=app_clock))
    with TestClient(app) as test_client, Session(app.state.engine) as session:
        operator, key = create_user(session, name="Otto Operator", role="operator")
        rider = User(name=RIDER_NAME, phone=RIDER_PHONE, role="rider")
        session.add(rider)
        session.commit()
        test_client.keys = {"operator": {"Authorization": f"Bearer {key}"}}  # type: ignore[attr-defined]
        test_client.ids = {"operator": operator.id, "rider": rider.id}  # type: ignore[attr-defined]
        yield test_client


def local(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """The instant of a local wall-clock time (``fold`` 1: the second pass of a repeated hour)."""
    return datetime.combine(day, time(hour, minute, fold=fold), tzinfo=ZONE)


class Seeder:
    """Writes bookings, shifts and refused quotes straight into the app's database (history cannot be
    booked through the API: the service only takes trips ahead of its clock)."""

    def __init__(self, client: TestClient, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        network = client.app.state.network
        snapped = network.snap([HOME[0], WORK[0]], [HOME[1], WORK[1]])
        self.home_node, self.work_node = (int(n) for n in snapped.node)
        self.metres = lambda a, b: network.travel(a, b)[1]
        self.rows: list = []
        self.count = 0

    def booking(self, requested: datetime, *, status: RequestStatus = RequestStatus.BOOKED,
                by_operator: bool = False, reverse: bool = False, **fields) -> Booking:
        """A booking of the rider from home to work (``reverse``: back) for ``requested``."""
        self.count += 1
        rider = self.client.ids["rider"]
        (olat, olon), onode, (dlat, dlon), dnode = HOME, self.home_node, WORK, self.work_node
        if reverse:
            (olat, olon), onode, (dlat, dlon), dnode = WORK, self.work_node, HOME, self.home_node
        row = Booking(id=f"{self.prefix}{self.count:05d}", rider_id=rider,
                      booked_by=self.client.ids["operator"] if by_operator else rider,
                      origin_lat=olat, origin_lon=olon, origin_node=onode, destination_lat=dlat,
                      destination_lon=dlon, destination_node=dnode, time_type=TimeType.LEAVE_AFTER,
                      requested_time=requested, status=status, submitted_at=requested - timedelta(days=1),
                      window_start=requested, window_end=requested + timedelta(minutes=15), **fields)
        self.rows.append(row)
        return row

    def shift(self, starts_at: datetime, ends_at: datetime) -> None:
        self.rows.append(Shift(vehicle_id="bus-1", starts_at=starts_at, ends_at=ends_at))

    def refused(self, trip: datetime) -> None:
        """A quote refused (no bus in time) for a trip at ``trip``, as the demand map keeps it."""
        hour = trip.replace(minute=0)
        self.rows.append(DemandRecord(asked_hour=hour - timedelta(days=1), trip_hour=hour,
                                      origin_cell=cell_of(*HOME).id, destination_cell=cell_of(*WORK).id,
                                      seats=1, cause=RejectionCause.NO_VEHICLE_IN_TIME))

    def write(self) -> None:
        with Session(self.client.app.state.engine) as session:
            session.add_all(self.rows)
            session.commit()


def two_months(client: TestClient) -> Counter[date]:
    """September and October 2026: 1 to 3 bookings a day at 10:00 (some booked by the operator, some
    cancelled), and around the DST night of 25 October bookings at 23:59 on the 24th, at midnight, twice at
    02:30 (both passes) and at 23:59 on the 25th, at midnight on the 26th; one shift over the whole 25th
    and a refused quote on it. The bookings expected per local day."""
    seed, expected = Seeder(client, "month"), Counter[date]()
    day = date(2026, 9, 1)
    while day <= date(2026, 10, 31):
        for k in range(day.day % 3 + 1):
            seed.booking(local(day, 10, k), by_operator=k == 1,
                         status=RequestStatus.CANCELLED if k == 2 else RequestStatus.BOOKED)
            expected[day] += 1
        day += timedelta(days=1)
    around = [local(date(2026, 10, 24), 23, 59), local(DST_DAY, 0), local(DST_DAY, 2, 30),
              local(DST_DAY, 2, 30, fold=1), local(DST_DAY, 23, 59), local(date(2026, 10, 26), 0)]
    for moment in around:
        seed.booking(moment)
        expected[moment.date()] += 1
    seed.shift(local(DST_DAY, 0), local(date(2026, 10, 26), 0))
    seed.refused(local(DST_DAY, 8))
    seed.write()
    return expected


def read_csv(answer) -> list[dict[str, str]]:
    """The rows of a CSV answer (UTF-8 with BOM, ``;``-separated), by header."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))


def test_bookings_csv_has_every_booking_on_its_local_day_over_two_months_and_the_dst_day(client):
    """Every booking appears once, on the local date of its requested time: the 25-hour day holds its
    midnight, both 02:30s and 23:59; its neighbours their own; the range's ends are included."""
    expected = two_months(client)
    rows = read_csv(client.get(f"{REPORTS}/bookings.csv", headers=client.keys["operator"],
                               params={"from": "2026-09-01", "to": "2026-10-31"}))
    assert Counter(date.fromisoformat(row["local_date"]) for row in rows) == expected
    assert expected[DST_DAY] == DST_DAY.day % 3 + 1 + 4 and len({row["id"] for row in rows}) == len(rows)
    second = [row for row in rows if row["requested_time"] == "2026-10-25T02:30:00+01:00"]
    first = [row for row in rows if row["requested_time"] == "2026-10-25T02:30:00+02:00"]
    assert len(first) == len(second) == 1
    october = read_csv(client.get(f"{REPORTS}/bookings.csv", headers=client.keys["operator"],
                                  params={"from": "2026-10-25", "to": "2026-10-25"}))
    assert len(october) == expected[DST_DAY]


def test_bookings_csv_keeps_no_names_phones_or_exact_places(client):
    """The rider is a number, the ends are grid cells with their centres: neither the rider's name or
    phone nor the exact coordinates appear anywhere; who booked and why a trip ended are named."""
    two_months(client)
    answer = client.get(f"{REPORTS}/bookings.csv", headers=client.keys["operator"],
                        params={"from": "2026-09-01", "to": "2026-09-30"})
    text = answer.content.decode("utf-8-sig")
    for secret in (RIDER_NAME, "Reportrider", RIDER_PHONE, "7778899", *map(str, HOME), *map(str, WORK)):
        assert secret not in text
    rows = read_csv(answer)
    assert {row["rider"] for row in rows} == {str(client.ids["rider"])}
    assert {row["booked_by"] for row in rows} == {"rider", "operator"}
    assert {row["origin_cell"] for row in rows} == {cell_of(*HOME).id}
    home = cell_of(*HOME)
    assert abs(float(rows[0]["origin_cell_lat"]) - home.lat) < 1e-5
    assert {row["status"] for row in rows} == {"booked", "cancelled"}


def test_kpis_csv_counts_per_day_week_and_month(client):
    """Bookings per local day as in the bookings CSV; the refused quote adds to the trips asked of the
    25th; the shift over the 25th is 25 vehicle-hours; weeks run Monday to Sunday, cut to the range;
    months add up."""
    expected = two_months(client)
    params = {"from": "2026-09-01", "to": "2026-10-31"}
    days = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"], params=params))
    assert {date.fromisoformat(row["first"]): int(row["booked"]) for row in days} == expected
    dst = next(row for row in days if row["first"] == "2026-10-25")
    assert (int(dst["refused"]), int(dst["trips_asked"])) == (1, expected[DST_DAY] + 1)
    assert float(dst["vehicle_hours"]) == 25.0
    assert int(dst["cancelled"]) == (1 if DST_DAY.day % 3 == 2 else 0)
    assert dst["cost"] == "" and dst["currency"] == "EUR"  # no costs set yet
    assert all(float(row["vehicle_hours"]) == 0 for row in days if row["first"] != "2026-10-25")
    weeks = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"],
                                params={**params, "by": "week"}))
    assert (weeks[0]["first"], weeks[0]["last"]) == ("2026-09-01", "2026-09-06")
    assert weeks[-1]["last"] == "2026-10-31"
    assert sum(int(row["booked"]) for row in weeks) == sum(expected.values())
    months = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"],
                                 params={**params, "by": "month"}))
    assert [(row["first"], row["last"]) for row in months] == [("2026-09-01", "2026-09-30"),
                                                                ("2026-10-01", "2026-10-31")]
    assert [int(row["booked"]) for row in months] == [
        sum(n for day, n in expected.items() if day.month == month) for month in (9, 10)]


def tiny_fleet_day(client: TestClient) -> float:
    """15 September 2026: bus-1's shift 06:00–14:00; trip A home→work ready 07:55, picked up 08:00,
    dropped off 08:20 (direct 10 min, 2 seats); trip B work→home ready 08:50, picked up 09:00, dropped off
    09:30 (direct 15 min, 1 seat and 1 wheelchair); one cancelled, one no-show, one quote refused. The
    metres bus-1 drove between its stops: home→work, then work→home."""
    seed = Seeder(client, "tiny")
    day = date(2026, 9, 15)
    seed.shift(local(day, 6), local(day, 14))
    seed.booking(local(day, 7, 55), status=RequestStatus.COMPLETED, vehicle_id="bus-1", seats=2,
                 picked_up_at=local(day, 8), dropped_off_at=local(day, 8, 20), direct_s=600)
    seed.booking(local(day, 8, 50), status=RequestStatus.COMPLETED, vehicle_id="bus-1", seats=1,
                 wheelchairs=1, picked_up_at=local(day, 9), dropped_off_at=local(day, 9, 30), direct_s=900,
                 reverse=True)
    seed.booking(local(day, 11), status=RequestStatus.CANCELLED)
    seed.booking(local(day, 12), status=RequestStatus.NO_SHOW)
    seed.refused(local(day, 13))
    seed.write()
    return seed.metres(seed.home_node, seed.work_node) + seed.metres(seed.work_node, seed.home_node)


def test_a_tiny_fleets_day_has_the_hand_computed_hours_km_and_cost_per_trip(client):
    """8 vehicle-hours, the km between the bus's stops, cost = 8 × 30 + km × 2 EUR shared by the 2 trips
    served; 5 trips asked (4 booked, 1 refused), 40 % served, 4 passengers, wait 5 and 10 min (mean 7.5,
    p95 9.75), both rides twice their direct time."""
    metres = tiny_fleet_day(client)
    assert metres > 1000  # Vaduz to Schaan and back: kilometres, not a rounding error
    put = client.put("/v1/operator/costs", headers=client.keys["operator"],
                     json={"per_vehicle_hour": 30, "per_vehicle_km": 2, "currency": "CHF"})
    assert put.status_code == 200, put.text
    [row] = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"],
                                params={"from": "2026-09-15", "to": "2026-09-15"}))
    km = metres / 1000
    cost = 8 * 30 + km * 2
    assert {name: int(row[name]) for name in ("trips_asked", "refused", "booked", "served", "cancelled",
                                              "no_shows", "rejected", "passengers")} == {
        "trips_asked": 5, "refused": 1, "booked": 4, "served": 2, "cancelled": 1, "no_shows": 1,
        "rejected": 0, "passengers": 4}
    assert float(row["served_pct"]) == 40.0
    assert float(row["wait_mean_s"]) == 450.0 and float(row["wait_p95_s"]) == 585.0
    assert float(row["ride_time_factor"]) == 2.0
    assert float(row["vehicle_hours"]) == 8.0
    assert float(row["vehicle_km"]) == pytest.approx(km, abs=5e-4)
    assert float(row["cost"]) == pytest.approx(cost, abs=5e-4)
    assert float(row["cost_per_trip"]) == pytest.approx(cost / 2, abs=5e-4)
    assert row["currency"] == "CHF"


def fare(cents: int, currency: str = "CHF") -> dict:
    """A booking's fare columns: ``cents`` for one adult in ``currency``."""
    lines = [{"category": "adult", "count": 1, "unit_cents": cents, "cents": cents}]
    return {"fare": {"currency": currency, "total_cents": cents, "lines": lines, "tariff_version": 1},
            "fare_total": cents}


def test_the_served_trips_fares_and_the_net_cost_per_trip(client):
    """16 September: bus-1 06:00–14:00; two trips served, priced 3.50 and 4.20 CHF; a no-show and a
    cancelled trip priced too, which pay nothing; one unpriced trip served. Fares 7.70 CHF; with costs in
    CHF the net cost per trip is (cost − 7.70) ÷ 3. With costs in EUR the fares stay, the net cost is empty.
    17 September: trips served in CHF and in EUR: no sum, the currency names both. The monthly report shows
    the fares with their currency."""
    seed, day, other = Seeder(client, "fare"), date(2026, 9, 16), date(2026, 9, 17)
    seed.shift(local(day, 6), local(day, 14))
    served = {"status": RequestStatus.COMPLETED, "vehicle_id": "bus-1", "direct_s": 600}
    for k, cents in enumerate((350, 420)):
        seed.booking(local(day, 8 + k), picked_up_at=local(day, 8 + k), dropped_off_at=local(day, 8 + k, 20),
                     **served, **fare(cents))
    seed.booking(local(day, 11), picked_up_at=local(day, 11), dropped_off_at=local(day, 11, 20), **served)
    seed.booking(local(day, 12), status=RequestStatus.NO_SHOW, **fare(500))
    seed.booking(local(day, 13), status=RequestStatus.CANCELLED, **fare(500))
    for k, currency in enumerate(("CHF", "EUR")):
        seed.booking(local(other, 8 + k), picked_up_at=local(other, 8 + k),
                     dropped_off_at=local(other, 8 + k, 20), **served, **fare(300, currency))
    seed.write()
    operator = client.keys["operator"]

    def days(currency: str) -> list[dict[str, str]]:
        put = client.put("/v1/operator/costs", headers=operator,
                         json={"per_vehicle_hour": 30, "per_vehicle_km": 2, "currency": currency})
        assert put.status_code == 200, put.text
        return read_csv(client.get(f"{REPORTS}/kpis.csv", headers=operator,
                                   params={"from": day.isoformat(), "to": other.isoformat()}))

    first, second = days("CHF")
    assert (float(first["fares"]), first["fare_currency"]) == (7.7, "CHF")
    assert float(first["served"]) == 3
    assert float(first["net_cost_per_trip"]) == pytest.approx((float(first["cost"]) - 7.7) / 3, abs=1e-3)
    assert (second["fares"], second["fare_currency"], second["net_cost_per_trip"]) == ("", "CHF+EUR", "")
    first, _ = days("EUR")
    assert (float(first["fares"]), first["fare_currency"], first["net_cost_per_trip"]) == (7.7, "CHF", "")
    page = client.get(f"{REPORTS}/monthly", headers=operator, params={"month": "2026-09"}).text
    fares = re.search(r'data-figure="fares"><th scope="row">Fares \(([^)]*)\)</th><td>([^<]*)</td>', page)
    assert fares and fares.groups() == ("CHF+EUR", "–")  # the month holds both currencies
    row = re.search(r'<tr data-day="2026-09-16">(.*?)</tr>', page)
    assert row and row.group(1).endswith("<td>7.70</td>")


def test_the_monthly_report_shows_the_months_figures_days_trends_and_costs(client):
    """October's page: its served, booked and cost figures, a row per day (the 25th included), SVG trend
    charts over September and October (the empty months before left out), the cost settings; no
    script."""
    metres = tiny_fleet_day(client)
    expected = two_months(client)
    client.put("/v1/operator/costs", headers=client.keys["operator"],
               json={"per_vehicle_hour": 30, "per_vehicle_km": 2, "currency": "EUR"})
    answer = client.get(f"{REPORTS}/monthly", headers=client.keys["operator"], params={"month": "2026-09"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "Rufbus monthly report September 2026" in page
    assert "<script" not in page.lower() and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    served = re.search(r'data-figure="served"><th scope="row">Trips served</th><td>([^<]*)</td>', page)
    assert served and served.group(1) == "2"
    cost = re.search(r'data-figure="cost"><th scope="row">Cost \(EUR\)</th><td>([^<]*)</td>', page)
    assert cost and cost.group(1) == f"{8 * 30 + metres / 1000 * 2:,.2f}"
    assert len(re.findall(r'<tr data-day="2026-09-\d\d">', page)) == 30
    assert "30.00 EUR" in page and "2.00 EUR" in page
    october = client.get(f"{REPORTS}/monthly", headers=client.keys["operator"],
                         params={"month": "2026-10"}).text
    assert '<tr data-day="2026-10-25">' in october and october.count("<svg") == 9
    trend = re.search(r'<figure data-trend="served">(.*?)</figure>', october, re.S)
    assert trend and trend.group(1).count("<rect") == 2  # September and October
    trips = re.search(r'data-figure="trips_asked"><th scope="row">Trips asked</th><td>([^<]*)</td>',
                      october)
    assert trips and trips.group(1) == str(sum(n for day, n in expected.items() if day.month == 10) + 1)


def test_a_shift_counts_only_as_far_as_it_has_been_driven(client, app_clock):
    """At 12:00 on the tiny fleet's day, its 06:00–14:00 shift counts 6 vehicle-hours, not 8."""
    tiny_fleet_day(client)
    app_clock.moment = local(date(2026, 9, 15), 12)
    [row] = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"],
                                params={"from": "2026-09-15", "to": "2026-09-16"}))[:1]
    assert float(row["vehicle_hours"]) == 6.0


def test_cost_settings_are_kept_as_versions_and_read_back(client):
    """Before any are set: zero, euros, no version; each change a new version, the newest in force."""
    operator = client.keys["operator"]
    assert client.get("/v1/operator/costs", headers=operator).json() == {
        "per_vehicle_hour": 0.0, "per_vehicle_km": 0.0, "currency": "EUR", "version": None,
        "valid_from": None}
    first = client.put("/v1/operator/costs", headers=operator,
                       json={"per_vehicle_hour": 55.5, "per_vehicle_km": 0.8, "currency": "CHF"}).json()
    second = client.put("/v1/operator/costs", headers=operator,
                        json={"per_vehicle_hour": 60, "per_vehicle_km": 0, "currency": "EUR"}).json()
    assert second["version"] > first["version"]
    assert first["valid_from"] == "2026-11-23T08:00:00+01:00"  # the service's clock, in its zone
    now = client.get("/v1/operator/costs", headers=operator).json()
    assert (now["per_vehicle_hour"], now["per_vehicle_km"], now["currency"], now["version"]) == (
        60.0, 0.0, "EUR", second["version"])


@pytest.mark.parametrize("body", [
    {"per_vehicle_hour": -1, "per_vehicle_km": 1, "currency": "EUR"},
    {"per_vehicle_hour": 10_001, "per_vehicle_km": 1, "currency": "EUR"},
    {"per_vehicle_hour": 50, "per_vehicle_km": 1001, "currency": "EUR"},
    {"per_vehicle_hour": 50, "per_vehicle_km": 1, "currency": "USD"},
    {"per_vehicle_hour": "many", "per_vehicle_km": 1, "currency": "EUR"},
    {"per_vehicle_hour": 50, "currency": "EUR"},
    {"per_vehicle_hour": 50, "per_vehicle_km": 1, "currency": "EUR", "extra": 1},
    '{"per_vehicle_hour": NaN, "per_vehicle_km": 1, "currency": "EUR"}',
    '{"per_vehicle_hour": Infinity, "per_vehicle_km": 1, "currency": "EUR"}',
    '{"per_vehicle_hour": 1e999, "per_vehicle_km": 1, "currency": "EUR"}',
])
def test_bad_cost_settings_are_422_and_change_nothing(client, body):
    """Negative, too large, not finite, not a number, missing, unknown currency or field: 422 with a code
    and message, and the settings stay as they were."""
    operator = client.keys["operator"]
    if isinstance(body, str):
        answer = client.put("/v1/operator/costs", headers=operator | {"Content-Type": "application/json"},
                            content=body)
    else:
        answer = client.put("/v1/operator/costs", headers=operator, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] and answer.json()["message"]
    assert client.get("/v1/operator/costs", headers=operator).json()["version"] is None


@pytest.mark.parametrize(("path", "params", "code"), [
    ("bookings.csv", {"from": "2026-10-02", "to": "2026-10-01"}, "invalid_range"),
    ("bookings.csv", {"from": "2026-01-01", "to": "2027-01-02"}, "invalid_range"),
    ("bookings.csv", {"from": "1999-12-31", "to": "2000-01-01"}, "invalid_range"),
    ("bookings.csv", {"from": "2026-02-30", "to": "2026-03-01"}, "invalid_request"),
    ("bookings.csv", {"from": "2026-10-01"}, "invalid_request"),
    ("kpis.csv", {"from": "2026-10-02", "to": "2026-10-01"}, "invalid_range"),
    ("kpis.csv", {"from": "2026-01-01", "to": "9999-12-31"}, "invalid_range"),
    ("kpis.csv", {"from": "2026-10-01", "to": "2026-10-31", "by": "year"}, "invalid_request"),
    ("monthly", {"month": "2026-13"}, "invalid_month"),
    ("monthly", {"month": "26-10"}, "invalid_request"),
    ("monthly", {"month": "2026-1x"}, "invalid_request"),
    ("monthly", {"month": "2026-1"}, "invalid_request"),
    ("monthly", {"month": "0001-01"}, "invalid_month"),
    ("monthly", {"month": "2026-10-01"}, "invalid_request"),
    ("monthly", {}, "invalid_request"),
])
def test_bad_ranges_and_months_are_422(client, path, params, code):
    """A range backwards, longer than 366 days or outside the service's years, a date that does not exist,
    a missing end, an unknown grouping, a month that is none: 422 with the code named."""
    answer = client.get(f"{REPORTS}/{path}", headers=client.keys["operator"], params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == code


def test_a_full_year_is_allowed(client):
    """366 days is the longest range: it answers, with a row per day."""
    rows = read_csv(client.get(f"{REPORTS}/kpis.csv", headers=client.keys["operator"],
                               params={"from": "2027-01-01", "to": "2028-01-01"}))
    assert len(rows) == 366
