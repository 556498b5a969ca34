"""Fencing (api.live.fencing) on SQLite and PostgreSQL: once another worker has raised an area's epoch,
a write by the worker that held it before does not commit, and leaves nothing behind."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from api.db.models import DispatcherLease, Event
from api.live.fencing import Fence, LeaseLost, install_fencing
from dispatch.events import EventKind

PREFIX = "fence-test-"


@pytest.fixture
def engine(engine: Engine) -> Iterator[Engine]:
    """The shared test database; the events and lease rows these tests commit are deleted afterwards."""
    install_fencing()
    yield engine
    with Session(engine) as session:
        session.execute(delete(Event).where(col(Event.actor).startswith(PREFIX)))
        session.execute(delete(DispatcherLease).where(col(DispatcherLease.area).startswith(PREFIX)))
        session.commit()


def write_event(engine: Engine, fence: Fence, actor: str) -> None:
    """Commit one event in a session that carries ``fence``."""
    with Session(engine) as session:
        session.info["fence"] = fence
        session.add(
            Event(time=datetime(2026, 11, 23, 8, tzinfo=UTC), kind=EventKind.RULES_CHANGED, actor=actor)
        )
        session.commit()


def events_by(engine: Engine, actor: str) -> int:
    """How many events ``actor`` wrote."""
    with Session(engine) as session:
        return len(session.exec(select(Event).where(Event.actor == actor)).all())


def test_the_old_holder_cannot_commit_after_a_take_over(engine):
    """Worker A raises the epoch and writes; worker B takes over (epoch + 1); A's next write fails with
    LeaseLost and is not in the database, while B's commits."""
    area, tag = f"{PREFIX}{secrets.token_hex(3)}", PREFIX + secrets.token_hex(4)
    first, second = Fence(engine, area, "A"), Fence(engine, area, "B")
    assert first.raise_epoch() == 1
    write_event(engine, first, f"{tag}-A")
    assert second.raise_epoch() == 2
    with pytest.raises(LeaseLost):
        write_event(engine, first, f"{tag}-A-late")
    write_event(engine, second, f"{tag}-B")
    assert (
        events_by(engine, f"{tag}-A"),
        events_by(engine, f"{tag}-A-late"),
        events_by(engine, f"{tag}-B"),
    ) == (1, 0, 1)


def test_a_revoked_fence_refuses_writes(engine):
    """A worker whose lease ran out (revoke) cannot write even before anyone else takes over."""
    fence = Fence(engine, f"{PREFIX}{secrets.token_hex(3)}", "A")
    fence.raise_epoch()
    fence.revoke()
    tag = PREFIX + secrets.token_hex(4)
    with pytest.raises(LeaseLost):
        write_event(engine, fence, tag)
    assert events_by(engine, tag) == 0
