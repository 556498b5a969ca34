"""Studies an operator asks for: one day (``simulate``), optionally set beside the same day planned in
hindsight, or a fleet-size × rules grid on one fixed demand (``sweep``), each written as a report
(:mod:`simulation.report`)."""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dispatch.model import ServiceRules
from routing.network import RoadNetwork
from routing.settings import RoutingSettings
from simulation.compare import DayFigures, OfferLatency, offer_latency, online_figures, ratios
from simulation.demand_csv import Trip
from simulation.engine import SimulationResult
from simulation.figures import figure_data
from simulation.hindsight import HindsightResult, hindsight_day
from simulation.kpis import Kpis, compute_kpis
from simulation.report import write_report
from simulation.runner import Scenario, road_paths, run_scenario, scenario_trips

Progress = Callable[[int], None]


@dataclass(frozen=True)
class StudyOutcome:
    """The figures of a study and where its report was written (``None`` when not written)."""

    kpis: Kpis
    figures: dict
    sweep: list[dict]
    report: Path | None
    data: Path | None
    day: DayFigures | None = None  # a simulated day's figures for the comparison with hindsight
    latency: OfferLatency | None = None
    hindsight: HindsightResult | None = None

    def comparison(self) -> list[dict]:
        """The online line and, when planned, the hindsight line and the ratios of online to it."""
        if self.day is None:
            return []
        rows = [{"plan": "online"} | self.day.as_dict()]
        if self.hindsight is not None:
            rows.append({"plan": f"hindsight ({self.hindsight.time_limit_s:g} s)"} | self.hindsight.as_dict())
            rows.append({"plan": "online / hindsight"} | ratios(self.day, self.hindsight.figures))
        return rows

    def summary(self) -> dict:
        """The day as one JSON-ready dict: its comparison figures and offer latency at the top level,
        then ``kpis`` (every key figure but the occupancy profile) and, when planned, ``hindsight`` with
        ``served_ratio`` and ``km_per_passenger_ratio``."""
        out = self.day.as_dict() if self.day is not None else {}
        out |= self.latency.as_dict() if self.latency is not None else {}
        out["kpis"] = {k: v for k, v in self.kpis.as_dict().items() if k != "occupancy"}
        if self.hindsight is not None and self.day is not None:
            out["hindsight"] = self.hindsight.as_dict()
            out |= ratios(self.day, self.hindsight.figures)
        return out


def parse_rules(text: str, base: ServiceRules | None = None) -> ServiceRules:
    """Rules from ``"max_wait_s=1200,pickup_window_s=600"`` over ``base`` (the default rules without
    one); ValueError names a bad field."""
    fields = {f.name: f for f in dataclasses.fields(ServiceRules)}
    changes: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        if name.strip() not in fields:
            raise ValueError(f"unknown service rule {name.strip()!r}; known: {', '.join(fields)}")
        changes[name.strip()] = float(value) if name.strip() == "ride_alpha" else int(value)
    return replace(base or ServiceRules(), **changes)


def scenario_description(scenario: Scenario) -> dict:
    """The scenario as JSON-ready values."""
    return {"buses": scenario.buses, "seats": scenario.seats, "wheelchair_spaces": scenario.wheelchair_spaces,
            "requests": scenario.requests if scenario.demand_file is None else str(scenario.demand_file),
            "seed": scenario.seed, "rules": dataclasses.asdict(scenario.rules),
            "simulation": dataclasses.asdict(scenario.config)}


def simulate_day(scenario: Scenario, network: RoadNetwork, out_dir: Path | None = None,
                 progress: Progress | None = None, hindsight_limit_s: float | None = None) -> StudyOutcome:
    """Simulate one day; with ``hindsight_limit_s``, also plan it in hindsight with that optimizer time
    (:mod:`simulation.hindsight`); with ``out_dir``, write its report there."""
    trips = scenario_trips(scenario, network)
    result = run_scenario(scenario, network, trips, progress=progress)
    kpis = compute_kpis(result)
    figures = figure_data(result, kpis, network, road_paths(network))
    hindsight = hindsight_day(scenario, network, hindsight_limit_s, trips) if hindsight_limit_s else None
    outcome = StudyOutcome(kpis, figures, [], None, None, online_figures(result), offer_latency(result),
                           hindsight)
    return _written(outcome, "Rufbus simulation", scenario, out_dir)


def sweep(scenario: Scenario, network: RoadNetwork, buses: Sequence[int], rules: Mapping[str, ServiceRules],
          out_dir: Path | None = None, progress: Progress | None = None,
          trips: Sequence[Trip] | None = None, jobs: int = 1) -> StudyOutcome:
    """Run every fleet size × rules variant on the same demand; the report's detail plots show the
    largest fleet under the first rules. With ``jobs`` above one the variants run in that many processes
    (each with its own copy of the network; ``progress`` then hears of a variant's requests when it
    ends); every variant is seeded, so the figures are the same either way."""
    trips = list(trips) if trips is not None else scenario_trips(scenario, network)
    variants = [(label, replace(scenario, buses=size, rules=variant))
                for label, variant in rules.items() for size in sorted(buses)]
    assert variants, "a sweep needs at least one fleet size and one rules variant"
    shown = (next(iter(rules)), max(buses))
    keep = [(label, variant.buses) == shown for label, variant in variants]
    if jobs > 1 and len(variants) > 1:
        runs = _run_in_processes([v for _, v in variants], keep, network, trips, progress, jobs)
    else:
        runs = [_run_variant(variant, network, trips, kept, progress)
                for (_, variant), kept in zip(variants, keep, strict=True)]
    rows = [{"label": label, "buses": variant.buses, "served_pct": kpis.served_pct,
             "wait_mean_min": kpis.wait_mean_min, "pooling_pct": kpis.pooling_pct,
             "passengers_per_vehicle_hour": kpis.passengers_per_vehicle_hour}
            for (label, variant), (kpis, _) in zip(variants, runs, strict=True)]
    kpis, result = next((k, r) for k, r in runs if r is not None)
    figures = figure_data(result, kpis, network, road_paths(network), rows)
    outcome = StudyOutcome(kpis, figures, rows, None, None)
    return _written(outcome, "Rufbus fleet sweep", replace(scenario, buses=max(buses)), out_dir)


def _run_variant(variant: Scenario, network: RoadNetwork, trips: Sequence[Trip], keep: bool,
                 progress: Progress | None = None) -> tuple[Kpis, SimulationResult | None]:
    """One variant's key figures, and its whole result when ``keep``."""
    result = run_scenario(variant, network, trips, progress)
    return compute_kpis(result), result if keep else None


_WORKER_NETWORK: list[RoadNetwork] = []  # the network of a sweep's worker process, set as it starts


def _start_sweep_worker(graph: Any, settings: RoutingSettings, report: Any) -> None:
    _WORKER_NETWORK.append(RoadNetwork(graph, settings, report))


def _run_variant_in_worker(variant: Scenario, trips: Sequence[Trip], keep: bool
                           ) -> tuple[Kpis, SimulationResult | None]:
    return _run_variant(variant, _WORKER_NETWORK[0], trips, keep)


def _run_in_processes(variants: list[Scenario], keep: list[bool], network: RoadNetwork,
                      trips: Sequence[Trip], progress: Progress | None, jobs: int
                      ) -> list[tuple[Kpis, SimulationResult | None]]:
    """Run the variants in ``jobs`` spawned processes (each gets the network once, without matrix
    workers of its own), in order of the variants."""
    settings = dataclasses.replace(network.settings, matrix_workers=1)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_sweep_worker,
                             initargs=(network.graph, settings, network.report)) as pool:
        futures = [pool.submit(_run_variant_in_worker, variant, trips, kept)
                   for variant, kept in zip(variants, keep, strict=True)]
        for future in as_completed(futures):
            future.result()
            if progress is not None:
                progress(len(trips))
        return [future.result() for future in futures]


def _written(outcome: StudyOutcome, title: str, scenario: Scenario, out_dir: Path | None) -> StudyOutcome:
    if out_dir is None:
        return outcome
    description = scenario_description(scenario) | ({"sweep": outcome.sweep} if outcome.sweep else {})
    page, data = write_report(out_dir, title, description, outcome.kpis.as_dict(), outcome.figures,
                              outcome.comparison())
    return replace(outcome, report=page, data=data)
