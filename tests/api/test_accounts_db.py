"""Accounts in the database, on SQLite and PostgreSQL (api.accounts.otp, api.accounts.sessions, api.auth):
codes expire and run out of attempts, access tokens and tickets expire, tickets and refresh tokens work
once, keys rotate and expire — each checked at chosen instants. And the ``rufbus`` commands that manage
accounts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from api.accounts.otp import CodePolicy, issue_code, redeem_code
from api.accounts.sessions import (
    RefreshRefused,
    TokenPolicy,
    holder_of_access_token,
    issue_ticket,
    redeem_ticket,
    renew,
    start_session,
)
from api.auth import authenticate, create_account, create_user, rotate_key
from api.cli import app as cli
from api.db.migrate import upgrade_database
from api.db.models import AuthSession, User
from api.db.session import create_db_engine
from tests.api.conftest import postgres_schema

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CODES, TOKENS = CodePolicy(ttl_s=600, max_attempts=5), TokenPolicy(access_ttl_s=900, ticket_ttl_s=30)


@pytest.fixture(params=["sqlite", "postgresql"], scope="module")
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated database of each kind (PostgreSQL: a fresh schema on DATABASE_URL's server)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('accounts') / 'rufbus.sqlite3'}"
        upgrade_database(url)
        engine = create_db_engine(url)
        yield engine
        engine.dispose()
        return
    with postgres_schema(request.getfixturevalue("postgres_url"), "rufbus_accounts") as url:
        upgrade_database(url)
        engine = create_db_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as opened:
        yield opened


def rider(session: Session, email: str) -> User:
    return create_account(session, name="R", role="rider", email=email)


def test_a_code_expires_after_its_minutes(session):
    """A code works 9 minutes after it was mailed; one asked for 11 minutes ago does not."""
    live = issue_code(session, "live@example.org", policy=CODES, now=T0)
    assert redeem_code(session, "live@example.org", live, policy=CODES, now=T0 + timedelta(minutes=9))
    old = issue_code(session, "old@example.org", policy=CODES, now=T0)
    assert redeem_code(session, "old@example.org", old, policy=CODES, now=T0 + timedelta(minutes=11)) is None


def test_the_fifth_wrong_guess_uses_a_code_up(session):
    """Four wrong guesses leave the code valid; after a fifth the right code is refused."""
    code = issue_code(session, "guess@example.org", policy=CODES, now=T0)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert redeem_code(session, "guess@example.org", wrong, policy=CODES, now=T0) is None
    assert redeem_code(session, "guess@example.org", code, policy=CODES, now=T0) is not None
    code = issue_code(session, "guess@example.org", policy=CODES, now=T0)
    for _ in range(5):
        assert redeem_code(session, "guess@example.org", wrong, policy=CODES, now=T0) is None
    assert redeem_code(session, "guess@example.org", code, policy=CODES, now=T0) is None


def test_a_new_code_ends_the_earlier_one(session):
    """Asking again: only the newest code of the address works."""
    first = issue_code(session, "twice@example.org", policy=CODES, now=T0)
    second = issue_code(session, "twice@example.org", policy=CODES, now=T0 + timedelta(seconds=1))
    if first != second:
        assert redeem_code(session, "twice@example.org", first, policy=CODES, now=T0) is None
    assert redeem_code(session, "twice@example.org", second, policy=CODES, now=T0 + timedelta(seconds=2))


def test_an_access_token_expires_and_renewing_gives_a_fresh_one(session):
    """An access token works for 15 minutes, not after; the refresh token then gives a new one that
    works, and the old refresh token, shown again, revokes the session."""
    issued = start_session(session, rider(session, "tok@example.org"), policy=TOKENS, now=T0,
                           provider="email")
    assert holder_of_access_token(session, issued.access_token, now=T0 + timedelta(minutes=14)) is not None
    later = T0 + timedelta(minutes=16)
    assert holder_of_access_token(session, issued.access_token, now=later) is None
    renewed = renew(session, issued.refresh_token, policy=TOKENS, now=later)
    assert holder_of_access_token(session, renewed.access_token, now=later)[1] == issued.session_id
    with pytest.raises(RefreshRefused) as refused:
        renew(session, issued.refresh_token, policy=TOKENS, now=later)
    assert refused.value.revoked is not None and refused.value.revoked.id == issued.session_id
    assert holder_of_access_token(session, renewed.access_token, now=later) is None
    assert session.get(AuthSession, issued.session_id).revoked_reason == "refresh_reused"


def test_a_ticket_works_once_and_only_within_its_seconds(session):
    """A ticket redeemed at 29 s gives its user and session, a second time nothing; one redeemed at
    31 s nothing."""
    user = rider(session, "ticket@example.org")
    once = issue_ticket(session, user_id=user.id, session_id="s" * 32, policy=TOKENS, now=T0)
    assert redeem_ticket(session, once, now=T0 + timedelta(seconds=29)) == (user.id, "s" * 32)
    assert redeem_ticket(session, once, now=T0 + timedelta(seconds=29)) is None
    late = issue_ticket(session, user_id=user.id, session_id=None, policy=TOKENS, now=T0)
    assert redeem_ticket(session, late, now=T0 + timedelta(seconds=31)) is None


def test_a_rotated_key_replaces_the_old_and_an_expired_key_fails(session):
    """After rotation the old key fails and the new one works until its expiry, not after."""
    user, old = create_user(session, name="Tablet", role="rider")
    new = rotate_key(session, user, expires_at=T0 + timedelta(days=1))
    assert authenticate(session, old, now=T0) is None
    assert authenticate(session, new, now=T0).id == user.id
    assert authenticate(session, new, now=T0 + timedelta(days=2)) is None


def test_the_cli_sets_an_address_rotates_a_key_and_signs_a_user_out(tmp_path, monkeypatch):
    """``rufbus user create --email`` makes a user without a key; ``rufbus key rotate`` prints one that
    works (the old one stops); ``rufbus user revoke`` ends their sessions and takes the key away;
    ``rufbus user email`` refuses an address another user has."""
    url = f"sqlite:///{tmp_path / 'rufbus.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    made = CliRunner().invoke(cli, ["user", "create", "--name", "Otto", "--role", "operator",
                                    "--email", "Otto@Example.org"])
    assert made.exit_code == 0 and "API key" not in made.output, made.output
    first = CliRunner().invoke(cli, ["key", "rotate", "1", "--expires-in-days", "30"])
    second = CliRunner().invoke(cli, ["key", "rotate", "1"])
    assert first.exit_code == second.exit_code == 0, first.output
    old, new = first.output.strip().splitlines()[-1], second.output.strip().splitlines()[-1]
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            assert authenticate(session, old) is None
            assert authenticate(session, new).email == "otto@example.org"
            issued = start_session(session, session.get(User, 1), policy=TOKENS, now=datetime.now(UTC),
                                   provider="email")
        assert CliRunner().invoke(cli, ["user", "revoke", "1"]).exit_code == 0
        with Session(engine) as session:
            assert authenticate(session, new) is None
            assert session.get(AuthSession, issued.session_id).revoked_reason == "cli"
    finally:
        engine.dispose()
    CliRunner().invoke(cli, ["user", "create", "--name", "Ida", "--role", "rider",
                             "--email", "ida@example.org"])
    taken = CliRunner().invoke(cli, ["user", "email", "2", "otto@example.org"])
    assert taken.exit_code == 2 and "another user" in taken.output
    assert CliRunner().invoke(cli, ["key", "rotate", "99"]).exit_code == 2
