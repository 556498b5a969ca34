"""FastAPI dependencies as ``Annotated`` aliases: the session, the in-process dispatcher, the caller
(:data:`CurrentCaller`/:data:`CurrentUser` over HTTP, :data:`StreamCaller` over WebSocket: one look-up of
access tokens and API keys, one key cache; tickets for streams), role
guards (:func:`require_role`) and riders' rate limits (:func:`rate_limited`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import HTTPConnection

from api.accounts.sessions import holder_of_access_token, redeem_ticket, session_alive
from api.accounts.tokens import ACCESS
from api.auth import KEY, Caller, KeyCache, authenticate
from api.db.models import User, UserRole
from api.db.session import SessionDep
from api.errors import Forbidden, Unauthenticated
from api.rate_limits import Action, RateLimits
from api.services.live_plan import LiveDispatch
from api.settings import Settings
from api.stops import StopDirectory
from routing.walking import WalkNetwork

# auto_error=False: a missing or non-Bearer header reaches get_caller as None, so that every
# authentication failure is the same 401 answer (code ``unauthenticated``, ``WWW-Authenticate: Bearer``).
bearer_scheme = HTTPBearer(auto_error=False,
                           description="an access token (POST /v1/auth/verify) or an API key "
                                       "(`rufbus key rotate`)")


# The light dependencies are ``async``: FastAPI runs them on the event loop instead of handing each to a
# worker thread, which under load costs more than the work itself.

async def get_live_dispatch(request: Request) -> LiveDispatch:
    """The in-process dispatcher the app built at start (``app.state.dispatch``)."""
    return request.app.state.dispatch


async def get_caller(request: Request,
                     credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
                     ) -> Caller:
    """The caller whose access token or API key is the bearer token; 401 ``unauthenticated`` otherwise."""
    if credentials is None:
        raise Unauthenticated()
    caller = await caller_of(request, credentials.credentials)
    if caller is None:
        raise Unauthenticated("the access token or API key is unknown, expired or revoked, or its user "
                              "inactive")
    return caller


async def get_current_user(caller: Annotated[Caller, Depends(get_caller)]) -> User:
    """The active user who sent the request (:func:`get_caller`)."""
    return caller.user


async def get_stream_caller(websocket: WebSocket) -> Caller | None:
    """The caller of a WebSocket connection: a single-use ticket in ``?ticket=`` (browsers: POST
    /v1/auth/ws-ticket first) or ``Authorization: Bearer`` with an access token or API key (other
    clients). Never a key or token in the URL. ``None`` without valid credentials (the stream then
    closes with its own code, after accepting)."""
    ticket = websocket.query_params.get("ticket")
    if ticket:
        state = websocket.app.state
        return await asyncio.to_thread(_redeem, state.engine, ticket, state.auth_clock())
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" and credentials else None
    return await caller_of(websocket, key)


async def caller_of(connection: HTTPConnection, key: str | None) -> Caller | None:
    """The caller holding ``key`` (an access token or an API key), or ``None``. Callers are kept a few
    seconds in the app's :class:`~api.auth.KeyCache` (``app.state.keys``); a credential not kept there is
    looked up in the database on a worker thread, never on the event loop."""
    if not key:
        return None
    keys: KeyCache = connection.app.state.keys
    caller = keys.caller(key)
    if caller is None:
        now = connection.app.state.auth_clock()
        found = await asyncio.to_thread(_look_up, connection.app.state.engine, key, now)
        if found is not None:
            caller, expires = found
            keys.put(key, caller.user, caller.scope,
                     valid_s=(expires - now).total_seconds() if expires is not None else None)
    return caller


def _look_up(engine: Engine, key: str, now: datetime) -> tuple[Caller, datetime | None] | None:
    """The caller holding ``key`` and when the credential expires (None: an API key without expiry)."""
    with Session(engine, expire_on_commit=False) as session:
        found: tuple[Caller, datetime | None] | None = None
        if key.startswith(ACCESS):
            holder = holder_of_access_token(session, key, now=now)
            if holder is not None:
                found = Caller(holder[0], holder[1]), holder[2]
        else:
            user = authenticate(session, key, now=now)
            if user is not None:
                found = Caller(user, KEY), user.api_key_expires_at
        session.commit()  # end the read: on SQLite an open read would hold up writers
        return found


def _redeem(engine: Engine, ticket: str, now: datetime) -> Caller | None:
    with Session(engine, expire_on_commit=False) as session:
        redeemed = redeem_ticket(session, ticket, now=now)
        if redeemed is None:
            return None
        user_id, session_id = redeemed
        user = session.get(User, user_id)
        alive = user is not None and user.active and (
            session_id is None or session_alive(session, session_id, now=now))
        session.commit()
        return Caller(user, session_id or KEY) if alive and user is not None else None


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with (``app.state.settings``)."""
    return request.app.state.settings


async def get_stops(request: Request) -> StopDirectory:
    """The named stops the app read at start (``app.state.stops``)."""
    return request.app.state.stops


_walk_loading = threading.Lock()


async def get_walk(request: Request) -> Callable[[], WalkNetwork]:
    """A function giving the walk graph of the app's region: loaded (from its cache, or built) the first
    time it is called and kept in ``app.state.walk``. Call it from a worker thread (a sync handler), never
    on the event loop; a request that needs no walk never loads it."""
    return walk_loader(request.app.state)


def walk_loader(state: Any) -> Callable[[], WalkNetwork]:
    """The walk graph loader of the app whose ``app.state`` is ``state`` (see :func:`get_walk`); also for
    the app's background jobs."""

    def walk() -> WalkNetwork:
        with _walk_loading:
            if getattr(state, "walk", None) is None:
                network = state.network
                state.walk = WalkNetwork.load(network.settings.osm_file, network.settings)
        return state.walk

    return walk


DispatchDep = Annotated[LiveDispatch, Depends(get_live_dispatch)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StopsDep = Annotated[StopDirectory, Depends(get_stops)]
WalkDep = Annotated[Callable[[], WalkNetwork], Depends(get_walk)]
CurrentCaller = Annotated[Caller, Depends(get_caller)]
CurrentUser = Annotated[User, Depends(get_current_user)]
StreamCaller = Annotated[Caller | None, Depends(get_stream_caller)]


def require_role(*roles: UserRole) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only users of ``roles`` through (403 ``forbidden`` for the others)."""
    allowed = frozenset(roles)

    async def guard(user: CurrentUser) -> User:
        if user.role not in allowed:
            names = " or ".join(sorted(role.value for role in allowed))
            raise Forbidden(f"this needs the role {names}; you are a {user.role.value}")
        return user

    return guard


# Riders act for themselves; operators act for callers who phone in.
RiderOrOperator = Annotated[User, Depends(require_role(UserRole.RIDER, UserRole.OPERATOR))]

# A rider's own things (favourite places, companions, recurring trips) are theirs alone.
Rider = Annotated[User, Depends(require_role(UserRole.RIDER))]

# Drivers report what happens on their bus; operators may read any bus's route.
Driver = Annotated[User, Depends(require_role(UserRole.DRIVER))]
DriverOrOperator = Annotated[User, Depends(require_role(UserRole.DRIVER, UserRole.OPERATOR))]
# The fleet, the rules and the figures are the operator's alone.
Operator = Annotated[User, Depends(require_role(UserRole.OPERATOR))]


def rate_limited(action: Action) -> Callable[[Request, User], Awaitable[User]]:
    """A dependency that lets a rider or operator through, counting a rider's ``action`` against the
    app's rate limits (``app.state.rate_limits``, :mod:`api.rate_limits`; 429 ``rate_limited`` over them).
    Operators are not counted: they book for callers, whose caps apply to those bookings."""

    async def guard(request: Request, user: RiderOrOperator) -> User:
        if user.role is not UserRole.OPERATOR:
            limits: RateLimits = request.app.state.rate_limits
            assert user.id is not None, "users come from the database"
            await limits.check(action, account=user.id,
                               address=request.client.host if request.client else None)
        return user

    return guard


# A rider asking for a quote or booking one, within the rate limits (or an operator, not limited).
QuotingUser = Annotated[User, Depends(rate_limited(Action.QUOTE))]
BookingUser = Annotated[User, Depends(rate_limited(Action.BOOKING))]


__all__ = ["BookingUser", "CurrentCaller", "CurrentUser", "DispatchDep", "Driver", "DriverOrOperator",
           "Operator", "QuotingUser", "Rider", "RiderOrOperator", "SessionDep", "SettingsDep", "StopsDep",
           "StreamCaller", "WalkDep", "get_caller", "get_current_user", "get_live_dispatch",
           "get_stream_caller", "get_walk", "rate_limited", "require_role", "walk_loader"]
