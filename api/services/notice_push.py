"""Riders' notices pushed to their booking streams the moment the change that made them commits.

A notice is a row: the rider's list (``GET /v1/rider/notices``) keeps it until read. Its push is only a
hint to an app that is open right now, so it does not go through the outbox: a push delivered minutes
later is no use, and claiming and marking it there cost two more writes per booking. Instead
:func:`api.services.notifications.notify` stages each notice's push in the change's session
(:func:`stage_push`), and when that transaction commits the engine's :class:`NoticePublisher` publishes
them on the live layer — never before the commit, and never for a change rolled back. A push the live
store cannot take (Redis away) is logged and dropped; the app reads the notice from the list when it opens
or reconnects.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session as OrmSession

from api.db.models import Notice
from api.services.notice_texts import NoticeTexts, language_of, notice_public

logger = logging.getLogger(__name__)

NOTICE_KIND = "notice"  # the kind of the live message a push publishes (api.routes.live passes it on)
_STAGED = "rufbus.notice_pushes"  # session.info key: the pushes of this transaction's notices

Push = Callable[[dict[str, Any]], None]  # publishes one live message to the riders' streams


@dataclass(frozen=True, slots=True)
class StagedPush:
    """A notice to push once its transaction commits (a detached copy: nothing is loaded after the
    commit), with the language the rider chose (None: the agency's)."""

    notice: Notice
    language: str | None


def stage_push(session: OrmSession, notice: Notice, language: str | None) -> None:
    """Push ``notice`` when ``session``'s transaction commits (nothing if it rolls back)."""
    copy = Notice(id=notice.id, user_id=notice.user_id, booking_id=notice.booking_id, kind=notice.kind,
                  data=dict(notice.data), created_at=notice.created_at)
    session.info.setdefault(_STAGED, []).append(StagedPush(copy, language))


@dataclass(frozen=True, slots=True)
class NoticePublisher:
    """Puts staged notices into the rider's words and publishes them through ``push``."""

    texts: NoticeTexts
    push: Push

    def publish(self, staged: list[StagedPush]) -> None:
        """Publish each of ``staged``; one the live store refuses is logged and dropped."""
        for item in staged:
            language = language_of(item.language, self.texts.agency_lang)
            notice = notice_public(item.notice, self.texts, language)
            try:
                self.push({"kind": NOTICE_KIND, "booking_id": notice.booking_id,
                           "notice": notice.model_dump(mode="json")})
            except (RedisError, OSError) as error:  # the live store is away: the notice waits in the list
                logger.warning("notice %s not pushed (%s); the rider's list has it", notice.id,
                               type(error).__name__)


_publishers: weakref.WeakKeyDictionary[Engine, NoticePublisher] = weakref.WeakKeyDictionary()


def publish_notices(engine: Engine, publisher: NoticePublisher) -> Callable[[], None]:
    """Publish the notices of every transaction on ``engine`` through ``publisher`` when it commits;
    returns the function that stops it."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
    _publishers[engine] = publisher

    def stop() -> None:
        if _publishers.get(engine) is publisher:
            del _publishers[engine]

    return stop


def _after_commit(session: OrmSession) -> None:
    staged = session.info.pop(_STAGED, None)
    if not staged:
        return
    bind = session.bind
    publisher = _publishers.get(getattr(bind, "engine", bind))  # type: ignore[arg-type]
    if publisher is not None:
        publisher.publish(staged)


def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_STAGED, None)
