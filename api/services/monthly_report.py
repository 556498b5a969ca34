"""The printable monthly report for the county: one HTML page, rendered here, with the month's figures,
a table per day, trend charts over the month and the months before it, and the cost settings used.

The page stands alone: no scripts (the service's content security policy forbids inline ones, and a
report needs none), no external files; its styles are in its own ``<style>`` (print CSS: A4, the
tables unbroken where possible), its charts inline SVG drawn here. Every text from data is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from string import Template

from sqlmodel import Session

from api.clock import ServiceClock
from api.schemas import CostSettingsPublic
from api.services.costs import costs_in_force
from api.services.reports import (
    DateRange,
    Grouping,
    PeriodFigures,
    RoadMetres,
    load_records,
    month_range,
    period_figures,
)

TREND_MONTHS = 6  # months before the report's month in its trend charts, at most
_ONE_DAY = timedelta(days=1)
CHART_W, CHART_H, CHART_PAD = 320, 150, 28  # one trend chart, in SVG user units (CSS px)


@dataclass(frozen=True, slots=True)
class Measure:
    """A figure the report shows: its field of :class:`PeriodFigures`, its label, how it is written."""

    field: str
    label: str
    format: Callable[[float], str]


def _int(value: float) -> str:
    return f"{value:,.0f}"


def _one(value: float) -> str:
    return f"{value:,.1f}"


def _two(value: float) -> str:
    return f"{value:,.2f}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


MEASURES = (
    Measure("trips_asked", "Trips asked", _int), Measure("served", "Trips served", _int),
    Measure("refused", "Refused", _int), Measure("cancelled", "Cancelled", _int),
    Measure("no_shows", "No-shows", _int), Measure("passengers", "Passengers", _int),
    Measure("served_pct", "Served %", _one), Measure("wait_mean_s", "Mean wait", _minutes),
    Measure("wait_p95_s", "Wait, 95th percentile", _minutes),
    Measure("ride_time_factor", "Ride-time factor", _two), Measure("vehicle_km", "Vehicle-km", _one),
    Measure("vehicle_hours", "Vehicle-hours", _one), Measure("cost", "Cost", _two),
    Measure("cost_per_trip", "Cost per trip", _two), Measure("fares", "Fares", _two),
    Measure("net_cost_per_trip", "Net cost per trip", _two))
TRENDS = ("served", "passengers", "served_pct", "wait_mean_s", "ride_time_factor", "vehicle_km",
          "vehicle_hours", "cost_per_trip")
DAY_COLUMNS = ("trips_asked", "served", "refused", "cancelled", "no_shows", "passengers", "served_pct",
               "wait_mean_s", "ride_time_factor", "vehicle_km", "vehicle_hours", "cost", "cost_per_trip",
               "fares")
_BY_FIELD = {measure.field: measure for measure in MEASURES}

PAGE = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#1b1b1b}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .5em}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #bbb;padding:.2em .45em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#eef2f7}
.figures td{min-width:7em}.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;break-inside:avoid}figcaption{font-size:.85em;font-weight:600}
svg text{font-size:10px;fill:#333}.note{font-size:.8em;color:#555}
@page{size:A4;margin:12mm}
@media print{body{margin:0}h2{break-after:avoid}tr,figure{break-inside:avoid}}
</style></head>
<body>
<h1>$title</h1>
<p class="note">Generated $generated. Trips belong to the local day of their requested time; definitions in
the service's documentation (api.services.reports).</p>
<h2>The month</h2>
$summary
<h2>Trends: this month and the months before</h2>
<div class="charts">$charts</div>
<h2>Day by day</h2>
$days
<h2>Cost settings used</h2>
$costs
</body></html>
""")


def monthly_report(session: Session, *, clock: ServiceClock, metres: RoadMetres, month: str) -> str:
    """The page for ``month`` (``YYYY-MM``; 422 ``invalid_month`` otherwise) with the cost settings in force;
    the trends go back :data:`TREND_MONTHS` months, leaving out those before the service had any booking or
    shift."""
    days = month_range(month)
    costs = costs_in_force(session, clock.zone)
    first = days.first
    for _ in range(TREND_MONTHS):
        first = (first.replace(day=1) - _ONE_DAY).replace(day=1)
    records = load_records(session, clock=clock, days=DateRange(first, days.last))
    months = period_figures(records, clock=clock, metres=metres, by=Grouping.MONTH, costs=costs)
    while len(months) > 1 and months[0].booked == 0 and months[0].vehicle_hours == 0:
        months.pop(0)
    daily = period_figures(records, clock=clock, metres=metres, by=Grouping.DAY, costs=costs, days=days)
    generated = clock.now_datetime().isoformat(timespec="minutes")
    return render_monthly_report(month=days.first, days=daily, months=months, costs=costs,
                                 generated=generated)


def render_monthly_report(*, month: date, days: Sequence[PeriodFigures], months: Sequence[PeriodFigures],
                          costs: CostSettingsPublic, generated: str) -> str:
    """The page for the month starting ``month``: ``days`` its figures per day, ``months`` per month,
    oldest first, the last one being ``month`` itself."""
    title = f"Rufbus monthly report {month:%B %Y}"
    current = months[-1]
    return PAGE.substitute(
        title=escape(title), generated=escape(generated), summary=_summary(current, costs),
        charts="".join(_chart(_BY_FIELD[name], months) for name in TRENDS)
        + _chart(_BY_FIELD["served"], days, caption="Trips served per day",
                 labels=lambda p: str(p.first.day)),
        days=_day_table(days, current), costs=_costs(costs))


def _value(period: PeriodFigures, measure: Measure) -> str:
    value = getattr(period, measure.field)
    return "–" if value is None else escape(measure.format(value))


def _summary(period: PeriodFigures, costs: CostSettingsPublic) -> str:
    cells = "".join(f'<tr data-figure="{m.field}"><th scope="row">{escape(_label(m, costs, period))}</th>'
                    f"<td>{_value(period, m)}</td></tr>" for m in MEASURES)
    return f'<table class="figures"><tbody>{cells}</tbody></table>'


def _label(measure: Measure, costs: CostSettingsPublic, period: PeriodFigures) -> str:
    if measure.field in ("cost", "cost_per_trip", "net_cost_per_trip"):
        return f"{measure.label} ({costs.currency})"
    if measure.field == "fares" and period.fare_currency is not None:
        return f"{measure.label} ({period.fare_currency})"
    return measure.label


def _day_table(days: Sequence[PeriodFigures], total: PeriodFigures) -> str:
    columns = [_BY_FIELD[name] for name in DAY_COLUMNS]
    head = "".join(f"<th>{escape(m.label)}</th>" for m in columns)
    rows = "".join(f'<tr data-day="{p.first.isoformat()}"><td>{p.first:%a %d}</td>'
                   + "".join(f"<td>{_value(p, m)}</td>" for m in columns) + "</tr>" for p in days)
    foot = "<tr><th>Month</th>" + "".join(f"<th>{_value(total, m)}</th>" for m in columns) + "</tr>"
    return (f'<table class="days"><thead><tr><th>Day</th>{head}</tr></thead><tbody>{rows}</tbody>'
            f"<tfoot>{foot}</tfoot></table>")


def _costs(costs: CostSettingsPublic) -> str:
    if costs.version is None:
        return "<p>No costs set: the report shows no costs.</p>"
    since = escape(costs.valid_from.date().isoformat()) if costs.valid_from else "–"
    return (f'<table class="costs"><tbody><tr><th scope="row">Per vehicle-hour</th><td>'
            f"{costs.per_vehicle_hour:,.2f} {costs.currency}</td></tr>"
            f'<tr><th scope="row">Per vehicle-km</th>'
            f"<td>{costs.per_vehicle_km:,.2f} {costs.currency}</td></tr><tr><th scope=\"row\">Set on</th>"
            f"<td>{since} (version {costs.version})</td></tr></tbody></table>")


def _chart(measure: Measure, periods: Sequence[PeriodFigures], *, caption: str | None = None,
           labels: Callable[[PeriodFigures], str] = lambda p: f"{p.first:%b %y}") -> str:
    """A bar chart of ``measure`` over ``periods`` (the last one highlighted) as inline SVG."""
    values = [getattr(p, measure.field) for p in periods]
    top = max((v for v in values if v is not None), default=0.0) or 1.0
    inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD
    step = inner_w / max(len(periods), 1)
    bars = []
    for k, (period, value) in enumerate(zip(periods, values, strict=True)):
        x = CHART_PAD + k * step
        height = 0.0 if value is None else inner_h * value / top
        colour = "#1d5fa8" if k == len(periods) - 1 else "#9db7d6"
        shown = "–" if value is None else measure.format(value)
        bars.append(f'<rect x="{x + step * 0.15:.1f}" y="{CHART_PAD + inner_h - height:.1f}" '
                    f'width="{step * 0.7:.1f}" height="{height:.1f}" fill="{colour}">'
                    f"<title>{escape(labels(period))}: {escape(shown)}</title></rect>")
        if len(periods) <= 12 or k % 5 == 0:
            bars.append(f'<text x="{x + step / 2:.1f}" y="{CHART_H - CHART_PAD + 12}" text-anchor="middle">'
                        f"{escape(labels(period))}</text>")
    name = escape(caption or measure.label)
    return (f'<figure data-trend="{measure.field}"><figcaption>{name}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" '
            f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{name}">'
            f'<line x1="{CHART_PAD}" y1="{CHART_H - CHART_PAD}" x2="{CHART_W - CHART_PAD}" '
            f'y2="{CHART_H - CHART_PAD}" stroke="#666"/>'
            f'<text x="{CHART_PAD}" y="{CHART_PAD - 8}">max {escape(measure.format(top))}</text>'
            f"{''.join(bars)}</svg></figure>")
