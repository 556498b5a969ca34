"""How well a simulated day kept its promises when the street disturbed it (:mod:`simulation.street`).

Per rider who was promised a pickup window and did not cancel (times in minutes):

* **window kept**: the bus came for the rider (start of service at the first pickup, no-shows included)
  inside the promised window, both ends included (:func:`dispatch.kpis.window_kept`). A rider the bus
  never came for (refused after a breakdown, still waiting when the day ended) had the promise broken.
* **lateness**: how long after the window's end the bus came (0 when in time), over the riders it came
  for; its 95th percentile (:func:`dispatch.kpis.percentile`) and maximum.
* **announced**: a broken promise the dispatcher announced before the window opened — a
  ``promise_changed`` event for the rider (``PROMISE_CHANGED`` in :mod:`dispatch.events`) before the
  window's start; the lead time is the window's start minus the first announcement. Without such an
  event kind the dispatcher announces nothing: 0 % of the broken promises, no lead time.

And of the day: served (riders dropped off, % of all requests), re-optimization rounds started and
applied, and rounds skipped — no answer because the plan in force was itself infeasible (it cannot
warm-start the search) or the search failed, or an answer refused when it came back (a route of it broke a
rule) — by cause.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from dispatch.kpis import percentile, window_kept
from simulation.engine import PROMISE_CHANGED, RiderRecord, SimulationResult
from simulation.kpis import trip_outcome


@dataclass(frozen=True)
class Punctuality:
    """A day's promises kept and broken (see the module docstring for each definition)."""

    requests: int
    promised: int
    windows_kept: int
    windows_kept_pct: float | None
    lateness_p95_min: float | None
    lateness_max_min: float | None
    broken: int
    announced_before_window: int
    announced_before_window_pct: float | None
    announced_lead_median_min: float | None
    announcement_event: str | None  # the event kind counted as an announcement (None: there is none)
    served: int
    served_pct: float
    reopt_rounds: int
    reopt_applied: int
    reopt_skipped: int
    reopt_skipped_by_cause: dict[str, int]
    breakdowns: int
    refused_after_breakdown: int

    def as_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def _kept(record: RiderRecord) -> bool:
    return window_kept(trip_outcome(record)) is True


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def punctuality(results: Sequence[SimulationResult]) -> Punctuality:
    """The promises of simulated days, kept and broken, and their re-optimization rounds: every rider and
    round of ``results`` pooled (one day, or several)."""
    riders = [r for result in results for r in result.riders.values()]
    promised = [r for r in riders if r.window is not None and r.outcome != "cancelled"]
    kept = [r for r in promised if _kept(r)]
    broken = [r for r in promised if not _kept(r)]
    lateness = [max(0, r.bus_arrived - r.window[1]) / 60 for r in promised
                if r.bus_arrived is not None and r.window is not None]
    leads = [(r.window[0] - r.announced_at) / 60 for r in broken
             if r.window is not None and r.announced_at is not None and r.announced_at < r.window[0]]
    served = sum(r.outcome == "completed" for r in riders)
    skipped = dict(sorted(sum((Counter(r.reoptimizations_skipped) for r in results), Counter()).items()))
    return Punctuality(
        requests=len(riders), promised=len(promised), windows_kept=len(kept),
        windows_kept_pct=_pct(len(kept), len(promised)),
        lateness_p95_min=round(percentile(lateness, 0.95), 2) if lateness else None,
        lateness_max_min=round(max(lateness), 2) if lateness else None,
        broken=len(broken), announced_before_window=len(leads),
        announced_before_window_pct=_pct(len(leads), len(broken)),
        announced_lead_median_min=round(statistics.median(leads), 2) if leads else None,
        announcement_event=None if PROMISE_CHANGED is None else PROMISE_CHANGED.value,
        served=served, served_pct=_pct(served, len(riders)) or 0.0,
        reopt_rounds=sum(r.reoptimizations for r in results),
        reopt_applied=sum(r.reoptimizations_applied for r in results),
        reopt_skipped=sum(skipped.values()), reopt_skipped_by_cause=skipped,
        breakdowns=sum(len(r.breakdowns) for r in results),
        refused_after_breakdown=sum(len(refused) for r in results for _, _, refused in r.breakdowns),
    )
