"""``rufbus graph ...``: build, inspect and cache the drivable road graph."""

from __future__ import annotations

import time
from pathlib import Path

import typer

graph_app = typer.Typer(no_args_is_help=True)


@graph_app.callback()
def graph() -> None:
    """Road network: build, inspect and cache the drivable graph."""


@graph_app.command()
def info(
    osm: Path = typer.Option(
        None, "--osm", help="OSM file (.osm, .osm.gz, .osm.bz2, .osm.pbf); default: the default region."
    ),
) -> None:
    """Load (building and caching if needed) the road graph and print its figures."""
    from routing.errors import RoutingError
    from routing.network import RoadNetwork
    from routing.settings import RoutingSettings

    settings = RoutingSettings.from_env()
    started = time.perf_counter()
    try:
        network = RoadNetwork.load(osm, settings)
    except RoutingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    load_s = time.perf_counter() - started
    graph, report = network.graph, network.report
    assert report is not None
    lines = [
        ("source", f"{osm or settings.osm_file}"),
        ("nodes", f"{graph.node_count:,}"),
        ("edges", f"{graph.edge_count:,} directed" + _cut(graph.meta.get("max_edge_m"))),
        ("road", f"{graph.meta['road_km']:,.1f} km"),
        (
            "area",
            f"{graph.meta['hull_km2']:,.1f} km² node hull; "
            f"{network.service_area.area_km2(network.projection):,.1f} km² service area",
        ),
        (
            "build",
            f"{graph.meta['build_s']:.2f} s"
            + (" (just now)" if report.built else " (when the cache was written)"),
        ),
        ("load", f"{load_s:.3f} s" + (" (cold: built)" if report.built else " (warm: from cache)")),
        ("cache", str(report.cache_file)),
    ]
    for key, value in lines:
        typer.echo(f"{key:<7} {value}")


def _cut(max_edge_m: float | None) -> str:
    """How long road edges may be, if they were cut."""
    return f", cut at most {max_edge_m:g} m long" if max_edge_m else ""
