"""Riders' notices and notification settings, and the operators' view of the outbox. Handlers parse,
authorise, call :mod:`api.services.notifications` or :mod:`api.services.outbox` and serialise.

Notices and settings are a rider's own (operators and drivers 403, a missing or invalid key 401; another
rider's notice answers 404 like an unknown one). New notices are also pushed on the rider's booking stream
(``/v1/bookings/{id}/stream``, message kind ``notice``). The outbox view, and sending a failed e-mail
again, are the operators' alone.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api.db.models import ID_LENGTH, User, UserRole
from api.deps import DispatchDep, Operator, SessionDep, SettingsDep, require_role
from api.routes.operator import AUTH_ERRORS as OPERATOR_ERRORS
from api.routes.rider import MAX_ROW_NUMBER
from api.schemas import (
    ErrorPublic,
    NoticePublic,
    NoticesPage,
    NotificationSettingsBody,
    NotificationSettingsPublic,
    OutboxPublic,
    OutboxRetried,
    Responses,
)
from api.services import notifications as service
from api.services.notice_texts import NoticeTexts
from api.services.outbox import outbox_overview, retry_failed

rider_router = APIRouter(prefix="/v1/rider", tags=["rider"])
operator_router = APIRouter(prefix="/v1/operator", tags=["operator"])

Rider = Annotated[User, Depends(require_role(UserRole.RIDER))]
MAX_MESSAGE_ID = 2**63 - 1  # outbox ids are 64-bit: a larger one is 422, not a database error
AUTH_ERRORS: Responses = {401: {"model": ErrorPublic, "description": "no valid API key"},
                          403: {"model": ErrorPublic, "description": "not a rider"},
                          422: {"model": ErrorPublic}}


@rider_router.get("/notices", responses=AUTH_ERRORS)
def list_notices(user: Rider, live: DispatchDep, session: SessionDep, settings: SettingsDep,
                 unread: Annotated[bool, Query(description="only the notices not yet read")] = False,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20,
                 offset: Annotated[int, Query(ge=0, le=MAX_ROW_NUMBER)] = 0) -> NoticesPage:
    """Your notices (booking confirmed, pickup time changed, ride cancelled by the service), newest first,
    in your language, with how many are unread."""
    return service.list_notices(session, user=user, texts=NoticeTexts.of(settings, live.clock.zone),
                                unread_only=unread, limit=limit, offset=offset)


@rider_router.post("/notices/{notice_id}/read",
                   responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "unknown_notice"}})
def mark_notice_read(notice_id: Annotated[str, Path(max_length=ID_LENGTH)], user: Rider, live: DispatchDep,
                     session: SessionDep, settings: SettingsDep) -> NoticePublic:
    """Mark one of your notices read."""
    return service.mark_read(session, user=user, texts=NoticeTexts.of(settings, live.clock.zone),
                             notice_id=notice_id, now=live.clock.now_datetime())


@rider_router.get("/notification-settings", responses=AUTH_ERRORS)
def read_notification_settings(user: Rider, session: SessionDep) -> NotificationSettingsPublic:
    """Your language for notices and mails, the e-mails you want, and whether an address is on file."""
    return service.read_settings(session, user=user)


@rider_router.put("/notification-settings", responses=AUTH_ERRORS)
def change_notification_settings(body: NotificationSettingsBody, user: Rider, session: SessionDep
                                 ) -> NotificationSettingsPublic:
    """Choose the language of notices and mails (null: the agency's) and which e-mails you want."""
    return service.change_settings(session, user=user, body=body)


@operator_router.get("/outbox", responses={**OPERATOR_ERRORS, 422: {"model": ErrorPublic}})
def read_outbox(user: Operator, live: DispatchDep, session: SessionDep,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> OutboxPublic:
    """Riders' notification messages by status (pending, sending, sent, failed), and the newest failed
    ones with their last error."""
    return outbox_overview(session, zone=live.clock.zone, limit=limit)


@operator_router.post("/outbox/{message_id}/retry",
                      responses={**OPERATOR_ERRORS, 422: {"model": ErrorPublic},
                                 404: {"model": ErrorPublic, "description": "unknown_message"},
                                 409: {"model": ErrorPublic, "description": "not_failed"}})
def retry_outbox_message(message_id: Annotated[int, Path(ge=1, le=MAX_MESSAGE_ID)], user: Operator,
                         live: DispatchDep, session: SessionDep) -> OutboxRetried:
    """Send a failed message again (once the mail server is mended): it is queued, due now, with a fresh
    round of attempts."""
    return retry_failed(session, message_id=message_id, now=live.clock.now_datetime(), zone=live.clock.zone)
