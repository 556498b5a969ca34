"""The street's disturbances: seeded draws that repeat, scale with σ, follow the hour's traffic and leave
a calm street exactly on plan."""

from __future__ import annotations

import math

import pytest

from dispatch.model import DAY_S
from simulation.street import PEAK_TRAFFIC, Disturbances, Street

BUSES = ["bus00", "bus01"]


def draws(street: Street, seed: int, n: int = 20) -> list[tuple[float, int]]:
    """``n`` leg factors (leaving at 10:00) and dwells (planned 45 s) of bus00."""
    d = Disturbances(street, seed, BUSES)
    return [(d.leg_factor("bus00", DAY_S + 10 * 3600), d.dwell_s("bus00", 45)) for _ in range(n)]


def test_a_seed_repeats_its_draws_and_another_seed_does_not():
    """The same street and seed draw the same factors and dwells; another seed draws others."""
    street = Street(sigma=0.1, dwell_sigma=0.3)
    assert draws(street, 1) == draws(street, 1)
    assert draws(street, 1) != draws(street, 2)


def test_a_calm_street_is_exactly_the_plan():
    """σ 0 and no traffic: every factor is exactly 1 and every dwell the planned one."""
    assert draws(Street(), 3) == [(1.0, 45)] * 20


def test_noise_levels_share_their_draws():
    """Two σ see the same standard normal draws: log factor = σ·z − σ²/2 (mean 1), so the z behind the
    factors at σ 0.1 and 0.2 agree."""
    low = [f for f, _ in draws(Street(sigma=0.1), 4)]
    high = [f for f, _ in draws(Street(sigma=0.2), 4)]
    z_low = [(math.log(f) + 0.1 ** 2 / 2) / 0.1 for f in low]
    z_high = [(math.log(f) + 0.2 ** 2 / 2) / 0.2 for f in high]
    assert z_low == pytest.approx(z_high)
    assert len(set(low)) == len(low)


def test_the_factor_has_mean_one_and_the_dwell_varies_around_the_planned_one():
    """Over many draws the leg factor averages 1 and the dwell the planned 45 s (within 2 %), while
    single dwells differ from it."""
    d = Disturbances(Street(sigma=0.2, dwell_sigma=0.3), 5, BUSES)
    factors = [d.leg_factor("bus01", DAY_S) for _ in range(20_000)]
    dwells = [d.dwell_s("bus01", 45) for _ in range(20_000)]
    assert sum(factors) / len(factors) == pytest.approx(1.0, rel=0.02)
    assert sum(dwells) / len(dwells) == pytest.approx(45, rel=0.02)
    assert len(set(dwells)) > 10


def test_traffic_follows_the_hour_of_the_day():
    """With the peak profile and no noise a leg leaving at 8:15 on any day takes PEAK_TRAFFIC[8] × its
    planned time, one leaving at 3:00 its planned time."""
    d = Disturbances(Street(traffic=PEAK_TRAFFIC), 1, BUSES)
    assert d.leg_factor("bus00", 3 * DAY_S + 8 * 3600 + 900) == PEAK_TRAFFIC[8] > 1
    assert d.leg_factor("bus00", DAY_S + 3 * 3600) == 1.0


@pytest.mark.parametrize("bad", [{"sigma": -0.1}, {"dwell_sigma": -1}, {"traffic": (1.0,) * 23},
                                 {"traffic": (1.0,) * 23 + (0.0,)}])
def test_an_impossible_street_is_refused(bad):
    """Negative σ, a traffic profile without 24 hours or with a multiplier that is not positive."""
    with pytest.raises(ValueError):
        Street(**bad)
