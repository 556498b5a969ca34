"""One-to-all Dijkstra rows on several cores, for large matrix calls.

scipy's ``dijkstra`` holds the GIL, so threads do not help; we fork worker processes instead. The
pool is created on first use and reused: its workers inherit the CSR graph through ``fork`` (no
pickling) and compute chunks of rows, which they write with ``pwrite`` into one file in
``/dev/shm``. The parent maps that file as the result block, so the rows (8 bytes per node each,
250 MB for 1000 rows at 31.6k nodes) are never pickled. The file is unlinked as soon as the
workers are done; its memory goes when the block does. There is one pool per process, for the
graph last used: switching graphs forks a new one.

Where a fork would break, :func:`one_to_all` returns None and the caller computes in-process: no
``fork`` start method, inside a pool worker, in a daemonic process (which may not have children), or in
any child started by :mod:`multiprocessing` (a ``ProcessPoolExecutor`` worker of ``rufbus sweep --jobs``,
the simulation worker): forking a pool there ran into the parent's pool machinery and hung, every process
waiting on another; such a child already is one of several processes sharing the cores.
A process forked from one that owns a pool (a pre-fork server) gets its own pool. Forking a
multi-threaded process is only safe if no other thread holds a lock the workers need (they run
nothing but scipy and ``os.pwrite``); set ``RUFBUS_MATRIX_WORKERS=1`` to never fork. A broken pool
or a full ``/dev/shm`` also falls back to in-process. The pool is shut down at exit (and by the service when
it stops: :func:`shutdown`); its workers end on SIGTERM and SIGINT whatever handlers the parent had.
"""

from __future__ import annotations

import atexit
import logging
import mmap
import multiprocessing
import os
import signal
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

log = logging.getLogger(__name__)
CHUNK_ROWS = 32  # rows per task: small enough to balance load across busy cores
_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

_pool: ProcessPoolExecutor | None = None
_pool_key: tuple[int, int, int] | None = None  # (owner pid, id(graph), workers)
_pool_graph: object = None  # keeps the graph alive so its id is not reused
_worker_graph: object = None  # set in the workers only


def available_workers(setting: int) -> int:
    """Return the number of worker processes for ``setting`` (0: one per usable CPU)."""
    if setting > 0:
        return setting
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def one_to_all(graph: object, origins: np.ndarray, workers: int) -> np.ndarray | None:
    """Return the packed one-to-all rows of ``origins`` computed by ``workers`` processes.

    Returns None when there is a single worker or the pool cannot be used here; the caller then
    runs ``dijkstra`` itself.
    """
    if workers < 2 or origins.size < 2 or _worker_graph is not None or not _can_fork():
        return None
    n = int(graph.shape[0])  # type: ignore[attr-defined]
    size = origins.size * n * 8
    try:
        fd, path = tempfile.mkstemp(prefix="rufbus-rows-", dir=_SHM_DIR)
    except OSError as error:
        log.warning("no shared memory for matrix workers (%s); computing in-process", error)
        return None
    try:
        os.ftruncate(fd, size)  # workers fill it with pwrite: a full /dev/shm is an OSError, not a SIGBUS
        pool = _get_pool(graph, workers)
        tasks: list[Future[None]] = [
            pool.submit(_fill, path, start * n * 8, origins[start : start + CHUNK_ROWS])
            for start in range(0, origins.size, CHUNK_ROWS)
        ]
        for task in tasks:
            task.result()
        block = mmap.mmap(fd, size, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
    except (BrokenProcessPool, OSError) as error:
        log.warning("matrix workers failed (%s); computing in-process", error)
        shutdown()
        return None
    finally:
        os.close(fd)
        os.unlink(path)
    return np.frombuffer(block, dtype=np.float64).reshape(origins.size, n)


def shutdown() -> None:
    """Stop this process's worker pool, if any (it is started again when needed)."""
    global _pool, _pool_key, _pool_graph
    if _pool is not None and _pool_key is not None and _pool_key[0] == os.getpid():
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool = _pool_key = _pool_graph = None


def _can_fork() -> bool:
    """Whether this process may fork a pool: the start method exists, and it is neither daemonic nor a
    child started by :mod:`multiprocessing` (``parent_process()`` is set in those)."""
    return ("fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
            and multiprocessing.parent_process() is None)


def _get_pool(graph: object, workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_key, _pool_graph
    key = (os.getpid(), id(graph), workers)
    if _pool_key != key:
        if _pool_key is not None and _pool_key[0] != os.getpid():
            _pool = None  # inherited from the process we were forked from: not ours to stop
        shutdown()
        context = multiprocessing.get_context("fork")
        _pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(graph,))
        _pool_key, _pool_graph = key, graph
    assert _pool is not None
    return _pool


def _init_worker(graph: object) -> None:
    global _worker_graph, _pool, _pool_key, _pool_graph
    _worker_graph = graph
    _pool = _pool_key = _pool_graph = None
    # A forked worker inherits the parent's signal handlers (uvicorn's only set a flag of a server that
    # does not run here): let SIGTERM and SIGINT end it, so it never outlives a parent that was stopped.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _fill(path: str, offset: int, origins: np.ndarray) -> None:
    from scipy.sparse.csgraph import dijkstra

    rows = np.ascontiguousarray(dijkstra(_worker_graph, indices=origins))
    view = rows.data.cast("B")
    fd = os.open(path, os.O_WRONLY)
    try:
        while view:  # pwrite may write less than asked
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(fd)


atexit.register(shutdown)
