"""The shared demand CSV (``../shared/demand/README.md``, documented in ``docs/simulation.md``).

One request a row, header first, rows in order of ``submitted_at``: ``request_id, submitted_at,
origin_lat, origin_lon, destination_lat, destination_lon, time_type, time, seats, wheelchair``. Times are
local ISO 8601 date-times without offset; extra columns are ignored.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from dispatch.model import TimeType

COLUMNS = ("request_id", "submitted_at", "origin_lat", "origin_lon", "destination_lat", "destination_lon",
           "time_type", "time", "seats", "wheelchair")


@dataclass(frozen=True)
class Trip:
    """One row of a demand file: a rider's request in coordinates and local date-times."""

    request_id: str
    submitted_at: datetime
    origin: tuple[float, float]  # (lat, lon)
    destination: tuple[float, float]
    time_type: TimeType
    time: datetime
    seats: int = 1
    wheelchairs: int = 0

    def __post_init__(self) -> None:
        if self.seats < 0 or self.wheelchairs < 0 or self.seats + self.wheelchairs < 1:
            raise ValueError("a trip needs at least one seat or wheelchair space, none negative")
        if self.submitted_at > self.time:
            raise ValueError("a trip cannot be submitted after its time")


class DemandFileError(ValueError):
    """A demand file that does not follow the format; the message names the line."""


def service_date(trips: list[Trip]) -> date:
    """The day most trips are for (pre-bookings are submitted the day before)."""
    if not trips:
        raise DemandFileError("the demand holds no trips")
    return Counter(trip.time.date() for trip in trips).most_common(1)[0][0]


def write_demand(path: Path, trips: list[Trip]) -> None:
    """Write ``trips`` in submission order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for trip in sorted(trips, key=lambda t: (t.submitted_at, t.request_id)):
            writer.writerow([trip.request_id, trip.submitted_at.isoformat(timespec="seconds"),
                             f"{trip.origin[0]:.6f}", f"{trip.origin[1]:.6f}",
                             f"{trip.destination[0]:.6f}", f"{trip.destination[1]:.6f}",
                             trip.time_type.value, trip.time.isoformat(timespec="seconds"),
                             trip.seats, trip.wheelchairs])


def read_demand(path: Path) -> list[Trip]:
    """Read a demand file; raises :class:`DemandFileError` naming the first bad line."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DemandFileError(f"{path}: missing columns {', '.join(missing)}")
        trips = []
        for line, row in enumerate(reader, start=2):
            try:
                trips.append(Trip(row["request_id"], _local(row["submitted_at"]),
                                  (float(row["origin_lat"]), float(row["origin_lon"])),
                                  (float(row["destination_lat"]), float(row["destination_lon"])),
                                  TimeType(row["time_type"]), _local(row["time"]),
                                  int(row["seats"]), int(row["wheelchair"])))
            except (ValueError, TypeError) as error:
                raise DemandFileError(f"{path}, line {line}: {error}") from error
    if len({t.request_id for t in trips}) != len(trips):
        raise DemandFileError(f"{path}: request_id values are not unique")
    return trips


def _local(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        raise ValueError(f"{text!r}: local date-times carry no offset")
    return moment
