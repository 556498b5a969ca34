"""Studies (:mod:`simulation.study`): a fleet sweep run in parallel processes gives the same figures as
the same sweep run one variant after another."""

from __future__ import annotations

from dispatch.model import ServiceRules
from dispatch.reoptimize import ReoptimizationPolicy
from simulation.engine import SimulationConfig
from simulation.runner import Scenario, scenario_trips
from simulation.study import sweep

# Re-optimization on (a fixed count of seeded iterations per round), so the parallel runs repeat it too.
POLICY = ReoptimizationPolicy(every_s=10 * 60, iterations=10, budget_s=60)
TINY = Scenario(buses=3, requests=60, seed=7, config=SimulationConfig(reoptimization=POLICY))
RULES = {"default": ServiceRules(), "short waits": ServiceRules(max_wait_s=600)}


def test_a_parallel_sweep_gives_the_serial_sweeps_figures(network):
    """2 fleet sizes × 2 rule sets in two processes: the same rows, in the same order, and the same key
    figures of the detailed variant (but the wall time) as in this process one after another; progress
    hears of every variant's requests."""
    trips = scenario_trips(TINY, network)
    serial = sweep(TINY, network, [2, 3], RULES, trips=trips)
    heard: list[int] = []
    parallel = sweep(TINY, network, [2, 3], RULES, trips=trips, progress=heard.append, jobs=2)
    assert parallel.sweep == serial.sweep
    assert [(row["label"], row["buses"]) for row in parallel.sweep] == [
        ("default", 2), ("default", 3), ("short waits", 2), ("short waits", 3)]
    assert {**parallel.kpis.as_dict(), "wall_s": 0} == {**serial.kpis.as_dict(), "wall_s": 0}
    assert parallel.figures["route_map"] == serial.figures["route_map"]
    assert sum(heard) == 4 * len(trips)
