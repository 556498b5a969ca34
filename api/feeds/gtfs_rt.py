"""GTFS-Realtime vehicle positions: where each bus was last seen, as the protocol buffer journey
planners poll (a full dataset each time, version 2.0)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from google.transit import gtfs_realtime_pb2

VERSION = "2.0"


@dataclass(frozen=True)
class BusFix:
    """Where a bus was seen (WGS 84) and when."""

    vehicle_id: str
    lat: float
    lon: float
    at: datetime


def vehicle_positions(fixes: Iterable[BusFix], *, now: datetime) -> bytes:
    """The serialised ``FeedMessage`` of ``fixes`` (one entity per bus, in id order) stamped ``now``;
    no fixes give a valid feed with no entity."""
    message = gtfs_realtime_pb2.FeedMessage()
    message.header.gtfs_realtime_version = VERSION
    message.header.incrementality = gtfs_realtime_pb2.FeedHeader.FULL_DATASET
    message.header.timestamp = _posix(now)
    for fix in sorted(fixes, key=lambda f: f.vehicle_id):
        entity = message.entity.add()
        entity.id = fix.vehicle_id
        entity.vehicle.vehicle.id = fix.vehicle_id
        entity.vehicle.vehicle.label = fix.vehicle_id
        entity.vehicle.position.latitude = fix.lat
        entity.vehicle.position.longitude = fix.lon
        entity.vehicle.timestamp = _posix(fix.at)
    return message.SerializeToString()


def _posix(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("an instant needs its time zone")
    return int(moment.timestamp())
