"""No-show benchmark: late pickups and over-long rides of a seeded simulated day with no-shows, the bus
waiting a fixed ``no_show_wait_s`` for an absent rider (as ``simulation/engine.py`` does) or the wait the
dispatcher plans (``dispatch.disturbance.no_show_wait``: capped by what the later stops absorb).

The simulator's driver is changed for the ``capped`` run in memory only (two places of its ``_drive``:
wait ``no_show_wait``, and when the wait is over, wait as long as the plan says then — a driver follows
the wait the route in force gives, which changes when riders are booked behind the stop or moved away);
once the simulator waits ``no_show_wait`` itself, this script can go.

    python bench/no_show_wait.py --wait fixed --buses 10 --requests 2000 --seed 1 --no-show-rate 0.03
    python bench/no_show_wait.py --wait capped --buses 10 --requests 2000 --seed 1 --no-show-rate 0.03
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simulation.engine as engine
from dispatch.disturbance import no_show_wait
from routing.network import RoadNetwork
from simulation.engine import SimulationConfig
from simulation.kpis import compute_kpis
from simulation.runner import Scenario, run_scenario

_CAPPED = [
    ("start + d.rules.no_show_wait_s", "start + no_show_wait(d.plan, vehicle_id, d.rules)"),
    ("            del self.waiting[vehicle_id]\n",
     "            allowed = max(d.plan.route(vehicle_id).stops[0].earliest,\n"
     "                          d.plan.state(vehicle_id).available_at)\n"
     "            allowed += no_show_wait(d.plan, vehicle_id, d.rules)\n"
     "            if allowed != until:\n"
     "                self.waiting[vehicle_id] = (request_id, allowed)\n"
     "                continue\n"
     "            del self.waiting[vehicle_id]\n"),
]


def wait_capped() -> None:
    """Make the simulator's drivers wait ``no_show_wait`` for an absent rider (in memory)."""
    simulation = engine._Simulation
    source = textwrap.dedent(inspect.getsource(simulation._drive))
    for old, new in _CAPPED:
        if old not in source:
            raise SystemExit(f"simulation/engine.py changed; cannot find {old.strip()!r}")
        source = source.replace(old, new)
    namespace = dict(vars(engine), no_show_wait=no_show_wait)
    exec(source, namespace)
    simulation._drive = namespace["_drive"]  # type: ignore[method-assign]


def main() -> None:
    """Parse arguments, simulate the day, print late pickups and over-long rides."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wait", choices=("fixed", "capped"), default="capped")
    parser.add_argument("--buses", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-show-rate", type=float, default=0.03)
    args = parser.parse_args()
    if args.wait == "capped":
        wait_capped()
    scenario = Scenario(buses=args.buses, seats=8, requests=args.requests, seed=args.seed,
                        config=SimulationConfig(no_show_p=args.no_show_rate))
    result = run_scenario(scenario, RoadNetwork.load())
    riders = result.riders.values()
    late = sum(1 for r in riders if r.window and r.bus_arrived is not None and r.bus_arrived > r.window[1])
    too_long = sum(1 for r in riders if r.boarded is not None and r.dropped_off is not None
                   and r.dropped_off - r.boarded > scenario.rules.max_ride_s(r.direct_s))
    kpis = compute_kpis(result)
    print(f"wait={args.wait} no_show_rate={args.no_show_rate} served={kpis.served} no_shows={kpis.no_shows} "
          f"late_pickups={late} over_long_rides={too_long} window_kept_pct={kpis.window_kept_pct}")


if __name__ == "__main__":
    main()
