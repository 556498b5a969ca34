"""A signed-in user changes their e-mail address, proving the new one with a code mailed to it.

:func:`begin_change` runs after the answer (the answer never tells whether the address is in use): when no
account, active or not, has the address, a code that confirms it for this user is mailed there
(:func:`~api.accounts.otp.issue_code` with ``for_user_id``: it signs nobody in); when one has, the address
gets a note that it already belongs to an account, and no code. :func:`confirm_change` redeems the code
for the signed-in user only, sets the address (422 ``invalid_code`` for a wrong, used or expired code; 409
``email_taken`` if another account took the address meanwhile) and returns the old address, which is then
told of the change. Nothing here logs an address or a code.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.otp import CodePolicy, issue_code, normal_email, redeem_code
from api.db.models import User
from api.errors import Conflict, InvalidRequest
from api.mail import Mail, MailError, MailServer, send_mail

log = logging.getLogger(__name__)


def begin_change(engine: Engine, server: MailServer, *, user_id: int, email: str, policy: CodePolicy,
                 now: datetime) -> None:
    """Mail ``email`` a code confirming it as user ``user_id``'s address, or the note that it is taken."""
    email = normal_email(email)
    with Session(engine) as session:
        holder = session.exec(select(User).where(col(User.email) == email)).first()
        code = None if holder is not None else issue_code(session, email, policy=policy, now=now,
                                                          for_user_id=user_id)
    _send(server, change_mail(email, code, policy) if holder is None or holder.id != user_id
          else already_yours_mail(email))


def confirm_change(session: Session, user: User, *, email: str, code: str, policy: CodePolicy,
                   now: datetime) -> str | None:
    """Set ``email`` as ``user``'s address if ``code`` is the live code mailed to it for them; returns the
    address it replaces (None: there was none)."""
    assert user.id is not None, "users come from the database"
    email = normal_email(email)
    if redeem_code(session, email, code, policy=policy, now=now, for_user_id=user.id) is None:
        raise InvalidRequest("invalid_code", "the code is wrong, used up or expired: ask for a new one")
    row = session.get(User, user.id)
    assert row is not None, "the signed-in user exists"
    previous, row.email = row.email, email
    session.add(row)
    try:
        session.commit()
    except IntegrityError as error:  # another account took the address since the code was mailed
        session.rollback()
        raise Conflict("email_taken", "another account uses this address now") from error
    log.info("user %d changed their e-mail address", user.id)
    return previous


def tell_old_address(server: MailServer, previous: str) -> None:
    """Tell the address that was replaced that the account now uses another one."""
    _send(server, Mail(
        to=previous, subject="Rufbus: E-Mail-Adresse geändert / e-mail address changed",
        text=("Ihr Rufbus-Konto verwendet ab jetzt eine andere E-Mail-Adresse. Wenn Sie das nicht waren, "
              "wenden Sie sich an den Rufbus-Betrieb.\n\n"
              "Your Rufbus account now uses another e-mail address. If this was not you, contact the "
              "Rufbus service.\n")))


def change_mail(email: str, code: str | None, policy: CodePolicy) -> Mail:
    """The code that confirms ``email`` as an account's new address, or (``code`` None) the note that the
    address belongs to another account already."""
    if code is None:
        return Mail(to=email, subject="Rufbus: Adresse bereits vergeben / address in use",
                    text=("Jemand wollte diese Adresse für ein Rufbus-Konto eintragen, aber sie gehört "
                          "bereits zu einem anderen Konto. Es wurde nichts geändert.\n\n"
                          "Someone asked to use this address for a Rufbus account, but it belongs to another "
                          "account already. Nothing was changed.\n"))
    minutes = policy.ttl_s // 60
    return Mail(to=email, subject="Ihr Rufbus-Code / your Rufbus code",
                text=(f"Ihr Code, um diese Adresse für Ihr Rufbus-Konto zu bestätigen: {code}\n"
                      f"Er gilt {minutes} Minuten und nur einmal.\n\n"
                      f"Your code to confirm this address for your Rufbus account: {code}\n"
                      f"It is valid for {minutes} minutes, once.\n\n"
                      "Wenn Sie das nicht waren, ignorieren Sie diese Nachricht. / "
                      "If this was not you, ignore this message.\n"))


def already_yours_mail(email: str) -> Mail:
    """The note that ``email`` is already the address of the account that asked."""
    return Mail(to=email, subject="Rufbus: Adresse unverändert / address unchanged",
                text=("Diese Adresse ist bereits die Ihres Rufbus-Kontos. Es wurde nichts geändert.\n\n"
                      "This address is your Rufbus account's already. Nothing was changed.\n"))


def _send(server: MailServer, mail: Mail) -> None:
    try:
        send_mail(server, mail)
    except MailError as error:  # the address and any code stay out of the log
        log.warning("address-change mail not sent: %s", error)
