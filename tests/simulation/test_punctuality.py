"""Promises kept and broken on hand-written rider records, and skipped re-optimization rounds pooled."""

from __future__ import annotations

from dispatch.model import Request, ServiceRules, TimeType
from simulation.engine import RiderRecord, SimulationConfig, SimulationResult
from simulation.punctuality import punctuality


def record(rid: str, outcome: str, window: tuple[int, int] | None = None, arrived: int | None = None,
           announced: int | None = None) -> RiderRecord:
    """A rider's record: asked for a trip at 0, promised ``window``, the bus there at ``arrived``."""
    request = Request(rid, 1, 2, TimeType.LEAVE_AFTER, 0, 0)
    return RiderRecord(request, outcome, vehicle_id="bus" if window else None, window=window,
                       bus_arrived=arrived, boarded=None if arrived is None else arrived + 45,
                       announced_at=announced)


def day(riders: list[RiderRecord], rounds: int, applied: int, skipped: dict[str, int]) -> SimulationResult:
    result = SimulationResult([], ServiceRules(), SimulationConfig(), {r.request.id: r for r in riders})
    result.reoptimizations, result.reoptimizations_applied = rounds, applied
    result.reoptimizations_skipped = skipped
    return result


def test_kept_broken_late_and_announced_promises():
    """Of six riders: one refused at once and one who cancelled were promised nothing to keep; of the
    four promised, the bus came in time for one, 5 min late for one, never for one (refused after a
    breakdown), and 100 s late for one whose change was announced 15 min before its window opened. So
    1 of 4 kept, 3 broken, 1 of them announced (lead 15 min); lateness 0, 5 and 1.67 min (p95 4.67)."""
    riders = [record("kept", "completed", (0, 600), 300),
              record("late", "completed", (0, 600), 900),
              record("stranded", "rejected", (0, 600)),
              record("cancelled", "cancelled", (0, 600)),
              record("refused", "rejected"),
              record("announced", "completed", (1000, 1600), 1700, announced=100)]
    figures = punctuality([day(riders, 0, 0, {})])
    assert (figures.requests, figures.promised, figures.windows_kept, figures.broken) == (6, 4, 1, 3)
    assert figures.windows_kept_pct == 25.0
    assert (figures.lateness_p95_min, figures.lateness_max_min) == (4.67, 5.0)
    assert (figures.announced_before_window, figures.announced_before_window_pct) == (1, 33.33)
    assert figures.announced_lead_median_min == 15.0
    assert (figures.served, figures.served_pct) == (3, 50.0)


def test_an_announcement_after_the_window_opened_does_not_count():
    """A broken promise announced only once its window had opened was not announced in time."""
    figures = punctuality([day([record("late", "completed", (0, 600), 900, announced=10)], 0, 0, {})])
    assert (figures.broken, figures.announced_before_window) == (1, 0)
    assert figures.announced_lead_median_min is None
    assert figures.announced_before_window_pct == 0.0


def test_rounds_and_skips_are_pooled_over_days():
    """Two days: rounds, applied rounds and skipped rounds by cause add up; no promises, no percentages."""
    figures = punctuality([day([], 10, 4, {"plan_in_force_infeasible": 3, "answer_refused": 1}),
                           day([], 5, 1, {"plan_in_force_infeasible": 2})])
    assert (figures.reopt_rounds, figures.reopt_applied, figures.reopt_skipped) == (15, 5, 6)
    assert figures.reopt_skipped_by_cause == {"answer_refused": 1, "plan_in_force_infeasible": 5}
    assert (figures.windows_kept_pct, figures.announced_before_window_pct, figures.lateness_max_min) == (
        None, None, None)
