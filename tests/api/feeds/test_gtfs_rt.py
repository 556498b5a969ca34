"""api.feeds.gtfs_rt: GTFS-Realtime vehicle positions as a protocol buffer journey planners decode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from google.transit import gtfs_realtime_pb2

from api.feeds.gtfs_rt import BusFix, vehicle_positions

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def decode(content: bytes) -> gtfs_realtime_pb2.FeedMessage:
    message = gtfs_realtime_pb2.FeedMessage()
    message.ParseFromString(content)
    return message


def test_each_bus_is_one_entity_with_its_position_and_time():
    """Two buses in id order: ids, label, WGS 84 position (float precision) and POSIX timestamps."""
    message = decode(vehicle_positions(
        [BusFix("bus-2", 47.165, 9.509, NOW - timedelta(seconds=30)), BusFix("bus-1", 47.141, 9.5215, NOW)],
        now=NOW))
    assert message.header.gtfs_realtime_version == "2.0"
    assert message.header.incrementality == gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    assert message.header.timestamp == int(NOW.timestamp())
    assert [e.id for e in message.entity] == ["bus-1", "bus-2"]
    second = message.entity[1].vehicle
    assert (second.vehicle.id, second.vehicle.label) == ("bus-2", "bus-2")
    assert second.position.latitude == pytest.approx(47.165, abs=1e-5)
    assert second.position.longitude == pytest.approx(9.509, abs=1e-5)
    assert second.timestamp == int(NOW.timestamp()) - 30


def test_no_bus_gives_a_valid_empty_feed():
    """Nobody has reported yet: a header and no entity, which decodes and is initialised."""
    message = decode(vehicle_positions([], now=NOW))
    assert message.IsInitialized() and len(message.entity) == 0
    assert message.header.gtfs_realtime_version == "2.0"


def test_a_naive_time_is_refused():
    """An instant without its zone is ambiguous and refused rather than guessed."""
    with pytest.raises(ValueError, match="time zone"):
        vehicle_positions([BusFix("bus-1", 47.1, 9.5, datetime(2026, 11, 23, 8))], now=NOW)
