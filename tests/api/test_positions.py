"""api.positions: which reported bus positions the plan uses (clock skew, age, order)."""

from __future__ import annotations

import pytest

from api.positions import Ignored, PositionInFuture, PositionLimits, PositionLog

NOW = 10_000


def test_a_position_beyond_the_skew_is_refused_naming_how_far_ahead() -> None:
    """With a 30 s skew, a position 31 s ahead is refused and one 30 s ahead passes."""
    log = PositionLog(PositionLimits(skew_s=30, max_age_s=120))
    with pytest.raises(PositionInFuture, match="31 s in the future"):
        log.check_not_ahead(NOW + 31, NOW)
    log.check_not_ahead(NOW + 30, NOW)


def test_a_position_ahead_within_the_skew_counts_as_taken_now() -> None:
    """A tablet 20 s ahead: its position is planned at now, never later."""
    assert PositionLog().judge("bus-1", NOW + 20, NOW) == NOW


def test_a_position_older_than_the_age_limit_is_stale() -> None:
    """With a 120 s age limit, a position 121 s old is stale and one 120 s old is used at its time."""
    log = PositionLog(PositionLimits(skew_s=30, max_age_s=120))
    assert log.judge("bus-1", NOW - 121, NOW) is Ignored.STALE
    assert log.judge("bus-1", NOW - 120, NOW) == NOW - 120


def test_a_position_older_than_the_last_one_used_is_out_of_order_for_that_bus_only() -> None:
    """After bus-1's position of now − 10 s was used, one of now − 20 s is out of order for bus-1 (not
    for bus-2), and one of the same time is used again."""
    log = PositionLog()
    log.used("bus-1", NOW - 10)
    assert log.judge("bus-1", NOW - 20, NOW) is Ignored.OUT_OF_ORDER
    assert log.judge("bus-2", NOW - 20, NOW) == NOW - 20
    assert log.judge("bus-1", NOW - 10, NOW) == NOW - 10


def test_a_reset_replaces_what_was_remembered() -> None:
    """A worker taking over starts from the positions it resumed: earlier memories are gone."""
    log = PositionLog()
    log.used("bus-1", NOW)
    log.reset({"bus-2": NOW})
    assert log.judge("bus-1", NOW - 5, NOW) == NOW - 5
    assert log.judge("bus-2", NOW - 5, NOW) is Ignored.OUT_OF_ORDER
