"""The live state of a service area and the channels its domain events are published on.

Two kinds with one interface (:class:`LiveStore`): :class:`MemoryLiveStore` for a single process (no
Redis needed) and :class:`RedisLiveStore` when several workers share one Redis (``REDIS_URL``). Redis
keys and channels all start with ``rufbus:<area>:``:

- ``plan_version``: a counter raised with every change of the plan;
- ``routes``: hash, bus id → its latest route as drivers see it (JSON);
- ``positions``: hash, bus id → its latest reported position (JSON);
- ``booking:<id>``: a booking's latest live view (JSON, kept two days);
- channels ``events:<kind>``, one per :class:`dispatch.events.EventKind`, carrying each event as JSON.

Every worker listens to all event channels (:class:`RedisListener`) and hands the messages to its own
:class:`~api.live.hub.Hub`; in memory, publishing hands them to the hub directly. The database stays
the source of truth: all of this can be lost (a Redis restart) and is rebuilt by the next dispatcher.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import orjson
import redis

from api.live.hub import Hub, Message

logger = logging.getLogger(__name__)

BOOKING_TTL_S = 2 * 24 * 3600
MEMORY_BOOKINGS = 20_000  # booking views a single process keeps (the oldest go first)


class LiveStore(Protocol):
    """Live state and event channels of one service area."""

    def next_plan_version(self) -> int:
        """Raise the plan version and return the new value."""

    def plan_version(self) -> int:
        """The current plan version (0 before the first change)."""

    def put_route(self, vehicle_id: str, render: Callable[[], dict[str, Any]]) -> None:
        """Keep the route ``render`` makes as the latest route of ``vehicle_id`` (a store may call it only
        when the route is first read: drawing a route's roads is the costly part of a plan change)."""

    def route(self, vehicle_id: str) -> dict[str, Any] | None:
        """The latest route of ``vehicle_id``, if any was kept."""

    def has_listeners(self) -> bool:
        """Whether a published message may reach anyone (if not, it need not be made)."""

    def put_position(self, vehicle_id: str, position: dict[str, Any]) -> None:
        """Keep ``position`` as where ``vehicle_id`` was last seen."""

    def positions(self) -> dict[str, dict[str, Any]]:
        """The latest position of every bus that reported one."""

    def put_booking(self, booking_id: str, view: dict[str, Any]) -> None:
        """Keep ``view`` as the latest live view of ``booking_id``."""

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        """The latest live view of ``booking_id``, if any was kept."""

    def publish(self, kind: str, message: Message) -> None:
        """Publish ``message`` on the channel of event kind ``kind``."""


class MemoryLiveStore:
    """The live state of a single-process service; publishing delivers to ``hub`` at once."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._lock = threading.Lock()
        self._version = 0
        self._routes: dict[str, Callable[[], dict[str, Any]]] = {}
        self._positions: dict[str, dict[str, Any]] = {}
        self._bookings: dict[str, dict[str, Any]] = {}

    def next_plan_version(self) -> int:
        with self._lock:
            self._version += 1
            return self._version

    def plan_version(self) -> int:
        return self._version

    def put_route(self, vehicle_id: str, render: Callable[[], dict[str, Any]]) -> None:
        self._routes[vehicle_id] = render  # drawn when read: most routes are replaced before anyone asks

    def route(self, vehicle_id: str) -> dict[str, Any] | None:
        render = self._routes.get(vehicle_id)
        return render() if render is not None else None

    def has_listeners(self) -> bool:
        return len(self._hub) > 0

    def put_position(self, vehicle_id: str, position: dict[str, Any]) -> None:
        self._positions[vehicle_id] = position

    def positions(self) -> dict[str, dict[str, Any]]:
        return dict(self._positions)

    def put_booking(self, booking_id: str, view: dict[str, Any]) -> None:
        with self._lock:
            self._bookings.pop(booking_id, None)
            self._bookings[booking_id] = view
            if len(self._bookings) > MEMORY_BOOKINGS:
                del self._bookings[next(iter(self._bookings))]

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        return self._bookings.get(booking_id)

    def publish(self, kind: str, message: Message) -> None:
        self._hub.deliver(message)


def key_prefix(area: str) -> str:
    """The prefix of every Redis key and channel of ``area``."""
    return f"rufbus:{area}:"


class RedisLiveStore:
    """The live state in Redis, shared by every worker of ``area``."""

    def __init__(self, client: redis.Redis, area: str) -> None:
        self._redis = client
        self._prefix = key_prefix(area)

    def next_plan_version(self) -> int:
        return int(self._redis.incr(self._prefix + "plan_version"))

    def plan_version(self) -> int:
        return int(self._redis.get(self._prefix + "plan_version") or 0)

    def put_route(self, vehicle_id: str, render: Callable[[], dict[str, Any]]) -> None:
        self._redis.hset(self._prefix + "routes", vehicle_id, orjson.dumps(render()))

    def route(self, vehicle_id: str) -> dict[str, Any] | None:
        raw = self._redis.hget(self._prefix + "routes", vehicle_id)
        return json.loads(raw) if raw else None

    def put_position(self, vehicle_id: str, position: dict[str, Any]) -> None:
        self._redis.hset(self._prefix + "positions", vehicle_id, json.dumps(position))

    def positions(self) -> dict[str, dict[str, Any]]:
        raw = self._redis.hgetall(self._prefix + "positions")
        return {_text(k): json.loads(v) for k, v in raw.items()}

    def put_booking(self, booking_id: str, view: dict[str, Any]) -> None:
        self._redis.set(self._prefix + "booking:" + booking_id, json.dumps(view), ex=BOOKING_TTL_S)

    def booking(self, booking_id: str) -> dict[str, Any] | None:
        raw = self._redis.get(self._prefix + "booking:" + booking_id)
        return json.loads(raw) if raw else None

    def has_listeners(self) -> bool:
        return True  # another worker's sockets may want it

    def publish(self, kind: str, message: Message) -> None:
        self._redis.publish(self._prefix + "events:" + kind, orjson.dumps(message))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisListener:
    """A thread that receives every event channel of ``area`` and hands the messages to ``hub``; after a
    lost connection (Redis restarted) it subscribes again."""

    def __init__(self, client: redis.Redis, area: str, hub: Hub) -> None:
        self._redis, self._hub = client, hub
        self._pattern = key_prefix(area) + "events:*"
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-live-listener", daemon=True)

    def start(self) -> None:
        """Start listening; returns once subscribed (or after 5 s)."""
        self._thread.start()
        self._subscribed.wait(timeout=5)

    def stop(self) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(self._pattern)
                self._subscribed.set()
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=0.5)
                    if item is not None and item["type"] == "pmessage":
                        self._hub.deliver(json.loads(item["data"]))
            except (redis.ConnectionError, redis.TimeoutError) as error:
                logger.warning("live listener lost Redis (%s); subscribing again", error)
                self._stop.wait(0.5)
            finally:
                pubsub.close()
