"""Fan-out of live messages to this process's subscribers (WebSocket connections).

Messages arrive on any thread (the publisher, the Redis listener); each subscriber is an asyncio queue
read on its event loop, fed with ``call_soon_threadsafe``. A subscriber that falls behind loses its
oldest messages, never blocks the others.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]
QUEUE_LIMIT = 256


@dataclass(eq=False)
class Subscription:
    """One subscriber: the messages it wants (``accepts``) and the queue they land in."""

    accepts: Callable[[Message], bool]
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def offer(self, message: Message) -> None:
        """Queue ``message`` on the subscriber's loop (call from that loop)."""
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest: the newest route or position matters most
        self.queue.put_nowait(message)


class Hub:
    """The set of this process's subscribers."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, accepts: Callable[[Message], bool]) -> Subscription:
        """A new subscription on the running event loop for messages ``accepts`` lets through."""
        subscription = Subscription(accepts, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription``."""
        with self._lock:
            self._subscriptions.discard(subscription)

    def deliver(self, message: Message) -> None:
        """Hand ``message`` to every subscriber that wants it; safe from any thread."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            if subscription.accepts(message):
                try:
                    subscription.loop.call_soon_threadsafe(subscription.offer, message)
                except RuntimeError:  # its loop is closed: the connection is gone
                    self.unsubscribe(subscription)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscriptions)
