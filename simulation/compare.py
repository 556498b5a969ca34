"""Figures that set a day served online beside the same day planned in hindsight (issue 15).

Both sides are measured alike: the trip figures (wait, ride-time factor) come from
:func:`dispatch.kpis.trip_figures`, fed with the simulator's rider records online
(:func:`simulation.kpis.trip_outcome`) or with the planned times in hindsight. Definitions:

* **served**: trips carried to their destination (online: completed; in hindsight: in a route of the
  plan); **passengers served**: their people (seats and wheelchairs).
* **vehicle km**: everything the buses drove, depot to depot (online: the legs driven; in hindsight: the
  routes' driving distance by route evaluation). **Per served passenger**: vehicle km ÷ passengers served.
* **wait** (mean, p95, minutes) and **ride-time factor**: as in :mod:`dispatch.kpis`.
* **offer latency**: wall time of the dispatcher's quote in the simulator, in milliseconds
  (:func:`dispatch.kpis.percentile`), apart for the three answers of
  :class:`~simulation.engine.QuoteOutcome`: immediate offers from plain insertion (p50/p95/p99), offers
  the repair before refusal found (p50/p99), and refusals after the repair tried (p50/p99).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from dispatch.kpis import TripOutcome, percentile, trip_figures
from simulation.engine import QuoteOutcome, SimulationResult
from simulation.kpis import trip_outcome


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True)
class DayFigures:
    """A day's figures for the online/hindsight comparison (see the module docstring)."""

    requests: int
    served: int
    passengers_served: int
    rejected: dict[str, int]
    vehicle_km: float
    vehicle_km_per_served_passenger: float | None
    wait_mean_min: float | None
    wait_p95_min: float | None
    ride_time_factor: float | None

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def day_figures(trips: Sequence[TripOutcome], requests: int, rejected: Mapping[str, int],
                vehicle_m: float) -> DayFigures:
    """The figures of a day of ``requests`` requests: ``trips`` (one per request that got a bus),
    ``rejected`` counts by cause, ``vehicle_m`` metres driven by all buses."""
    figures = trip_figures(trips, 0.0)
    passengers = sum(trip.passengers for trip in trips if trip.completed)
    km = vehicle_m / 1000
    wait = figures.wait_s
    return DayFigures(
        requests=requests, served=figures.served, passengers_served=passengers,
        rejected=dict(sorted(rejected.items())), vehicle_km=round(km, 2),
        vehicle_km_per_served_passenger=round(km / passengers, 3) if passengers else None,
        wait_mean_min=_round(wait.mean / 60) if wait else None,
        wait_p95_min=_round(wait.p95 / 60) if wait else None,
        ride_time_factor=_round(figures.ride_time_factor, 3))


def online_figures(result: SimulationResult) -> DayFigures:
    """The figures of a simulated (online) day."""
    riders = list(result.riders.values())
    rejected = Counter(r.cause for r in riders if r.outcome == "rejected" and r.cause is not None)
    return day_figures([trip_outcome(r) for r in riders], len(riders), rejected,
                       sum(leg.metres for leg in result.legs))


@dataclass(frozen=True)
class OfferLatency:
    """How long the dispatcher took to answer riders in the simulator, in milliseconds (None: no such
    answer)."""

    offers: int  # immediate offers (plain insertion)
    repaired: int  # offers found by the repair before refusal
    refusals: int
    offer_p50_ms: float | None
    offer_p95_ms: float | None
    offer_p99_ms: float | None
    repaired_p50_ms: float | None
    repaired_p99_ms: float | None
    refusal_p50_ms: float | None
    refusal_p99_ms: float | None

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def offer_latency(result: SimulationResult) -> OfferLatency:
    """Latency of the quotes of a simulated day: immediate offers, repaired offers and refusals apart."""
    offers, repaired, refusals = ([1000 * s for s, answer in result.quotes if answer is outcome]
                                  for outcome in QuoteOutcome)

    def at(values: list[float], share: float) -> float | None:
        return round(percentile(values, share), 3) if values else None

    return OfferLatency(len(offers), len(repaired), len(refusals),
                        at(offers, 0.5), at(offers, 0.95), at(offers, 0.99),
                        at(repaired, 0.5), at(repaired, 0.99), at(refusals, 0.5), at(refusals, 0.99))


def ratios(online: DayFigures, hindsight: DayFigures) -> dict[str, float | None]:
    """Online over hindsight: ``served_ratio`` (served) and ``km_per_passenger_ratio`` (vehicle km per
    served passenger); None where hindsight has nothing to divide by."""
    online_km = online.vehicle_km_per_served_passenger
    hindsight_km = hindsight.vehicle_km_per_served_passenger
    return {"served_ratio": round(online.served / hindsight.served, 4) if hindsight.served else None,
            "km_per_passenger_ratio": (round(online_km / hindsight_km, 4)
                                       if online_km is not None and hindsight_km else None)}
