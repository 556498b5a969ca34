"""Fares (dispatch.fares): distance and zone schemes, concessions and rounding, on hand-checkable
tariffs, and the rules every tariff keeps, with hypothesis."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.fares import (
    DistanceScheme,
    PassengerCategory,
    Tariff,
    Trip,
    Zone,
    ZoneScheme,
    concession_price,
    fare,
    full_fare,
    round_to_step,
    zone_of,
    zones_touched,
)

ADULT, CHILD, SENIOR = PassengerCategory.ADULT, PassengerCategory.CHILD, PassengerCategory.SENIOR
WHEELCHAIR, COMPANION = PassengerCategory.WHEELCHAIR, PassengerCategory.COMPANION
HERE = (47.10, 9.50)


def _trip(metres: int, pickup: tuple[float, float] = HERE, dropoff: tuple[float, float] = HERE) -> Trip:
    return Trip(metres, pickup, dropoff)


def _square(name: str, west: float, south: float, east: float, north: float) -> Zone:
    return Zone(name, ((west, south), (east, south), (east, north), (west, north)))


# Two zones side by side along a line of latitude, a third east of a gap.
WEST, EAST, FAR = (_square("west", 9.40, 47.0, 9.50, 47.2), _square("east", 9.50, 47.0, 9.60, 47.2),
                   _square("far", 9.70, 47.0, 9.80, 47.2))


def test_a_distance_fare_is_the_base_plus_the_price_of_each_km_rounded_to_the_step():
    """2.50 + 1.20/km over 7.3 km = 11.26, rounded to 5 Rappen: 11.25; over 7.35 km = 11.32 → 11.30."""
    tariff = Tariff(DistanceScheme(base=250, per_km=120), step=5)
    assert full_fare(tariff, _trip(7300)) == 1125
    assert full_fare(tariff, _trip(7350)) == 1130
    assert full_fare(Tariff(DistanceScheme(base=250, per_km=120)), _trip(7300)) == 1126


def test_a_short_trip_pays_the_minimum_and_a_long_one_the_cap():
    """3.00 minimum and 20.00 cap around 1.00 + 1.00/km."""
    tariff = Tariff(DistanceScheme(base=100, per_km=100, minimum=300, cap=2000))
    assert full_fare(tariff, _trip(500)) == 300
    assert full_fare(tariff, _trip(10_000)) == 1100
    assert full_fare(tariff, _trip(80_000)) == 2000


def test_concessions_take_their_percent_off_and_a_companion_rides_free():
    """Full fare 10.00: two adults 20.00, a child at 50 % 5.00, a senior at 30 % 7.00, a companion free,
    a wheelchair user without a concession the full fare."""
    tariff = Tariff(DistanceScheme(base=1000, per_km=0), {CHILD: 50, SENIOR: 30, COMPANION: 100})
    result = fare(tariff, _trip(1000), {ADULT: 2, CHILD: 1, SENIOR: 1, COMPANION: 1, WHEELCHAIR: 1})
    assert result is not None
    assert [(line.category, line.count, line.unit, line.total) for line in result.lines] == [
        (ADULT, 2, 1000, 2000), (CHILD, 1, 500, 500), (SENIOR, 1, 700, 700), (WHEELCHAIR, 1, 1000, 1000),
        (COMPANION, 1, 0, 0)]
    assert result.total == 4200


def test_an_adult_pays_the_full_fare_whatever_the_concessions_say():
    """A concession keyed to adults is ignored: adults always pay the full fare."""
    tariff = Tariff(DistanceScheme(base=400, per_km=0), {ADULT: 50})
    result = fare(tariff, _trip(0), {ADULT: 1})
    assert result is not None and result.total == 400


def test_the_zone_matrix_prices_from_the_pickups_zone_to_the_dropoffs():
    """West to east costs what the matrix says, and a trip within one zone its own entry."""
    matrix = {("west", "west"): 300, ("west", "east"): 500, ("east", "west"): 550, ("east", "east"): 300}
    tariff = Tariff(ZoneScheme((WEST, EAST), matrix=matrix))
    assert full_fare(tariff, _trip(9999, (47.1, 9.45), (47.1, 9.55))) == 500
    assert full_fare(tariff, _trip(9999, (47.1, 9.55), (47.1, 9.45))) == 550
    assert full_fare(tariff, _trip(9999, (47.1, 9.41), (47.15, 9.49))) == 300


def test_a_trip_with_an_end_outside_every_zone_has_no_fare():
    """Outside the zones the tariff cannot price the trip: None, not zero."""
    tariff = Tariff(ZoneScheme((WEST, EAST), by_count=(300,)))
    assert full_fare(tariff, _trip(0, (47.1, 9.45), (47.1, 9.65))) is None
    assert fare(tariff, _trip(0, (47.5, 9.45), (47.1, 9.45)), {ADULT: 1}) is None


def test_a_price_by_zone_count_counts_every_zone_the_line_passes_through():
    """West → far passes through east (and a gap that counts for nothing): three zones; more zones than
    the list has pay its last entry."""
    zones = (WEST, EAST, FAR)
    assert zones_touched(zones, (47.1, 9.45), (47.1, 9.75)) == ["west", "east", "far"]
    assert zone_of(zones, (47.1, 9.65)) is None
    tariff = Tariff(ZoneScheme(zones, by_count=(300, 450)))
    assert full_fare(tariff, _trip(0, (47.1, 9.45), (47.1, 9.46))) == 300
    assert full_fare(tariff, _trip(0, (47.1, 9.45), (47.1, 9.55))) == 450
    assert full_fare(tariff, _trip(0, (47.1, 9.45), (47.1, 9.75))) == 450


steps = st.sampled_from([1, 5, 10, 50, 100])
prices = st.integers(min_value=0, max_value=1_000_000)


@settings(max_examples=300, deadline=None)
@given(numerator=st.integers(min_value=0, max_value=10**12), denominator=st.integers(min_value=1,
       max_value=10**5), step=steps)
def test_rounding_gives_the_nearest_multiple_of_the_step_and_halves_go_up(numerator, denominator, step):
    """The result is a multiple of the step at most half a step from the exact value, and exactly half a
    step below it only when the exact value lies halfway (rounded up)."""
    exact = Fraction(numerator, denominator)
    result = round_to_step(numerator, denominator, step)
    assert result % step == 0
    assert abs(result - exact) <= Fraction(step, 2)
    if abs(result - exact) == Fraction(step, 2):
        assert result > exact


@settings(max_examples=300, deadline=None)
@given(base=prices, per_km=st.integers(min_value=0, max_value=100_000), step=steps,
       metres=st.lists(st.integers(min_value=0, max_value=500_000), min_size=2, max_size=2),
       minimum=prices, cap=st.one_of(st.none(), prices))
def test_a_longer_trip_never_costs_less_under_a_distance_tariff(base, per_km, step, metres, minimum, cap):
    """Monotone in distance, whatever the base, price per km, step, minimum and cap."""
    tariff = Tariff(DistanceScheme(base, per_km, minimum, cap), step=step)
    shorter, longer = sorted(metres)
    low, high = full_fare(tariff, _trip(shorter)), full_fare(tariff, _trip(longer))
    assert low is not None and high is not None and low <= high


@settings(max_examples=300, deadline=None)
@given(full=st.integers(min_value=0, max_value=100_000), step=steps,
       off=st.integers(min_value=0, max_value=100))
def test_a_concession_never_raises_a_price(full, step, off):
    """Of a full fare on the step, any concession pays at most the full fare, at least nothing, on the
    step; 100 % off is free and 0 % off the full fare."""
    full = full // step * step
    price = concession_price(full, off, step)
    assert 0 <= price <= full and price % step == 0
    assert concession_price(full, 100, step) == 0 and concession_price(full, 0, step) == full


@settings(max_examples=200, deadline=None)
@given(base=prices, per_km=st.integers(min_value=0, max_value=10_000), metres=st.integers(0, 300_000),
       counts=st.dictionaries(st.sampled_from(list(PassengerCategory)), st.integers(0, 20)),
       concessions=st.dictionaries(st.sampled_from(list(PassengerCategory)), st.integers(0, 100)))
def test_the_total_is_the_sum_of_the_lines_and_nobody_pays_more_than_an_adult(base, per_km, metres, counts,
                                                                              concessions):
    """Lines for the categories travelling only; each unit at most the adult fare; total = Σ lines."""
    tariff = Tariff(DistanceScheme(base, per_km), concessions)
    result = fare(tariff, _trip(metres), counts)
    full = full_fare(tariff, _trip(metres))
    assert result is not None and full is not None
    assert {line.category for line in result.lines} == {c for c, n in counts.items() if n > 0}
    assert all(line.unit <= full and line.total == line.unit * line.count for line in result.lines)
    assert result.total == sum(line.total for line in result.lines)
