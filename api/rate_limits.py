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

**At the door.** A refusal also notes, in this process's memory (:class:`RefusedUntil`), until when the
account or address is over its limit: in a moving window no request can get through before its oldest
counted one leaves. Until then :class:`RefuseKnownOverLimit` answers that rider's quotes and bookings 429
as they arrive — before authentication (the caller comes from the key cache), routing and the body — so
an abusive client costs the service next to nothing. A rider it does not know (not in the key cache,
another worker's refusal) takes the ordinary way, where the limiter decides.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.db.models import UserRole
from api.errors import TooManyRequests, error_response
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


class RefusedUntil:
    """Until when (wall-clock seconds) each refused (action, scope, identity) is over its limit, as this
    process's refusals found; at most ``capacity`` entries (the oldest go first)."""

    def __init__(self, capacity: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.capacity, self._clock = capacity, clock
        self._until: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def __len__(self) -> int:
        """How many refusals are noted (some may have run out: they go when next looked up)."""
        return len(self._until)

    def refused(self, action: Action, scope: str, identity: str, until: float) -> None:
        """Note that ``identity`` is over its ``action`` limit in ``scope`` until ``until``."""
        key = (action.value, scope, identity)
        self._until[key] = until
        self._until.move_to_end(key)
        while len(self._until) > self.capacity:
            self._until.popitem(last=False)

    def wait_s(self, action: Action, *, account: str | None, address: str | None) -> float:
        """Seconds until a request of ``account`` from ``address`` could pass ``action``'s limits as far
        as this process knows (0: go ahead)."""
        now, wait = self._clock(), 0.0
        for scope, identity in (("account", account), ("address", address)):
            if identity is not None:
                until = self._until.get((action.value, scope, identity))
                if until is not None:
                    if until <= now:
                        del self._until[(action.value, scope, identity)]
                    else:
                        wait = max(wait, until - now)
        return wait


class RateLimits:
    """The limits of every action and the counts behind them (Redis or memory), and the refusals this
    process knows of (``refused``)."""

    def __init__(self, limits: dict[Action, ActionLimits], storage: Storage) -> None:
        self._limits = {action: rule.parsed() for action, rule in limits.items()}
        self._window = MovingWindowRateLimiter(storage)
        self.refused = RefusedUntil()

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
                        until = (await self._window.get_window_stats(item, action.value, scope,
                                                                     identity)).reset_time
                        self.refused.refused(action, scope, identity, until)
                        raise TooManyRequests(f"too many {action.value} requests from this {scope}: at most "
                                              f"{item}; try again later", retry_after(until - time.time()))
        except StorageError as error:
            log.warning("rate limits not checked, their storage is unavailable: %s", error)


def retry_after(wait_s: float) -> int:
    """A ``Retry-After`` in whole seconds for a wait of ``wait_s`` (at least 1)."""
    return max(1, math.ceil(wait_s))


DOOR: dict[tuple[str, str], Action] = {("POST", "/v1/quotes"): Action.QUOTE,
                                       ("POST", "/v1/bookings"): Action.BOOKING}


class RefuseKnownOverLimit:
    """ASGI middleware: a quote or booking of a rider this process knows to be over a limit
    (``app.state.rate_limits.refused``; the rider from ``app.state.keys``, the key cache) is answered 429
    ``rate_limited`` with ``Retry-After`` at once; every other request passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        action = DOOR.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" \
            else None
        limits = getattr(scope["app"].state, "rate_limits", None) if action is not None else None
        if action is None or limits is None or not limits.refused:  # nobody refused: nothing to look up
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = limits.refused.wait_s(action, account=self._account(scope),
                                     address=client[0] if client else None)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        answer = error_response(429, "rate_limited", f"too many {action.value} requests; try again later",
                                headers={"Retry-After": str(retry_after(wait))})
        await answer(scope, receive, send)

    @staticmethod
    def _account(scope: Scope) -> str | None:
        """The rider's user id if the bearer token is in the key cache (operators: None, not limited)."""
        keys = getattr(scope["app"].state, "keys", None)
        header = dict(scope.get("headers", ())).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if keys is None or scheme.lower() != "bearer" or not token:
            return None
        caller = keys.caller(token.strip())
        if caller is None or caller.user.role is UserRole.OPERATOR:
            return None
        return str(caller.user.id)
