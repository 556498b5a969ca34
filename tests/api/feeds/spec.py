"""The GTFS Schedule reference's rules for a feed with GTFS-Flex, checked on an exported zip: read back
with gtfs-kit (the core files) and the standard library (the Flex files gtfs-kit does not read), each
rule asserted field by field, then the canonical rule set run on it (gtfs-validator, Flex rules
included) with no error allowed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import gtfs_kit
from gtfs_validator.cli import main as validate
from shapely.geometry import shape

REQUIRED_FILES = {"agency.txt", "routes.txt", "trips.txt", "stop_times.txt", "booking_rules.txt",
                  "locations.geojson", "feed_info.txt"}
FLEX_TABLES = ("booking_rules.txt", "location_groups.txt", "location_group_stops.txt")
# The warnings the validator may give this feed, each with the reason it is no fault.
ALLOWED_WARNINGS: dict[str, str] = {}


@dataclass
class Feed:
    """A feed read back: gtfs-kit's feed, the Flex tables as rows, the zones by id."""

    kit: Any
    flex: dict[str, list[dict[str, str]]]
    zones: dict[str, dict[str, Any]]
    names: set[str]


def gtfs_seconds(text: str) -> int:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def read_feed(content: bytes, directory: Path) -> Feed:
    """The feed in ``content``, read back (written to ``directory``/gtfs.zip for gtfs-kit)."""
    path = directory / "gtfs.zip"
    path.write_bytes(content)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        flex = {name: list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8-sig")))
                for name in FLEX_TABLES if name in names}
        locations = json.loads(archive.read("locations.geojson"))
    assert locations["type"] == "FeatureCollection"
    zones = {feature["id"]: feature for feature in locations["features"]}
    assert len(zones) == len(locations["features"]), "zone ids must be unique"
    return Feed(gtfs_kit.read_feed(path, dist_units="km"), flex, zones, names)


def check_flex_feed(content: bytes, directory: Path, *, on: date) -> Feed:
    """Assert every rule below on the feed ``content``, valid on the day ``on``; the feed read back."""
    feed = read_feed(content, directory)
    kit = feed.kit
    assert feed.names >= REQUIRED_FILES
    assert {"calendar.txt", "calendar_dates.txt"} & feed.names
    # agency and route
    (agency,) = kit.agency.to_dict("records")
    assert agency["agency_name"] and agency["agency_url"].startswith("http") and agency["agency_timezone"]
    assert set(kit.routes["agency_id"]) == {agency["agency_id"]}
    assert set(kit.routes["route_type"]) == {3}  # a bus
    # trips reference routes and services that exist
    services = set(kit.calendar["service_id"]) | set(kit.calendar_dates["service_id"])
    assert set(kit.trips["route_id"]) <= set(kit.routes["route_id"])
    assert set(kit.trips["service_id"]) <= services
    # every id a place may have is unique across stops, location groups and zones
    stop_ids = set(kit.stops["stop_id"]) if kit.stops is not None else set()
    group_ids = {row["location_group_id"] for row in feed.flex.get("location_groups.txt", [])}
    zone_ids = set(feed.zones)
    assert not (stop_ids & group_ids) and not (stop_ids & zone_ids) and not (group_ids & zone_ids)
    for member in feed.flex.get("location_group_stops.txt", []):
        assert member["location_group_id"] in group_ids and member["stop_id"] in stop_ids
    # zones: features with an id, valid polygons with a name
    for zone_id, feature in feed.zones.items():
        assert feature["type"] == "Feature" and zone_id
        geometry = shape(feature["geometry"])
        assert geometry.geom_type in ("Polygon", "MultiPolygon")
        assert geometry.is_valid and not geometry.is_empty
        assert feature["properties"]["stop_name"]
    # stop times: a zone or a location group, never a stop; windows instead of times; booking needed
    rules = {row["booking_rule_id"]: row for row in feed.flex["booking_rules.txt"]}
    stop_times = kit.stop_times.to_dict("records")
    assert {row["trip_id"] for row in stop_times} == set(kit.trips["trip_id"])
    for row in stop_times:
        places = [row.get(name) for name in ("stop_id", "location_id", "location_group_id")]
        assert sum(isinstance(place, str) and place != "" for place in places) == 1, row
        assert pd_missing(row.get("location_id")) or row["location_id"] in zone_ids, row
        assert pd_missing(row.get("location_group_id")) or row["location_group_id"] in group_ids, row
        assert not isinstance(row.get("arrival_time"), str) and not isinstance(row.get("departure_time"), str)
        start, end = (gtfs_seconds(row[f"{edge}_pickup_drop_off_window"]) for edge in ("start", "end"))
        assert 0 <= start < end
        assert row["pickup_type"] in (1, 2) and row["drop_off_type"] in (1, 2)  # 0 and 3 are forbidden
        assert 2 in (row["pickup_type"], row["drop_off_type"])
        for kind in ("pickup", "drop_off"):
            rule = row[f"{kind}_booking_rule_id"]
            if row[f"{kind}_type"] == 2:
                assert rule in rules, f"{kind} booked by phone names no booking rule: {row}"
    for trip in kit.trips["trip_id"]:
        rows = sorted((r for r in stop_times if r["trip_id"] == trip), key=lambda r: r["stop_sequence"])
        assert [r["pickup_type"] for r in rows] == [2, 1] and [r["drop_off_type"] for r in rows] == [1, 2]
    # booking rules: the fields each booking type requires, and none it forbids
    for rule in rules.values():
        check_booking_rule(rule)
    # calendar: the weekday patterns cover the feed period; exception dates lie in it
    (info,) = kit.feed_info.to_dict("records")
    first, last = info["feed_start_date"], info["feed_end_date"]
    assert first <= on.strftime("%Y%m%d") <= last
    for row in kit.calendar.to_dict("records"):
        assert row["start_date"] <= first and row["end_date"] >= last
    for row in kit.calendar_dates.to_dict("records"):
        assert first <= row["date"] <= last and row["exception_type"] in (1, 2)
    run_validator(directory / "gtfs.zip", directory / "report", on)
    return feed


def pd_missing(value: object) -> bool:
    """Whether gtfs-kit read an empty field (None or pandas' NA, neither a string)."""
    return not isinstance(value, str)


def check_booking_rule(rule: dict[str, str]) -> None:
    """booking_rules.txt's conditions on one rule (types 0 real time, 1 same day, 2 prior days)."""
    present = {name for name, value in rule.items() if value not in ("", None)}
    kind = int(rule["booking_type"])
    assert kind in (0, 1, 2)
    if kind == 1:
        assert "prior_notice_duration_min" in present
        assert not present & {"prior_notice_last_day", "prior_notice_last_time", "prior_notice_start_day"}
        if "prior_notice_duration_max" in present:
            assert int(rule["prior_notice_duration_max"]) >= int(rule["prior_notice_duration_min"]) >= 0
    if kind == 2:
        assert {"prior_notice_last_day", "prior_notice_last_time"} <= present
        assert not present & {"prior_notice_duration_min", "prior_notice_duration_max"}
        if "prior_notice_start_day" in present:
            assert "prior_notice_start_time" in present
            assert int(rule["prior_notice_start_day"]) >= int(rule["prior_notice_last_day"])
    assert rule["booking_url"].startswith("http") and rule["info_url"].startswith("http")


def run_validator(path: Path, output: Path, on: date) -> dict[str, Any]:
    """Run the canonical rule set on ``path`` as of ``on``: no error, no warning but the allowed ones."""
    assert validate(["-i", str(path), "-o", str(output), "-d", on.isoformat()]) == 0
    report = json.loads((output / "report.json").read_text())
    found = {notice["code"]: notice for notice in report["notices"]}
    errors = [n for n in found.values() if n["severity"] == "ERROR"]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    warnings = {code for code, n in found.items() if n["severity"] == "WARNING"} - set(ALLOWED_WARNINGS)
    assert not warnings, json.dumps([found[w] for w in warnings], indent=1)[:4000]
    return report

