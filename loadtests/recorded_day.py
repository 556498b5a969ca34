"""Record a day through the real service: riders ask for every trip of a demand (``Trip`` rows) at the
moment it was submitted, through ``POST /v1/quotes``, and book every offer (``POST /v1/bookings``), so
that the service keeps the bookings and the refused quotes as it does live.

The service's clock must follow the trips: ``set_clock(moment)`` moves it (an app in process on a movable
clock, as the tests and ``bench/twin.py`` make it). Riders take the trips in turn.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

import httpx

from simulation.demand_csv import Trip


@dataclass
class RecordedCounts:
    """What the service answered: offers booked, quotes refused (409, by cause: the service records
    these), quotes it would not take up at all (another 4xx: nothing recorded), and offers whose
    booking failed."""

    booked: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    not_booked: int = 0


def record_day(client: httpx.Client, riders: Sequence[Mapping[str, str]], trips: Sequence[Trip], zone: tzinfo,
               set_clock: Callable[[datetime], None]) -> RecordedCounts:
    """Ask for and book ``trips`` in submission order, each at its submission time (local, in ``zone``),
    as the ``riders`` (their ``Authorization`` headers) in turn."""
    counts = RecordedCounts()
    turn = itertools.cycle(riders)
    for k, trip in enumerate(sorted(trips, key=lambda t: (t.submitted_at, t.request_id))):
        set_clock(trip.submitted_at.replace(tzinfo=zone))
        headers = dict(next(turn))
        body = {"origin": {"lat": trip.origin[0], "lon": trip.origin[1]},
                "destination": {"lat": trip.destination[0], "lon": trip.destination[1]},
                "time_type": trip.time_type.value, "time": trip.time.replace(tzinfo=zone).isoformat(),
                "seats": trip.seats, "wheelchairs": trip.wheelchairs}
        quote = client.post("/v1/quotes", json=body, headers=headers)
        if quote.status_code == 409:
            counts.refused[quote.json()["code"]] += 1
            continue
        if quote.status_code != 200:
            counts.invalid[quote.json().get("code", str(quote.status_code))] += 1
            continue
        booking = client.post("/v1/bookings", json={"quote_id": quote.json()["quote_id"]},
                              headers=headers | {"Idempotency-Key": f"recorded-{k}"})
        if booking.status_code in (200, 201):
            counts.booked += 1
        else:
            counts.not_booked += 1
    return counts
