"""The published feeds through the real app, with no key: GET /feeds/gtfs.zip (GTFS with Flex from the
calendar, rules, area and stops in force, on SQLite and PostgreSQL), the same feed from
``rufbus gtfs export``, and GET /feeds/gtfs-rt/vehicle-positions from the positions drivers report (and
from a real Redis that several workers share)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from google.transit import gtfs_realtime_pb2
from shapely.geometry import shape
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from api.clock import ServiceClock
from api.feeds.gtfs_flex import AREA_ID
from api.live.store import RedisLiveStore
from api.services.feeds import vehicle_positions_feed
from api.settings import Settings
from tests.api.conftest import DRIVER, NOW, OPERATOR, SCHAAN, ZONE, postgres_schema, user_keys
from tests.api.feeds.spec import check_flex_feed

PUBLIC_URL, PHONE = "https://rufbus.li", "+423 236 00 00"
FEED_SETTINGS = {"public_url": PUBLIC_URL, "agency_name": "Rufbus Liechtenstein", "agency_phone": PHONE,
                 "gtfs_days": 120, "demo_buses": 2}
CHRISTMAS_EVE, CHRISTMAS = date(2026, 12, 24), date(2026, 12, 25)
CALENDAR = {"weekdays": {"sunday": None, "saturday": {"start_s": 8 * 3600, "end_s": 18 * 3600}},
            "exceptions": [{"day": CHRISTMAS_EVE.isoformat(), "name": "Heiligabend",
                            "hours": {"start_s": 6 * 3600, "end_s": 14 * 3600}},
                           {"day": CHRISTMAS.isoformat(), "name": "Weihnachten", "hours": None}]}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The module's database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('feeds') / 'rufbus.sqlite3'}"
        return
    server_url = request.getfixturevalue("postgres_url")
    with postgres_schema(server_url, "rufbus_feeds") as url:
        yield url


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[TestClient]:
    """The app on the module's database at 08:00 on a Monday, with the calendar above in force."""
    app = create_app(Settings(database_url=database_url, **FEED_SETTINGS),
                     clock=ServiceClock(ZONE, wall_clock=lambda: NOW))
    with TestClient(app) as test_client:
        test_client.keys = user_keys(test_client, (OPERATOR, DRIVER))  # type: ignore[attr-defined]
        answer = test_client.put("/v1/operator/calendar", json=CALENDAR,
                                 headers=test_client.keys["operator"])  # type: ignore[attr-defined]
        assert answer.status_code == 200, answer.text
        yield test_client


@pytest.fixture(scope="module")
def feed_bytes(client: TestClient) -> bytes:
    answer = client.get("/feeds/gtfs.zip")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    return answer.content


def test_the_gtfs_feed_is_public_and_meets_the_flex_rules(feed_bytes, tmp_path):
    """No key needed; the feed passes the spec's rules and the validator on the service's today."""
    check_flex_feed(feed_bytes, tmp_path, on=NOW.date())


def test_the_feed_publishes_the_calendar_in_force(feed_bytes, tmp_path):
    """Weekdays 05–23 (the standard hours), Saturdays 08–18, Sundays closed; Christmas Eve has its own
    hours instead of the weekday's (exception types 2 and 1), Christmas is closed (2); the period starts
    today and lasts RUFBUS_GTFS_DAYS."""
    kit = check_flex_feed(feed_bytes, tmp_path, on=NOW.date()).kit
    (info,) = kit.feed_info.to_dict("records")
    last = NOW.date() + timedelta(days=FEED_SETTINGS["gtfs_days"] - 1)
    assert (info["feed_start_date"], info["feed_end_date"]) == ("20261123", last.strftime("%Y%m%d"))
    assert set(kit.calendar_dates.itertuples(index=False, name=None)) == {
        ("hours-0500-2300", "20261224", 2), ("hours-0600-1400", "20261224", 1),
        ("hours-0500-2300", "20261225", 2)}
    assert kit.get_active_services("20261123") == ["hours-0500-2300"]  # a Monday
    assert kit.get_active_services("20261128") == ["hours-0800-1800"]  # a Saturday
    assert kit.get_active_services("20261129") == []  # a Sunday
    assert kit.get_active_services("20261225") == []
    windows = {(row.trip_id, row.start_pickup_drop_off_window, row.end_pickup_drop_off_window)
               for row in kit.stop_times.itertuples()}
    assert ("hours-0600-1400-area", "06:00:00", "14:00:00") in windows


def test_the_feed_publishes_the_area_the_stops_and_the_booking_rule(client, feed_bytes, tmp_path):
    """The zone is the service area in force; the location group holds the named stops of the stop
    directory that lie in it; the booking rule has the rules' notice and horizon in minutes, the phone
    set for the agency and a booking link into the riders' app."""
    feed = check_flex_feed(feed_bytes, tmp_path, on=NOW.date())
    zone = shape(feed.zones[AREA_ID]["geometry"])
    assert zone.equals(client.app.state.network.service_area.polygon)
    stop_ids = set(feed.kit.stops["stop_id"])
    assert stop_ids and stop_ids <= {stop.id for stop in client.app.state.stops.stops}
    members = {row["stop_id"] for row in feed.flex["location_group_stops.txt"]}
    assert members == stop_ids
    (rule,) = feed.flex["booking_rules.txt"]
    rules = client.get("/v1/operator/rules", headers=client.keys["operator"]).json()
    assert rule["booking_type"] == "1"
    assert int(rule["prior_notice_duration_max"]) == rules["booking_horizon_s"] // 60
    assert int(rule["prior_notice_duration_min"]) == -(-rules["min_notice_s"] // 60)
    assert (rule["phone_number"], rule["booking_url"]) == (PHONE, f"{PUBLIC_URL}/app")
    (agency,) = feed.kit.agency.to_dict("records")
    assert (agency["agency_name"], agency["agency_phone"], agency["agency_timezone"]) == (
        "Rufbus Liechtenstein", PHONE, "Europe/Vaduz")


def test_the_cli_exports_the_same_feed(client, database_url, feed_bytes, tmp_path, monkeypatch):
    """`rufbus gtfs export FILE --start <today>` on the same database and settings writes the bytes the
    app serves."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("RUFBUS_TIMEZONE", "Europe/Vaduz")
    for name, value in FEED_SETTINGS.items():
        monkeypatch.setenv(f"RUFBUS_{name.upper()}", str(value))
    target = tmp_path / "export.zip"
    result = CliRunner().invoke(cli, ["gtfs", "export", str(target), "--start", NOW.date().isoformat()])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == feed_bytes


def decode(content: bytes) -> gtfs_realtime_pb2.FeedMessage:
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(content)
    return message


def test_vehicle_positions_decode_with_the_position_a_driver_reported(client):
    """A driver reports bus-1 in Schaan a minute ago: the public feed decodes as a full dataset, version
    2.0, stamped now, with bus-1 at that position (snapped to the road) and that time."""
    at = NOW - timedelta(minutes=1)
    answer = client.post("/v1/driver/positions", headers=client.keys["driver"],
                         json={"positions": [{**SCHAAN, "at": at.isoformat()}]})
    assert answer.status_code == 202 and answer.json()["used"], answer.text
    assert client.app.state.live.publisher.wait_idle(10)
    answer = client.get("/feeds/gtfs-rt/vehicle-positions")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    message = decode(answer.content)
    assert message.header.gtfs_realtime_version == "2.0"
    assert message.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    assert message.header.timestamp == int(NOW.timestamp())
    buses = {entity.id: entity.vehicle for entity in message.entity}
    assert set(buses) <= {"bus-1", "bus-2"} and "bus-1" in buses
    bus = buses["bus-1"]
    assert bus.vehicle.id == "bus-1" and bus.timestamp == int(at.timestamp())
    assert abs(bus.position.latitude - SCHAAN["lat"]) < 0.002
    assert abs(bus.position.longitude - SCHAAN["lon"]) < 0.002


def test_no_position_kept_gives_a_valid_empty_feed(client, monkeypatch):
    """A live store with no position (a fresh Redis, say): the feed is a header and no entity."""
    monkeypatch.setattr(client.app.state.live.store, "positions", dict)
    message = decode(client.get("/feeds/gtfs-rt/vehicle-positions").content)
    assert message.IsInitialized() and len(message.entity) == 0
    assert message.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET


def test_the_feeds_need_no_key_even_with_a_wrong_one(client):
    """Open data: a wrong key does not turn the feeds into 401s."""
    wrong = {"Authorization": "Bearer not-a-key"}
    assert client.get("/feeds/gtfs.zip", headers=wrong).status_code == 200
    assert client.get("/feeds/gtfs-rt/vehicle-positions", headers=wrong).status_code == 200


def test_an_export_into_a_missing_directory_is_refused_before_any_work(tmp_path: Path):
    """A target inside a missing directory is a usage error naming it (exit 2), not a traceback."""
    result = CliRunner().invoke(cli, ["gtfs", "export", str(tmp_path / "missing" / "gtfs.zip")])
    assert result.exit_code == 2
    assert "no such directory" in result.output


@pytest.mark.redis
def test_vehicle_positions_come_from_the_positions_another_worker_kept_in_redis(redis_url):
    """With several workers the feed reads the shared store: a position one worker's publisher wrote to
    a real Redis is in the feed another worker serves; its area's keys are removed afterwards."""
    import redis

    client = redis.Redis.from_url(redis_url)
    area = f"feeds-{secrets.token_hex(4)}"
    try:
        writer, reader = RedisLiveStore(client, area), RedisLiveStore(client, area)
        at = NOW - timedelta(seconds=20)
        writer.put_position("bus-7", {"lat": 47.16, "lon": 9.51, "at": at.isoformat()})
        message = decode(vehicle_positions_feed(reader, now=NOW))
        (entity,) = message.entity
        assert entity.vehicle.vehicle.id == "bus-7" and entity.vehicle.timestamp == int(at.timestamp())
        assert abs(entity.vehicle.position.latitude - 47.16) < 1e-5
    finally:
        client.delete(*client.keys(f"rufbus:{area}:*") or [f"rufbus:{area}:positions"])
        client.close()
