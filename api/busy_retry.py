"""Requests the embedded SQLite database refused for lock contention are run again.

SQLite lets one writer in at a time. A transaction that read first and then writes is refused at once
("database is locked", ``SQLITE_BUSY_SNAPSHOT``) when another connection committed in between — with the
service's background writers (the outbox sender, the recurring-trip booker, operators' simulation jobs,
sign-ins) that happens under ordinary load, and waiting does not help: only starting again does. The
error handler (:func:`api.errors.install_error_handlers`) rolls everything back — the session and, in the
unit of work, the plan — answers 503 ``database_unavailable`` and marks the request as refused for
contention; :class:`RetryLockedDatabase` then drops that answer and runs the request again with the same
body, a few times, before letting the 503 through. PostgreSQL waits for row locks instead and is never
retried here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENDED = "database_contended"  # the request state's flag, set by the error handler


def mark_contended(state: Any) -> None:
    """Mark the request whose ``request.state`` this is as refused by SQLite for lock contention."""
    setattr(state, CONTENDED, True)


class RetryLockedDatabase:
    """ASGI middleware: run an HTTP request again (up to ``attempts`` times in all, pausing a little
    longer each time) while SQLite refuses it for lock contention; every other answer passes through."""

    def __init__(self, app: ASGIApp, attempts: int = 4, pause_s: float = 0.05) -> None:
        self.app = app
        self.attempts = attempts
        self.pause_s = pause_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for attempt in range(self.attempts):
            state: dict[str, Any] = scope.setdefault("state", {})
            state.pop(CONTENDED, None)
            held = await self._attempt(scope, _replay(body, receive), send, state,
                                       last=attempt == self.attempts - 1)
            if not held:
                return
            await asyncio.sleep(self.pause_s * (attempt + 1))

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any], *,
                       last: bool) -> bool:
        """Run the request once; whether its answer was held back to run it again."""
        held = False

        async def send_unless_contended(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and not last and state.get(CONTENDED):
                held = True
            if not held:
                await send(message)

        await self.app(scope, receive, send_unless_contended)
        return held


async def _read_body(receive: Receive) -> list[Message]:
    """The request's body messages, all of them (bodies are capped by :class:`api.errors.BodySizeLimit`)."""
    messages = [await receive()]
    while messages[-1]["type"] == "http.request" and messages[-1].get("more_body", False):
        messages.append(await receive())
    return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body again, then waits on the real one (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
