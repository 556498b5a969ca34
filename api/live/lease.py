"""The dispatcher lease: exactly one worker per service area dispatches, the holder of a Redis lock
with an expiry (``rufbus:<area>:dispatcher``).

The holder renews the lease every third of its length; a worker that fails to renew (the key expired
or was taken, or Redis is unreachable for the whole lease) steps down at once. Every other worker
tries to take the lease at the same pace, so when the holder dies another takes over within one lease
time. Taking over runs ``on_acquired`` (fence the area, load the plan from the database) before the
worker answers as dispatcher; stepping down runs ``on_lost``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import redis
from redis.exceptions import LockError

from api.live.store import key_prefix

logger = logging.getLogger(__name__)


class DispatcherLease:
    """This worker's side of the election for ``area``."""

    def __init__(
        self,
        client: redis.Redis,
        area: str,
        worker_id: str,
        lease_s: float,
        *,
        on_acquired: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self.worker_id = worker_id
        self._redis, self._lease_s = client, lease_s
        self._key = key_prefix(area) + "dispatcher"
        self._lock = client.lock(self._key, timeout=lease_s, thread_local=False)
        self._on_acquired, self._on_lost = on_acquired, on_lost
        self._leader = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-dispatcher-lease", daemon=True)
        self._renewed_at = 0.0

    @property
    def is_leader(self) -> bool:
        """Whether this worker dispatches now."""
        return self._leader.is_set()

    def start(self) -> None:
        """Start competing for the lease."""
        self._thread.start()

    def wait_decided(self, timeout: float) -> None:
        """Wait until this worker holds the lease or another worker does (at most ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.is_leader:
            try:
                if self._redis.exists(self._key):
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop competing and hand the lease back if held."""
        self._stop.set()
        self._thread.join(timeout=5)
        if self.is_leader:
            self._step_down("shutting down")
            with contextlib.suppress(LockError, redis.RedisError):
                self._lock.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.is_leader:
                self._renew()
            else:
                self._try_acquire()
            self._stop.wait(self._lease_s / 3)

    def _try_acquire(self) -> None:
        try:
            if not self._lock.acquire(blocking=False):
                return
        except redis.RedisError as error:
            logger.debug("lease: Redis unavailable (%s)", error)
            return
        self._renewed_at = time.monotonic()
        try:
            self._on_acquired()
            self._lock.reacquire()  # taking over may have used part of the lease
        except Exception:
            logger.exception("taking over the dispatch failed; handing the lease back")
            self._on_lost()
            with contextlib.suppress(LockError, redis.RedisError):
                self._lock.release()
            return
        self._renewed_at = time.monotonic()
        self._leader.set()
        logger.warning("worker %s now dispatches", self.worker_id)

    def _renew(self) -> None:
        try:
            self._lock.reacquire()
            self._renewed_at = time.monotonic()
        except LockError:
            self._step_down("the lease expired or was taken")
        except redis.RedisError as error:
            if time.monotonic() - self._renewed_at >= self._lease_s * 2 / 3:  # before it can expire
                self._step_down(f"Redis unreachable for a whole lease ({error})")

    def _step_down(self, why: str) -> None:
        self._leader.clear()
        logger.warning("worker %s stops dispatching: %s", self.worker_id, why)
        self._on_lost()
