"""Forgetting open offers: the expired ones, and past a hard bound the oldest.

Open offers are kept in a dict in the order they were made. Every offer is valid for the same time (the
rules' ``offer_validity_s``, until an operator changes it), so the oldest expire first: forgetting from
the front until the oldest is still valid costs O(1) per offer made, however many are open. Rebuilding
the whole dict on every quote once it was full made quote latency grow with the number of open offers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["MAX_OPEN_OFFERS", "forget_expired"]

# At most this many offers are open at once (the oldest, though valid, are forgotten past it): 120 s of
# offers at 40 quotes/s, well above the load test's rate; a rider whose offer was forgotten is told to ask
# again when booking it.
MAX_OPEN_OFFERS = 5000

K = TypeVar("K")
V = TypeVar("V")


def forget_expired(offers: dict[K, V], now: int, valid_until: Callable[[V], int],
                   limit: int = MAX_OPEN_OFFERS) -> None:
    """Make room for one more offer in ``offers``: forget, oldest first, those no longer valid at ``now``
    and, while ``limit`` are open, the oldest valid one. An expired offer made after a valid one stays
    until that one goes (only after the validity was shortened): it can never be booked anyway."""
    while offers:
        oldest = next(iter(offers))
        if len(offers) < limit and valid_until(offers[oldest]) >= now:
            return
        del offers[oldest]
