"""A signed-in user changes their e-mail address over HTTP (api.accounts.email_change, POST
/v1/auth/email and /v1/auth/email/verify), with codes mailed through a real local SMTP server: the new
address proves itself with a code that signs nobody in, the old one is told, an address in use is never
taken over and the answer does not tell that it is in use, a code works only for the user who asked."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from api.auth import create_account
from api.db.models import User
from tests.api.test_accounts import CODE, address, bearer, client, code_in, mail_to, sign_up, smtp  # noqa: F401


def ask(client, tokens: dict, email: str):  # noqa: F811
    """The signed-in user of ``tokens`` asks to use ``email``."""
    return client.post("/v1/auth/email", json={"email": email}, headers=bearer(tokens["access_token"]))


def confirm(client, tokens: dict, email: str, code: str):  # noqa: F811
    """The signed-in user of ``tokens`` confirms ``email`` with ``code``."""
    return client.post("/v1/auth/email/verify", json={"email": email, "code": code},
                       headers=bearer(tokens["access_token"]))


def user_with(client, email: str) -> User | None:  # noqa: F811
    with Session(client.app.state.engine) as session:
        return session.exec(select(User).where(User.email == email)).first()


def test_a_rider_moves_to_a_new_address_and_signs_in_with_it(client, smtp):  # noqa: F811
    """Rita (old address) asks for a new one: 202; the new address gets a code, which does not sign
    anybody in; confirmed, it is her address (200), the old one is told, and signing in works with the new
    address and no longer with the old (a note without a code)."""
    old, new = address(), address()
    tokens = sign_up(client, smtp, old)
    asked = ask(client, tokens, new.upper())
    assert asked.status_code == 202, asked.text
    code = code_in(mail_to(smtp, new))
    assert client.post("/v1/auth/verify", json={"email": new, "code": code}).status_code == 401
    confirmed = confirm(client, tokens, new, code)
    assert confirmed.status_code == 200 and confirmed.json() == {"email": new}
    rita = user_with(client, new)
    assert rita is not None and rita.name == "Rita" and user_with(client, old) is None
    told = mail_to(smtp, old, 2).get_content()  # the first was the sign-up code
    assert "another e-mail address" in told and CODE.search(told) is None and new not in told
    assert confirm(client, tokens, new, code).status_code == 422  # the code worked once
    client.post("/v1/auth/code", json={"email": new})
    signed_in = client.post("/v1/auth/verify", json={"email": new, "code": code_in(mail_to(smtp, new, 2))})
    assert signed_in.status_code == 200
    client.post("/v1/auth/code", json={"email": old})
    assert CODE.search(mail_to(smtp, old, 3).get_content()) is None


def test_an_address_another_account_uses_is_never_taken_and_the_answer_does_not_tell(client, smtp):  # noqa: F811
    """Asking for an address another rider uses answers the same 202 as a free one; that address gets a
    note without a code, so nothing can confirm it (422) and both accounts keep their addresses. Asking for
    one's own address mails a note, no code."""
    mine, theirs, free = address(), address(), address()
    tokens = sign_up(client, smtp, mine)
    sign_up(client, smtp, theirs, name="Theo")
    taken, open_ = ask(client, tokens, theirs), ask(client, tokens, free)
    assert (taken.status_code, open_.status_code) == (202, 202) and taken.json() == open_.json()
    note = mail_to(smtp, theirs, 2).get_content()
    assert CODE.search(note) is None and "belongs to another account" in note
    assert confirm(client, tokens, theirs, "000000").json()["code"] == "invalid_code"
    assert user_with(client, theirs).name == "Theo" and user_with(client, mine).name == "Rita"  # type: ignore[union-attr]
    assert ask(client, tokens, mine).status_code == 202
    assert CODE.search(mail_to(smtp, mine, 2).get_content()) is None


def test_a_code_confirms_the_address_only_for_the_user_who_asked(client, smtp):  # noqa: F811
    """Xaver asks for a new address; Yvonne, holding the code, cannot confirm it for herself (422, and
    her guess counts); Xaver then can."""
    new = address()
    xaver, yvonne = sign_up(client, smtp, address(), name="Xaver"), sign_up(client, smtp, address(), name="Y")
    assert ask(client, xaver, new).status_code == 202
    code = code_in(mail_to(smtp, new))
    refused = confirm(client, yvonne, new, code)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_code"
    assert confirm(client, xaver, new, code).status_code == 200
    assert user_with(client, new).name == "Xaver"  # type: ignore[union-attr]


def test_an_address_taken_after_the_code_was_mailed_is_409_and_nothing_changes(client, smtp):  # noqa: F811
    """The code is mailed; then an operator records another person with that address: confirming is 409
    ``email_taken``, and the asker keeps the old address."""
    old, new = address(), address()
    tokens = sign_up(client, smtp, old)
    assert ask(client, tokens, new).status_code == 202
    code = code_in(mail_to(smtp, new))
    with Session(client.app.state.engine) as session:
        create_account(session, name="Other", role="rider", email=new)
    answer = confirm(client, tokens, new, code)
    assert answer.status_code == 409 and answer.json()["code"] == "email_taken"
    assert user_with(client, old) is not None and user_with(client, new).name == "Other"  # type: ignore[union-attr]


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/auth/email", {"email": "no address"}), ("/v1/auth/email", {"email": "x\x00@example.org"}),
    ("/v1/auth/email", {"email": "a@example.org", "extra": 1}),
    ("/v1/auth/email/verify", {"email": "a@example.org"}),
    ("/v1/auth/email/verify", {"email": "a@example.org", "code": "12345"}),
    ("/v1/auth/email/verify", {"email": "a@example.org", "code": "1234567"})])
def test_bad_bodies_are_422_and_anonymous_callers_401(client, smtp, path, body):  # noqa: F811
    """Malformed addresses, NUL, unknown fields, missing or malformed codes: 422 for a signed-in rider;
    without a credential: 401."""
    tokens = sign_up(client, smtp, address())
    assert client.post(path, json=body, headers=bearer(tokens["access_token"])).status_code == 422
    assert client.post(path, json={"email": "a@example.org", "code": "123456"}).status_code == 401
