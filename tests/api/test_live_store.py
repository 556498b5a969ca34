"""Routes drawn only when someone listens or asks (api.live.store, api.live.publisher): the in-memory
store keeps a route's renderer and draws it when the route is read; it has listeners only while its hub
has subscribers; the publisher skips route_changed messages nobody can receive and draws each changed
route once for those somebody can. (The streams themselves: tests/api/test_live_streams.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import api.live.publisher as publisher_module
from api.live.hub import Hub, Subscription
from api.live.store import MemoryLiveStore, RedisLiveStore
from tests.api.conftest import OPERATOR, RIDER, AppSetup
from tests.api.test_driver_api import book

# One bus, no background re-optimization (no route changes but the tests' own), keys of a rider and an
# operator in ``client.keys``.
CLIENT = AppSetup({"demo_buses": 1, "reoptimize_every_s": 0}, (RIDER, OPERATOR))
VEHICLE = "bus-1"


class Renderer:
    """A route renderer that counts its calls."""

    def __init__(self, route: dict) -> None:
        self.route, self.calls = route, 0

    def __call__(self) -> dict:
        self.calls += 1
        return self.route


class Subscriber:
    """A hub subscription on an event loop of the test's own, taking every message."""

    def __init__(self, hub: Hub) -> None:
        self.hub, self.loop = hub, asyncio.new_event_loop()

        async def subscribe() -> Subscription:
            return hub.subscribe(lambda message: True)

        self.subscription = self.loop.run_until_complete(subscribe())

    def received(self) -> list[dict]:
        """The messages delivered so far (runs the loop briefly so that they land in the queue)."""
        self.loop.run_until_complete(asyncio.sleep(0.05))
        messages = []
        while not self.subscription.queue.empty():
            messages.append(self.subscription.queue.get_nowait())
        return messages

    def close(self) -> None:
        self.hub.unsubscribe(self.subscription)
        self.loop.close()


# --- the stores on their own --------------------------------------------------------------------------

def test_the_memory_store_draws_a_route_only_when_it_is_read():
    """put_route does not call the renderer; each route() read does and returns what it made; a
    vehicle without a route reads as None."""
    store, render = MemoryLiveStore(Hub()), Renderer({"plan_version": 3, "route": {"stops": []}})
    store.put_route(VEHICLE, render)
    assert render.calls == 0
    assert store.route(VEHICLE) == {"plan_version": 3, "route": {"stops": []}}
    assert render.calls == 1
    assert store.route("bus-9") is None


def test_a_route_replaced_before_it_is_read_is_never_drawn():
    """Of two routes put one after the other, only the second is drawn when the route is read."""
    store, old, new = MemoryLiveStore(Hub()), Renderer({"plan_version": 1}), Renderer({"plan_version": 2})
    store.put_route(VEHICLE, old)
    store.put_route(VEHICLE, new)
    assert store.route(VEHICLE) == {"plan_version": 2}
    assert (old.calls, new.calls) == (0, 1)


def test_the_memory_store_has_listeners_only_while_its_hub_has_subscribers():
    """No subscribers: no listeners; one subscribed: listeners; after it unsubscribes: none again."""
    hub = Hub()
    store = MemoryLiveStore(hub)
    assert store.has_listeners() is False
    subscriber = Subscriber(hub)
    try:
        assert store.has_listeners() is True
    finally:
        subscriber.close()
    assert store.has_listeners() is False


def test_the_memory_store_delivers_published_messages_to_subscribers():
    """A published message reaches a subscriber of the store's hub."""
    hub = Hub()
    store, subscriber = MemoryLiveStore(hub), Subscriber(hub)
    try:
        store.publish("route_changed", {"kind": "route_changed", "vehicle_id": VEHICLE})
        assert subscriber.received() == [{"kind": "route_changed", "vehicle_id": VEHICLE}]
    finally:
        subscriber.close()


class FakeRedis:
    """The hash commands RedisLiveStore uses for routes."""

    def __init__(self) -> None:
        self.hashes: dict[str, dict[str, str]] = {}

    def hset(self, name: str, key: str, value: str) -> None:
        self.hashes.setdefault(name, {})[key] = value

    def hget(self, name: str, key: str) -> str | None:
        return self.hashes.get(name, {}).get(key)


def test_the_redis_store_draws_a_route_at_once_and_always_has_listeners():
    """RedisLiveStore calls the renderer in put_route (other workers read the JSON), reads it back
    without drawing again, and has listeners whatever this process's hub holds."""
    client = FakeRedis()
    store, render = RedisLiveStore(client, "test"), Renderer({"plan_version": 5, "route": None})
    store.put_route(VEHICLE, render)
    assert render.calls == 1
    assert json.loads(client.hashes["rufbus:test:routes"][VEHICLE]) == {"plan_version": 5, "route": None}
    assert store.route(VEHICLE) == {"plan_version": 5, "route": None} and render.calls == 1
    assert store.has_listeners() is True


# --- the publisher in the app -------------------------------------------------------------------------

@pytest.fixture
def draws(monkeypatch) -> list[str]:
    """The vehicles whose route the publisher drew (api.live.publisher.route_public), in order."""
    drawn: list[str] = []
    real = publisher_module.route_public

    def counting(live, snapshot):
        drawn.append(snapshot.vehicle_id)
        return real(live, snapshot)

    monkeypatch.setattr(publisher_module, "route_public", counting)
    return drawn


@pytest.fixture
def client(draws, client_factory) -> Iterator[TestClient]:
    """The module's app (``CLIENT``), route drawing counted from the start (``draws``)."""
    with client_factory() as test_client:
        yield test_client


def settle(client: TestClient) -> None:
    assert client.app.state.live.publisher.wait_idle(10)


def published_kinds(monkeypatch, store) -> list[str]:
    """Record the kinds the store publishes from now on (messages still delivered)."""
    kinds: list[str] = []
    real = store.publish

    def recording(kind, message):
        kinds.append(kind)
        real(kind, message)

    monkeypatch.setattr(store, "publish", recording)
    return kinds


def test_without_subscribers_routes_are_drawn_only_when_read(client, draws, monkeypatch):
    """No one subscribed: neither the start-up refresh nor a booking draws a route or publishes
    route_changed (the booking's other events still go out), though the plan version rises; a later
    store.route() draws the route in force once — the booking's pickup and drop-off, the plan version,
    the same stops and roads as GET /v1/driver/route — and reading it again draws nothing more."""
    store = client.app.state.live.store
    assert isinstance(store, MemoryLiveStore) and not store.has_listeners()
    settle(client)
    version_before = store.plan_version()
    kinds = published_kinds(monkeypatch, store)
    booking = book(client)
    settle(client)
    assert draws == []
    assert "route_changed" not in kinds and "booking_confirmed" in kinds
    assert store.plan_version() > version_before

    kept = store.route(VEHICLE)
    assert draws == [VEHICLE]
    assert kept["plan_version"] == store.plan_version()
    assert [(s["kind"], s["booking_id"]) for s in kept["route"]["stops"]] == [
        ("pickup", booking["id"]), ("dropoff", booking["id"])]
    answer = client.get("/v1/driver/route", params={"vehicle_id": VEHICLE}, headers=client.keys["operator"])
    assert answer.status_code == 200
    assert json.loads(json.dumps(kept["route"])) == answer.json()
    assert store.route(VEHICLE) == kept and draws == [VEHICLE]


def test_with_a_subscriber_each_changed_route_is_drawn_once(client, draws, monkeypatch):
    """With a subscriber, each booking publishes one route_changed for the bus, carrying the drawn
    route: one drawing per changed route, shared with store.route() (no second drawing). Once the
    subscriber has left, a further booking draws nothing."""
    store = client.app.state.live.store
    settle(client)
    subscriber = Subscriber(client.app.state.live.hub)
    try:
        assert store.has_listeners()
        kinds = published_kinds(monkeypatch, store)
        first = book(client, hour=9)
        settle(client)
        assert draws == [VEHICLE] and kinds.count("route_changed") == 1
        second = book(client, hour=11)
        settle(client)
        assert draws == [VEHICLE, VEHICLE] and kinds.count("route_changed") == 2
        changed = [m for m in subscriber.received() if m["kind"] == "route_changed"]
    finally:
        subscriber.close()
    assert [m["vehicle_id"] for m in changed] == [VEHICLE, VEHICLE]
    assert changed[0]["plan_version"] < changed[1]["plan_version"]
    assert {s["booking_id"] for s in changed[0]["route"]["stops"]} == {first["id"]}
    assert {s["booking_id"] for s in changed[1]["route"]["stops"]} == {first["id"], second["id"]}
    kept = store.route(VEHICLE)
    assert kept["route"] == changed[1]["route"] and kept["plan_version"] == changed[1]["plan_version"]
    assert len(draws) == 2  # the stored route is the drawing the message used

    assert not store.has_listeners()
    book(client, hour=13)
    settle(client)
    assert len(draws) == 2
