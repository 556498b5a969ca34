"""Users, their API keys, and the cache of authenticated callers.

People sign in with an e-mail code and get sessions (:mod:`api.accounts`). API keys remain for machine
clients and drivers' tablets: a key is sent as a bearer token (``Authorization: Bearer <key>``), may have
an expiry, and can be rotated (:func:`rotate_key`: the old one stops at once) or revoked
(:func:`revoke_key`). Keys are high-entropy random strings (:func:`secrets.token_urlsafe`, 32 bytes);
only their SHA-256 hex digest is stored, so a key is shown once, when it is made, and cannot be recovered
from the database. A hash look-up needs no constant-time comparison (the attacker does not control the
compared digest's prefix). Keys are never logged; the demo users' keys (``RUFBUS_DEMO_USERS``, ``rufbus
serve --demo-users``) are printed once to the console, on that explicit request only.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, inspect, update
from sqlmodel import Session, col, select

from api.db.models import User, UserRole, Vehicle, utc_now

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEY = "key"  # the scope of a caller who sent an API key (a session's caller has the session id)
EVERYTHING = "*"  # every scope of a user: all sessions and the key
DEMO_USERS: tuple[tuple[str, UserRole], ...] = (
    ("Demo rider", UserRole.RIDER), ("Demo driver", UserRole.DRIVER), ("Demo operator", UserRole.OPERATOR))


class InvalidUser(ValueError):
    """A user that cannot be created as asked (e.g. a driver without a bus, an unknown bus)."""


def hash_key(key: str) -> str:
    """The stored form of an API key: its SHA-256 digest in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh API key."""
    return secrets.token_urlsafe(KEY_BYTES)


def create_user(session: Session, *, name: str, role: UserRole | str, vehicle_id: str | None = None,
                email: str | None = None, key_expires_at: datetime | None = None) -> tuple[User, str]:
    """Create and commit a user with an API key (valid until ``key_expires_at``, if given); returns it and
    the key (the only time the key is available). See :func:`create_account` for the rules."""
    user = create_account(session, name=name, role=role, vehicle_id=vehicle_id, email=email)
    return user, rotate_key(session, user, expires_at=key_expires_at)


def create_account(session: Session, *, name: str, role: UserRole | str, vehicle_id: str | None = None,
                   email: str | None = None) -> User:
    """Create and commit a user who signs in with ``email`` (and a code), without an API key.

    Drivers must name the bus they drive (an existing vehicle); riders and operators have none. An
    address belongs to one user at most.
    """
    role = UserRole(role)
    if role is UserRole.DRIVER and vehicle_id is None:
        raise InvalidUser("a driver needs the vehicle they drive")
    if role is not UserRole.DRIVER and vehicle_id is not None:
        raise InvalidUser(f"only drivers are bound to a vehicle, not a {role.value}")
    if vehicle_id is not None and session.get(Vehicle, vehicle_id) is None:
        raise InvalidUser(f"no vehicle {vehicle_id!r}")
    user = User(name=name, role=role, vehicle_id=vehicle_id)
    if email is not None:
        set_email(session, user, email)
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("created %s user %d", role.value, user.id)
    return user


def set_email(session: Session, user: User, email: str) -> None:
    """Give ``user`` the address ``email`` (normalised) to sign in with; not committed. An invalid
    address, or one another user has, is an :class:`InvalidUser`."""
    from api.accounts.otp import normal_email, valid_email

    email = normal_email(email)
    if not valid_email(email):
        raise InvalidUser("not an e-mail address")
    other = session.exec(select(User).where(col(User.email) == email)).first()
    if other is not None and other.id != user.id:
        raise InvalidUser("another user has this e-mail address")
    user.email = email


def rotate_key(session: Session, user: User, *, expires_at: datetime | None = None) -> str:
    """Give ``user`` a new API key (valid until ``expires_at``, if given), committed: the old key stops
    working at once. Returns the new key, shown only now. Announce the rotation to the open streams
    (:mod:`api.accounts.revocation`)."""
    key = new_key()
    _write_first(session, user, api_key_hash=hash_key(key), api_key_expires_at=expires_at)
    return key


def revoke_key(session: Session, user: User) -> bool:
    """Take ``user``'s API key away (committed); whether they had one."""
    had = user.api_key_hash is not None
    _write_first(session, user, api_key_hash=None, api_key_expires_at=None)
    return had


def _write_first(session: Session, user: User, **values: Any) -> None:
    """Set ``values`` on ``user``'s row in a transaction of its own whose first statement is the write,
    committed, with ``user`` loaded afresh (usable after the session closes). On SQLite a transaction that
    read first is refused its write when another connection wrote in between; one that writes first waits
    for its turn."""
    session.commit()  # end whatever this session read
    state = inspect(user)  # the id without loading the expired user (a read before the write)
    assert state is not None and state.identity is not None, "the user is stored"
    session.execute(update(User).where(col(User.id) == state.identity[0]).values(**values))
    session.refresh(user)
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def create_rider(session: Session, *, name: str, phone: str | None = None) -> User:
    """Create and commit a rider without an API key (a caller an operator books for), ``phone`` kept as
    digits with an optional leading ``+``. The rider can be given a key later; their id stays."""
    user = User(name=name, role=UserRole.RIDER, phone=normal_phone(phone) if phone else None)
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("created rider %d without a key", user.id)
    return user


def normal_phone(phone: str) -> str:
    """A phone number as stored and searched: its digits, with the leading ``+`` if it has one."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if phone.strip().startswith("+") else digits


def authenticate(session: Session, key: str | None, *, now: datetime | None = None) -> User | None:
    """The active user holding ``key``, unexpired at ``now`` (default: the current time), or ``None``."""
    if not key:
        return None
    user = session.exec(select(User).where(User.api_key_hash == hash_key(key))).first()
    if user is None or not user.active:
        return None
    expires = user.api_key_expires_at
    return user if expires is None or expires > (now or utc_now()) else None


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the user, and ``scope`` — the session id they signed in with, or :data:`KEY`."""

    user: User
    scope: str


class KeyCache:
    """Callers recently authenticated, by the digest of their key or access token, for ``ttl_s``
    seconds: most requests then need no database read to know their caller. A credential that fails is
    never kept (it is looked up every time); a user deactivated in the database loses access within
    ``ttl_s``, and a revoked session or key at once in every worker (:meth:`forget`, called by
    :mod:`api.accounts.revocation`). At most ``capacity`` credentials are kept; the least recently used
    goes first. Safe across threads."""

    def __init__(self, ttl_s: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.ttl_s, self.capacity = ttl_s, capacity
        self._callers: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: str) -> User | None:
        """The user authenticated with ``key`` less than ``ttl_s`` ago, or None."""
        caller = self.caller(key)
        return caller.user if caller else None

    def caller(self, key: str) -> Caller | None:
        """The caller authenticated with ``key`` less than ``ttl_s`` ago, or None."""
        digest = hash_key(key)
        with self._lock:
            found = self._callers.get(digest)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._callers[digest]
                return None
            self._callers.move_to_end(digest)
            return found[1]

    def put(self, key: str, user: User, scope: str = KEY, *, valid_s: float | None = None) -> None:
        """Keep ``user`` (detached from its session) as the holder of ``key`` in ``scope`` (a session id,
        or :data:`KEY`) for ``ttl_s``, or less when the credential itself expires in ``valid_s``."""
        keep_s = self.ttl_s if valid_s is None else min(self.ttl_s, valid_s)
        if keep_s <= 0:
            return
        digest = hash_key(key)
        with self._lock:
            self._callers[digest] = (self._clock() + keep_s, Caller(user, scope))
            self._callers.move_to_end(digest)
            while len(self._callers) > self.capacity:
                self._callers.popitem(last=False)

    def forget(self, user_id: int, scope: str) -> None:
        """Drop the credentials of ``user_id`` in ``scope`` (a session id, :data:`KEY`, or
        :data:`EVERYTHING`)."""
        with self._lock:
            gone = [digest for digest, (_, caller) in self._callers.items()
                    if caller.user.id == user_id and scope in (caller.scope, EVERYTHING)]
            for digest in gone:
                del self._callers[digest]


def seed_demo_users(session: Session) -> list[tuple[User, str]]:
    """With an empty users table: one demo user per role (the driver bound to the first active bus)
    and their keys; otherwise nothing."""
    if session.exec(select(func.count()).select_from(User)).one() > 0:
        return []
    bus = session.exec(select(Vehicle).where(col(Vehicle.active)).order_by(col(Vehicle.id))).first()
    made = []
    for name, role in DEMO_USERS:
        if role is UserRole.DRIVER and bus is None:
            continue
        made.append(create_user(session, name=name, role=role,
                                vehicle_id=bus.id if role is UserRole.DRIVER and bus else None))
    return made


def print_demo_users(engine: Engine) -> None:
    """Seed the demo users (one per role) into an empty users table and print their keys to the console
    once (never to the log). Call only when demo users were asked for."""
    with Session(engine) as session:
        for user, key in seed_demo_users(session):
            bus = f", drives {user.vehicle_id}" if user.vehicle_id else ""
            print(f"demo {user.role.value} {user.name!r} (id {user.id}{bus}): API key {key}", flush=True)
