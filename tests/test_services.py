"""The real servers the service depends on are reachable and behave (no mocks)."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.postgres
def test_postgres_round_trip_in_a_rolled_back_transaction(postgres_url):
    """A row written inside a transaction is readable there and gone after rollback."""
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    table = f"probe_{uuid.uuid4().hex[:8]}"
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text(f"create temporary table {table} (id int primary key, name text)"))
        connection.execute(text(f"insert into {table} values (1, 'Rufbus')"))
        assert connection.execute(text(f"select name from {table} where id = 1")).scalar_one() == "Rufbus"
        transaction.rollback()
    engine.dispose()


@pytest.mark.redis
def test_redis_publish_reaches_a_subscriber(redis_url):
    """A message published on a channel arrives at a subscriber of that channel."""
    import redis

    client = redis.Redis.from_url(redis_url)
    channel = f"rufbus-test-{uuid.uuid4().hex[:8]}"
    pubsub = client.pubsub()
    pubsub.subscribe(channel)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    client.publish(channel, "route_changed")
    message = pubsub.get_message(timeout=2)
    assert message is not None and message["data"] == b"route_changed"
    pubsub.close()
    client.close()
