"""Users and their API keys.

A key is sent as a bearer token (``Authorization: Bearer <key>``). Keys are high-entropy random strings
(:func:`secrets.token_urlsafe`, 32 bytes); only their SHA-256 hex digest is stored, so a key is shown
once, when it is made, and cannot be recovered from the database. A hash look-up needs no constant-time
comparison (the attacker does not control the compared digest's prefix). Keys are never logged, with one
deliberate exception: the demo users' keys, when ``RUFBUS_DEMO_USERS`` is on (see :func:`seed_demo_users`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from api.db.models import User, UserRole, Vehicle

log = logging.getLogger(__name__)

KEY_BYTES = 32
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


def create_user(session: Session, *, name: str, role: UserRole | str, vehicle_id: str | None = None
                ) -> tuple[User, str]:
    """Create and commit a user; returns it and its API key (the only time the key is available).

    Drivers must name the bus they drive (an existing vehicle); riders and operators have none.
    """
    role = UserRole(role)
    if role is UserRole.DRIVER and vehicle_id is None:
        raise InvalidUser("a driver needs the vehicle they drive")
    if role is not UserRole.DRIVER and vehicle_id is not None:
        raise InvalidUser(f"only drivers are bound to a vehicle, not a {role.value}")
    if vehicle_id is not None and session.get(Vehicle, vehicle_id) is None:
        raise InvalidUser(f"no vehicle {vehicle_id!r}")
    key = new_key()
    user = User(name=name, role=role, vehicle_id=vehicle_id, api_key_hash=hash_key(key))
    session.add(user)
    session.commit()
    session.refresh(user)
    log.info("created %s user %d", role.value, user.id)
    return user, key


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


def authenticate(session: Session, key: str | None) -> User | None:
    """The active user holding ``key``, or ``None``."""
    if not key:
        return None
    user = session.exec(select(User).where(User.api_key_hash == hash_key(key))).first()
    return user if user is not None and user.active else None


class KeyCache:
    """Users recently authenticated, by key digest, for ``ttl_s`` seconds: most requests then need no
    database read to know their caller. A key that fails is never kept (it is looked up every time), and a
    user deactivated in the database loses access within ``ttl_s``. At most ``capacity`` keys are kept;
    the least recently used goes first. Safe across threads."""

    def __init__(self, ttl_s: float, capacity: int = 10_000) -> None:
        self.ttl_s, self.capacity = ttl_s, capacity
        self._users: OrderedDict[str, tuple[float, User]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> User | None:
        """The user authenticated with ``key`` less than ``ttl_s`` ago, or None."""
        digest = hash_key(key)
        with self._lock:
            found = self._users.get(digest)
            if found is None:
                return None
            if found[0] <= time.monotonic():
                del self._users[digest]
                return None
            self._users.move_to_end(digest)
            return found[1]

    def put(self, key: str, user: User) -> None:
        """Keep ``user`` (detached from its session) as the holder of ``key``."""
        if self.ttl_s <= 0:
            return
        digest = hash_key(key)
        with self._lock:
            self._users[digest] = (time.monotonic() + self.ttl_s, user)
            self._users.move_to_end(digest)
            while len(self._users) > self.capacity:
                self._users.popitem(last=False)


    def forget(self, user_id: int) -> None:
        """Drop every key of user ``user_id`` (their key was revoked: the next request reads the database)."""
        with self._lock:
            for digest in [d for d, (_, user) in self._users.items() if user.id == user_id]:
                del self._users[digest]


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


def log_demo_users(engine: Engine) -> None:
    """Seed the demo users (one per role) into an empty users table and log their keys once."""
    with Session(engine) as session:
        for user, key in seed_demo_users(session):
            bus = f", drives {user.vehicle_id}" if user.vehicle_id else ""
            log.warning("demo %s %r (id %d%s): Authorization: Bearer %s",
                        user.role.value, user.name, user.id, bus, key)
