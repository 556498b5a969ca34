"""Which reported bus positions the plan may use: a tablet's timestamp is a claim, not a fact.

A position stamped more than ``skew_s`` in the future is refused (:class:`PositionInFuture`): a tablet
whose clock jumped a day ahead would otherwise make the bus "available" tomorrow and move every planned
pickup there. Within the skew the tablet's clock drift is absorbed: the position counts as taken *now*,
never later, so drift never moves the plan. A position older than the last one used for the same bus
(``out_of_order``: a batch resent after a network loss) or older than ``max_age_s`` (``stale``) is
accepted but ignored: the bus stays where the plan has it.

:class:`PositionLog` remembers, per bus, when the last position used was taken (on the dispatching
worker; a worker that takes over seeds it with the positions it resumes from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Ignored(StrEnum):
    """Why a reported position was accepted but not used."""

    OUT_OF_ORDER = "out_of_order"  # older than the last position used for the bus
    STALE = "stale"  # older than the age limit


class PositionInFuture(ValueError):
    """A position stamped further in the future than the allowed clock skew."""

    def __init__(self, ahead_s: int, skew_s: int) -> None:
        super().__init__(f"the position is stamped {ahead_s} s in the future (more than the {skew_s} s a "
                         "tablet's clock may be off); check the tablet's clock")


@dataclass(frozen=True)
class PositionLimits:
    """How far a position's timestamp may lie in the future (clock skew) and in the past (age)."""

    skew_s: int = 30
    max_age_s: int = 120


@dataclass
class PositionLog:
    """When each bus's last used position was taken, and the limits reports are judged by."""

    limits: PositionLimits = field(default_factory=PositionLimits)
    taken_at: dict[str, int] = field(default_factory=dict)

    def check_not_ahead(self, at: int, now: int) -> None:
        """Raise :class:`PositionInFuture` when ``at`` is more than the skew after ``now``."""
        if at - now > self.limits.skew_s:
            raise PositionInFuture(at - now, self.limits.skew_s)

    def judge(self, vehicle_id: str, at: int, now: int) -> int | Ignored:
        """The time a position of ``vehicle_id`` stamped ``at`` is planned at (``at``, or ``now`` if the
        tablet is ahead within the skew), or why it is ignored. Call :meth:`check_not_ahead` first."""
        taken = min(at, now)
        if now - taken > self.limits.max_age_s:
            return Ignored.STALE
        if taken < self.taken_at.get(vehicle_id, taken):
            return Ignored.OUT_OF_ORDER
        return taken

    def used(self, vehicle_id: str, taken: int) -> None:
        """Remember that the position taken at ``taken`` is where the plan now has ``vehicle_id``."""
        self.taken_at[vehicle_id] = taken

    def reset(self, taken_at: dict[str, int]) -> None:
        """Start again from ``taken_at`` (a worker taking over the dispatch)."""
        self.taken_at = dict(taken_at)
