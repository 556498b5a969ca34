"""Rate limits for riders' quotes and bookings, per account and per address (the ``limits`` library's
moving window).

Each :class:`Action` has limits per account (the rider's user id) and per address (the client's IP as the
server sees it: uvicorn takes it from ``X-Forwarded-For`` only when the peer is one of its trusted proxies,
``--forwarded-allow-ips``). A request over any of them is refused with :class:`~api.errors.TooManyRequests`
(429 ``rate_limited`` with ``Retry-After``) before it waits for the dispatch lock or writes anything.
Refused requests are not counted: a client that keeps hammering gets through as often as the limits allow.

With ``REDIS_URL`` the counts live in Redis, so every worker counts the same requests; otherwise in the
process's memory. If Redis cannot be reached the request is let through (logged): fair use must not take
the service down with it.

Operators are not limited here: they act for callers who phone in, and the callers' caps on what they may
hold apply to those bookings (:mod:`api.services.fair_use`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from api.errors import TooManyRequests
from api.live.store import key_prefix

log = logging.getLogger(__name__)


class Action(StrEnum):
    """What a limited request does."""

    QUOTE = "quote"
    BOOKING = "booking"
    SIGN_IN_CODE = "sign_in_code"  # a code mailed (sign-in or sign-up); the account is the address's digest
    SIGN_IN = "sign_in"  # a code tried (POST /v1/auth/verify)


@dataclass(frozen=True)
class ActionLimits:
    """The limits of one action: per account and per address, each e.g. ``"2/second;30/minute"``
    (the ``limits`` notation; empty: none)."""

    per_account: str
    per_address: str

    def parsed(self) -> tuple[list[RateLimitItem], list[RateLimitItem]]:
        """The limits as ``limits`` items; a ``ValueError`` names what cannot be read."""
        return _parse(self.per_account), _parse(self.per_address)


def _parse(notation: str) -> list[RateLimitItem]:
    try:
        return parse_many(notation) if notation.strip() else []
    except ValueError as error:
        raise ValueError(f"not a rate limit like '2/second;30/minute': {notation!r}") from error


class RateLimits:
    """The limits of every action and the counts behind them (Redis or memory)."""

    def __init__(self, limits: dict[Action, ActionLimits], storage: Storage) -> None:
        self._limits = {action: rule.parsed() for action, rule in limits.items()}
        self._window = MovingWindowRateLimiter(storage)

    @classmethod
    def create(cls, limits: dict[Action, ActionLimits], *, redis_url: str | None, area: str) -> RateLimits:
        """Counts in Redis at ``redis_url`` (under the area's key prefix), or in memory without one."""
        if redis_url:
            storage: Storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                                            key_prefix=key_prefix(area) + "limits", wrap_exceptions=True)
        else:
            storage = MemoryStorage()
        return cls(limits, storage)

    async def check(self, action: Action, *, account: int | str, address: str | None) -> None:
        """Count one ``action`` of ``account`` (a user id, or a digest naming an e-mail address) from
        ``address``; :class:`TooManyRequests` if that is over a
        limit (the request is then not counted). Account limits are checked first: one abusive account
        does not use up the limits of the address it shares with others."""
        per_account, per_address = self._limits.get(action, ([], []))
        checks: list[tuple[str, Sequence[RateLimitItem], str]] = [("account", per_account, str(account))]
        if address:
            checks.append(("address", per_address, address))
        try:
            for scope, items, identity in checks:
                for item in items:
                    if not await self._window.hit(item, action.value, scope, identity):
                        raise TooManyRequests(f"too many {action.value} requests from this {scope}: at most "
                                              f"{item}; try again later",
                                              await self._retry_after(item, action.value, scope, identity))
        except StorageError as error:
            log.warning("rate limits not checked, their storage is unavailable: %s", error)

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        """Whole seconds until ``item`` lets one more request through (at least 1)."""
        stats = await self._window.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
