"""The digital twin: recorded days of the service replayed through the real dispatcher, as they were
(the baseline) and with a proposed change (rules, fleet size, shifts, meeting-point mode), on the same
demand, side by side.

A :class:`RecordedDay` is what the service kept of one local day: its demand as
:class:`~simulation.demand_csv.Trip` rows (bookings with their exact places and times; refused quotes
from their coarse demand records, see :mod:`api.services.twin`), the riders' recorded no-shows and
cancellations, and the fleet's shifts (:class:`RecordedShift`, local date-times). :func:`run_twin` runs
every day twice — under the service's own :class:`TwinService` setup and under that setup changed by a
:class:`ProposedChange` — and sums the days into :class:`TwinFigures` per side.

Rider behaviour is the recorded one only (no random no-shows or cancellations), the street is calm (buses
drive as planned), and re-optimization runs the live policy: the twin answers "what would the same
requests have got", not "how would the day have gone with other drivers". Times are local wall-clock
times on the simulator's clock (:func:`simulation.runner.seconds_of`); on a day the clocks change, the
hour that repeats or is skipped is not modelled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from dispatch.calendar import LocalCalendar, ServiceCalendar
from dispatch.kpis import trip_figures
from dispatch.model import Break, MeetingMode, ServiceRules, Vehicle
from dispatch.reoptimize import ReoptimizationPolicy
from routing.network import RoadNetwork
from simulation.demand_csv import Trip
from simulation.engine import RecordedBehaviour, SimulationConfig, SimulationResult, simulate
from simulation.kpis import trip_outcome
from simulation.meeting import MeetingPlaces
from simulation.runner import record_refusals, road_paths, seconds_of, to_requests

MAX_BUSES = 200  # the largest proposed fleet


@dataclass(frozen=True)
class RecordedShift:
    """One shift of a bus as recorded: the bus, its depot node, and local start, end and breaks
    (``(earliest start, latest start, duration s)``)."""

    vehicle_id: str
    seats: int
    wheelchair_spaces: int
    depot: int
    start: datetime
    end: datetime
    breaks: tuple[tuple[datetime, datetime, int], ...] = ()


@dataclass(frozen=True)
class RecordedDay:
    """A local day as the service recorded it: its demand, the riders' behaviour, the fleet's shifts."""

    day: date
    trips: tuple[Trip, ...]
    shifts: tuple[RecordedShift, ...]
    no_shows: frozenset[str] = frozenset()
    cancelled_at: dict[str, datetime] = field(default_factory=dict)  # local date-times
    rules: ServiceRules | None = None  # the rules in force that day (None: the service's, TwinService)

    def behaviour(self) -> RecordedBehaviour:
        """The recorded no-shows and cancellations on the simulator's clock."""
        cancelled = {k: seconds_of(t, self.day) for k, t in self.cancelled_at.items()}
        return RecordedBehaviour(self.no_shows, cancelled)


@dataclass(frozen=True)
class TwinService:
    """How the service was set up: rules, calendar, meeting points (None: the area's seeded ones) and
    costs (per vehicle-hour, per vehicle-km; None: no cost settings)."""

    rules: ServiceRules = field(default_factory=ServiceRules)
    calendar: ServiceCalendar | None = None
    places: MeetingPlaces | None = None
    costs: tuple[float, float] | None = None


@dataclass(frozen=True)
class ProposedChange:
    """A change to try: rule overrides (names and units of :class:`~dispatch.model.ServiceRules`), a fleet
    size, one shift for every bus (local seconds after midnight), a meeting-point mode. Empty: the
    baseline again."""

    rules: dict[str, Any] = field(default_factory=dict)
    buses: int | None = None
    shift: tuple[int, int] | None = None
    mode: MeetingMode | None = None

    def __post_init__(self) -> None:
        if self.buses is not None and not 1 <= self.buses <= MAX_BUSES:
            raise ValueError(f"buses must lie between 1 and {MAX_BUSES}")
        if self.shift is not None and not 0 <= self.shift[0] < self.shift[1] <= 24 * 3600:
            raise ValueError("a shift starts before it ends, both within the day (seconds 0 to 86400)")

    def applied_to(self, rules: ServiceRules) -> ServiceRules:
        """``rules`` with the proposed overrides and mode (ValueError names a bad field)."""
        known = {f.name for f in dataclasses.fields(ServiceRules)}
        unknown = sorted(set(self.rules) - known)
        if unknown:
            raise ValueError(f"unknown service rules: {', '.join(unknown)}")
        changed = replace(rules, **self.rules)
        return replace(changed, mode=self.mode) if self.mode is not None else changed

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {"rules": dict(self.rules), "buses": self.buses,
                "shift": list(self.shift) if self.shift else None,
                "mode": self.mode.value if self.mode else None}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ProposedChange:
        """The change :meth:`as_dict` gave."""
        shift = values.get("shift")
        mode = values.get("mode")
        return cls(dict(values.get("rules") or {}), values.get("buses"),
                   (int(shift[0]), int(shift[1])) if shift else None, MeetingMode(mode) if mode else None)


@dataclass(frozen=True)
class TwinFigures:
    """One side of the comparison over all days: requests, served (dropped off), wait, ride-time factor,
    vehicle-km (every km driven, to and from the depot included) and vehicle-hours (shift hours), cost."""

    requests: int
    served: int
    served_pct: float | None
    wait_mean_min: float | None
    ride_time_factor: float | None
    vehicle_km: float
    vehicle_hours: float
    cost: float | None
    cost_per_trip: float | None
    rejected: int
    buses: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TwinOutcome:
    """Both sides, and the change tried."""

    baseline: TwinFigures
    proposal: TwinFigures
    change: ProposedChange
    baseline_rules: ServiceRules
    proposed_rules: ServiceRules

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {"baseline": self.baseline.as_dict(), "proposal": self.proposal.as_dict(),
                "change": self.change.as_dict(), "baseline_rules": _rules_dict(self.baseline_rules),
                "proposed_rules": _rules_dict(self.proposed_rules)}


def _rules_dict(rules: ServiceRules) -> dict[str, Any]:
    values = dataclasses.asdict(rules)
    values["mode"] = rules.mode.value
    return values


def fleet_of(day: RecordedDay, change: ProposedChange | None = None) -> list[Vehicle]:
    """The day's buses on the simulator's clock: each bus's shifts cut to the day (the first start to the
    last end, gaps between shifts as breaks at the depot, the shifts' breaks within the day). With
    ``change``: its one shift for every bus (breaks that no longer fit dropped), and its fleet size
    (fewer: the first buses by id; more: copies of the recorded buses in turn, ids ``<bus>~<n>``)."""
    midnight = datetime.combine(day.day, time())
    start_of, end_of = midnight, midnight + timedelta(days=1)
    by_bus: dict[str, list[RecordedShift]] = {}
    for shift in day.shifts:
        if shift.end > start_of and shift.start < end_of:
            by_bus.setdefault(shift.vehicle_id, []).append(shift)
    vehicles = []
    for vehicle_id in sorted(by_bus):
        shifts = sorted(by_bus[vehicle_id], key=lambda s: s.start)
        s = lambda moment: seconds_of(min(max(moment, start_of), end_of), day.day)  # noqa: E731
        spans = [(s(x.start), s(x.end)) for x in shifts]
        gaps = [Break(end, end, start - end) for (_, end), (start, _) in pairwise(spans) if start > end]
        own = [Break(s(a), s(b), d) for x in shifts for a, b, d in x.breaks if start_of <= b < end_of]
        breaks = gaps + own
        first = shifts[0]
        if change is not None and change.shift is not None:
            base = seconds_of(midnight, day.day)
            spans = [(base + change.shift[0], base + change.shift[1])]
            breaks = [b for b in own if b.earliest_start >= spans[0][0]
                      and b.latest_start + b.duration_s <= spans[0][1]]
        if spans[-1][1] <= spans[0][0]:
            continue
        vehicles.append(Vehicle(vehicle_id, first.seats, first.wheelchair_spaces, first.depot, spans[0][0],
                                spans[-1][1], tuple(sorted(breaks, key=lambda b: b.earliest_start))))
    if change is None or change.buses is None or not vehicles:
        return vehicles
    if change.buses <= len(vehicles):
        return vehicles[:change.buses]
    n = len(vehicles)
    extra = [replace(vehicles[k % n], id=f"{vehicles[k % n].id}~{k // n + 1}")
             for k in range(change.buses - n)]
    return vehicles + extra


def simulate_recorded_day(day: RecordedDay, vehicles: Sequence[Vehicle], setup: TwinService,
                          network: RoadNetwork, config: SimulationConfig,
                          progress: Callable[[int], None] | None = None,
                          rules: ServiceRules | None = None) -> SimulationResult:
    """Replay one recorded day with ``vehicles`` under ``setup`` and ``rules`` (default: the day's own,
    else the setup's): the trips snapped to the curb (those outside the area or off the roads refused),
    the calendar read as the service does, the recorded riders' behaviour."""
    rules = rules or day.rules or setup.rules
    trips = list(day.trips)
    requests, refused = to_requests(network, trips, day.day, rules, setup.places)
    calendar = None
    if setup.calendar is not None:
        eve = datetime.combine(day.day - timedelta(days=1), time())
        calendar = LocalCalendar(setup.calendar, lambda seconds: eve + timedelta(seconds=seconds))
    if not vehicles:  # nobody drove: every request is refused
        refused |= {r.id: "no_vehicle" for r in requests}
        requests = []
        vehicles = [Vehicle("none", 1, 0, 0, 0, 1)]
    result = simulate(vehicles, rules, network, requests, config, road_paths(network), progress,
                      calendar=calendar, behaviour=day.behaviour())
    record_refusals(result, trips, refused, day.day)
    return result


def figures_of(results: Sequence[SimulationResult], costs: tuple[float, float] | None) -> TwinFigures:
    """One side's figures over the days' results."""
    riders = [r for result in results for r in result.riders.values()]
    vehicles = [v for result in results for v in result.vehicles if v.id != "none"]
    vehicle_s = sum(v.shift_end - v.shift_start for v in vehicles)
    trips = trip_figures([trip_outcome(r) for r in riders], vehicle_s)
    km = sum(leg.metres for result in results for leg in result.legs) / 1000
    hours = vehicle_s / 3600
    cost = hours * costs[0] + km * costs[1] if costs is not None else None
    served = trips.served
    return TwinFigures(
        requests=len(riders), served=served,
        served_pct=round(100 * served / len(riders), 2) if riders else None,
        wait_mean_min=round(trips.wait_s.mean / 60, 2) if trips.wait_s else None,
        ride_time_factor=round(trips.ride_time_factor, 3) if trips.ride_time_factor is not None else None,
        vehicle_km=round(km, 2), vehicle_hours=round(hours, 2),
        cost=round(cost, 2) if cost is not None else None,
        cost_per_trip=round(cost / served, 2) if cost is not None and served else None,
        rejected=sum(r.outcome == "rejected" for r in riders),
        buses=max((sum(1 for v in result.vehicles if v.id != "none") for result in results), default=0))


def run_twin(days: Sequence[RecordedDay], service: TwinService, change: ProposedChange, network: RoadNetwork,
             progress: Callable[[int], None] | None = None, seed: int = 1,
             reoptimization: ReoptimizationPolicy | None = None) -> TwinOutcome:
    """Replay ``days`` as recorded — each under the rules in force that day — and with ``change`` applied
    to each day's rules; ``progress(n)`` hears of every request handled (each request twice: once per
    side). ``reoptimization``: the live service's policy unless given. The outcome names the service's
    rules and the proposal made of them. ValueError when the change's rules are invalid."""
    proposed_rules = change.applied_to(service.rules)
    per_day = [change.applied_to(day.rules or service.rules) for day in days]
    config = SimulationConfig(no_show_p=0.0, cancel_p=0.0, seed=seed,
                              reoptimization=reoptimization or ReoptimizationPolicy())
    baseline = [simulate_recorded_day(day, fleet_of(day), service, network, config, progress) for day in days]
    proposal = [simulate_recorded_day(day, fleet_of(day, change), service, network, config, progress,
                                      rules=rules) for day, rules in zip(days, per_day, strict=True)]
    return TwinOutcome(figures_of(baseline, service.costs), figures_of(proposal, service.costs), change,
                       service.rules, proposed_rules)


def change_from_text(rules: Sequence[str], *, buses: int | None = None, mode: str | None = None,
                     shift: str | None = None) -> ProposedChange:
    """A change from the command line: ``key=value`` rules (numbers; ``mode`` by name), a fleet size, a
    mode, a shift ``HH:MM-HH:MM``; ValueError names what is wrong."""
    overrides: dict[str, Any] = {}
    for text in rules:
        name, sep, value = (part.strip() for part in text.partition("="))
        if not sep or not name or not value:
            raise ValueError(f"{text!r}: give a rule as key=value")
        if name == "mode":
            mode = value
            continue
        try:
            number: float = int(value)
        except ValueError:
            number = float(value)  # ValueError for a non-number
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r}: not a finite number")
        overrides[name] = number
    span = None
    if shift is not None:
        begin, _, finish = shift.partition("-")
        span = (_clock_seconds(begin), _clock_seconds(finish))
    try:
        meeting = MeetingMode(mode) if mode is not None else None
    except ValueError:
        raise ValueError(f"mode must be one of {', '.join(MeetingMode)}") from None
    change = ProposedChange(overrides, buses, span, meeting)
    change.applied_to(ServiceRules())  # names a bad rule now
    return change


def _clock_seconds(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(minutes) < 60 and int(hours) <= 24):
        raise ValueError(f"{text!r}: give a time as HH:MM")
    return int(hours) * 3600 + int(minutes) * 60
