"""Fares: what a trip costs under the operator's tariff, per passenger category.

Pure and exact: money is integer minor units (cents, Rappen), never floats; distance is integer metres of
the direct road distance between pickup and drop-off; places are (lat, lon) in WGS 84. A tariff prices a
trip in one of two schemes — by distance (:class:`DistanceScheme`: base price and a price per km, within
a minimum and a cap) or by zones (:class:`ZoneScheme`: polygons with a price from zone to zone, or a price
by the number of zones the trip touches) — and that full (adult) fare is reduced per passenger category
by its concession (percent off; 100 is free). Every price is rounded half up to the tariff's ``step``
(the currency's smallest coin, or a coarser multiple of it), so a concession never raises a price and a
longer trip never costs less under a distance scheme.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

MAX_ZONE_SAMPLES = 300  # points a straight line is sampled at to find the zones it passes through
ZONE_SAMPLE_M = 100.0  # metres between two of them (farther apart on a line over 30 km)
EARTH_RADIUS_M = 6_371_000.0


class PassengerCategory(StrEnum):
    """Who travels, as tariffs tell passengers apart."""

    ADULT = "adult"  # always the full fare
    CHILD = "child"
    SENIOR = "senior"
    WHEELCHAIR = "wheelchair"  # a wheelchair user (takes a wheelchair space)
    COMPANION = "companion"  # a companion of a passenger who needs one (e.g. of a wheelchair user)


Place = tuple[float, float]  # (lat, lon)


@dataclass(frozen=True)
class DistanceScheme:
    """Base price plus a price per km of the direct road distance, at least ``minimum``, at most ``cap``
    (None: no cap); minor units."""

    base: int
    per_km: int
    minimum: int = 0
    cap: int | None = None


@dataclass(frozen=True)
class Zone:
    """A fare zone: a name and a polygon ring of (lon, lat) corners (GeoJSON order; closed or not)."""

    name: str
    ring: tuple[tuple[float, float], ...]
    box: tuple[float, float, float, float] = field(init=False, repr=False)  # west, south, east, north

    def __post_init__(self) -> None:
        lons, lats = [x for x, _ in self.ring], [y for _, y in self.ring]
        object.__setattr__(self, "box", (min(lons), min(lats), max(lons), max(lats)))

    def contains(self, place: Place) -> bool:
        """Whether ``place`` lies inside the zone (even-odd rule; the bounding box first)."""
        lat, lon = place
        west, south, east, north = self.box
        return west <= lon <= east and south <= lat <= north and _inside(self.ring, lon, lat)


@dataclass(frozen=True)
class ZoneScheme:
    """Zones and their prices (minor units): ``matrix`` from the pickup's zone to the drop-off's zone, or,
    without a matrix, ``by_count``: the price when the trip touches 1, 2, … zones (the last entry for
    more). A trip with an end outside every zone has no fare under this scheme."""

    zones: tuple[Zone, ...]
    matrix: Mapping[tuple[str, str], int] | None = None
    by_count: tuple[int, ...] = ()


@dataclass(frozen=True)
class Tariff:
    """A scheme for the full fare, the concessions (percent off, 0–100, by category; adults pay the full
    fare) and the rounding step (minor units, at least 1)."""

    scheme: DistanceScheme | ZoneScheme
    concessions: Mapping[PassengerCategory, int] = field(default_factory=dict)
    step: int = 1


@dataclass(frozen=True)
class Trip:
    """What a fare depends on: the direct road metres and the places of pickup and drop-off."""

    metres: int
    pickup: Place
    dropoff: Place


@dataclass(frozen=True)
class FareLine:
    """The passengers of one category: how many, what one pays, what they pay together."""

    category: PassengerCategory
    count: int
    unit: int
    total: int


@dataclass(frozen=True)
class Fare:
    """What a trip costs: one line per category travelling (in :class:`PassengerCategory` order), and the
    total; minor units."""

    lines: tuple[FareLine, ...]
    total: int


def round_to_step(numerator: int, denominator: int, step: int) -> int:
    """``numerator / denominator`` (both ≥ 0, denominator > 0) rounded half up to a multiple of ``step``,
    in exact integer arithmetic."""
    unit = step * denominator
    return (2 * numerator + unit) // (2 * unit) * step


def full_fare(tariff: Tariff, trip: Trip) -> int | None:
    """The full (adult) fare of ``trip``, rounded; None when the tariff cannot price it (an end outside
    every zone)."""
    scheme = tariff.scheme
    if isinstance(scheme, DistanceScheme):
        price = round_to_step(scheme.base * 1000 + scheme.per_km * max(trip.metres, 0), 1000, tariff.step)
        price = max(price, scheme.minimum)
        return price if scheme.cap is None else min(price, scheme.cap)
    start, end = zone_of(scheme.zones, trip.pickup), zone_of(scheme.zones, trip.dropoff)
    if start is None or end is None:
        return None
    if scheme.matrix is not None:
        return scheme.matrix.get((start, end))
    if not scheme.by_count:
        return None
    count = len(zones_touched(scheme.zones, trip.pickup, trip.dropoff))
    return scheme.by_count[min(count, len(scheme.by_count)) - 1]


def concession_price(full: int, percent_off: int, step: int) -> int:
    """What one passenger with ``percent_off`` (0–100) pays of the ``full`` fare, rounded to ``step``."""
    return round_to_step(full * (100 - percent_off), 100, step)


def fare(tariff: Tariff, trip: Trip, passengers: Mapping[PassengerCategory, int]) -> Fare | None:
    """The fare of ``trip`` for ``passengers`` (count by category; categories with none are left out);
    None when the tariff cannot price the trip."""
    full = full_fare(tariff, trip)
    if full is None:
        return None
    lines = []
    for category in PassengerCategory:
        count = passengers.get(category, 0)
        if count <= 0:
            continue
        off = 0 if category is PassengerCategory.ADULT else tariff.concessions.get(category, 0)
        unit = concession_price(full, off, tariff.step)
        lines.append(FareLine(category, count, unit, unit * count))
    return Fare(tuple(lines), sum(line.total for line in lines))


def zone_of(zones: tuple[Zone, ...], place: Place) -> str | None:
    """The name of the first zone containing ``place``; None outside every zone."""
    return next((zone.name for zone in zones if zone.contains(place)), None)


def zones_touched(zones: tuple[Zone, ...], start: Place, end: Place) -> list[str]:
    """The zones the straight line from ``start`` to ``end`` passes through, in the order it enters them
    (sampled every :data:`ZONE_SAMPLE_M` metres; gaps between zones count for nothing)."""
    samples = min(MAX_ZONE_SAMPLES, max(2, math.ceil(_metres(start, end) / ZONE_SAMPLE_M) + 1))
    touched: list[str] = []
    for k in range(samples):
        share = k / (samples - 1)
        place = (start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share)
        name = zone_of(zones, place)
        if name is not None and name not in touched:
            touched.append(name)
    return touched


def _inside(ring: tuple[tuple[float, float], ...], x: float, y: float) -> bool:
    """Whether (x, y) lies inside the polygon ``ring`` (even-odd rule)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _metres(a: Place, b: Place) -> float:
    """The great-circle distance between two places (equirectangular; metres)."""
    lat = math.radians((a[0] + b[0]) / 2)
    dx = math.radians(b[1] - a[1]) * math.cos(lat)
    dy = math.radians(b[0] - a[0])
    return EARTH_RADIUS_M * math.hypot(dx, dy)
