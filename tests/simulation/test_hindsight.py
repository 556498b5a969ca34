"""Tests for simulation.hindsight: a day planned with every request known, measured and checked. Line
world: loc k at k km, 60 km/h, a stop 30 s + 15 s per rider; one bus at loc 0 from 07:00 to 15:00."""

from __future__ import annotations

from dispatch.model import Request, ServiceRules, TimeType, Vehicle
from dispatch.plan import DispatchError
from simulation import hindsight
from simulation.hindsight import plan_hindsight
from tests.dispatch.scenarios import line_travel

T0 = 8 * 3600


def test_a_small_day_in_hindsight_serves_what_fits_and_names_the_rest():
    """A 0→5 from 08:00 and B 5→8 from 08:30 fit one after the other, each without wait or detour:
    16 km (0→5→8→0); C at 04:00 is before the service opens. The plan breaks no rule."""
    requests = [Request("A", 0, 5, TimeType.LEAVE_AFTER, T0, T0 - 3600),
                Request("B", 5, 8, TimeType.LEAVE_AFTER, T0 + 1800, T0 - 3600, seats=2),
                Request("C", 1, 2, TimeType.LEAVE_AFTER, 4 * 3600, 3 * 3600)]
    result = plan_hindsight([Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)], ServiceRules(),
                            line_travel(range(11)), requests, time_limit_s=1.0)
    figures = result.figures
    assert (figures.requests, figures.served, figures.passengers_served) == (3, 2, 3)
    assert figures.rejected == {"outside_hours": 1}
    assert figures.vehicle_km == 16.0 and figures.vehicle_km_per_served_passenger == 5.333
    assert figures.wait_mean_min == 0 and figures.wait_p95_min == 0 and figures.ride_time_factor == 1.0
    assert result.violations == () and result.time_limit_s == 1.0
    assert (result.attempts, result.optimizer_failed, result.failed) == (1, False, False)


def test_more_demand_than_one_bus_can_carry_is_partly_served_and_still_feasible():
    """Six riders all wanting 0→10 at 08:00 on a 4-seat bus: it takes four at once, the other two cannot
    be fitted within their wait (the round trip takes 20 min); the plan is feasible."""
    requests = [Request(f"r{k}", 0, 10, TimeType.LEAVE_AFTER, T0, T0 - 3600) for k in range(6)]
    result = plan_hindsight([Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)], ServiceRules(),
                            line_travel(range(11)), requests, time_limit_s=1.0)
    assert result.figures.served == 4 and result.figures.rejected == {"no_vehicle_in_time": 2}
    assert result.violations == ()


def test_an_optimizer_that_returns_no_plan_is_tried_again_then_reported(monkeypatch):
    """plan_batch raises optimizer_failed when its optimizer gives no plan: the day is planned twice, then
    the result says the optimizer failed (not a day with nobody to carry) and counts every request so."""
    calls = []

    def failing_batch(dispatcher, requests, now, time_limit_s):
        calls.append(now)
        raise DispatchError("optimizer_failed", "no plan")

    monkeypatch.setattr(hindsight, "plan_batch", failing_batch)
    requests = [Request("A", 0, 5, TimeType.LEAVE_AFTER, T0, T0 - 3600)]
    result = plan_hindsight([Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600)], ServiceRules(),
                            line_travel(range(11)), requests, time_limit_s=1.0)
    assert len(calls) == 2 and result.attempts == 2
    assert result.optimizer_failed and result.failed and result.figures.served == 0
    assert result.figures.rejected == {"optimizer_failed": 1}
