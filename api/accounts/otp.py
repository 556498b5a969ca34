"""One-time sign-in codes: six digits mailed to an address, valid for minutes and a few attempts.

A code is stored as an HMAC-SHA256 of the code under a random salt of its own row, never in plain: a
database read or backup does not reveal codes that are still valid. (Six digits are a small space; what
protects them is the short life and the attempts counted, not the hash.) Asking for a new code ends the
earlier ones of the address. Each wrong guess counts against the newest code, atomically; at
``max_attempts`` it is dead and a new one must be asked for. Nothing here logs codes or addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.tokens import changed
from api.db.models import SignInCode

CODE_DIGITS = 6
EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class CodePolicy:
    """How long a code lives and how many guesses it takes."""

    ttl_s: int = 600
    max_attempts: int = 5


@dataclass(frozen=True)
class Signup:
    """What a new rider gave when signing up; the account is made when their code is confirmed."""

    name: str
    phone: str | None = None


def normal_email(email: str) -> str:
    """An address as stored and compared: trimmed, in lower case."""
    return email.strip().lower()


def valid_email(email: str) -> bool:
    """Whether ``email`` looks like a deliverable address (a local part, ``@``, a dotted domain)."""
    return len(email) <= 254 and EMAIL_PATTERN.match(email) is not None


def _hash(code: str, salt: str) -> str:
    return hmac.new(bytes.fromhex(salt), code.encode(), hashlib.sha256).hexdigest()


def issue_code(session: Session, email: str, *, policy: CodePolicy, now: datetime,
               signup: Signup | None = None, for_user_id: int | None = None) -> str:
    """A new code for ``email`` (normalised), stored hashed and committed; the earlier codes of the
    address end now. With ``for_user_id`` it confirms the address as that user's new one and signs nobody
    in. Returns the code, to be mailed and forgotten."""
    email = normal_email(email)
    changed(session, update(SignInCode)
            .where(col(SignInCode.email) == email, col(SignInCode.used_at).is_(None),
                   col(SignInCode.expires_at) > now)
            .values(expires_at=now))
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    session.add(SignInCode(email=email, code_hash=_hash(code, salt), salt=salt, created_at=now,
                           expires_at=now + timedelta(seconds=policy.ttl_s),
                           signup_name=signup.name if signup else None,
                           signup_phone=signup.phone if signup else None, for_user_id=for_user_id))
    session.commit()
    return code


def redeem_code(session: Session, email: str, code: str, *, policy: CodePolicy, now: datetime,
                for_user_id: int | None = None) -> SignInCode | None:
    """The newest live code of ``email`` if ``code`` is it — then used up — else None: a sign-in or sign-up
    code, or with ``for_user_id`` one that confirms the address for that user (the one never stands for
    the other). Every guess counts as an attempt before it is compared, so parallel guesses cannot exceed
    ``max_attempts``."""
    email = normal_email(email)
    purpose = col(SignInCode.for_user_id).is_(None) if for_user_id is None \
        else col(SignInCode.for_user_id) == for_user_id
    row = session.exec(select(SignInCode).where(col(SignInCode.email) == email, purpose,
                                                col(SignInCode.used_at).is_(None),
                                                col(SignInCode.expires_at) > now)
                       .order_by(col(SignInCode.id).desc())).first()
    if row is None:
        session.commit()
        return None
    counted = changed(session, update(SignInCode)
                      .where(col(SignInCode.id) == row.id, col(SignInCode.attempts) < policy.max_attempts)
                      .values(attempts=col(SignInCode.attempts) + 1))
    if counted != 1 or not hmac.compare_digest(_hash(code, row.salt), row.code_hash):
        session.commit()
        return None
    used = changed(session, update(SignInCode)
                   .where(col(SignInCode.id) == row.id, col(SignInCode.used_at).is_(None))
                   .values(used_at=now))
    session.commit()
    return row if used == 1 else None
