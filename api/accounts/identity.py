"""Identity providers: who proves that a person is who they say, before a session starts.

:class:`IdentityProvider` is the seam. A provider turns a proof (here: an e-mail address and the code
mailed to it) into the active :class:`~api.db.models.User` it identifies, or None. What happens before the
proof is provider-specific: :class:`EmailCodeProvider` mails a one-time code (:mod:`api.accounts.otp`).

The next provider is a county's OpenID Connect identity provider: ``begin`` would answer the IdP's
authorization URL (authorization code flow with PKCE and a ``state`` kept server-side), and
``verify(session, {"code": ..., "state": ...})`` would exchange the code at the token endpoint, check the
ID token (issuer, audience, signature from the IdP's JWKS, nonce, expiry) and map its verified ``email``
claim (or a stored ``sub``) to the user an operator set up — drivers and operators exactly as here. The
session, refresh and revocation machinery (:mod:`api.accounts.sessions`) stays the same.

Enumeration: answers never depend on whether an address has an account. Both ``begin_*`` methods mail
something to the address in every case (a code, or a note that there is no account), and the routes run
them after answering (:mod:`api.routes.auth`), so neither the answer nor its timing tells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.otp import CodePolicy, Signup, issue_code, normal_email, redeem_code
from api.auth import normal_phone
from api.db.models import User, UserRole
from api.mail import Mail, MailError, MailServer, send_mail

log = logging.getLogger(__name__)


class IdentityProvider(Protocol):
    """Something that proves a person's identity and names the user they are."""

    name: str

    def verify(self, session: Session, proof: Mapping[str, str], *, now: datetime) -> User | None:
        """The active user ``proof`` identifies, or None (a wrong, used or expired proof)."""
        ...


@dataclass(frozen=True)
class EmailCodeProvider:
    """Sign-in with a six-digit code mailed to the user's address; riders may sign up the same way."""

    engine: Engine
    mail_server: MailServer
    policy: CodePolicy
    clock: Callable[[], datetime]
    public_url: str
    name: str = "email"

    def begin_sign_in(self, email: str) -> None:
        """Mail a sign-in code to ``email`` if an active user has it, else a note that none has."""
        email = normal_email(email)
        with Session(self.engine) as session:
            user = _user_by_email(session, email)
            code = issue_code(session, email, policy=self.policy, now=self.clock()) if user else None
        self._send(email, code_mail(email, code, self.policy, self.public_url, signing_up=False))

    def begin_sign_up(self, email: str, signup: Signup) -> None:
        """Mail a code that confirms a new rider's sign-up (the account is made on :meth:`verify`) — or,
        when the address has an account, a plain sign-in code."""
        email = normal_email(email)
        with Session(self.engine) as session:
            known = _user_by_email(session, email) is not None
            code = issue_code(session, email, policy=self.policy, now=self.clock(),
                              signup=None if known else signup)
        self._send(email, code_mail(email, code, self.policy, self.public_url, signing_up=not known))

    def verify(self, session: Session, proof: Mapping[str, str], *, now: datetime) -> User | None:
        """The user of ``proof["email"]`` if ``proof["code"]`` is its live code; a confirmed sign-up makes
        the rider first."""
        email = normal_email(proof.get("email", ""))
        row = redeem_code(session, email, proof.get("code", ""), policy=self.policy, now=now)
        if row is None:
            return None
        user = session.exec(select(User).where(col(User.email) == email)).first()
        if user is None and row.signup_name is not None:
            phone = normal_phone(row.signup_phone) if row.signup_phone else None
            user = User(name=row.signup_name, phone=phone, role=UserRole.RIDER, email=email)
            session.add(user)
            try:
                session.commit()
            except IntegrityError:  # the same address signed up a moment ago: sign in to that account
                session.rollback()
                user = session.exec(select(User).where(col(User.email) == email)).first()
            else:
                session.refresh(user)
                log.info("rider %d signed up", user.id)
        return user if user is not None and user.active else None

    def _send(self, email: str, mail: Mail) -> None:
        try:
            send_mail(self.mail_server, mail)
        except MailError as error:  # the address and the code stay out of the log
            log.warning("sign-in mail not sent: %s", error)


def _user_by_email(session: Session, email: str) -> User | None:
    user = session.exec(select(User).where(col(User.email) == email)).first()
    return user if user is not None and user.active else None


def code_mail(email: str, code: str | None, policy: CodePolicy, public_url: str, *, signing_up: bool) -> Mail:
    """The message to ``email``: its code (in German and English), or without one, the note that the
    address has no account and where to sign up."""
    minutes = policy.ttl_s // 60
    app = public_url.rstrip("/") + "/app"
    if code is None:
        return Mail(to=email, subject="Rufbus: kein Konto / no account",
                    text=("Für diese Adresse gibt es kein Rufbus-Konto. "
                          f"Registrieren Sie sich unter {app}.\n\n"
                          f"There is no Rufbus account for this address. Sign up at {app}.\n\n"
                          "Wenn Sie das nicht waren, ignorieren Sie diese Nachricht. / "
                          "If this was not you, ignore this message.\n"))
    what_de, what_en = (("Ihre Registrierung bestätigen", "confirm your sign-up") if signing_up
                        else ("sich anmelden", "sign in"))
    return Mail(to=email, subject="Ihr Rufbus-Code / your Rufbus code",
                text=(f"Ihr Code, um {what_de}: {code}\nEr gilt {minutes} Minuten und nur einmal.\n\n"
                      f"Your code to {what_en}: {code}\nIt is valid for {minutes} minutes, once.\n\n"
                      "Geben Sie ihn niemandem weiter. / Do not share it with anyone.\n"))
