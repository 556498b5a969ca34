"""Simulation benchmark: a seeded day of generated rural demand on the default region, through the real
dispatcher, re-optimized by the live service's policy (dispatch.reoptimize.ReoptimizationPolicy) unless
``--reopt-every``/``--reopt-iterations`` change it. Prints the wall time and the
day's key figures; ``--json FILE`` writes them.

    python bench/simulate.py --buses 10 --requests 2000 --seed 1 --json bench/out/simulate.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dispatch.reoptimize import ReoptimizationPolicy
from routing.network import RoadNetwork
from simulation.engine import SimulationConfig
from simulation.kpis import compute_kpis
from simulation.runner import Scenario, run_scenario, scenario_trips


def main() -> None:
    """Parse arguments, simulate the day, print and optionally save the figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buses", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    policy = ReoptimizationPolicy()  # the live service's
    parser.add_argument("--reopt-every", type=float, default=policy.every_s,
                        help="simulated seconds from one re-optimization round to the next (0: never)")
    parser.add_argument("--reopt-iterations", type=int, default=policy.iterations,
                        help="ruin-and-recreate iterations per re-optimization round")
    parser.add_argument("--check-every", type=int, default=0, help="check every route after every n-th event")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    network = RoadNetwork.load()
    policy = replace(policy, every_s=args.reopt_every, iterations=args.reopt_iterations)
    config = SimulationConfig(reoptimization=policy, check_every=args.check_every)
    scenario = Scenario(buses=args.buses, requests=args.requests, seed=args.seed, config=config)
    trips = scenario_trips(scenario, network)
    demand_s = time.perf_counter() - started
    kpis = compute_kpis(run_scenario(scenario, network, trips)).as_dict()
    wall = time.perf_counter() - started
    kpis |= {"buses": args.buses, "seed": args.seed, "demand_s": round(demand_s, 2),
             "total_wall_s": round(wall, 1)}
    for name, value in kpis.items():
        if name != "occupancy":
            print(f"{name:<28} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(kpis, indent=2))


if __name__ == "__main__":
    main()
