"""How the service hands simulation job ids to the worker: a Redis list shared by every worker of the
service area (``REDIS_URL``), or, in one process without Redis, a queue to the service's own worker.

Either way the queue only carries ids in submission order and wakes a worker at once; the job itself
(its parameters, state and results) is the row in ``simulation_jobs``
(:mod:`api.services.simulation_store`), and a worker claims it there. An id lost on the way (a Redis
flushed, a worker stopped after taking it) is therefore not a lost job: workers also look for queued
rows whenever the queue stays empty for a moment.
"""

from __future__ import annotations

import logging
import queue
import time
from multiprocessing.queues import Queue as ProcessQueue
from typing import Protocol

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """Job ids from the service to the workers, oldest first."""

    def push(self, job_id: str) -> None:
        """Hand ``job_id`` to the next free worker."""

    def take(self, timeout_s: float) -> str | None:
        """The next job id, waiting at most ``timeout_s`` seconds (None: none came)."""

    def close(self) -> None:
        """Release the connection."""


def queue_key(area: str) -> str:
    """The Redis list of a service area's simulation jobs."""
    return f"rufbus:{area}:simulations:queue"


class RedisJobQueue:
    """A Redis list: ``RPUSH`` by the service, blocking ``BLPOP`` by the workers."""

    def __init__(self, redis_url: str, area: str) -> None:
        self._client = redis.Redis.from_url(redis_url, socket_connect_timeout=5)
        self._key = queue_key(area)

    def push(self, job_id: str) -> None:
        """Append ``job_id`` to the area's list; with Redis unreachable the job stays queued in the
        database, where a worker finds it all the same."""
        try:
            self._client.rpush(self._key, job_id)
        except RedisError as error:
            log.warning("simulation job %s not pushed to Redis (%s); workers find it in the database",
                        job_id, error)

    def take(self, timeout_s: float) -> str | None:
        """Pop the oldest id, blocking up to ``timeout_s`` (whole seconds, at least one, for Redis); with
        Redis unreachable, wait that long and answer None."""
        try:
            item = self._client.blpop([self._key], timeout=max(1, round(timeout_s)))
        except RedisError as error:
            log.warning("simulation queue unreachable: %s", error)
            time.sleep(timeout_s)
            return None
        if item is None:
            return None
        value = item[1]
        return value.decode() if isinstance(value, bytes) else str(value)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class LocalJobQueue:
    """A :class:`multiprocessing.Queue` from the service to the worker it started."""

    def __init__(self, channel: ProcessQueue) -> None:
        self._channel = channel

    def push(self, job_id: str) -> None:
        """Send ``job_id`` to the worker."""
        self._channel.put(job_id)

    def take(self, timeout_s: float) -> str | None:
        """Receive the next id, waiting up to ``timeout_s``."""
        try:
            return str(self._channel.get(timeout=timeout_s))
        except queue.Empty:
            return None

    def close(self) -> None:
        """Nothing to release: the channel belongs to the process that made it."""
