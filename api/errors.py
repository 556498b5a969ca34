"""The one place where errors become HTTP answers.

Every error answer has the body ``{"code": ..., "message": ...}`` (plus ``detail`` for validation
errors and ``alternatives`` for refused requests):

| error | status | code |
|---|---|---|
| no valid access token or API key, a wrong code [6] (:class:`Unauthenticated`) | 401 | ``unauthenticated`` |
| the user's role may not do this (:class:`Forbidden`) | 403 | ``forbidden`` |
| body, header, path or query invalid [4], malformed JSON | 422 | ``invalid_request`` / ``malformed_json`` |
| request body over :data:`MAX_BODY_BYTES` (:class:`BodySizeLimit`) | 413 | ``body_too_large`` |
| :class:`InvalidRequest` [1] | 422 | its code (``invalid_rules`` with ``detail``: the problems) |
| a depot or bus position outside the service area (trips there are refused: 409) | 422 | ``outside_area`` |
| a depot or bus position too far from any road (trips there are refused: 409) | 422 | ``off_road`` |
| :class:`RequestRefused` [2] | 409 | the rejection cause |
| :class:`NotFound`, DispatchError ``unknown_*`` | 404 | e.g. ``unknown_booking``, ``unknown_offer`` |
| :class:`Conflict`, any other DispatchError (``not_cancellable``, …) [5] | 409 | its code |
| a manual change refused (:class:`~dispatch.manual.ControlRefused`) | 409 | the rule, with ``bookings`` |
| :class:`TooManyRequests` (a rate limit, :mod:`api.rate_limits`) | 429 | ``rate_limited``, ``Retry-After`` |
| DuplicateIdempotencyKey | 409 | ``duplicate_idempotency_key`` |
| any other PersistenceError | 503 | its code |
| :class:`Unavailable` (e.g. sign-in codes without a mail server) | 503 | its code (``mail_unavailable``) |
| the database is unreachable or refuses to write [3] | 503 | ``database_unavailable`` (logged; retry later) |
| anything unexpected | 500 | ``internal_error`` (logged) |

[1] A valid body that still cannot be served as asked, e.g. rules that contradict each other.
[2] No offer (a trip outside the area or off the roads, outside hours, no bus in time, …), or the offer
    expired or is no longer feasible.
[3] Connection lost, locked, read-only.
[4] Including NaN and Infinity, times outside the years 2000–2100 and control characters (NUL …) in ids,
    names and URLs (:class:`ControlCharacterGuard`); ``detail`` says where and what, never echoes the input.
[5] Including a fair-use cap (``too_many_open_bookings``, ``too_many_seats_in_slot``,
    :mod:`api.services.fair_use`): the booking conflicts with what the rider holds, and waiting does not
    help until a trip ends or is cancelled — so 409, not 429 with a ``Retry-After`` that could not be kept.
[6] Unknown, expired or revoked credentials, an inactive user, a wrong, used up or expired code or refresh
    token (:mod:`api.accounts`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from api.busy_retry import mark_contended
from api.db.repository import DuplicateIdempotencyKey, PersistenceError
from dispatch.dispatcher import DispatchError
from dispatch.manual import ControlRefused
from dispatch.model import Rejection
from routing.errors import OutsideServiceAreaError, SnapError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # the largest body any endpoint takes (a detailed service area) is far smaller


class ServiceError(Exception):
    """An error of the service layer with a machine-readable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Unauthenticated(ServiceError):
    """No valid credentials; answered with ``WWW-Authenticate: Bearer``."""

    def __init__(self, message: str = "send a valid access token or API key: Authorization: Bearer <token>"
                 ) -> None:
        super().__init__("unauthenticated", message)


class Forbidden(ServiceError):
    """The authenticated user's role may not do this."""

    def __init__(self, message: str) -> None:
        super().__init__("forbidden", message)


class InvalidRequest(ServiceError):
    """The request is well-formed but incomplete or contradictory (e.g. a parameter it needs is missing);
    ``detail`` lists the problems when there are several (e.g. ``invalid_rules``)."""

    def __init__(self, code: str, message: str, detail: list[str] | None = None) -> None:
        super().__init__(code, message)
        self.detail = detail


class NotFound(ServiceError):
    """The thing asked for does not exist."""


class Conflict(ServiceError):
    """The request contradicts the state of the thing it concerns."""


class RequestRefused(ServiceError):
    """The dispatcher refused the request; ``code`` is the rejection cause."""

    def __init__(self, rejection: Rejection, alternatives: tuple[datetime, ...] = ()) -> None:
        super().__init__(rejection.cause.value, rejection.message)
        self.alternatives = alternatives


class Unavailable(ServiceError):
    """A part the request needs is not configured or not reachable (e.g. no mail server for codes)."""


class TooManyRequests(ServiceError):
    """Too many requests of one kind from one account or address; ``retry_after_s``: when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__("rate_limited", message)
        self.retry_after_s = retry_after_s


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                   **extra: object) -> JSONResponse:
    """A JSON error answer."""
    body = {"code": code, "message": message, **extra}
    return JSONResponse(status_code=status, content=jsonable_encoder(body), headers=headers)


def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
    # Each problem as where (``loc``), what (``type``) and a message; never the input itself, which may be
    # a number JSON cannot encode (NaN, Infinity) or text not worth echoing.
    errors = [{"type": str(e.get("type", "")), "loc": [str(part) if not isinstance(part, int) else part
                                                      for part in e.get("loc", ())],
               "msg": str(e.get("msg", ""))} for e in error.errors()]
    if any(e["type"] == "json_invalid" for e in errors):
        return error_response(422, "malformed_json", "the request body is not valid JSON", detail=errors)
    return error_response(422, "invalid_request", "the request is not valid; see detail", detail=errors)


def _outside_area(_: Request, error: OutsideServiceAreaError) -> JSONResponse:
    return error_response(422, "outside_area", str(error))


def _off_road(_: Request, error: SnapError) -> JSONResponse:
    return error_response(422, "off_road", str(error))


def _unauthenticated(_: Request, error: Unauthenticated) -> JSONResponse:
    return error_response(401, error.code, error.message, headers={"WWW-Authenticate": "Bearer"})


def _forbidden(_: Request, error: Forbidden) -> JSONResponse:
    return error_response(403, error.code, error.message)


def _refused(_: Request, error: RequestRefused) -> JSONResponse:
    return error_response(409, error.code, error.message, alternatives=list(error.alternatives))


def _too_many(_: Request, error: TooManyRequests) -> JSONResponse:
    return error_response(429, error.code, error.message, headers={"Retry-After": str(error.retry_after_s)})


def _invalid(_: Request, error: InvalidRequest) -> JSONResponse:
    if error.detail is not None:
        return error_response(422, error.code, error.message, detail=error.detail)
    return error_response(422, error.code, error.message)


def _not_found(_: Request, error: NotFound) -> JSONResponse:
    return error_response(404, error.code, error.message)


def _conflict(_: Request, error: Conflict) -> JSONResponse:
    return error_response(409, error.code, error.message)


def _dispatch(_: Request, error: DispatchError) -> JSONResponse:
    status = 404 if error.code.startswith("unknown_") else 409
    if isinstance(error, ControlRefused):
        return error_response(status, error.code, error.message, bookings=list(error.bookings))
    return error_response(status, error.code, error.message)


def _unavailable(_: Request, error: Unavailable) -> JSONResponse:
    return error_response(503, error.code, error.message)


def _persistence(_: Request, error: PersistenceError) -> JSONResponse:
    status = 409 if isinstance(error, DuplicateIdempotencyKey) else 503
    return error_response(status, error.code, error.message)


# WebSocket close codes of a stream that failed before it could send anything (RFC 6455, 7.4.1)
STREAM_TRY_AGAIN, STREAM_INTERNAL_ERROR = 1013, 1011


def _database_unavailable(request: Request, error: OperationalError | InterfaceError) -> JSONResponse:
    if "database is locked" in str(error.orig):  # SQLite, lock contention: api.busy_retry runs it again
        mark_contended(request.state)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    return error_response(503, "database_unavailable",
                          "the database is unavailable; nothing was changed, try again shortly",
                          headers={"Retry-After": "5"})


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


class BodySizeLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 ``body_too_large`` before any
    handler sees it — at once when ``Content-Length`` says so, else while the body arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit():
            if int(length) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:  # no length given: read the body (up to the limit) before the handler runs
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = error_response(413, "body_too_large",
                                f"the request body is larger than {self.max_bytes:,} bytes")
        await answer(scope, receive, send)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class ControlCharacterGuard:
    """ASGI middleware: a path or query string with a control character once decoded (``%00`` …) is
    answered 422 ``invalid_request`` (a WebSocket is refused) before any handler sees it — no id or name
    with one exists, and PostgreSQL cannot even compare text with NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._has_control_character(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            answer = error_response(422, "invalid_request", "the URL contains a control character")
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _has_control_character(scope: Scope) -> bool:
        query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
        return bool(CONTROL_CHARACTERS.search(scope.get("path", "")) or CONTROL_CHARACTERS.search(query))


Handler = Callable[[Any, Any], JSONResponse]


def _also_for_streams(handler: Handler) -> Callable[[HTTPConnection, Exception], Any]:
    """``handler`` for HTTP requests; a WebSocket that fails with the same error is closed instead (an
    HTTP answer cannot go down a WebSocket): 1013 "try again later" when the database is unavailable, 1011
    otherwise, accepted first if it was not yet so that the client sees the code."""

    async def handle(connection: HTTPConnection, error: Exception) -> JSONResponse | None:
        if not isinstance(connection, WebSocket):
            return handler(connection, error)
        unavailable = isinstance(error, OperationalError | InterfaceError)
        if unavailable:
            log.warning("database unavailable on the stream %s: %s", connection.url.path, error)
        else:
            log.error("stream %s failed: %s: %s", connection.url.path, type(error).__name__, error)
        if connection.client_state is WebSocketState.CONNECTING:
            await connection.accept()
        if connection.client_state is WebSocketState.CONNECTED:
            await connection.close(STREAM_TRY_AGAIN if unavailable else STREAM_INTERNAL_ERROR)
        return None

    return handle


def install_error_handlers(app: FastAPI) -> None:
    """Register every mapping above on ``app`` (for WebSockets too), the body size limit and the URL
    guard."""
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(ControlCharacterGuard)
    app.add_exception_handler(RequestValidationError, _also_for_streams(_validation))
    app.add_exception_handler(OutsideServiceAreaError, _also_for_streams(_outside_area))
    app.add_exception_handler(SnapError, _also_for_streams(_off_road))
    app.add_exception_handler(Unauthenticated, _also_for_streams(_unauthenticated))
    app.add_exception_handler(Forbidden, _also_for_streams(_forbidden))
    app.add_exception_handler(RequestRefused, _also_for_streams(_refused))
    app.add_exception_handler(TooManyRequests, _also_for_streams(_too_many))
    app.add_exception_handler(InvalidRequest, _also_for_streams(_invalid))
    app.add_exception_handler(NotFound, _also_for_streams(_not_found))
    app.add_exception_handler(Conflict, _also_for_streams(_conflict))
    app.add_exception_handler(DispatchError, _also_for_streams(_dispatch))
    app.add_exception_handler(Unavailable, _also_for_streams(_unavailable))
    app.add_exception_handler(PersistenceError, _also_for_streams(_persistence))
    app.add_exception_handler(OperationalError, _also_for_streams(_database_unavailable))
    app.add_exception_handler(InterfaceError, _also_for_streams(_database_unavailable))
    app.add_exception_handler(Exception, _unexpected)
