"""Accounts over HTTP (api.routes.auth, api.accounts): riders sign up and sign in with a code mailed
through a real local SMTP server, sessions renew with rotating refresh tokens, a reused refresh token
revokes its session, live streams open with single-use tickets and close the moment their session or
key is revoked."""

from __future__ import annotations

import re
import socket
import sqlite3
from collections.abc import Iterator
from itertools import count

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from starlette.websockets import WebSocketDisconnect

from api.auth import create_account, create_user
from api.db.models import AuthSession, SignInCode, User
from tests.api.conftest import AppSetup, open_client
from tests.smtp import LocalSmtp, Mailbox

CODE = re.compile(r"\b(\d{6})\b")
ADDRESSES = count(1)
# Streams re-check their credential only hourly here: a stream that closes on revocation closes because
# it was told, not because it looked.
# All the tests' requests come from one client address: only the limits per e-mail address count here.
SETUP = {"demo_buses": 1, "reoptimize_every_s": 0, "stream_recheck_s": 3600,
         "sign_in_code_rate_per_address": "", "sign_in_rate_per_address": ""}


@pytest.fixture(scope="module")
def smtp() -> Iterator[LocalSmtp]:
    """A real SMTP server on loopback for the module (as tests/smtp.py's, kept for every test here)."""
    mailbox = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from api.mail import MailServer

        server = MailServer(host="127.0.0.1", port=port, sender="Rufbus <rufbus@test.invalid>")
        yield LocalSmtp(server, mailbox)
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def client(smtp: LocalSmtp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module, its mail going to ``smtp``."""
    settings = {**SETUP, "smtp_host": smtp.server.host, "smtp_port": smtp.server.port,
                "mail_from": smtp.server.sender}
    with open_client(tmp_path_factory.mktemp("accounts"), AppSetup(settings)) as test_client:
        yield test_client


def address() -> str:
    """An address no other test uses (rate limits count per address)."""
    return f"person{next(ADDRESSES)}@example.org"


def mail_to(smtp: LocalSmtp, email: str, number: int = 1):
    """The ``number``-th message that arrived for ``email`` (waiting up to 10 s for it)."""
    mailbox, email = smtp.mailbox, email.lower()  # the service writes addresses in lower case
    with mailbox.arrived:
        assert mailbox.arrived.wait_for(lambda: len(mailbox.to(email)) >= number, timeout=10), "no mail"
    return mailbox.to(email)[number - 1]


def code_in(message) -> str:
    """The six digits of a code mail."""
    found = CODE.search(message.get_content())
    assert found is not None, "no code in the mail"
    return found.group(1)


def sign_up(client: TestClient, smtp: LocalSmtp, email: str, name: str = "Rita", phone: str | None = None
            ) -> dict:
    """Sign up through the API with the code from the mail; the session's tokens."""
    answer = client.post("/v1/auth/sign-up", json={"name": name, "email": email, "phone": phone})
    assert answer.status_code == 202, answer.text
    verified = client.post("/v1/auth/verify", json={"email": email, "code": code_in(mail_to(smtp, email))})
    assert verified.status_code == 200, verified.text
    return verified.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operator(client: TestClient) -> dict[str, str]:
    """An operator's API key header."""
    with Session(client.app.state.engine) as session:
        return bearer(create_user(session, name="Olga", role="operator")[1])


def test_a_rider_signs_up_with_the_mailed_code_and_the_access_token_works(client, smtp):
    """Sign-up answers 202; the mail holds a six-digit code; verifying it makes the rider (name, phone,
    address in lower case) and answers an access and a refresh token; the access token is a bearer
    credential for /v1/me."""
    email = address()
    tokens = sign_up(client, smtp, email.upper(), name="Rita Rider", phone="+423 555 01 01")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    assert tokens["access_token"].startswith("at_") and tokens["refresh_token"].startswith("rt_")
    me = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and (me.json()["role"], me.json()["name"]) == ("rider", "Rita Rider")
    with Session(client.app.state.engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        assert user.phone == "+4235550101" and user.api_key_hash is None


def test_codes_are_stored_only_as_a_salted_hash(client, smtp):
    """The row of a mailed code keeps neither the code nor its plain SHA-256."""
    email = address()
    client.post("/v1/auth/sign-up", json={"name": "Hash", "email": email})
    code = code_in(mail_to(smtp, email))
    with Session(client.app.state.engine) as session:
        row = session.exec(select(SignInCode).where(SignInCode.email == email)).one()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64


def test_the_answer_does_not_tell_whether_an_address_has_an_account(client, smtp):
    """Asking for a code for a known and an unknown address answers the same 202 body; the known one
    gets a code, the unknown one a note without a code. Signing up again with a known address makes no
    second account: its mail is a plain sign-in code."""
    known, unknown = address(), address()
    sign_up(client, smtp, known)
    answers = [client.post("/v1/auth/code", json={"email": e}) for e in (known, unknown)]
    assert [a.status_code for a in answers] == [202, 202] and answers[0].json() == answers[1].json()
    assert CODE.search(mail_to(smtp, known, 2).get_content())
    note = mail_to(smtp, unknown).get_content()
    assert CODE.search(note) is None and "no Rufbus account" in note
    again = client.post("/v1/auth/sign-up", json={"name": "Twin", "email": known})
    assert again.status_code == 202 and again.json() == answers[0].json()
    assert client.post("/v1/auth/verify", json={"email": known, "code": code_in(mail_to(smtp, known, 3))}
                       ).status_code == 200
    with Session(client.app.state.engine) as session:
        assert [u.name for u in session.exec(select(User).where(User.email == known))] == ["Rita"]


def test_five_wrong_codes_use_a_code_up(client, smtp):
    """Each wrong code is 401; after five the right code does not sign in either."""
    email = address()
    client.post("/v1/auth/sign-up", json={"name": "Guess", "email": email})
    code = code_in(mail_to(smtp, email))
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = client.post("/v1/auth/verify", json={"email": email, "code": wrong})
        assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"
    assert client.post("/v1/auth/verify", json={"email": email, "code": code}).status_code == 401


def test_a_code_signs_in_once(client, smtp):
    """The code that signed in does not sign in a second time."""
    email = address()
    client.post("/v1/auth/sign-up", json={"name": "Once", "email": email})
    code = code_in(mail_to(smtp, email))
    assert client.post("/v1/auth/verify", json={"email": email, "code": code}).status_code == 200
    assert client.post("/v1/auth/verify", json={"email": email, "code": code}).status_code == 401


@pytest.mark.parametrize("body", [{"email": "not an address"}, {"email": "a@b"},
                                  {"email": "x\x00@example.org"}, {"email": "a@example.org", "extra": 1}, {}])
def test_a_malformed_address_is_422(client, body):
    """Addresses that are no addresses, NUL, unknown fields: 422, never a 500, no mail."""
    answer = client.post("/v1/auth/code", json=body)
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"


def test_asking_for_codes_is_rate_limited_per_e_mail_address(client, smtp):
    """Three codes a minute per e-mail address: the fourth is 429."""
    email = address()
    answers = [client.post("/v1/auth/code", json={"email": email}).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(client, smtp):
    """A refresh token gives new tokens once; the old access token stops. Shown again, the old refresh
    token is refused and revokes the session: the new refresh and access tokens stop too."""
    first = sign_up(client, smtp, address())
    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    renewed = second.json()
    assert renewed["session_id"] == first["session_id"]
    assert renewed["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/me", headers=bearer(first["access_token"])).status_code == 401
    assert client.get("/v1/me", headers=bearer(renewed["access_token"])).status_code == 200  # now cached

    reused = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    again = client.post("/v1/auth/refresh", json={"refresh_token": renewed["refresh_token"]})
    assert again.status_code == 401
    assert client.get("/v1/me", headers=bearer(renewed["access_token"])).status_code == 401
    with Session(client.app.state.engine) as session:
        assert session.get(AuthSession, first["session_id"]).revoked_reason == "refresh_reused"


def test_signing_out_ends_the_session(client, smtp):
    """After sign-out the access token (cached a moment ago) and the refresh token are refused."""
    tokens = sign_up(client, smtp, address())
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert client.post("/v1/auth/sign-out", headers=bearer(tokens["access_token"])).status_code == 204
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_a_ticket_opens_one_stream_once(client, smtp):
    """A ticket opens the operator's stream; the same ticket again is closed with 4401; a bearer token
    in the URL opens nothing."""
    email = address()
    with Session(client.app.state.engine) as session:
        create_account(session, name="Otto", role="operator", email=email)
    client.post("/v1/auth/code", json={"email": email})
    code = code_in(mail_to(smtp, email))
    tokens = client.post("/v1/auth/verify", json={"email": email, "code": code}).json()
    ticket = client.post("/v1/auth/ws-ticket", headers=bearer(tokens["access_token"]))
    assert ticket.status_code == 201 and ticket.json()["expires_in"] == 30
    path = f"/v1/operator/stream?ticket={ticket.json()['ticket']}"
    with client.websocket_connect(path) as websocket:
        assert websocket.receive_json()["kind"] == "fleet"
    for url in (path, f"/v1/operator/stream?access_token={tokens['access_token']}"):
        with client.websocket_connect(url) as websocket, pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_json()
        assert closed.value.code == 4401


def test_a_stream_the_database_cannot_serve_closes_with_try_again_and_keeps_its_ticket(client):
    """While another connection holds SQLite's write lock, redeeming a ticket fails: the stream is
    closed with 1013 (try again later), not broken off; the ticket was not used up, and opens the stream
    once the lock is gone."""
    staff = operator(client)
    ticket = client.post("/v1/auth/ws-ticket", headers=staff).json()["ticket"]
    blocker = sqlite3.connect(client.app.state.engine.url.database, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with client.websocket_connect(f"/v1/operator/stream?ticket={ticket}") as websocket, \
                pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_json()
        assert closed.value.code == 1013
    finally:
        blocker.rollback()
        blocker.close()
    with client.websocket_connect(f"/v1/operator/stream?ticket={ticket}") as websocket:
        assert websocket.receive_json()["kind"] == "fleet"


def closed_code(websocket) -> int:
    """The close code of a stream, skipping the live messages before it."""
    for _ in range(50):
        try:
            websocket.receive_json()
        except WebSocketDisconnect as closed:
            return closed.code
    raise AssertionError("the stream did not close")


def test_an_operator_revoking_a_session_closes_its_stream_at_once(client, smtp):
    """A rider's booking stream is open with a ticket of their session; an operator lists the rider's
    sessions and revokes that one: the stream closes with 4401 at once (streams re-check only hourly
    here), and the session's tokens are refused."""
    tokens = sign_up(client, smtp, address())
    rider = bearer(tokens["access_token"])
    me = client.get("/v1/me", headers=rider).json()
    booking = book(client, rider)
    ticket = client.post("/v1/auth/ws-ticket", headers=rider).json()["ticket"]
    staff = operator(client)
    with client.websocket_connect(f"/v1/bookings/{booking}/stream?ticket={ticket}") as websocket:
        assert websocket.receive_json()["kind"] == "booking"
        sessions = client.get(f"/v1/operator/users/{me['id']}/sessions", headers=staff).json()
        assert [s["id"] for s in sessions] == [tokens["session_id"]] and sessions[0]["revoked_at"] is None
        revoked = client.post(f"/v1/operator/users/{me['id']}/sessions/{tokens['session_id']}/revoke",
                              headers=staff)
        assert revoked.status_code == 204
        assert closed_code(websocket) == 4401
    assert client.get("/v1/me", headers=rider).status_code == 401
    assert client.get(f"/v1/operator/users/{me['id']}/sessions", headers=staff).json()[0]["revoked_reason"] \
        == "operator"


def test_signing_a_user_out_everywhere_closes_a_stream_opened_with_their_api_key(client):
    """A driver's tablet streams with its API key (Authorization header); the operator signs the driver
    out everywhere: the stream closes with 4401 and the key is refused."""
    with Session(client.app.state.engine) as session:
        driver, key = create_user(session, name="Dana", role="driver", vehicle_id="bus-1")
    staff = operator(client)
    with client.websocket_connect("/v1/driver/stream", headers=bearer(key)) as websocket:
        assert websocket.receive_json()["kind"] == "route"
        assert client.post(f"/v1/operator/users/{driver.id}/revoke", headers=staff).status_code == 204
        assert closed_code(websocket) == 4401
    assert client.get("/v1/me", headers=bearer(key)).status_code == 401


def test_a_device_key_is_exchanged_for_a_session(client):
    """A tablet's API key gives a session (provider api_key) whose access token works; a wrong key 401."""
    with Session(client.app.state.engine) as session:
        _, key = create_user(session, name="Tab", role="driver", vehicle_id="bus-1")
    tokens = client.post("/v1/auth/device", json={"api_key": key})
    assert tokens.status_code == 200
    assert client.get("/v1/me", headers=bearer(tokens.json()["access_token"])).json()["name"] == "Tab"
    assert client.post("/v1/auth/device", json={"api_key": "x" * 43}).status_code == 401


@pytest.mark.parametrize("path", ["/v1/operator/users/999999/sessions",
                                  "/v1/operator/users/1/sessions/nope/revoke"])
def test_unknown_users_and_sessions_are_404_or_422(client, path):
    """An unknown user is 404 ``unknown_user``; a session id that is no id is 422."""
    staff = operator(client)
    call = client.get if path.endswith("sessions") else client.post
    answer = call(path, headers=staff)
    assert answer.status_code in (404, 422) and answer.status_code != 500
    if answer.status_code == 404:
        assert answer.json()["code"] == "unknown_user"


@pytest.mark.parametrize("path", ["/v1/operator/users/4294967296/sessions", "/v1/operator/users/0/revoke",
                                  "/v1/operator/users/99999999999999999999999/revoke"])
def test_a_user_id_that_is_no_database_integer_is_422(client, path):
    """A user id outside a database integer (the fuzzer sent them: PostgreSQL answered 500) is 422."""
    call = client.get if path.endswith("sessions") else client.post
    answer = call(path, headers=operator(client))
    assert answer.status_code == 422 and answer.json()["code"] == "invalid_request"


def book(client: TestClient, auth: dict[str, str]) -> str:
    """A booking of the rider ``auth``; its id."""
    from tests.api.test_auth import trip

    quote = client.post("/v1/quotes", json=trip(), headers=auth)
    assert quote.status_code == 200, quote.text
    made = client.post("/v1/bookings", json={"quote_id": quote.json()["quote_id"]},
                       headers=auth | {"Idempotency-Key": quote.json()["quote_id"]})
    assert made.status_code == 201, made.text
    return made.json()["id"]
