"""Signed-in devices: sessions, their short-lived access tokens and rotating refresh tokens, revocation,
and the single-use tickets that open a live stream.

A session starts when an identity provider has proved who someone is (:mod:`api.accounts.identity`). It
holds one access token at a time (``at_…``, valid :attr:`TokenPolicy.access_ttl_s`, sent as
``Authorization: Bearer``) and a family of refresh tokens (``rt_…``): each renews the session once and is
replaced by a new one (rotation). A refresh token shown a second time means two parties hold it — a
stolen copy or a replay — and revokes the whole session, so neither can go on. A session ends at
``expires_at`` (:attr:`TokenPolicy.session_ttl_s` after the last renewal at most) or when revoked (signing
out, an operator, ``rufbus user revoke``). Only hashes are stored (:mod:`api.accounts.tokens`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from api.accounts.tokens import ACCESS, REFRESH, TICKET, changed, digest, new_id, new_token
from api.db.models import AuthSession, RefreshToken, User, WebSocketTicket


@dataclass(frozen=True)
class TokenPolicy:
    """How long access tokens, sessions (without renewal) and WebSocket tickets live."""

    access_ttl_s: int = 900
    session_ttl_s: int = 30 * 86400
    ticket_ttl_s: int = 30


@dataclass(frozen=True)
class IssuedTokens:
    """What a client gets at sign-in and each renewal; the secrets are shown only now."""

    session_id: str
    user_id: int
    access_token: str
    refresh_token: str
    expires_in: int


class RefreshRefused(Exception):
    """A refresh token that renews nothing. ``revoked`` names the session a reused token revoked (its
    open streams must close), else None."""

    def __init__(self, message: str, revoked: AuthSession | None = None) -> None:
        super().__init__(message)
        self.revoked = revoked


def start_session(session: Session, user: User, *, policy: TokenPolicy, now: datetime, provider: str,
                  device: str | None = None) -> IssuedTokens:
    """A new session for ``user`` with its first access and refresh tokens, committed."""
    assert user.id is not None, "users come from the database"
    access, refresh = new_token(ACCESS), new_token(REFRESH)
    row = AuthSession(id=new_id(), user_id=user.id, created_at=now, last_used_at=now,
                      expires_at=now + timedelta(seconds=policy.session_ttl_s), access_hash=digest(access),
                      access_expires_at=now + timedelta(seconds=policy.access_ttl_s), provider=provider,
                      device=device[:200] if device else None)
    session.add(row)
    session.flush()
    session.add(RefreshToken(token_hash=digest(refresh), session_id=row.id, created_at=now))
    session.commit()
    return IssuedTokens(row.id, user.id, access, refresh, policy.access_ttl_s)


def renew(session: Session, refresh_token: str, *, policy: TokenPolicy, now: datetime) -> IssuedTokens:
    """Use ``refresh_token`` once: new access and refresh tokens for its session, committed. Raises
    :class:`RefreshRefused` for an unknown token, an ended session or an inactive user, and — revoking the
    session first — for a token already used."""
    token = session.get(RefreshToken, digest(refresh_token))
    if token is None:
        raise RefreshRefused("unknown refresh token")
    row = session.get(AuthSession, token.session_id)
    assert row is not None, "a refresh token belongs to a session"
    if row.revoked_at is not None or row.expires_at <= now:
        raise RefreshRefused("the session has ended")
    taken = changed(session, update(RefreshToken).where(col(RefreshToken.token_hash) == token.token_hash,
                                                        col(RefreshToken.used_at).is_(None)).values(used_at=now))
    if taken != 1:
        session.rollback()
        revoked = revoke_session(session, row.id, reason="refresh_reused", now=now)
        raise RefreshRefused("this refresh token was used before: the session is revoked", revoked)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        session.rollback()
        raise RefreshRefused("the user is inactive")
    access, refresh = new_token(ACCESS), new_token(REFRESH)
    row.access_hash, row.access_expires_at = digest(access), now + timedelta(seconds=policy.access_ttl_s)
    row.last_used_at, row.expires_at = now, now + timedelta(seconds=policy.session_ttl_s)
    session.add(row)
    session.add(RefreshToken(token_hash=digest(refresh), session_id=row.id, created_at=now))
    session.commit()
    return IssuedTokens(row.id, row.user_id, access, refresh, policy.access_ttl_s)


def holder_of_access_token(session: Session, token: str, *, now: datetime
                           ) -> tuple[User, str, datetime] | None:
    """The active user and session id whose current, unexpired access token ``token`` is, and when it
    expires; or None."""
    found = session.exec(select(User, AuthSession).join(AuthSession, col(AuthSession.user_id) == col(User.id))
                         .where(col(AuthSession.access_hash) == digest(token))).first()
    if found is None:
        return None
    user, row = found
    if row.revoked_at is not None or row.access_expires_at <= now or row.expires_at <= now or not user.active:
        return None
    return user, row.id, min(row.access_expires_at, row.expires_at)


def session_alive(session: Session, session_id: str, *, now: datetime) -> bool:
    """Whether the session is neither revoked nor expired and its user is active."""
    row = session.get(AuthSession, session_id)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return False
    user = session.get(User, row.user_id)
    return user is not None and user.active


def revoke_session(session: Session, session_id: str, *, reason: str, now: datetime) -> AuthSession | None:
    """End the session ``session_id`` now (committed); it, or None if there is no live one."""
    session.commit()  # write first: on SQLite a read transaction cannot always be upgraded to a write
    live = update(AuthSession).where(col(AuthSession.id) == session_id, col(AuthSession.revoked_at).is_(None))
    ended = session.execute(live.values(revoked_at=now, revoked_reason=reason)
                            .returning(col(AuthSession.id))).scalar()
    session.commit()
    return None if ended is None else session.get(AuthSession, session_id, populate_existing=True)


def revoke_user_sessions(session: Session, user_id: int, *, reason: str, now: datetime,
                         provider: str | None = None) -> list[str]:
    """End every live session of the user now — only those ``provider`` signed in, if given —
    (committed); their ids."""
    session.commit()  # one statement that writes first: on SQLite a read before it could not be upgraded
    query = update(AuthSession).where(col(AuthSession.user_id) == user_id,
                                      col(AuthSession.revoked_at).is_(None))
    if provider is not None:
        query = query.where(col(AuthSession.provider) == provider)
    revoked = query.values(revoked_at=now, revoked_reason=reason).returning(col(AuthSession.id))
    ids = list(session.execute(revoked).scalars())
    session.commit()
    return ids


def user_sessions(session: Session, user_id: int) -> list[AuthSession]:
    """The user's sessions, newest first (revoked and expired ones too, for the record)."""
    return list(session.exec(select(AuthSession).where(col(AuthSession.user_id) == user_id)
                             .order_by(col(AuthSession.created_at).desc())))


def issue_ticket(session: Session, *, user_id: int, session_id: str | None, policy: TokenPolicy,
                 now: datetime) -> str:
    """A WebSocket ticket for the user (and session; None: an API key) valid ``ticket_ttl_s``, committed;
    expired tickets are swept on the way."""
    session.execute(delete(WebSocketTicket).where(col(WebSocketTicket.expires_at) <= now))
    ticket = new_token(TICKET)
    session.add(WebSocketTicket(ticket_hash=digest(ticket), user_id=user_id, session_id=session_id,
                                expires_at=now + timedelta(seconds=policy.ticket_ttl_s)))
    session.commit()
    return ticket


def redeem_ticket(session: Session, ticket: str, *, now: datetime) -> tuple[int, str | None] | None:
    """Use ``ticket`` up (it is deleted, whatever the outcome): the user id and session id it was issued
    for, or None when it is unknown, used or expired. Of two parallel redemptions only one wins. The
    delete is the transaction's first statement: on SQLite a transaction that read first may be refused
    its write when another connection wrote in between, one that writes first waits for its turn."""
    won = session.execute(delete(WebSocketTicket).where(col(WebSocketTicket.ticket_hash) == digest(ticket))
                          .returning(col(WebSocketTicket.user_id), col(WebSocketTicket.session_id),
                                     col(WebSocketTicket.expires_at))).first()
    session.commit()
    if won is None or won.expires_at <= now:
        return None
    return won.user_id, won.session_id
