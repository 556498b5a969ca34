"""Random secrets and the hashes kept of them.

Every secret the service hands out is 32 random bytes (:func:`secrets.token_urlsafe`) behind a short
prefix that says what it is (``at_`` an access token, ``rt_`` a refresh token, ``wt_`` a WebSocket
ticket; API keys have none), so a token pasted in the wrong place is recognised, and secret scanners can
find leaked ones. Only the SHA-256 hex digest is stored: the secrets have 256 bits of entropy, so a plain
hash cannot be reversed, and a look-up by digest needs no constant-time comparison.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import cast

from sqlalchemy import CursorResult, Executable
from sqlmodel import Session

ACCESS, REFRESH, TICKET = "at_", "rt_", "wt_"
TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    """A fresh secret with ``prefix``."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """The stored form of a secret: its SHA-256 digest in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    """A fresh session id (not secret: it names a session in lists and revocations)."""
    return secrets.token_hex(16)


def changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE in ``session``; the number of rows it changed."""
    return cast(CursorResult, session.execute(statement)).rowcount
