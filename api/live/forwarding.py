"""Forwarding: a worker that does not dispatch passes every ``/v1/`` HTTP request to the one that does.

The follower puts the whole request (method, path, query, headers, body) as JSON on the Redis list
``rufbus:<area>:requests`` and waits for the answer on a list of its own. The dispatching worker takes
requests off that list, runs each through its own application — authentication, validation and all —
and pushes the answer back. So every worker answers every endpoint, and all of them act on one plan.

Requests another worker may serve without the plan (health, documentation, the live WebSocket streams)
are not forwarded. A request nobody answers within ``forward_timeout_s`` (no dispatcher during a
take-over) gets 503 ``dispatcher_unavailable`` with ``Retry-After``; retrying a booking with the same
``Idempotency-Key`` is safe. A request whose waiting client gave up is dropped unexecuted. The
dispatcher sees the follower's client address as the request's client (limits per address).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from api.live.store import key_prefix

logger = logging.getLogger(__name__)

FORWARDED_HEADER = "x-rufbus-forwarded"
CLIENT_HEADER = "x-rufbus-client"  # the follower's client address, set by the dispatcher's side only
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", FORWARDED_HEADER, CLIENT_HEADER}
MAX_BODY_BYTES = 1 << 20
REPLY_TTL_S = 60


# Under /v1/ but answered by every worker alone: read-only data that does not depend on the plan (stops,
# the place search), and the accounts (sign-in, sessions, stream tickets: the database and Redis, never
# the plan).
LOCAL_PREFIXES = ("/v1/stops", "/v1/places", "/v1/me", "/v1/auth/")


def forwardable(scope: Scope) -> bool:
    """Whether this request acts on the plan and so must reach the dispatcher."""
    path: str = scope["path"]
    return (
        scope["type"] == "http"
        and path.startswith("/v1/")
        and not path.endswith("/stream")
        and not path.startswith(LOCAL_PREFIXES)
    )


class Forwarder:
    """Both sides of forwarding for one worker: :meth:`forward` (as follower) and :meth:`serve`
    (as dispatcher, a task that runs while the worker lives)."""

    def __init__(self, client: aioredis.Redis, area: str, timeout_s: float) -> None:
        self._redis, self._timeout_s = client, timeout_s
        self._queue = key_prefix(area) + "requests"
        self._replies = key_prefix(area) + "reply:"

    async def forward(self, envelope: dict[str, Any]) -> dict[str, Any] | None:
        """Send ``envelope`` to the dispatcher and wait for its answer (None: no answer in time)."""
        request_id = uuid.uuid4().hex
        envelope = {**envelope, "id": request_id, "deadline": time.time() + self._timeout_s}
        await self._redis.rpush(self._queue, json.dumps(envelope))
        reply = await self._redis.blpop([self._replies + request_id], timeout=self._timeout_s)
        return json.loads(reply[1]) if reply else None

    async def serve(self, app: ASGIApp, is_leader: Callable[[], bool]) -> None:
        """While this worker dispatches, run the forwarded requests through ``app``; runs until cancelled."""
        transport = httpx.ASGITransport(app=_with_client_address(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://dispatcher") as client:
            pending: set[asyncio.Task[None]] = set()
            while True:
                if not is_leader():
                    await asyncio.sleep(0.05)
                    continue
                try:
                    item = await self._redis.blpop([self._queue], timeout=0.5)
                except (RedisError, OSError) as error:  # Redis restarting: wait for it
                    logger.warning("forwarding: Redis unavailable (%s)", error)
                    await asyncio.sleep(0.5)
                    continue
                if item is None:
                    continue
                task = asyncio.create_task(self._answer(client, json.loads(item[1])))
                pending.add(task)
                task.add_done_callback(pending.discard)

    async def _answer(self, client: httpx.AsyncClient, envelope: dict[str, Any]) -> None:
        if envelope["deadline"] < time.time():
            return  # its client gave up; do not act on it
        headers = [(k, v) for k, v in envelope["headers"] if k.lower() not in HOP_HEADERS]
        headers.append((FORWARDED_HEADER, "1"))
        if envelope.get("client"):
            headers.append((CLIENT_HEADER, envelope["client"]))
        try:
            response = await client.request(
                envelope["method"],
                envelope["path"],
                params=envelope["query"] or None,
                headers=headers,
                content=base64.b64decode(envelope["body"]),
            )
            reply = {
                "status": response.status_code,
                "headers": [
                    (k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_HEADERS
                ],
                "body": base64.b64encode(response.content).decode(),
            }
        except Exception:
            logger.exception("forwarded %s %s failed", envelope["method"], envelope["path"])
            return
        key = self._replies + envelope["id"]
        await self._redis.rpush(key, json.dumps(reply))
        await self._redis.expire(key, REPLY_TTL_S)


class ForwardToDispatcher:
    """ASGI middleware: on a worker that does not dispatch, forwardable requests go to the dispatcher."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        layer = getattr(scope["app"].state, "live", None) if "app" in scope else None
        if layer is None or layer.forwarder is None or not forwardable(scope) or layer.is_leader:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        if FORWARDED_HEADER in headers:  # sent to us as dispatcher, but we no longer are
            await _send(scope, receive, send, _unavailable("this worker stopped dispatching"))
            return
        body = await _read_body(receive)
        if body is None:
            await _send(
                scope,
                receive,
                send,
                error_response(413, "body_too_large", f"the request body exceeds {MAX_BODY_BYTES} bytes"),
            )
            return
        envelope = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            "body": base64.b64encode(body).decode(),
            "client": scope["client"][0] if scope.get("client") else None,
        }
        try:
            reply = await layer.forwarder.forward(envelope)
        except (RedisError, OSError, ValueError) as error:  # Redis away, or a garbled reply
            logger.warning("forwarding failed: %s", error)
            reply = None
        if reply is None:
            await _send(scope, receive, send, _unavailable("no dispatcher answered in time"))
            return
        await send(
            {
                "type": "http.response.start",
                "status": reply["status"],
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply["headers"]],
            }
        )
        await send({"type": "http.response.body", "body": base64.b64decode(reply["body"])})


def _with_client_address(app: ASGIApp) -> ASGIApp:
    """``app`` as the dispatcher runs forwarded requests through it: the client address is the one the
    follower saw (:data:`CLIENT_HEADER`, which the dispatcher sets and a client cannot), so that limits per
    address (:mod:`api.rate_limits`) count the client, not the forwarding worker."""

    async def run(scope: Scope, receive: Receive, send: Send) -> None:
        name = CLIENT_HEADER.encode("latin-1")
        address = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == name), None)
        if address is not None:
            scope = {**scope, "client": (address, 0),
                     "headers": [(k, v) for k, v in scope["headers"] if k != name]}
        await app(scope, receive, send)

    return run


def _unavailable(why: str) -> Any:
    """503 ``dispatcher_unavailable`` with ``Retry-After``: the request was not acted on."""
    return error_response(503, "dispatcher_unavailable", f"{why}; retry the request",
                          headers={"Retry-After": "1"})


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(scope: Scope, receive: Receive, send: Send, response: Any) -> None:
    await response(scope, receive, send)
