"""The background re-optimization's searches, run in a child process of their own.

A live round (:meth:`SolverProcess.solve_round`) is :func:`dispatch.reoptimize.solve_round`: a fixed number
of ruin-and-recreate iterations from the plan in force, capped in wall time; :meth:`SolverProcess.solve`
runs an OR-Tools (or batch LNS) search bounded by time alone.

An OR-Tools search needs Python's lock while it builds its model (matrices of every stop of the plan,
converted value by value) and whenever it calls back into Python, so a search on a thread of the service
slows every request down while it runs. A child process (started with ``spawn``: the service runs threads,
so it must not ``fork``) holds its own lock and runs at the lowest scheduling priority; the service only
pickles the problem over and waits. The child starts at the first search and lives until :meth:`close`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dispatch.pdptw import PdptwSolution, SearchBudget
from dispatch.reoptimize import (
    PlanRejectedError,
    PreparedProblem,
    ReoptimizationPolicy,
    solve_problem,
    solve_round,
)

logger = logging.getLogger(__name__)

BACKGROUND_NICENESS = 19  # the lowest scheduling priority
STARTUP_ALLOWANCE_S = 60.0  # on top of the budget: a first search also starts the child


def _lowest_priority() -> None:
    """In the child: yield the processor to the service and to everything else."""
    os.nice(BACKGROUND_NICENESS)


class SolverProcess:
    """Runs :func:`dispatch.reoptimize.solve_round` and :func:`~dispatch.reoptimize.solve_problem` in one
    child process, one search at a time."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def solve(self, prepared: PreparedProblem, time_limit_s: float) -> PdptwSolution:
        """Search ``prepared`` for ``time_limit_s`` seconds in the child process; raises
        :class:`~dispatch.reoptimize.PlanRejectedError` when it finds nothing or the child died (a new
        child starts at the next search)."""
        return self._run(solve_problem, (prepared.problem, prepared.initial, SearchBudget(time_limit_s)),
                         time_limit_s)

    def solve_round(self, prepared: PreparedProblem, policy: ReoptimizationPolicy, seed: int = 0
                    ) -> PdptwSolution:
        """One live round of ``policy`` from ``prepared`` (the plan in force) in the child process; raises
        :class:`~dispatch.reoptimize.PlanRejectedError` like :meth:`solve`."""
        return self._run(solve_round, (prepared.problem, prepared.initial, policy, seed), policy.budget_s)

    def _run(self, search: Callable[..., PdptwSolution], args: tuple[Any, ...], time_limit_s: float
             ) -> PdptwSolution:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_lowest_priority)
        try:  # a child that died while idle breaks the pool already at ``submit``
            future = self._pool.submit(search, *args)
            return future.result(timeout=time_limit_s + STARTUP_ALLOWANCE_S)
        except BrokenProcessPool as error:
            self.close()
            raise PlanRejectedError(f"the solver process died: {error}") from error
        except TimeoutError as error:
            self.close()
            raise PlanRejectedError(f"the solver process gave no answer in {time_limit_s} s") from error

    def close(self) -> None:
        """Stop the child process (if one runs), without waiting for a search under way."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
