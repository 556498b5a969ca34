"""A notice's push (api.services.notice_push) goes out when the change that made it commits, once, in the
rider's language — and not at all when the change is rolled back or the live store is away (the notice
stays in the rider's list)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import Engine
from sqlmodel import Session

from api.auth import create_user
from api.db.migrate import upgrade_database
from api.db.models import Notice, NoticeKind
from api.db.session import create_db_engine
from api.services.notice_push import NOTICE_KIND, NoticePublisher, publish_notices, stage_push
from tests.api.conftest import NOW
from tests.api.test_outbox import DATA, TEXTS


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'push.db'}"
    upgrade_database(url)
    made = create_db_engine(url)
    yield made
    made.dispose()


def change(engine: Engine, *, language: str | None, commit: bool) -> str:
    """A change that writes a confirmation notice for a new rider and stages its push; committed or
    rolled back. The notice's id."""
    with Session(engine) as session:
        rider, _ = create_user(session, name=f"r-{uuid.uuid4().hex[:6]}", role="rider")
        notice = Notice(id=uuid.uuid4().hex, user_id=rider.id or 0, booking_id="b-1",
                        kind=NoticeKind.BOOKING_CONFIRMED, data=dict(DATA), created_at=NOW)
        session.add(notice)
        stage_push(session, notice, language)
        if commit:
            session.commit()
        else:
            session.rollback()
        return notice.id


def test_a_push_goes_out_once_at_the_commit_in_the_riders_language(engine: Engine) -> None:
    published: list[dict[str, Any]] = []
    stop = publish_notices(engine, NoticePublisher(TEXTS, push=published.append))
    try:
        first = change(engine, language="en", commit=True)
        second = change(engine, language=None, commit=True)  # the agency's language: German
        with Session(engine) as session:
            session.get(Notice, first)
            session.commit()  # a later transaction publishes nothing again
    finally:
        stop()
    assert [m["notice"]["id"] for m in published] == [first, second]
    assert all(m["kind"] == NOTICE_KIND and m["booking_id"] == "b-1" for m in published)
    assert published[0]["notice"]["title"].startswith("Booking confirmed")
    assert published[1]["notice"]["title"].startswith("Buchung bestätigt")


def test_a_rolled_back_change_pushes_nothing_and_a_stopped_publisher_neither(engine: Engine) -> None:
    published: list[dict[str, Any]] = []
    stop = publish_notices(engine, NoticePublisher(TEXTS, push=published.append))
    change(engine, language="de", commit=False)
    assert published == []
    stop()
    change(engine, language="de", commit=True)
    assert published == []


def test_a_push_the_live_store_refuses_is_dropped_and_the_notice_kept(engine: Engine) -> None:
    def away(message: dict[str, Any]) -> None:
        raise RedisConnectionError("Redis is restarting")

    stop = publish_notices(engine, NoticePublisher(TEXTS, push=away))
    try:
        kept = change(engine, language="de", commit=True)
    finally:
        stop()
    with Session(engine) as session:
        assert session.get(Notice, kept) is not None
