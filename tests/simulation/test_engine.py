"""The simulator on a hand-made day whose figures are worked out by hand, and on seeded Liechtenstein
days: reproducible, every plan passing route evaluation, more buses never serving fewer riders."""

from __future__ import annotations

from dataclasses import replace

import pytest

from api.settings import Settings
from dispatch.model import DAY_S, Break, Request, ServiceRules, TimeType, Vehicle
from dispatch.reoptimize import ReoptimizationPolicy
from dispatch.reposition import RepositionPolicy
from simulation.engine import Leg, SimulationConfig, simulate
from simulation.kpis import compute_kpis
from simulation.punctuality import punctuality
from simulation.runner import Scenario, run_scenario, scenario_trips
from simulation.street import Breakdown, Street
from simulation.study import sweep
from tests.dispatch.scenarios import line_travel

H = 3600
NEVER = ReoptimizationPolicy(every_s=0)
QUIET = SimulationConfig(no_show_p=0.0, cancel_p=0.0, reoptimization=NEVER)


def hand_made_day(config: SimulationConfig = QUIET):
    """One bus at km 0 on a straight road (1 km = 60 s), shift 5:30–9:30. A rides km 1 → 4 and C km 2 →
    3, both leaving after 6:00, both pre-booked at 5:00."""
    bus = Vehicle("bus", 8, 1, 0, DAY_S + 5 * H + 1800, DAY_S + 9 * H + 1800)
    requests = [Request("A", 1, 4, TimeType.LEAVE_AFTER, DAY_S + 6 * H, DAY_S + 5 * H),
                Request("C", 2, 3, TimeType.LEAVE_AFTER, DAY_S + 6 * H, DAY_S + 5 * H + 1)]
    return simulate([bus], ServiceRules(), line_travel([0, 1, 2, 3, 4]), requests, config)


def test_hand_made_day_figures():
    """The bus leaves the depot at 5:59 and picks A up at 6:00 (dwell 30 + 15 s), C at 6:01:45 (C waited
    105 s), drops C at 6:03:30 and A at 6:05:15, and drives home at the end of its shift. So: both
    served and pooled, mean wait 52.5 s, rides 270 s (direct 180) and 60 s (direct 60), factors 1.5 and
    1.0, 5 km empty (1 out, 4 home) and 3 km loaded, 4 km solo (saved -4), 2 riders in 4 shift hours,
    330 person-seconds on board in the 6:00–6:15 bin."""
    result = hand_made_day()
    riders = result.riders
    assert (riders["A"].bus_arrived, riders["A"].boarded, riders["A"].dropped_off) == (
        DAY_S + 6 * H, DAY_S + 6 * H + 45, DAY_S + 6 * H + 315)
    assert (riders["C"].bus_arrived, riders["C"].dropped_off) == (DAY_S + 6 * H + 105, DAY_S + 6 * H + 210)
    kpis = compute_kpis(result)
    assert (kpis.served, kpis.served_pct, kpis.rejected) == (2, 100.0, {})
    assert kpis.wait_mean_min == round(52.5 / 60, 2)
    assert kpis.window_kept_pct == 100.0
    assert kpis.ride_mean_min == round(165 / 60, 2) and kpis.ride_time_factor == 1.25
    assert kpis.pooling_pct == 100.0
    assert (kpis.vehicle_km_empty, kpis.vehicle_km_loaded) == (5.0, 3.0)
    assert (kpis.solo_km, kpis.km_saved) == (4.0, -4.0)
    assert kpis.passengers_per_vehicle_hour == 0.5
    assert kpis.occupancy_start_h == 5.5
    assert kpis.occupancy == [0.0, 0.0, round(330 / 900, 3)] + [0.0] * 13
    assert result.violations == [] and kpis.plan_violations == 0


def test_a_no_show_keeps_the_bus_waiting_then_frees_it():
    """Every rider a no-show: the bus waits ``no_show_wait_s`` at A's pickup; nobody is served, nobody
    is driven, and the bus still came inside the promised window."""
    result = hand_made_day(replace(QUIET, no_show_p=1.0))
    kpis = compute_kpis(result)
    assert (kpis.served, kpis.no_shows, kpis.window_kept_pct) == (0, 2, 100.0)
    assert kpis.vehicle_km_loaded == 0.0
    assert result.riders["A"].bus_arrived == DAY_S + 6 * H


def test_cancelled_riders_are_not_driven():
    """Every booking cancelled before its pickup: nobody served, only the shift-end drive (none: the bus
    never left its depot)."""
    kpis = compute_kpis(hand_made_day(replace(QUIET, cancel_p=1.0)))
    assert (kpis.served, kpis.cancelled, kpis.vehicle_km_empty, kpis.vehicle_km_loaded) == (0, 2, 0.0, 0.0)


EAGER = RepositionPolicy(every_s=60, min_expected=1, value_s=600, radius_s=120)


def repositioning_day(breaks: tuple[Break, ...] = (), reposition: RepositionPolicy | None = EAGER,
                      later: tuple[Request, ...] = ()):
    """One bus at km 0 on a straight road (1 km = 60 s), shift 5:30–9:30; A rides km 8 → 0 leaving after
    6:00 (pre-booked at 5:00), then the ``later`` requests. Targets are chosen every minute; one expected
    pickup is worth 10 min of driving."""
    bus = Vehicle("bus", 8, 1, 0, DAY_S + 5 * H + 1800, DAY_S + 9 * H + 1800, breaks)
    request = Request("A", 8, 0, TimeType.LEAVE_AFTER, DAY_S + 6 * H, DAY_S + 5 * H)
    config = replace(QUIET, reposition=reposition)
    return simulate([bus], ServiceRules(), line_travel(range(11)), [request, *later], config)


def test_an_idle_bus_drives_towards_expected_demand_and_home_by_its_shift_end():
    """After dropping A at the depot at 6:08:45 the bus is idle; at 6:10 the demand seen (A's pickup at km 8,
    within the last 30 min) draws it to km 8 (8 min of driving against 10 min of worth), where it waits
    until it drives home at 9:22 to be back by 9:30, its shift end. Without repositioning it stays home."""
    m = 60
    result = repositioning_day()
    served = [Leg("bus", 0, 8, DAY_S + 6 * H - 8 * m, DAY_S + 6 * H, 8000, 0),
              Leg("bus", 8, 0, DAY_S + 6 * H + 45, DAY_S + 6 * H + 45 + 8 * m, 8000, 1)]
    assert result.legs == [*served, Leg("bus", 0, 8, DAY_S + 6 * H + 10 * m, DAY_S + 6 * H + 18 * m, 8000, 0),
                           Leg("bus", 8, 0, DAY_S + 9 * H + 22 * m, DAY_S + 9 * H + 30 * m, 8000, 0)]
    assert result.repositions == 1 and result.violations == []
    assert repositioning_day(reposition=None).legs == served


def test_a_bus_due_home_for_its_break_is_not_sent_away():
    """A break from 6:40 at the depot: km 8 and back (16 min) and a 30-min wait there do not fit between 6:10
    and 6:40, so the bus stays home and takes its break."""
    result = repositioning_day((Break(DAY_S + 6 * H + 40 * 60, DAY_S + 7 * H, 1800),))
    assert result.repositions == 0 and [leg.destination for leg in result.legs] == [8, 0]
    assert result.violations == []


def test_a_bus_waiting_for_its_next_stop_repositions_and_still_keeps_it():
    """B (km 2 → 0 after 8:00, pre-booked) is the bus's next stop after A. Counting buses that wait for
    their next stop, the bus drives to A's pickup zone at 6:10 (km 8, reached 6:18: 8 + 30 min of stay + 6
    min to km 2 fit before 8:00); at 7:00 B's pickup comes into the hour ahead and A's has left the
    half-hour behind, so it moves to km 2 (7:00–7:06) and picks B up at 8:00 as planned. Without it, the
    bus waits at the depot until 7:58."""
    m = 60
    b = Request("B", 2, 0, TimeType.LEAVE_AFTER, DAY_S + 8 * H, DAY_S + 5 * H + 1)
    result = repositioning_day(reposition=replace(EAGER, waiting_buses=True), later=(b,))
    moves = [(leg.origin, leg.destination, leg.depart, leg.arrive) for leg in result.legs[2:4]]
    assert moves == [(0, 8, DAY_S + 6 * H + 10 * m, DAY_S + 6 * H + 18 * m),
                     (8, 2, DAY_S + 7 * H, DAY_S + 7 * H + 6 * m)]
    assert result.riders["B"].bus_arrived == DAY_S + 8 * H and result.riders["B"].outcome == "completed"
    assert result.repositions == 2 and result.violations == []
    idle_only = repositioning_day(later=(b,))
    assert idle_only.repositions == 0 and idle_only.legs[2].depart == DAY_S + 7 * H + 58 * m


def small_day(**changes) -> Scenario:
    return Scenario(**{"buses": 3, "requests": 150, "seed": 5,
                       "config": SimulationConfig(reoptimization=NEVER)}
                    | changes)


def test_the_simulator_runs_the_live_services_reoptimization_policy():
    """One policy, read by both: the simulator's default is the service's default (interval, iterations,
    budget), and a service configured otherwise hands that policy on as one value."""
    assert SimulationConfig().reoptimization == ReoptimizationPolicy() == Settings().reoptimization
    changed = Settings(reoptimize_every_s=30, reoptimize_iterations=50, reoptimize_budget_s=2)
    assert changed.reoptimization == ReoptimizationPolicy(every_s=30, iterations=50, budget_s=2)


def test_a_seed_reproduces_the_same_key_figures(network):
    """Two runs of the same seeded day, re-optimized in rounds of a fixed number of iterations (not
    bounded by wall time), give the same key figures; another seed gives others."""
    policy = ReoptimizationPolicy(every_s=15 * 60, iterations=30, budget_s=30)
    config = SimulationConfig(reoptimization=policy)
    first, second = (compute_kpis(run_scenario(small_day(config=config), network)).as_dict()
                     for _ in range(2))
    assert first["reoptimizations"] > 0
    first.pop("wall_s"), second.pop("wall_s")
    assert first == second
    other = compute_kpis(run_scenario(small_day(seed=6), network)).as_dict()
    other.pop("wall_s")
    assert other != first


def test_every_plan_of_a_day_passes_route_evaluation(network):
    """After every event of a day with cancellations and re-optimization rounds every 5 minutes whose
    answers come back 4 minutes later (so that most are rebased onto a plan that changed meanwhile), each
    bus's route in force passes :func:`dispatch.evaluation.evaluate_route` with the checker's own travel
    times. (No-shows are off: a rider who does not come keeps the bus ``no_show_wait_s`` at the stop,
    which the dispatcher does not plan for; see the README.)"""
    policy = ReoptimizationPolicy(every_s=5 * 60, iterations=20, budget_s=4 * 60)
    config = SimulationConfig(no_show_p=0.0, cancel_p=0.1, reoptimization=policy, check_every=1)
    result = run_scenario(small_day(requests=120, config=config), network)
    assert result.plan_checks > 120
    assert result.reoptimizations_applied > 0
    assert result.reoptimizations_rebased > 0
    assert result.violations == []
    assert compute_kpis(result).served > 60


def test_more_buses_never_serve_fewer_riders(network):
    """On one fixed demand, served % does not fall as the fleet grows from 1 to 2, 3 and 5 buses."""
    scenario = small_day()
    trips = scenario_trips(scenario, network)
    outcome = sweep(scenario, network, [1, 2, 3, 5], {"default": ServiceRules()}, trips=trips)
    served = [row["served_pct"] for row in outcome.sweep]
    assert served == sorted(served), served
    assert served[0] < served[-1]


@pytest.mark.parametrize("bad", [{"no_show_p": 1.5}, {"position_every_s": -1}])
def test_invalid_configuration_is_refused(bad):
    """Probabilities outside [0, 1] and negative intervals are refused."""
    with pytest.raises(ValueError):
        SimulationConfig(**bad)


@pytest.mark.parametrize("bad", [{"every_s": -1}, {"iterations": 0}, {"budget_s": 0}])
def test_invalid_reoptimization_policy_is_refused(bad):
    """A negative interval, no iterations or no time for a round are refused."""
    with pytest.raises(ValueError):
        ReoptimizationPolicy(**bad)


# ----- on a disturbed street (simulation.street) --------------------------------------------------
SLOW = Street(traffic=(12.0,) * 24)  # every leg takes 12 times as long as planned


def test_a_slow_street_makes_the_bus_late_and_the_record_shows_it():
    """Every leg 12 × as long as planned: the bus still leaves at 5:59 for A (planned 60 s), so it comes
    at 6:11, 1 min after A's promised window [6:00, 6:10] closed; then 12 min on to C (6:23:45). The
    records show when the bus came, and the punctuality figures the broken promises and the lateness."""
    result = hand_made_day(replace(QUIET, street=SLOW))
    a, c = result.riders["A"], result.riders["C"]
    assert a.window == (DAY_S + 6 * H, DAY_S + 6 * H + 600)
    assert (a.bus_arrived, a.boarded) == (DAY_S + 6 * H + 660, DAY_S + 6 * H + 705)
    assert c.bus_arrived == DAY_S + 6 * H + 705 + 720
    figures = punctuality([result])
    assert (figures.promised, figures.windows_kept, figures.broken) == (2, 0, 2)
    assert figures.lateness_max_min == round((705 + 720 - 600) / 60, 2)
    assert figures.served == 2


def test_a_calm_street_drives_the_plan_to_the_second():
    """σ 0, no traffic, no dwell noise (the default street, stated explicitly): the hand-made day's times
    of the plan, as without a street."""
    calm = hand_made_day(replace(QUIET, street=Street(sigma=0.0, traffic=(1.0,) * 24, dwell_sigma=0.0)))
    plain = hand_made_day()
    assert {k: (r.bus_arrived, r.boarded, r.dropped_off) for k, r in calm.riders.items()} == {
        k: (r.bus_arrived, r.boarded, r.dropped_off) for k, r in plain.riders.items()}
    assert calm.riders["A"].bus_arrived == DAY_S + 6 * H


def test_dwell_varies_around_the_rules_dwell():
    """With dwell noise the stops take other times than the rules' 45 s (30 s + 15 s per passenger), the
    same for the same seed; the bus still serves both riders."""
    noisy = replace(QUIET, street=Street(dwell_sigma=0.5))
    first, again = hand_made_day(noisy), hand_made_day(noisy)
    dwell = {k: r.boarded - r.bus_arrived for k, r in first.riders.items()}
    assert dwell != {"A": 45, "C": 45}
    assert dwell == {k: r.boarded - r.bus_arrived for k, r in again.riders.items()}
    assert all(r.outcome == "completed" for r in first.riders.values())


def test_a_breakdown_goes_through_the_operator_and_strands_riders_nobody_can_take():
    """The only bus breaks down at 6:01 with A on board and C waiting: the operator's call
    (:meth:`Dispatcher.take_out_of_service`) finds no other bus, so both are refused with cause
    ``vehicle_out_of_service``; the bus drives no more."""
    breakdown = Breakdown(DAY_S + 6 * H + 60)
    result = hand_made_day(replace(QUIET, street=Street(breakdowns=(breakdown,))))
    assert [(at, bus, sorted(r.request_id for r in refused)) for at, bus, refused in result.breakdowns] == [
        (DAY_S + 6 * H + 60, "bus", ["A", "C"])]
    assert {(r.outcome, r.cause) for r in result.riders.values()} == {("rejected", "vehicle_out_of_service")}
    assert all(leg.depart <= breakdown.at for leg in result.legs)


def test_a_breakdown_replans_its_riders_onto_another_bus():
    """Two buses at km 0; the busy one breaks down at 6:01 (the breakdown names no bus: the one with the
    most riders). The other bus takes over: it fetches A where the broken bus stands and C at C's
    pickup, inside C's promised window; A's record keeps the first pickup."""
    config = replace(QUIET, street=Street(breakdowns=(Breakdown(DAY_S + 6 * H + 60),)))
    buses = [Vehicle(name, 8, 1, 0, DAY_S + 5 * H + 1800, DAY_S + 9 * H + 1800) for name in ("b1", "b2")]
    requests = [Request("A", 1, 4, TimeType.LEAVE_AFTER, DAY_S + 6 * H, DAY_S + 5 * H),
                Request("C", 2, 3, TimeType.LEAVE_AFTER, DAY_S + 6 * H, DAY_S + 5 * H + 1)]
    result = simulate(buses, ServiceRules(), line_travel([0, 1, 2, 3, 4]), requests, config)
    (_, broken, refused), = result.breakdowns
    assert refused == []
    a, c = result.riders["A"], result.riders["C"]
    other = "b2" if broken == "b1" else "b1"
    assert (a.outcome, a.vehicle_id, c.outcome, c.vehicle_id) == ("completed", other, "completed", other)
    assert a.bus_arrived == DAY_S + 6 * H and a.boarded == DAY_S + 6 * H + 45
    assert c.window is not None and c.bus_arrived is not None and c.bus_arrived <= c.window[1]


def test_a_breakdown_of_an_unknown_bus_is_refused():
    """A breakdown must name a bus of the fleet (or none)."""
    with pytest.raises(ValueError, match="unknown vehicles"):
        hand_made_day(replace(QUIET, street=Street(breakdowns=(Breakdown(DAY_S, "ghost"),))))


def test_a_seeded_noisy_day_repeats_exactly_and_noise_makes_buses_late(network):
    """A Liechtenstein day with travel-time and dwell noise (σ 0.2): two runs give the same rider records;
    the calm street keeps every promised window (no-shows off: a no-show's wait is not planned for), the
    noisy one does not, and its lateness shows in the figures."""
    calm_config = SimulationConfig(no_show_p=0.0, cancel_p=0.0, reoptimization=NEVER)
    noisy_config = replace(calm_config, street=Street(sigma=0.2, dwell_sigma=0.2))

    def records(result):
        return {k: (r.outcome, r.vehicle_id, r.bus_arrived, r.boarded, r.dropped_off)
                for k, r in result.riders.items()}

    noisy = run_scenario(small_day(config=noisy_config), network)
    assert records(noisy) == records(run_scenario(small_day(config=noisy_config), network))
    calm = punctuality([run_scenario(small_day(config=calm_config), network)])
    assert (calm.windows_kept_pct, calm.lateness_max_min) == (100.0, 0.0)
    disturbed = punctuality([noisy])
    assert disturbed.windows_kept_pct is not None and disturbed.windows_kept_pct < 100.0
    assert disturbed.lateness_max_min is not None and disturbed.lateness_max_min > 0
