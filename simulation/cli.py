"""``rufbus simulate``, ``rufbus sweep`` and ``rufbus hindsight``: the simulation studies on the command
line, with a progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the heavy modules load only when a command runs
    from dispatch.model import ServiceRules
    from routing.network import RoadNetwork
    from simulation.hindsight import HindsightResult
    from simulation.runner import Scenario

DEMAND_HELP = "Demand CSV (format: docs/simulation.md); default: generated from the region's places."
LEVEL_HELP = "Demand level in trips a day per 1,000 inhabitants of the region's places (replaces --requests)."
RULES_HELP = "Service-rule overrides, e.g. 'max_wait_s=1200,pickup_window_s=600'."
REOPT_EVERY_HELP = ("Simulated minutes from one re-optimization round to the next (0: never); default: the "
                    "live service's policy (dispatch.reoptimize.ReoptimizationPolicy).")
REOPT_ITERATIONS_HELP = ("Ruin-and-recreate iterations per re-optimization round; default: the live "
                         "service's policy.")
OUT_HELP = "Directory for report.html and figures.json."
NO_SHOW_HELP = "Share of booked riders who do not show up (0 to 1)."
CANCEL_HELP = "Share of booked riders who cancel before their pickup (0 to 1)."
JSON_HELP = "Also write the day's figures to this JSON file."
HINDSIGHT_HELP = ("Also plan the day in hindsight (every request known) with this many optimizer seconds and "
                  "set it beside the online result in the report (0: not at all).")

JOBS_HELP = ("Processes running the sweep's simulations side by side (1: one after another in this "
             "process); default: one per CPU, at most one per simulation. The figures are the same.")

# The options every study command shares.
RegionOption = Annotated[Path | None, typer.Option(help="OSM extract (default: RUFBUS_OSM_FILE).")]
BusesOption = Annotated[int, typer.Option(min=1)]
SeatsOption = Annotated[int, typer.Option(min=1)]
RequestsOption = Annotated[int, typer.Option(min=0, help="Requests of the generated day.")]
LevelOption = Annotated[float | None, typer.Option(min=0, help=LEVEL_HELP)]
DemandOption = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help=DEMAND_HELP)]
RulesOption = Annotated[str, typer.Option(help=RULES_HELP)]

def _load(osm_file: Path | None) -> RoadNetwork:
    from routing.network import RoadNetwork

    return RoadNetwork.load(osm_file)


def _rules(text: str) -> ServiceRules:
    from simulation.study import parse_rules

    try:
        return parse_rules(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--rules") from error


def _scenario(network: RoadNetwork, buses: int, seats: int, requests: int, level: float | None,
              demand: Path | None, seed: int, rules: str, reopt_every_min: float | None,
              reopt_iterations: int | None, no_show_p: float = 0.03, cancel_p: float = 0.05) -> Scenario:
    from dataclasses import replace

    from simulation.engine import SimulationConfig
    from simulation.runner import Scenario, requests_for_level

    policy = SimulationConfig().reoptimization
    if reopt_every_min is not None:
        policy = replace(policy, every_s=reopt_every_min * 60)
    if reopt_iterations is not None:
        policy = replace(policy, iterations=reopt_iterations)
    config = SimulationConfig(no_show_p=no_show_p, cancel_p=cancel_p, reoptimization=policy)
    count = requests if level is None else requests_for_level(network, level)
    return Scenario(buses=buses, seats=seats, requests=count, demand_file=demand, seed=seed,
                    rules=_rules(rules), config=config)


def simulate(
    region: RegionOption = None,
    buses: BusesOption = 10,
    seats: SeatsOption = 8,
    requests: RequestsOption = 2000,
    demand_level: LevelOption = None,
    demand: DemandOption = None,
    rules: RulesOption = "",
    seed: int = 1,
    reopt_every: Annotated[float | None, typer.Option(min=0, help=REOPT_EVERY_HELP)] = None,
    reopt_iterations: Annotated[int | None, typer.Option(min=1, help=REOPT_ITERATIONS_HELP)] = None,
    no_show_rate: Annotated[float, typer.Option(min=0, max=1, help=NO_SHOW_HELP)] = 0.03,
    cancel_rate: Annotated[float, typer.Option(min=0, max=1, help=CANCEL_HELP)] = 0.05,
    hindsight_limit: Annotated[float, typer.Option(min=0, help=HINDSIGHT_HELP)] = 0.0,
    json_out: Annotated[Path | None, typer.Option("--json", dir_okay=False, help=JSON_HELP)] = None,
    out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("simulation-report"),
) -> None:
    """Simulate a service day through the real dispatcher and write an HTML report with its figures.

    The JSON (``--json``) holds requests, served, passengers_served, rejected, vehicle_km,
    vehicle_km_per_served_passenger, wait_mean_min, wait_p95_min, ride_time_factor, the offer latency
    (immediate offers: offer_p50_ms, offer_p95_ms, offer_p99_ms; offers found by the repair before refusal:
    repaired_p50_ms, repaired_p99_ms; refusals: refusal_p50_ms, refusal_p99_ms), every key figure under
    ``kpis`` and, with ``--hindsight-limit``, ``hindsight`` with served_ratio and km_per_passenger_ratio.
    """
    from tqdm import tqdm

    from simulation.study import simulate_day

    network = _load(region)
    scenario = _scenario(network, buses, seats, requests, demand_level, demand, seed, rules, reopt_every,
                         reopt_iterations, no_show_rate, cancel_rate)
    with tqdm(desc="requests", unit="req") as bar:
        outcome = simulate_day(scenario, network, out, bar.update, hindsight_limit or None)
    summary = outcome.summary()
    typer.echo(json.dumps(summary, indent=1))
    _write_json(json_out, summary)
    if outcome.hindsight is not None and outcome.hindsight.failed:
        _hindsight_failed(outcome.hindsight)
    typer.echo(f"report: {outcome.report}\nfigures: {outcome.data}")


def _write_json(path: Path | None, values: dict) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=1), encoding="utf-8")


def hindsight(
    region: RegionOption = None,
    buses: BusesOption = 10,
    seats: SeatsOption = 8,
    requests: RequestsOption = 2000,
    demand_level: LevelOption = None,
    demand: DemandOption = None,
    rules: RulesOption = "",
    seed: int = 1,
    time_limit: Annotated[float, typer.Option(min=0.1, help="Optimizer seconds for the whole day.")] = 60.0,
    json_out: Annotated[Path | None, typer.Option("--json", dir_okay=False, help=JSON_HELP)] = None,
) -> None:
    """Plan a whole demand day with every request known in advance (the project's batch planner), check
    the plan by route evaluation, and print its figures: the bound live dispatch is measured against.

    Prints and writes (``--json``) requests, served, passengers_served, rejected (by cause), vehicle_km,
    vehicle_km_per_served_passenger, wait_mean_min, wait_p95_min, ride_time_factor, violations,
    time_limit_s, wall_s, attempts and optimizer_failed. A plan that breaks a rule, or no plan from the
    optimizer, fails the command (exit code 1).
    """
    from simulation.hindsight import hindsight_day

    network = _load(region)
    scenario = _scenario(network, buses, seats, requests, demand_level, demand, seed, rules, 0, None)
    result = hindsight_day(scenario, network, time_limit)
    values = result.as_dict()
    typer.echo(json.dumps(values, indent=1))
    _write_json(json_out, values)
    if result.failed:
        _hindsight_failed(result)


def _hindsight_failed(result: HindsightResult) -> None:
    if result.optimizer_failed:
        typer.echo(f"the optimizer returned no verified plan in {result.attempts} attempts", err=True)
    if result.violations:
        typer.echo(f"the hindsight plan breaks {len(result.violations)} rules", err=True)
    raise typer.Exit(1)


def sweep(
    region: RegionOption = None,
    buses: Annotated[str, typer.Option(help="Fleet sizes, comma-separated.")] = "2,4,6,8,10",
    seats: SeatsOption = 8,
    requests: RequestsOption = 2000,
    demand_level: LevelOption = None,
    demand: DemandOption = None,
    rules: Annotated[list[str] | None, typer.Option(help=RULES_HELP + " Repeat for each variant.")] = None,
    seed: int = 1,
    reopt_every: Annotated[float | None, typer.Option(min=0, help=REOPT_EVERY_HELP)] = None,
    reopt_iterations: Annotated[int | None, typer.Option(min=1, help=REOPT_ITERATIONS_HELP)] = None,
    jobs: Annotated[int | None, typer.Option(min=1, help=JOBS_HELP)] = None,
    out: Annotated[Path, typer.Option(help=OUT_HELP)] = Path("simulation-sweep"),
) -> None:
    """Simulate one fixed demand with every fleet size under every rules variant, in parallel
    processes; write the report."""
    import os

    from tqdm import tqdm

    from simulation.runner import scenario_trips
    from simulation.study import sweep as run_sweep

    sizes = sorted({int(b) for b in buses.split(",") if b.strip()})
    network = _load(region)
    scenario = _scenario(network, max(sizes), seats, requests, demand_level, demand, seed, "", reopt_every,
                         reopt_iterations)
    variants = {text or "default rules": _rules(text) for text in rules or [""]}
    trips = scenario_trips(scenario, network)
    count = len(sizes) * len(variants)
    workers = jobs or min(os.cpu_count() or 1, count)
    with tqdm(total=len(trips) * count, desc="requests", unit="req") as bar:
        outcome = run_sweep(scenario, network, sizes, variants, out, bar.update, trips, jobs=workers)
    for row in outcome.sweep:
        typer.echo(f"{row['label']:<30} {row['buses']:>3} buses  served {row['served_pct']:6.2f} %  "
                   f"wait {row['wait_mean_min']} min")
    typer.echo(f"report: {outcome.report}\nfigures: {outcome.data}")
