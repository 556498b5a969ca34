"""Revocation takes effect at once: cached credentials are forgotten and open live streams are closed,
in this process and — through Redis pub/sub — in every other worker of the area.

A :class:`Revocation` names a user and what of theirs ended: one session, their API key (:data:`KEY`), or
everything (:data:`EVERYTHING`). :meth:`RevocationBoard.announce` applies it here and publishes it on
``rufbus:<area>:revocations``; each worker's listener applies what others publish. Each live stream
:meth:`~RevocationBoard.watch`-es its own credential and is told when it ends. Should a message be lost
(Redis down, or a revocation made by the ``rufbus`` command without ``REDIS_URL``), streams still re-check
their credential in the database every ``stream_recheck_s`` seconds, and cached credentials expire within
``auth_cache_s``: those are the bounds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass

import redis

from api.auth import KeyCache
from api.live.store import key_prefix

log = logging.getLogger(__name__)

KEY = "key"  # the scope of a revoked or rotated API key
EVERYTHING = "*"  # the scope of a user signed out everywhere (sessions and key)


@dataclass(frozen=True)
class Revocation:
    """What ended: ``scope`` is a session id, :data:`KEY` or :data:`EVERYTHING`, of user ``user_id``."""

    user_id: int
    scope: str

    def ends(self, user_id: int, scope: str) -> bool:
        """Whether a credential of ``user_id`` in ``scope`` (a session id or :data:`KEY`) ends with this."""
        return user_id == self.user_id and self.scope in (scope, EVERYTHING)


@dataclass(eq=False)
class Watch:
    """One open stream's credential and the event set when it is revoked."""

    user_id: int
    scope: str
    loop: asyncio.AbstractEventLoop
    ended: asyncio.Event


def channel(area: str) -> str:
    """The Redis channel revocations of ``area`` are published on."""
    return key_prefix(area) + "revocations"


class RevocationBoard:
    """This process's side of revocations: the key cache to clean, the streams to close, the channel."""

    def __init__(self, keys: KeyCache, *, redis_url: str | None = None, area: str = "default") -> None:
        self._keys = keys
        self._watches: set[Watch] = set()
        self._lock = threading.Lock()
        self._channel = channel(area)
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5) \
            if redis_url else None
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """With Redis, start listening to other workers' revocations (returns once subscribed, or 5 s)."""
        if self._redis is None:
            return
        self._thread = threading.Thread(target=self._listen, name="rufbus-revocations", daemon=True)
        self._thread.start()
        self._listening.wait(timeout=5)

    def stop(self) -> None:
        """Stop listening and close the Redis connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._redis is not None:
            self._redis.close()

    def watch(self, user_id: int, scope: str) -> Watch:
        """Watch the credential of an open stream (on the running loop) until :meth:`unwatch`."""
        watch = Watch(user_id, scope, asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._watches.add(watch)
        return watch

    def unwatch(self, watch: Watch) -> None:
        """Stop watching."""
        with self._lock:
            self._watches.discard(watch)

    def announce(self, revocation: Revocation) -> None:
        """Apply ``revocation`` here and tell the other workers (safe from any thread)."""
        self.apply(revocation)
        if self._redis is not None:
            try:
                self._redis.publish(self._channel, json.dumps({"user_id": revocation.user_id,
                                                                "scope": revocation.scope}))
            except redis.RedisError as error:
                log.warning("revocation not published (other workers notice at their re-check): %s", error)

    def apply(self, revocation: Revocation) -> None:
        """Forget the revoked credentials' cache entries and close this process's streams that used them."""
        self._keys.forget(revocation.user_id, revocation.scope)
        with self._lock:
            ended = [w for w in self._watches if revocation.ends(w.user_id, w.scope)]
        for watch in ended:
            try:
                watch.loop.call_soon_threadsafe(watch.ended.set)
            except RuntimeError:  # its loop is closed: the stream is gone
                self.unwatch(watch)

    def _listen(self) -> None:
        assert self._redis is not None
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self._listening.set()
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=0.5)
                    if item is not None and item["type"] == "message":
                        data = json.loads(item["data"])
                        self.apply(Revocation(int(data["user_id"]), str(data["scope"])))
            except (redis.ConnectionError, redis.TimeoutError) as error:
                log.warning("revocation listener lost Redis (%s); subscribing again", error)
                self._stop.wait(0.5)
            finally:
                pubsub.close()
