"""The live layer as the app uses it: built at start (:meth:`LiveLayer.start`), stopped at shutdown.

Without ``REDIS_URL`` the process is its own dispatcher and messages go from the publisher straight to
its WebSocket connections. With ``REDIS_URL`` every worker joins the election for the area's dispatcher
lease, listens to the area's event channels, keeps the live state in Redis, fences its database writes,
and forwards plan requests to the dispatcher while it is not the one (see the package docstring).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import redis
import redis.asyncio as aioredis
from sqlalchemy import Engine
from starlette.types import ASGIApp

from api.live.fencing import Fence, install_fencing
from api.live.forwarding import Forwarder
from api.live.hub import Hub
from api.live.lease import DispatcherLease
from api.live.publisher import LivePublisher
from api.live.store import LiveStore, MemoryLiveStore, RedisListener, RedisLiveStore, key_prefix
from api.services.live_plan import LiveDispatch
from api.settings import Settings
from dispatch.dispatcher import Dispatcher
from dispatch.events import DomainEvent, EventKind

logger = logging.getLogger(__name__)


@dataclass
class LiveLayer:
    """The parts of the live layer of one worker."""

    live: LiveDispatch
    hub: Hub
    store: LiveStore
    publisher: LivePublisher
    worker_id: str
    lease: DispatcherLease | None = None
    fence: Fence | None = None
    forwarder: Forwarder | None = None
    listener: RedisListener | None = None
    _clients: list[redis.Redis | aioredis.Redis] = field(default_factory=list)
    _serving: asyncio.Task[None] | None = None

    @property
    def mode(self) -> str:
        """``redis`` when workers share a Redis, else ``local``."""
        return "redis" if self.lease is not None else "local"

    @property
    def is_leader(self) -> bool:
        """Whether this worker dispatches (always, without Redis)."""
        return self.lease is None or self.lease.is_leader

    @classmethod
    def start(
        cls, *, settings: Settings, live: LiveDispatch, engine: Engine, rebuild: Callable[[], Dispatcher]
    ) -> LiveLayer:
        """Start the layer for ``live``; ``rebuild`` loads a fresh dispatcher from the database (taking
        over the dispatch). With Redis, returns once this worker or another holds the lease."""
        hub = Hub()
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        if settings.redis_url is None:
            memory = MemoryLiveStore(hub)
            layer = cls(live, hub, memory, LivePublisher(live, memory), worker_id)
            layer.publisher.start()
            live.on_events = layer.publisher.capture
            layer.refresh()
            return layer
        client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
        async_client = aioredis.from_url(settings.redis_url, socket_connect_timeout=5)
        store = RedisLiveStore(client, settings.area)
        layer = cls(
            live,
            hub,
            store,
            LivePublisher(live, store),
            worker_id,
            fence=Fence(engine, settings.area, worker_id),
            forwarder=Forwarder(async_client, settings.area, settings.forward_timeout_s),
            listener=RedisListener(client, settings.area, hub),
        )
        layer._clients = [client, async_client]
        install_fencing()
        layer.listener.start()  # type: ignore[union-attr]
        layer.publisher.start()
        live.on_events = layer.publisher.capture

        def take_over() -> None:
            assert layer.fence is not None
            epoch = layer.fence.raise_epoch()
            dispatcher = rebuild()
            resumed = resume_positions(dispatcher, store, live)
            with live.lock:
                live.dispatcher = dispatcher
                live.positions.reset(resumed)
                live.quotes.clear()  # offers made by another dispatcher are gone with it
            logger.warning("dispatching area %s (epoch %d)", settings.area, epoch)
            layer.refresh()

        def step_down() -> None:
            assert layer.fence is not None
            layer.fence.revoke()

        layer.lease = DispatcherLease(
            client, settings.area, worker_id, settings.lease_s, on_acquired=take_over, on_lost=step_down
        )
        layer.lease.start()
        layer.lease.wait_decided(timeout=2 * settings.lease_s)
        return layer

    def refresh(self) -> None:
        """Publish every bus's route afresh (after start or a take-over), so the stored state and the
        connected drivers have the plan in force."""
        with self.live.lock:
            dispatcher = self.live.dispatcher
            now = self.live.clock.now()
            self.publisher.capture(
                [
                    DomainEvent(EventKind.ROUTE_CHANGED, now, vid, data={"refresh": True})
                    for vid in sorted(dispatcher.plan.vehicles)
                ]
            )

    def serve_forwarded(self, app: ASGIApp) -> None:
        """Start answering forwarded requests with ``app`` whenever this worker dispatches."""
        if self.forwarder is not None:
            self._serving = asyncio.get_running_loop().create_task(
                self.forwarder.serve(app, lambda: self.is_leader)
            )

    async def stop(self) -> None:
        """Hand the lease back, stop the threads, close the Redis connections."""
        if self._serving is not None:
            self._serving.cancel()
        if self.lease is not None:
            await asyncio.to_thread(self.lease.stop)
        if self.listener is not None:
            await asyncio.to_thread(self.listener.stop)
        await asyncio.to_thread(self.publisher.stop)
        for client in self._clients:
            if isinstance(client, aioredis.Redis):
                await client.aclose()
            else:
                client.close()


def live_status(layer: LiveLayer) -> dict[str, object]:
    """What ``/health`` tells of the live layer: its mode, this worker, whether it dispatches."""
    return {"mode": layer.mode, "worker": layer.worker_id, "dispatcher": layer.is_leader}


@contextmanager
def startup_lock(settings: Settings) -> Iterator[None]:
    """With Redis, hold the area's start-up lock (workers starting together migrate the database and
    seed it one at a time); without, do nothing."""
    if settings.redis_url is None:
        yield
        return
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        with client.lock(key_prefix(settings.area) + "startup", timeout=300, blocking_timeout=300):
            yield
    finally:
        client.close()


def resume_positions(dispatcher: Dispatcher, store: LiveStore, live: LiveDispatch) -> dict[str, int]:
    """Put the buses of a freshly loaded ``dispatcher`` where ``store`` last saw them (positions reported
    to the previous dispatcher), so that they resume their routes from there, not from their depots; when
    each of those positions was taken, by bus."""
    taken_at: dict[str, int] = {}
    for vehicle_id, position in sorted(store.positions().items()):
        if vehicle_id not in dispatcher.plan.vehicles or not dispatcher.plan.state(vehicle_id).in_service:
            continue
        node = int(live.network.snap([position["lat"]], [position["lon"]]).node[0])
        at = live.clock.to_seconds(datetime.fromisoformat(position["at"]))
        # not re-timed here: the bus's next report re-times the plan and saves what that changes
        dispatcher.vehicle_position(vehicle_id, node, at, retiming=False)
        taken_at[vehicle_id] = at
    dispatcher.drain_events()  # resuming is not news
    return taken_at
