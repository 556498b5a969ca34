"""The matrix pool (:mod:`routing.parallel`) forks only in a process that no :mod:`multiprocessing` parent
started: a pool worker of ``rufbus sweep --jobs`` or the simulation worker computes its rows in-process.
Its workers end on SIGTERM whatever handler the parent installed."""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.sparse import csr_matrix

from routing import parallel


def _ring(n: int) -> csr_matrix:
    """A one-way ring of ``n`` nodes, each edge 1 s."""
    rows = np.arange(n)
    return csr_matrix((np.ones(n), (rows, (rows + 1) % n)), shape=(n, n))


def _rows_in_child(n: int) -> tuple[bool, bool, bool]:
    """In a pool worker: whether one_to_all declined, whether a pool was made, and whether it has a parent."""
    answer = parallel.one_to_all(_ring(n), np.arange(4), workers=2)
    return answer is None, parallel._pool is not None, multiprocessing.parent_process() is not None


def test_a_pool_worker_computes_matrix_rows_in_process_instead_of_forking_a_pool() -> None:
    """Asked for two matrix workers inside a spawned ProcessPoolExecutor worker, one_to_all declines
    (the caller computes in-process) and no pool is forked there; the same call in this process does fork."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        declined, pooled, has_parent = pool.submit(_rows_in_child, 6).result(timeout=60)
    assert has_parent and declined and not pooled
    try:
        rows = parallel.one_to_all(_ring(6), np.arange(4), workers=2)
        assert rows is not None and parallel._pool is not None
        assert rows[0].tolist() == [0, 1, 2, 3, 4, 5] and rows[3].tolist() == [3, 4, 5, 0, 1, 2]
    finally:
        parallel.shutdown()


def _sigterm_ends_me() -> bool:
    """In a pool worker: whether SIGTERM has its default action here (ends the process)."""
    return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_matrix_worker_ends_on_sigterm_though_its_parent_catches_it() -> None:
    """This process catches SIGTERM, as uvicorn does, and forks the pool: its workers have SIGTERM's
    default action back (a forked worker would otherwise keep the parent's handler, which ignores it,
    and outlive a stopped service), and this process keeps its own handler."""
    def handler(number: int, _frame: object) -> None:
        return None

    before = signal.signal(signal.SIGTERM, handler)
    try:
        assert parallel.one_to_all(_ring(6), np.arange(4), workers=2) is not None
        assert parallel._pool is not None
        assert all(parallel._pool.submit(_sigterm_ends_me).result(timeout=30) for _ in range(4))
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        signal.signal(signal.SIGTERM, before)
        parallel.shutdown()
