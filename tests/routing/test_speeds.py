"""The rural speed table and its fingerprint in the cache key."""

from __future__ import annotations

from routing.speeds import FALLBACK_KMH, RURAL_SPEEDS_KMH, speeds_fingerprint


def test_fingerprint_changes_with_any_speed_and_not_with_key_order() -> None:
    """One changed speed gives a new fingerprint; the same table in another order gives the same."""
    reordered = dict(reversed(list(RURAL_SPEEDS_KMH.items())))
    assert speeds_fingerprint(reordered) == speeds_fingerprint(RURAL_SPEEDS_KMH)
    assert speeds_fingerprint({**RURAL_SPEEDS_KMH, "tertiary": 61.0}) != speeds_fingerprint(RURAL_SPEEDS_KMH)
    assert speeds_fingerprint(RURAL_SPEEDS_KMH, FALLBACK_KMH + 1) != speeds_fingerprint(RURAL_SPEEDS_KMH)


def test_faster_road_classes_are_not_slower_than_minor_ones() -> None:
    """The defaults rank motorway > trunk > primary > secondary > tertiary > unclassified > residential."""
    order = ["motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential"]
    order.append("living_street")
    speeds = [RURAL_SPEEDS_KMH[k] for k in order]
    assert speeds == sorted(speeds, reverse=True)
