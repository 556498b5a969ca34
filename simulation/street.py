"""The street: how actual driving differs from the plan.

A :class:`Street` says how much. Every leg a bus drives (from where it stands to its next stop) takes its
planned time × a lognormal factor (``sigma``, mean 1: noise alone neither speeds up nor slows down the day)
× the hour-of-day traffic multiplier of the hour it sets off in (``traffic``; :data:`PEAK_TRAFFIC` is a
weekday with morning and evening peaks). Every stop's dwell is the rules' dwell × its own lognormal factor
(``dwell_sigma``, mean 1). A :class:`Breakdown` stops a bus for good. The default street is calm — no
noise, no traffic, no breakdowns — and its buses drive exactly the plan.

:class:`Disturbances` draws the factors from the seed: one stream per bus for its legs and one for its
dwells, each a sequence of standard normal draws scaled by σ. So a seed repeats exactly, and two streets
that differ only in σ see the same draws, scaled (common random numbers: noise levels compare like with
like).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dispatch.model import DAY_S

HOUR = 3600

# A weekday's traffic: slower in the morning (7–9 h) and evening (16–19 h) peaks, a little at midday.
PEAK_TRAFFIC: tuple[float, ...] = (
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.05, 1.2, 1.15, 1.05, 1.0, 1.0,
    1.05, 1.05, 1.0, 1.05, 1.15, 1.2, 1.1, 1.05, 1.0, 1.0, 1.0, 1.0,
)


@dataclass(frozen=True)
class Breakdown:
    """A bus stops for good at ``at`` (simulation time, dispatch seconds). ``vehicle_id``: which bus; None:
    the bus with the most riders on board or waiting for it at that moment (the first by id on a tie)."""

    at: int
    vehicle_id: str | None = None


@dataclass(frozen=True)
class Street:
    """How actual driving differs from the plan (see the module docstring); all off by default.

    ``sigma``/``dwell_sigma``: σ of the lognormal factor on each leg's travel time / each stop's dwell
    (0: as planned). ``traffic``: 24 multipliers of travel time, one per hour of the day (empty: none).
    ``breakdowns``: the buses that stop for good, and when."""

    sigma: float = 0.0
    traffic: tuple[float, ...] = ()
    dwell_sigma: float = 0.0
    breakdowns: tuple[Breakdown, ...] = ()

    def __post_init__(self) -> None:
        if self.sigma < 0 or self.dwell_sigma < 0:
            raise ValueError("sigma and dwell_sigma must not be negative")
        if self.traffic and (len(self.traffic) != 24 or min(self.traffic) <= 0):
            raise ValueError("traffic needs 24 positive multipliers, one per hour of the day")

    def traffic_factor(self, at: int) -> float:
        """The traffic multiplier of travel times at ``at`` (its hour of the day)."""
        return self.traffic[(at % DAY_S) // HOUR] if self.traffic else 1.0


class Disturbances:
    """The street's draws for one simulated day: per bus, each leg's travel-time factor and each dwell."""

    def __init__(self, street: Street, seed: int, vehicle_ids: Sequence[str]) -> None:
        self.street = street
        ordered = sorted(vehicle_ids)
        self._legs = {v: np.random.default_rng([seed, 1, k]) for k, v in enumerate(ordered)}
        self._dwells = {v: np.random.default_rng([seed, 2, k]) for k, v in enumerate(ordered)}

    def leg_factor(self, vehicle_id: str, depart: int) -> float:
        """The factor by which the next leg of ``vehicle_id``, setting off at ``depart``, takes longer than
        planned (noise × traffic)."""
        return _lognormal(self._legs[vehicle_id], self.street.sigma) * self.street.traffic_factor(depart)

    def dwell_s(self, vehicle_id: str, planned_s: int) -> int:
        """How long the next stop of ``vehicle_id`` whose planned dwell is ``planned_s`` actually takes."""
        return round(planned_s * _lognormal(self._dwells[vehicle_id], self.street.dwell_sigma))


def _lognormal(rng: np.random.Generator, sigma: float) -> float:
    """A lognormal factor with mean 1 and σ ``sigma`` (exactly 1.0 for σ 0); always one draw from ``rng``."""
    return math.exp(sigma * float(rng.standard_normal()) - sigma * sigma / 2)
