"""What operators (the API and the ``rufbus`` command) do to accounts: rotate or revoke a user's API key,
sign a user out everywhere. Each returns the :class:`~api.accounts.revocation.Revocation`-s to announce,
so that open streams close and caches forget (:mod:`api.accounts.revocation`)."""

from __future__ import annotations

import json
from datetime import datetime

import redis
from sqlmodel import Session

from api.accounts.revocation import Revocation, channel
from api.accounts.sessions import revoke_user_sessions
from api.auth import EVERYTHING, KEY, revoke_key, rotate_key
from api.db.models import User


def rotate_user_key(session: Session, user: User, *, expires_at: datetime | None, now: datetime
                    ) -> tuple[str, list[Revocation]]:
    """A new API key for ``user`` (the old one and the sessions it opened end now); the key, shown only
    now, and what to announce."""
    assert user.id is not None, "users come from the database"
    ended = revoke_user_sessions(session, user.id, reason="key_rotated", now=now, provider="api_key")
    key = rotate_key(session, user, expires_at=expires_at)
    return key, [Revocation(user.id, KEY), *(Revocation(user.id, sid) for sid in ended)]


def revoke_user_key(session: Session, user: User, *, now: datetime) -> list[Revocation]:
    """Take ``user``'s API key away and end the sessions it opened; what to announce."""
    assert user.id is not None, "users come from the database"
    ended = revoke_user_sessions(session, user.id, reason="key_revoked", now=now, provider="api_key")
    revoke_key(session, user)
    return [Revocation(user.id, KEY), *(Revocation(user.id, sid) for sid in ended)]


def sign_out_everywhere(session: Session, user: User, *, reason: str, now: datetime) -> list[Revocation]:
    """End every session of ``user`` and take their API key away; what to announce."""
    assert user.id is not None, "users come from the database"
    revoke_user_sessions(session, user.id, reason=reason, now=now)
    revoke_key(session, user)
    return [Revocation(user.id, EVERYTHING)]


def publish(redis_url: str, area: str, revocations: list[Revocation]) -> None:
    """Tell the running workers of ``area`` (from another process, e.g. the ``rufbus`` command)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        for revocation in revocations:
            message = {"user_id": revocation.user_id, "scope": revocation.scope}
            client.publish(channel(area), json.dumps(message))
    finally:
        client.close()
