"""Background re-optimization of the live plan: the slow path beside the riders' fast one.

Rounds follow the service's :class:`~dispatch.reoptimize.ReoptimizationPolicy` — the one the simulator
runs (:attr:`api.settings.Settings.reoptimization`). A round starts every ``RUFBUS_REOPTIMIZE_EVERY_S``
seconds (start to start; right after the previous one if that took longer) on the worker that
dispatches: the plan in force becomes a solver problem under the dispatcher's lock (milliseconds), the
large-neighbourhood search runs ``RUFBUS_REOPTIMIZE_ITERATIONS`` ruin-and-recreate iterations on it
(at most ``RUFBUS_REOPTIMIZE_BUDGET_S`` seconds) *outside* the lock and in a child process of its own at
the lowest priority (:mod:`api.services.solver_process`) — quotes, bookings and drivers' reports go on
meanwhile at full speed — and the answer is applied under the lock if, rebased onto the plan now in force
when that changed meanwhile, every route passes evaluation and the buses drive no more than before
(:meth:`dispatch.dispatcher.Dispatcher.apply_reoptimization`). Applying is one
:func:`~api.services.live_plan.plan_change`: the changed routes, the bookings that moved to another bus
and a ``plan_reoptimized`` event are saved in one transaction; if that fails the plan is rolled back.
Drivers get the new routes pushed like any other change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from api.db.models import Event
from api.db.repository import move_bookings, save_plan
from api.services.live_plan import LiveDispatch, plan_change, planned_stops
from api.services.solver_process import SolverProcess
from dispatch.dispatcher import ReoptimizationJob
from dispatch.events import EventKind
from dispatch.pdptw import PdptwSolution
from dispatch.reoptimize import PlanRejectedError, ReoptimizationPolicy

logger = logging.getLogger(__name__)


class BackgroundReoptimizer:
    """A thread that re-optimizes ``live``'s plan in rounds of ``policy`` while ``is_dispatcher()``;
    ``session_info`` goes into the sessions it writes with (the fence of :mod:`api.live.fencing`)."""

    def __init__(
        self,
        live: LiveDispatch,
        engine: Engine,
        *,
        policy: ReoptimizationPolicy,
        is_dispatcher: Callable[[], bool],
        session_info: dict[str, object] | None = None,
    ) -> None:
        self._live, self._engine = live, engine
        self._policy = policy
        self._rounds = 0  # the seed of the next round
        self._is_dispatcher, self._session_info = is_dispatcher, dict(session_info or {})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-reoptimizer", daemon=True)
        self._solver = SolverProcess()  # the searches run in a child process (see its module)

    def start(self) -> None:
        """Start the thread (a period of 0 never starts it)."""
        if self._policy.every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop after the round under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._policy.budget_s + 10)
        self._solver.close()

    def _run(self) -> None:
        pause = self._policy.every_s
        while not self._stop.wait(pause):
            started = time.monotonic()
            if self._is_dispatcher():
                try:
                    self.run_once()
                except Exception:  # one failed round must not end re-optimization; the plan in force stays
                    logger.exception("background re-optimization failed")
            pause = max(0.0, self._policy.every_s - (time.monotonic() - started))

    def run_once(self) -> bool:
        """One round; whether a new plan was applied and saved."""
        live = self._live
        with live.lock:
            dispatcher = live.dispatcher
            if not any(dispatcher.plan.route(v).stops for v in dispatcher.plan.vehicles):
                return False
            try:
                job = dispatcher.prepare_reoptimization()
            except PlanRejectedError as error:
                logger.warning("re-optimization skipped: %s", error)
                return False
        seed, self._rounds = self._rounds, self._rounds + 1
        try:
            solution = self._solver.solve_round(job.prepared, self._policy, seed)
        except PlanRejectedError as error:
            logger.warning("re-optimization found nothing: %s", error)
            return False
        with Session(self._engine, expire_on_commit=False) as session:
            session.info.update(self._session_info)  # e.g. the fence of api.live
            with plan_change(live, session) as now:
                if live.dispatcher is not dispatcher:
                    return False  # another dispatcher took over meanwhile (api.live)
                applied = self._apply(job, solution, session, now)
        return applied

    def _apply(self, job: ReoptimizationJob, solution: PdptwSolution, session: Session, now: int) -> bool:
        """Apply ``solution`` if the dispatcher accepts it and write what changed through ``session``;
        the caller's plan change commits, or rolls the plan back."""
        live, dispatcher, clock = self._live, self._live.dispatcher, self._live.clock
        buses_before = {rid: b.vehicle_id for rid, b in dispatcher.plan.bookings().items()}
        routes_before = {vid: dispatcher.plan.route(vid) for vid in dispatcher.plan.vehicles}
        result = dispatcher.apply_reoptimization(job, solution, now)
        if result is None:
            return False
        plan = dispatcher.plan
        changed = sorted(vid for vid in plan.vehicles if plan.route(vid) != routes_before[vid])
        moved = {rid: b.vehicle_id for rid, b in plan.bookings().items()
                 if b.vehicle_id != buses_before.get(rid)}
        save_plan(
            session,
            routes={vid: planned_stops(live, vid) for vid in changed},
            bookings=move_bookings(session, moved),
            event=Event(
                time=clock.to_datetime(now),
                kind=EventKind.PLAN_REOPTIMIZED,
                actor="dispatcher",
                payload={
                    "drive_s_before": result.drive_s_before,
                    "drive_s_after": result.drive_s_after,
                    "routes_changed": changed,
                    "bookings_moved": sorted(moved),
                },
            ),
        )
        logger.info(
            "re-optimized: %d s → %d s of driving, %d routes changed",
            result.drive_s_before,
            result.drive_s_after,
            len(changed),
        )
        return True
