"""A self-contained HTML report: scenario, key figures, the online day beside the same day planned in
hindsight (when planned), and matplotlib plots embedded as base64 PNG (served % against buses, wait
distribution, occupancy through the day, a map of the day's routes drawn from the road geometry; no tiles,
nothing downloaded)."""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path

from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

ATTRIBUTION = "Map data © OpenStreetMap contributors"


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def served_plot(rows: list[dict]) -> str:
    """Served % against buses, one line per rules label."""
    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    for label in dict.fromkeys(row["label"] for row in rows):
        points = sorted((r["buses"], r["served_pct"]) for r in rows if r["label"] == label)
        axes.plot(*zip(*points, strict=True), marker="o", label=label)
    axes.set(xlabel="buses", ylabel="served %", ylim=(0, 100), title="Served requests against fleet size")
    axes.grid(alpha=0.3)
    axes.legend()
    return _png(figure)


def wait_plot(waits: list[float]) -> str:
    """Histogram of the riders' waits (:mod:`dispatch.kpis`)."""
    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    axes.hist(waits, bins=30, color="tab:blue")
    axes.set(xlabel="wait (min)", ylabel="riders", title="Wait: bus arrival minus ready time")
    return _png(figure)


def occupancy_plot(occupancy: dict) -> str:
    """People on board per bus through the day."""
    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    values = occupancy["people_per_bus"]
    hours = [occupancy["start_h"] + k * occupancy["bin_min"] / 60 for k in range(len(values))]
    axes.step(hours, values, where="post", color="tab:green")
    axes.set(xlabel="time of day (h)", ylabel="people on board per bus", title="Occupancy through the day")
    axes.grid(alpha=0.3)
    return _png(figure)


def map_plot(route_map: dict) -> str:
    """The roads driven, line width by how often; depots as squares."""
    figure = Figure(figsize=(6, 7))
    axes = figure.subplots()
    edges = route_map["edges"]
    if edges:
        top = max(e["count"] for e in edges)
        lines = LineCollection([e["coordinates"] for e in edges], colors="tab:red",
                               linewidths=[0.4 + 3.6 * e["count"] / top for e in edges], alpha=0.7)
        axes.add_collection(lines)
        axes.autoscale()
    if route_map["depots"]:
        axes.scatter(*zip(*route_map["depots"], strict=True), marker="s", color="black", zorder=3,
                     label="depot")
        axes.legend(loc="lower right")
    axes.set_aspect(1.5)
    axes.set(xlabel="longitude", ylabel="latitude", title="Roads driven during the day")
    axes.text(0.01, 0.01, ATTRIBUTION, transform=axes.transAxes, fontsize=7)
    return _png(figure)


COMPARED = ("requests", "served", "passengers_served", "vehicle_km", "vehicle_km_per_served_passenger",
            "wait_mean_min", "wait_p95_min", "ride_time_factor", "served_ratio", "km_per_passenger_ratio")


def comparison_table(rows: Sequence[dict]) -> str:
    """One line per plan (online, hindsight, their ratio) under the figures of ``COMPARED`` they have."""
    columns = [name for name in COMPARED if any(name in row for row in rows)]
    head = "".join(f"<th>{html.escape(name)}</th>" for name in ["plan", *columns])
    body = "".join("<tr><th>" + html.escape(str(row["plan"])) + "</th>"
                   + "".join(f"<td>{html.escape(json.dumps(row.get(name, '')))}</td>" for name in columns)
                   + "</tr>" for row in rows)
    return f"<table class='comparison'><tr>{head}</tr>{body}</table>"


def render_html(title: str, scenario: dict, kpis: dict, figures: dict,
                comparison: Sequence[dict] = ()) -> str:
    """The report page; ``comparison``: the lines of :func:`comparison_table` (none: no such section)."""
    def table(values: dict) -> str:
        rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
                       for k, v in values.items() if k != "occupancy")
        return f"<table>{rows}</table>"

    images = [("Served against buses", served_plot(figures["served_vs_buses"])),
              ("Wait distribution", wait_plot(figures["wait_min"])),
              ("Occupancy", occupancy_plot(figures["occupancy"]))]
    if "route_map" in figures:
        images.append(("Routes of the day", map_plot(figures["route_map"])))
    compared = (f"<h2>Online and in hindsight</h2>{comparison_table(comparison)}" if comparison else "")
    body = "".join(f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,{png}'>"
                   f"<figcaption>{html.escape(name)}</figcaption></figure>" for name, png in images)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}figure{display:inline-block}</style>"
            f"</head><body><h1>{html.escape(title)}</h1><h2>Scenario</h2>{table(scenario)}"
            f"<h2>Key figures</h2>{table(kpis)}{compared}<h2>Figures</h2>{body}<footer>{ATTRIBUTION}</footer>"
            "</body></html>")


def write_report(directory: Path, title: str, scenario: dict, kpis: dict, figures: dict,
                 comparison: Sequence[dict] = ()) -> tuple[Path, Path]:
    """Write ``report.html`` and ``figures.json`` (scenario, key figures, online/hindsight comparison,
    figure data) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    page, data = directory / "report.html", directory / "figures.json"
    page.write_text(render_html(title, scenario, kpis, figures, comparison), encoding="utf-8")
    everything = {"scenario": scenario, "kpis": kpis, "comparison": list(comparison), "figures": figures}
    data.write_text(json.dumps(everything, indent=1), encoding="utf-8")
    return page, data
