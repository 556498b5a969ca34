"""Tests for dispatch.dispatcher: every rule, through the Dispatcher, on a road you can draw.

World: eleven places on a straight road, loc k at k km, driven at 60 km/h, so loc i to loc j takes
60·|i − j| seconds. The clock starts at T0 = 08:00; buses work 07:00–15:00 unless a test says otherwise.
Default rules: pickup within 15 min of a leave-after time, a 10-min promised window, max ride
min(1.5·direct + 10 min, direct + 30 min), a stop takes 30 s + 15 s per rider, offers last 120 s.

After every change to the plan, :func:`assert_plan_feasible` re-evaluates every route from scratch.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dispatch.dispatcher import BookedTrip, Booking, Dispatcher, DispatchError, RequestStatus
from dispatch.evaluation import evaluate_route
from dispatch.events import EventKind
from dispatch.insertion import CostWeights
from dispatch.model import (
    DAY_S,
    Break,
    Offer,
    Rejection,
    RejectionCause,
    Request,
    ServiceRules,
    Stop,
    StopKind,
    TimeType,
    Vehicle,
)
from dispatch.plan import Plan
from dispatch.search import replan_riders
from tests.dispatch.scenarios import leave_after, line_travel

T0 = 8 * 3600
LINE = line_travel(range(11))
RULES = ServiceRules()
NEW_RIDER_ONLY = CostWeights(delay_weight=0.0)  # insertion cost blind to the delay of riders already booked


def bus(vid: str = "v1", seats: int = 4, wheelchairs: int = 0, depot: int = 0,
        shift_end: int = T0 + 7 * 3600) -> Vehicle:
    """A bus whose shift started an hour before T0."""
    return Vehicle(vid, seats, wheelchairs, depot, T0 - 3600, shift_end)


def dispatcher(*vehicles: Vehicle, rules: ServiceRules = RULES, now: int = T0,
               weights: CostWeights | None = None) -> Dispatcher:
    """A dispatcher over the line world, with the set-up events already drained."""
    d = Dispatcher(vehicles, rules, LINE, now, weights)
    d.drain_events()
    assert_plan_feasible(d)
    return d


def assert_plan_feasible(d: Dispatcher) -> None:
    """The whole plan check: every route feasible (:func:`assert_routes_feasible`) and every booking
    where its status says (:func:`assert_bookings_match_routes`)."""
    assert_routes_feasible(d)
    assert_bookings_match_routes(d)


def assert_routes_feasible(d: Dispatcher) -> None:
    """Every route in force passes a fresh evaluate_route, and the dispatcher's cached evaluation is not
    stale; a bus out of service carries nobody and has no rider stops."""
    for vid, vehicle in d.plan.vehicles.items():
        state, route = d.plan.state(vid), d.plan.route(vid)
        if not state.in_service:
            assert not state.onboard and all(s.kind is StopKind.BREAK for s in route.stops), vid
            continue
        fresh = evaluate_route(vehicle, state, route.stops, d.legs)
        assert fresh.feasible, (vid, fresh.violations)
        assert d.plan.evaluation(vid) == fresh, f"cached evaluation of {vid} is stale"


def assert_bookings_match_routes(d: Dispatcher) -> None:
    """Booked riders have both stops in their bus's route, the pickup carrying the promised window or a
    hold inside it (so route feasibility means the promise is kept); riders on board have only their
    drop-off left; finished, cancelled or rejected riders have no stop anywhere and are not on board."""
    stops_of: dict[str, list[tuple[str, StopKind, int, int]]] = {}
    for vid in d.plan.vehicles:
        for stop in d.plan.route(vid).stops:
            stops_of.setdefault(stop.request_id, []).append((vid, stop.kind, stop.earliest, stop.latest))
    for rid, booking in d.plan.bookings().items():
        stops = stops_of.get(rid, [])
        onboard = {r.request_id for v in d.plan.vehicles for r in d.plan.state(v).onboard}
        if booking.status is RequestStatus.BOOKED:
            promise = booking.promise
            ((drop_vid, drop_kind, drop_earliest, drop_latest),
             (pick_vid, pick_kind, earliest, latest)) = sorted(stops)
            assert (drop_vid, drop_kind, drop_earliest, drop_latest) == (
                booking.vehicle_id, StopKind.DROPOFF, 0, promise.latest_dropoff), (rid, stops, promise)
            assert (pick_vid, pick_kind, latest) == (booking.vehicle_id, StopKind.PICKUP, promise.window_end)
            # a pickup may be held to a planned time inside the window, never opened before it
            assert promise.window_start <= earliest <= promise.window_end, (rid, stops, promise)
        elif booking.status is RequestStatus.PICKED_UP:
            assert rid in {r.request_id for r in d.plan.state(booking.vehicle_id).onboard}, rid
            assert [(v, k) for v, k, _, _ in stops] == [(booking.vehicle_id, StopKind.DROPOFF)], (rid, stops)
        else:
            assert not stops and rid not in onboard, (rid, booking.status, stops)


def book(d: Dispatcher, request: Request, now: int = T0) -> BookedTrip:
    """Quote and book ``request``, insisting both succeed; checks the plan afterwards."""
    offer = d.quote(request, now)
    assert isinstance(offer, Offer), offer
    booked = d.book(request.id, now)
    assert isinstance(booked, BookedTrip), booked
    assert_plan_feasible(d)
    return booked


def plan(d: Dispatcher, vid: str) -> list[tuple[str, StopKind, int]]:
    """(request, kind, planned start) of each stop of a vehicle's route."""
    return [(s.request_id, s.kind, t) for s, t in zip(d.plan.route(vid).stops, d.plan.evaluation(vid).start)]


def kinds(events) -> list[EventKind]:
    """The kinds of some events, in order."""
    return [e.kind for e in events]


P, D = StopKind.PICKUP, StopKind.DROPOFF


# ----- capacity -----------------------------------------------------------------------------------

def test_full_bus_cannot_pick_up_before_dropoff():
    """1-seat bus at loc 0. A 0→5 and B 1→6, both from 08:00. B must wait until A is off:
    A 08:00:00 (leaves +45), off at 5 +345 (leaves +390), B at 1 +630 (leaves +675), off at 6 +975."""
    d = dispatcher(bus(seats=1))
    book(d, leave_after("A", 0, 5, T0))
    book(d, leave_after("B", 1, 6, T0))
    assert plan(d, "v1") == [("A", P, T0), ("A", D, T0 + 345), ("B", P, T0 + 630), ("B", D, T0 + 975)]
    assert max(load[0] for load in d.plan.evaluation("v1").loads) == 1


def test_two_seat_bus_pools_the_same_riders():
    """Control for the test above: with two seats B boards at loc 1 on the way (+105, leaves +150).
    Both orders of drop-off add 120 s of driving. 6 first: B rides 300 s but A, booked first, is off
    210 s later than planned (+555, not +345): ½ × 300 + ½ × 210 = 255. 5 first: B rides 345 s and A is
    off 45 s later: ½ × 345 + ½ × 45 = 195, the cheaper: A off at 5 +390, B off at 6 +495."""
    d = dispatcher(bus(seats=2))
    book(d, leave_after("A", 0, 5, T0))
    book(d, leave_after("B", 1, 6, T0))
    assert plan(d, "v1") == [("A", P, T0), ("B", P, T0 + 105), ("A", D, T0 + 390), ("B", D, T0 + 495)]
    assert d.plan.evaluation("v1").loads == ((1, 0), (2, 0), (1, 0), (0, 0))


def wheelchair_fleet() -> Dispatcher:
    """'seats' (4 seats, no wheelchair space) stands at loc 1; 'chair' (4 seats, 1 space) at loc 0."""
    return dispatcher(bus("seats", depot=1), bus("chair", wheelchairs=1))


def test_wheelchair_rider_goes_only_to_the_bus_with_a_space():
    """W in a wheelchair, 1→10: the seats-only bus stands right at loc 1, yet only 'chair' may take W."""
    d = wheelchair_fleet()
    booked = book(d, leave_after("W1", 1, 10, T0, seats=0, wheelchairs=1))
    assert booked.vehicle_id == "chair"
    assert booked.times.pickup == T0 + 60
    assert d.plan.route("seats").stops == ()


def test_second_wheelchair_at_the_same_time_gets_no_offer():
    """W1 rides 1→10 in the only space, 08:01 to 08:10:45. W2 wants the same trip from 08:00
    (pickup by 08:15):
    after W1 the bus is back at loc 1 at 08:20:30, too late, and W2 cannot ride first either. No offer;
    the suggestion is a quarter of an hour later (08:15), which the bus can serve after W1."""
    d = wheelchair_fleet()
    book(d, leave_after("W1", 1, 10, T0, seats=0, wheelchairs=1))
    answer = d.quote(leave_after("W2", 1, 10, T0, seats=0, wheelchairs=1), T0)
    assert isinstance(answer, Rejection)
    assert answer.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert answer.alternatives == (T0 + 900,)
    assert_plan_feasible(d)
    later = d.quote(leave_after("W2", 1, 10, T0 + 900, seats=0, wheelchairs=1), T0)
    assert isinstance(later, Offer) and later.vehicle_id == "chair"


# ----- promises -----------------------------------------------------------------------------------

def test_promised_window_survives_later_insertions():
    """A books 3→7 first: v1 (loc 0) reaches loc 3 at +180; window 08:00–08:10. Eight more riders book
    after, several of them served before A (B 1→2 alone pushes A to +270). A's pickup moves later and
    later but stays inside 08:00–08:10 in every evaluation; the riders that would push it out go to v2."""
    d = dispatcher(bus("v1", depot=0), bus("v2", depot=10))
    book(d, leave_after("A", 3, 7, T0))
    promise = d.plan.booking("A").promise
    assert (promise.window_start, promise.window_end) == (T0, T0 + 600)
    others = [("B", 1, 2, T0), ("C", 0, 9, T0 + 60), ("D", 2, 1, T0 + 120), ("E", 1, 3, T0 + 200),
              ("F", 5, 3, T0 + 200), ("G", 4, 0, T0 + 100), ("H", 2, 6, T0 + 300), ("I", 9, 2, T0)]
    starts = [plan(d, "v1")[0][2]]
    for rid, origin, destination, at in others:
        answer = d.quote(leave_after(rid, origin, destination, at), T0)
        if isinstance(answer, Offer):
            d.book(rid, T0)
        assert_plan_feasible(d)
        vid = d.plan.booking("A").vehicle_id
        (start,) = [t for r, k, t in plan(d, vid) if (r, k) == ("A", P)]
        assert promise.window_start <= start <= promise.window_end
        starts.append(start)
    assert starts[:2] == [T0 + 180, T0 + 270]
    assert max(starts) > T0 + 500  # pushed close to the end of the window, never past it
    assert d.plan.booking("A").vehicle_id == "v1"
    assert sum(b.vehicle_id == "v1" for b in d.plan.bookings().values()) >= 4


# ----- max ride time ------------------------------------------------------------------------------

STRICT_RIDE = ServiceRules(ride_alpha=1.0, ride_beta_s=120)  # max ride = direct + 2 min


def test_detour_beyond_max_ride_is_not_taken():
    """A rides 0→10 (direct 600 s, max ride 720 s under strict rules). B wants 5→3 from 08:00.
    Taking B on the way makes A ride 930 s; serving B before or after A breaks A's window or B's.
    With one bus, B is refused and A's route is untouched."""
    d = dispatcher(bus(), rules=STRICT_RIDE)
    book(d, leave_after("A", 0, 10, T0))
    before = plan(d, "v1")
    answer = d.quote(leave_after("B", 5, 3, T0), T0)
    assert isinstance(answer, Rejection) and answer.cause is RejectionCause.NO_VEHICLE_IN_TIME
    assert plan(d, "v1") == before == [("A", P, T0), ("A", D, T0 + 645)]


def test_detour_within_max_ride_is_taken():
    """Control: under default rules A may ride 1500 s, so B is picked up at loc 5 on the way (+345),
    dropped at 3 (+510), and A arrives at +975 after a 930 s ride (when the cost counts only the new
    rider: counting A's delay, B would stay aboard to 10 and back to 3, on the bus's way home)."""
    d = dispatcher(bus(), weights=NEW_RIDER_ONLY)
    book(d, leave_after("A", 0, 10, T0))
    book(d, leave_after("B", 5, 3, T0))
    assert plan(d, "v1") == [("A", P, T0), ("B", P, T0 + 345), ("B", D, T0 + 510), ("A", D, T0 + 975)]
    assert d.plan.evaluation("v1").ride_s["A"] == 930


def test_detour_beyond_max_ride_goes_to_another_bus():
    """Strict rules again, with a second bus at loc 5: B goes to v2 and A rides alone and direct."""
    d = dispatcher(bus("v1"), bus("v2", depot=5), rules=STRICT_RIDE)
    book(d, leave_after("A", 0, 10, T0))
    offer = book(d, leave_after("B", 5, 3, T0))
    assert offer.vehicle_id == "v2"
    assert plan(d, "v1") == [("A", P, T0), ("A", D, T0 + 645)]
    assert d.plan.evaluation("v1").ride_s["A"] == 600


# ----- shift end ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("shift_end", "served"), [(T0 + 1290, True), (T0 + 1289, False)])
def test_trip_must_end_with_the_bus_home_before_shift_end(shift_end, served):
    """A 0→10 from 08:00: aboard 08:00, off at loc 10 08:10:45–08:11:30, home at loc 0 10 min later,
    08:21:30 = T0 + 1290. A shift ending then is enough; one second earlier the trip is refused."""
    d = dispatcher(bus(shift_end=shift_end))
    answer = d.quote(leave_after("A", 0, 10, T0), T0)
    if served:
        assert isinstance(answer, Offer)
        d.book("A", T0)
        assert d.plan.evaluation("v1").end_arrival == T0 + 1290
    else:
        assert isinstance(answer, Rejection)
        assert answer.cause is RejectionCause.NO_VEHICLE_IN_TIME
        assert answer.alternatives == ()
    assert_plan_feasible(d)


# ----- no-show ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("arrived", "allowed_from"), [
    (T0 + 120, T0 + 780),  # early: the wait counts from the window start (08:10) + 3 min
    (T0 + 700, T0 + 880),  # late: the wait counts from the arrival + 3 min
])
def test_no_show_only_after_the_wait(arrived, allowed_from):
    """A 2→5 from 08:10, window 08:10–08:20. The driver arrives at loc 2 and waits 3 minutes into the
    window (or after arriving, if later) before a no-show is accepted; then both stops go."""
    d = dispatcher(bus())
    book(d, leave_after("A", 2, 5, T0 + 600))
    assert d.plan.booking("A").promise.window_start == T0 + 600
    d.arrive("v1", arrived)
    assert_plan_feasible(d)
    d.drain_events()
    with pytest.raises(DispatchError) as error:
        d.no_show("v1", "A", allowed_from - 1)
    assert error.value.code == "too_early_for_no_show"
    assert d.plan.booking("A").status is RequestStatus.BOOKED and len(d.plan.route("v1").stops) == 2
    d.no_show("v1", "A", allowed_from)
    assert d.plan.route("v1").stops == ()
    assert d.plan.booking("A").status is RequestStatus.NO_SHOW
    assert (d.plan.state("v1").location, d.plan.state("v1").available_at) == (2, allowed_from)
    assert kinds(d.drain_events()) == [EventKind.ROUTE_CHANGED, EventKind.RIDER_NO_SHOW]
    assert_plan_feasible(d)


def test_no_show_for_a_rider_who_is_not_next_is_refused():
    """A and B pooled (A first): reporting B as a no-show at A's stop is refused with not_next_stop."""
    d = dispatcher(bus())
    book(d, leave_after("A", 1, 5, T0))
    book(d, leave_after("B", 2, 6, T0))
    with pytest.raises(DispatchError) as error:
        d.no_show("v1", "B", T0 + 3600)
    assert error.value.code == "not_next_stop"
    assert d.plan.booking("B").status is RequestStatus.BOOKED


# ----- cancellation -------------------------------------------------------------------------------

def test_cancellation_removes_the_stops_and_only_once():
    """A 1→4 and B 2→6 pooled. A cancels: A's stops go, B's stay, A is cancelled;
    cancelling again is refused."""
    d = dispatcher(bus())
    book(d, leave_after("A", 1, 4, T0))
    book(d, leave_after("B", 2, 6, T0))
    assert {s.request_id for s in d.plan.route("v1").stops} == {"A", "B"}
    d.drain_events()
    d.cancel("A", T0 + 10)
    assert [(s.request_id, s.kind) for s in d.plan.route("v1").stops] == [("B", P), ("B", D)]
    assert d.plan.booking("A").status is RequestStatus.CANCELLED and d.plan.booking("A").vehicle_id is None
    assert kinds(d.drain_events()) == [EventKind.ROUTE_CHANGED, EventKind.BOOKING_CANCELLED]
    assert_plan_feasible(d)
    with pytest.raises(DispatchError) as error:
        d.cancel("A", T0 + 20)
    assert error.value.code == "not_cancellable"
    with pytest.raises(DispatchError) as error:
        d.cancel("nobody", T0 + 20)
    assert error.value.code == "unknown_request"


def test_cancellation_does_not_stretch_another_riders_ride():
    """Strict rules (max ride = direct + 120 s). X 1→2, R 2→4, S 3→5 from 08:05:30, all booked at 08:00:
    X aboard +60, R aboard +165 (leaves +210), X off +210, S aboard +330 (bus waits), R off +435: R rides
    225 of 240 s. X cancels. The plan in force must stay feasible. With X gone the earliest schedule
    takes R aboard at +120 (leaves +165) and still waits at loc 3 until +330, so R would ride 270 s.
    (A cost counting X's delay would drop X before R boards: the cost here counts only the new rider.)"""
    d = dispatcher(bus(), rules=STRICT_RIDE, weights=NEW_RIDER_ONLY)
    book(d, leave_after("X", 1, 2, T0))
    book(d, leave_after("R", 2, 4, T0))
    book(d, leave_after("S", 3, 5, T0 + 330))
    assert plan(d, "v1") == [("X", P, T0 + 60), ("R", P, T0 + 165), ("X", D, T0 + 210),
                             ("S", P, T0 + 330), ("R", D, T0 + 435), ("S", D, T0 + 540)]
    assert d.plan.evaluation("v1").ride_s["R"] == 225
    d.cancel("X", T0 + 10)
    assert_plan_feasible(d)


def test_rider_on_board_cannot_cancel():
    """Once picked up, a booking cannot be cancelled (the rider is in the bus)."""
    d = dispatcher(bus())
    book(d, leave_after("A", 0, 4, T0))
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0 + 45)
    with pytest.raises(DispatchError) as error:
        d.cancel("A", T0 + 50)
    assert error.value.code == "not_cancellable"
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP
    assert_plan_feasible(d)


# ----- breakdown ----------------------------------------------------------------------------------

def breakdown_world(*vehicles: Vehicle) -> Dispatcher:
    """A (0→8) boards v1 at 08:00 and leaves at +45; B (2→6) waits at loc 2 for v1;
    v1 has reached loc 1 at +105."""
    d = dispatcher(*vehicles)
    assert book(d, leave_after("A", 0, 8, T0)).vehicle_id == "v1"
    assert book(d, leave_after("B", 2, 6, T0)).vehicle_id == "v1"
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0 + 45)
    assert_plan_feasible(d)
    d.vehicle_position("v1", 1, T0 + 105)
    assert_plan_feasible(d)
    d.drain_events()
    return d


def test_breakdown_moves_riders_to_the_other_bus():
    """v1 breaks down at loc 1 at +105. v2 (idle at loc 0) takes B within B's promised window, and
    A gets a new pickup at loc 1 from +105 (within 15 min), inside A's new promised window.
    (Routes are checked for feasibility here; the stop-carries-promise check is the next test.)"""
    d = breakdown_world(bus("v1"), bus("v2"))
    b_promise = d.plan.booking("B").promise
    failed = d.take_out_of_service("v1", T0 + 105)
    assert failed == []
    assert EventKind.VEHICLE_OUT_OF_SERVICE in kinds(d.drain_events())
    assert not d.plan.state("v1").in_service and d.plan.route("v1").stops == ()
    b = d.plan.booking("B")
    assert (b.vehicle_id, b.status, b.promise) == ("v2", RequestStatus.BOOKED, b_promise)
    a = d.plan.booking("A")
    assert (a.vehicle_id, a.status, a.request.origin, a.request.time_type) == (
        "v2", RequestStatus.BOOKED, 1, TimeType.LEAVE_AFTER)
    assert T0 + 105 <= a.promise.window_start <= a.promise.window_end <= T0 + 105 + 900
    starts = {(r, k): t for r, k, t in plan(d, "v2")}
    assert b_promise.window_start <= starts["B", P] <= b_promise.window_end
    assert a.promise.window_start <= starts["A", P] <= a.promise.window_end
    assert_routes_feasible(d)


def test_breakdown_stranded_rider_stop_carries_the_new_promise():
    """After the breakdown above, A's new pickup stop must carry exactly the window A was promised
    (08:01:45–08:11:45), as every booked rider's pickup does; the whole plan check must pass."""
    d = breakdown_world(bus("v1"), bus("v2"))
    d.take_out_of_service("v1", T0 + 105)
    assert_plan_feasible(d)


def test_stranded_rider_keeps_new_window_after_later_booking():
    """A (0→8) boards v1 at 08:00; v1 breaks down at loc 1 at 08:01:45. The only other bus, v2, has one
    seat: A is told 08:01:45–08:11:45 for a pickup at loc 1. Then C (3→8, pickup by 08:15) books; with
    one seat C can only ride before A, which would bring v2 to A at 08:16:30. C must therefore be
    refused (or A's window kept); A must never be picked up after 08:11:45."""
    d = dispatcher(bus("v1"), bus("v2", seats=1))
    book(d, leave_after("A", 0, 8, T0))
    d.arrive("v1", T0)
    d.pick_up("v1", "A", T0 + 45)
    d.vehicle_position("v1", 1, T0 + 105)
    assert d.take_out_of_service("v1", T0 + 105) == []
    promise = d.plan.booking("A").promise
    assert (promise.window_start, promise.window_end) == (T0 + 105, T0 + 705)
    answer = d.quote(leave_after("C", 3, 8, T0), T0 + 105)
    if isinstance(answer, Offer):
        d.book("C", T0 + 105)
    (start,) = [t for r, k, t in plan(d, "v2") if (r, k) == ("A", P)]
    assert start <= promise.window_end, \
        f"A picked up at +{start - T0}, promised by +{promise.window_end - T0}"
    assert_plan_feasible(d)


def test_breakdown_with_no_other_bus_rejects_its_riders():
    """The only bus breaks down: B (waiting) and A (on board) come back as rejections, in route order."""
    d = breakdown_world(bus("v1"))
    failed = d.take_out_of_service("v1", T0 + 105)
    assert [(r.request_id, r.cause) for r in failed] == [
        ("B", RejectionCause.VEHICLE_OUT_OF_SERVICE), ("A", RejectionCause.VEHICLE_OUT_OF_SERVICE)]
    for rid in "AB":
        assert (d.plan.booking(rid).status, d.plan.booking(rid).vehicle_id) == (RequestStatus.REJECTED, None)
    assert_plan_feasible(d)




def replan_v1(d: Dispatcher
              ) -> tuple[Plan, list[tuple[Booking, tuple[Stop, ...]]], list[tuple[Booking, Rejection]]]:
    """replan_riders for v1's riders at +105, on the plan with v1 taken out as the dispatcher takes it."""
    state, route = d.plan.state("v1"), d.plan.route("v1")
    without = d.plan.with_state(replace(state, in_service=False, onboard=()))
    without = without.with_route(replace(route, stops=(), committed=0))
    return without, *replan_riders(without, state, route, T0 + 105, d.rules, d.weights)


def test_replan_riders_moves_each_rider_in_route_order_and_leaves_the_plan_given_alone():
    """B (waiting) and then A (on board, a new pickup where v1 stands) go to v2, each with v2's stops as
    they become; the plan given is not changed."""
    without, moved, refused = replan_v1(breakdown_world(bus("v1"), bus("v2")))
    assert refused == [] and [(b.request.id, b.vehicle_id) for b, _ in moved] == [("B", "v2"), ("A", "v2")]
    assert moved[1][0].request.origin == 1 and {s.request_id for s in moved[1][1]} == {"A", "B"}
    assert without.route("v2").stops == () and without.booking("A").vehicle_id == "v1"


def test_replan_riders_with_no_other_bus_ends_every_booking_with_a_rejection():
    """The only bus withdrawn: B and A come back, in route order, ended (rejected, no bus) with the cause."""
    _, moved, refused = replan_v1(breakdown_world(bus("v1")))
    assert moved == [] and [(b.request.id, b.status, b.vehicle_id, r.cause) for b, r in refused] == [
        (rid, RequestStatus.REJECTED, None, RejectionCause.VEHICLE_OUT_OF_SERVICE) for rid in "BA"]

# ----- booking ------------------------------------------------------------------------------------

def last_seat_race(*vehicles: Vehicle) -> tuple[Dispatcher, Offer, Offer]:
    """A (1→8) and B (2→9), both from 08:00, quoted at 08:00 against the same plan: both offered v1's seat."""
    d = dispatcher(*vehicles)
    offer_a = d.quote(leave_after("A", 1, 8, T0), T0)
    offer_b = d.quote(leave_after("B", 2, 9, T0), T0)
    assert isinstance(offer_a, Offer) and isinstance(offer_b, Offer)
    assert offer_a.vehicle_id == offer_b.vehicle_id == "v1"
    assert isinstance(d.book("A", T0 + 5), BookedTrip)
    assert_plan_feasible(d)
    return d, offer_a, offer_b


def test_second_booking_for_the_last_seat_is_refused():
    """One 1-seat bus: after A books, B cannot be fitted (before A breaks A's window, after A breaks B's),
    so B's booking is refused as no longer feasible and the bus never holds two."""
    d, _, _ = last_seat_race(bus(seats=1))
    answer = d.book("B", T0 + 6)
    assert isinstance(answer, Rejection) and answer.cause is RejectionCause.OFFER_NO_LONGER_FEASIBLE
    assert [r for r, _, _ in plan(d, "v1")] == ["A", "A"]
    with pytest.raises(DispatchError):
        d.plan.booking("B")
    assert_plan_feasible(d)


def test_second_booking_for_the_last_seat_moves_to_another_bus():
    """Same race with a second 1-seat bus at loc 10: B's booking lands on v2, with the window B was quoted."""
    d, _, offer_b = last_seat_race(bus(seats=1), bus("v2", seats=1, depot=10))
    answer = d.book("B", T0 + 6)
    assert isinstance(answer, BookedTrip) and answer.vehicle_id == "v2"
    promise = answer.booking.promise
    assert (promise.window_start, promise.window_end) == offer_b.pickup_window
    assert d.plan.booking("B").vehicle_id == "v2"
    assert [r for r, _, _ in plan(d, "v1")] == ["A", "A"]
    assert_plan_feasible(d)


@pytest.mark.parametrize(("booked_at", "accepted"), [(T0 + 120, True), (T0 + 121, False)])
def test_offer_expires(booked_at, accepted):
    """An offer made at 08:00 is valid 120 s: booking at +120 works, at +121 it is refused as expired
    and nothing is planned."""
    d = dispatcher(bus())
    offer = d.quote(leave_after("A", 1, 3, T0), T0)
    assert isinstance(offer, Offer) and offer.valid_until == T0 + 120
    answer = d.book("A", booked_at)
    if accepted:
        assert isinstance(answer, BookedTrip) and d.plan.booking("A").status is RequestStatus.BOOKED
    else:
        assert isinstance(answer, Rejection) and answer.cause is RejectionCause.OFFER_EXPIRED
        assert d.plan.route("v1").stops == ()
        with pytest.raises(DispatchError):
            d.plan.booking("A")
        with pytest.raises(DispatchError) as error:
            d.book("A", booked_at)
        assert error.value.code == "unknown_offer"
    assert_plan_feasible(d)


# ----- rule checks --------------------------------------------------------------------------------

@pytest.mark.parametrize(("request_", "rules", "cause"), [
    (leave_after("r", 3, 3, T0), RULES, RejectionCause.SAME_ORIGIN_DESTINATION),
    (leave_after("r", 0, 3, T0 - 901), RULES, RejectionCause.TIME_IN_PAST),  # latest pickup 07:59:59
    (Request("r", 0, 3, TimeType.ARRIVE_BY, T0 + 224, T0), RULES, RejectionCause.TIME_IN_PAST),
    (leave_after("r", 0, 3, T0 + 7 * DAY_S + 1), RULES, RejectionCause.BEYOND_HORIZON),
    (leave_after("r", 0, 3, 23 * 3600 + 1), RULES, RejectionCause.OUTSIDE_HOURS),
    (leave_after("r", 0, 3, DAY_S + 5 * 3600 - 1), RULES, RejectionCause.OUTSIDE_HOURS),
    (leave_after("r", 0, 3, T0), ServiceRules(min_notice_s=1800), RejectionCause.TOO_SHORT_NOTICE),
    (leave_after("r", 0, 3, T0, seats=5), RULES, RejectionCause.CAPACITY),
    (leave_after("r", 0, 3, T0, seats=0, wheelchairs=2), RULES, RejectionCause.CAPACITY),
])
def test_rule_check_gives_the_right_cause(request_, rules, cause):
    """Now is 08:00, one bus with 4 seats and 1 wheelchair space. Each request breaks one rule and gets
    that rule's cause, a request_rejected event carrying it, and no offer to book."""
    d = dispatcher(bus(wheelchairs=1), rules=rules)
    answer = d.quote(request_, T0)
    assert isinstance(answer, Rejection)
    assert answer.cause is cause
    events = [(e.kind, e.data) for e in d.drain_events()]
    assert events == [(EventKind.REQUEST_REJECTED, {"cause": cause.value})]
    with pytest.raises(DispatchError):
        d.book("r", T0)
    assert_plan_feasible(d)


@pytest.mark.parametrize("request_", [
    leave_after("r", 0, 3, T0 - 900),  # latest pickup exactly now: the bus is standing there
    Request("r", 0, 3, TimeType.ARRIVE_BY, T0 + 225, T0),  # latest pickup exactly now
    leave_after("r", 0, 3, T0 + 3600 * 6),  # 14:00, within the horizon and the bus's shift
    leave_after("r", 0, 3, T0, seats=3, wheelchairs=1),
])
def test_requests_at_the_edge_of_the_rules_get_an_offer(request_):
    """Controls for the rule checks: a request just inside every limit is offered a trip."""
    d = dispatcher(bus(wheelchairs=1))
    assert isinstance(d.quote(request_, T0), Offer)


# ----- events and the clock -----------------------------------------------------------------------

def test_events_for_booking_pickup_and_dropoff():
    """A 1→3: quote, book, arrive, pick up, arrive, drop off; each step's events in order."""
    d = dispatcher(bus())
    d.quote(leave_after("A", 1, 3, T0), T0)
    assert kinds(d.drain_events()) == [EventKind.OFFER_MADE]
    d.book("A", T0)
    events = d.drain_events()
    assert kinds(events) == [EventKind.ROUTE_CHANGED, EventKind.BOOKING_CONFIRMED]
    assert (events[1].vehicle_id, events[1].request_id, events[1].time) == ("v1", "A", T0)
    assert d.drain_events() == []
    d.arrive("v1", T0 + 60)
    assert kinds(d.drain_events()) == [EventKind.ROUTE_CHANGED, EventKind.VEHICLE_ARRIVED]
    with pytest.raises(DispatchError) as error:
        d.drop_off("v1", "A", T0 + 105)
    assert error.value.code == "not_next_stop"
    d.pick_up("v1", "A", T0 + 105)
    events = d.drain_events()
    assert kinds(events) == [EventKind.ROUTE_CHANGED, EventKind.RIDER_PICKED_UP]
    assert (events[1].request_id, events[1].time) == ("A", T0 + 105)
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP
    assert_plan_feasible(d)
    d.arrive("v1", T0 + 225)
    d.drop_off("v1", "A", T0 + 270)
    assert kinds(d.drain_events()) == [EventKind.ROUTE_CHANGED, EventKind.VEHICLE_ARRIVED,
                                       EventKind.ROUTE_CHANGED, EventKind.RIDER_DROPPED_OFF]
    assert d.plan.booking("A").status is RequestStatus.COMPLETED
    assert d.plan.state("v1").onboard == ()
    assert_plan_feasible(d)


def test_expired_offers_are_forgotten_by_the_next_quote():
    """Three offers made at T0 have expired when a fourth quote comes: it forgets them (booking one is
    ``unknown_offer``) and keeps its own, which books."""
    d = dispatcher(bus())
    for k in range(3):
        assert isinstance(d.quote(leave_after(f"old{k}", 0, 4, T0), T0), Offer)
    later = T0 + d.rules.offer_validity_s + 1
    assert isinstance(d.quote(leave_after("new", 0, 4, later), later), Offer)
    for k in range(3):
        with pytest.raises(DispatchError) as error:
            d.book(f"old{k}", later)
        assert error.value.code == "unknown_offer"
    assert isinstance(d.book("new", later), BookedTrip)


def test_rollback_undoes_a_pickup_and_its_events():
    """A 2→5 booked and arrived at; a checkpoint, then the pickup: rolling back puts the bus, its route,
    the booking's status and the pending events back as they were, and the pickup can be made again."""
    d = dispatcher(bus())
    book(d, leave_after("A", 2, 5, T0 + 600))
    d.arrive("v1", T0 + 600)
    before = (d.plan.state("v1"), d.plan.route("v1"), d.plan.booking("A"), d.plan.version,
              d.plan.evaluation("v1"))
    checkpoint = d.checkpoint()
    d.pick_up("v1", "A", T0 + 660)
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP
    d.rollback(checkpoint)
    assert (d.plan.state("v1"), d.plan.route("v1"), d.plan.booking("A"), d.plan.version,
            d.plan.evaluation("v1")) == before
    assert EventKind.RIDER_PICKED_UP not in kinds(d.drain_events())
    assert_plan_feasible(d)
    d.pick_up("v1", "A", T0 + 660)
    assert d.plan.booking("A").status is RequestStatus.PICKED_UP and len(d.plan.route("v1").stops) == 1


# ----- operators' changes to a vehicle ----------------------------------------------------------------

def test_a_vehicle_added_later_takes_the_next_rider():
    """A second bus added at loc 10 takes a trip from loc 9 that the first bus (at loc 0) would reach
    later: the insertion picks the nearer bus."""
    d = dispatcher(bus("v1"))
    d.add_vehicle(bus("v2", depot=10), T0)
    offer = book(d, leave_after("r1", 9, 5, T0))
    assert offer.vehicle_id == "v2"


def test_replacing_a_vehicle_plans_its_new_break_between_riders():
    """v1 carries a rider 1 → 3 picked up around 08:00; a 20-min break at the depot (loc 0) that may start
    08:00–09:00 is added: it goes after the drop-off, the rider's stops and promise stay."""
    d = dispatcher(bus("v1"))
    book(d, leave_after("r1", 1, 3, T0))
    changed = Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600, (Break(T0, T0 + 3600, 1200),))
    d.replace_vehicle(changed, T0)
    assert [s.kind for s in d.plan.route("v1").stops] == [P, D, StopKind.BREAK]
    assert [s.request_id for s in d.plan.route("v1").stops][:2] == ["r1", "r1"]
    assert d.plan.vehicles["v1"] == changed
    assert_plan_feasible(d)


def test_a_change_that_keeps_the_breaks_leaves_them_where_they_are_planned():
    """v1 has a 10-min break to start 08:00–10:00; a rider from 08:30 is planned before it (the break
    could come first). Giving v1 a fifth seat keeps the route exactly as it was."""
    with_break = Vehicle("v1", 4, 0, 0, T0 - 3600, T0 + 7 * 3600, (Break(T0, T0 + 7200, 600),))
    d = dispatcher(with_break)
    book(d, leave_after("r1", 1, 3, T0 + 1800))
    before = d.plan.route("v1").stops
    assert [s.kind for s in before] == [P, D, StopKind.BREAK]
    d.replace_vehicle(Vehicle("v1", 5, 0, 0, T0 - 3600, T0 + 7 * 3600, (Break(T0, T0 + 7200, 600),)), T0)
    assert d.plan.route("v1").stops == before and d.plan.vehicles["v1"].seats == 5


def test_replacing_a_vehicle_that_cannot_keep_its_riders_changes_nothing():
    """Two riders share v1 (two seats taken); cutting it to one seat is refused with
    vehicle_change_infeasible and the vehicle and route stay as they were."""
    d = dispatcher(bus("v1"))
    book(d, leave_after("r1", 1, 5, T0))
    book(d, leave_after("r2", 2, 4, T0))
    before = (d.plan.vehicles["v1"], d.plan.route("v1"))
    with pytest.raises(DispatchError) as raised:
        d.replace_vehicle(Vehicle("v1", 1, 0, 0, T0 - 3600, T0 + 7 * 3600), T0)
    assert raised.value.code == "vehicle_change_infeasible"
    assert (d.plan.vehicles["v1"], d.plan.route("v1")) == before


def test_an_idle_vehicle_moves_to_its_new_depot_and_shift_start():
    """An empty bus not yet under way, changed to depot loc 5 and a shift from 10:00, waits at loc 5
    until 10:00."""
    d = dispatcher(bus("v1"))
    d.replace_vehicle(Vehicle("v1", 4, 0, 5, T0 + 7200, T0 + 7 * 3600), T0)
    assert (d.plan.state("v1").location, d.plan.state("v1").available_at) == (5, T0 + 7200)


def test_a_withdrawn_vehicle_returns_to_service_and_takes_riders_again():
    """v1 is withdrawn, so a trip gets no offer; back in service it is offered again; returning it twice
    is already_in_service."""
    d = dispatcher(bus("v1"))
    d.take_out_of_service("v1", T0)
    assert isinstance(d.quote(leave_after("r1", 1, 3, T0), T0), Rejection)
    d.drain_events()
    d.return_to_service("v1", T0)
    assert d.plan.state("v1").in_service and EventKind.VEHICLE_IN_SERVICE in kinds(d.drain_events())
    book(d, leave_after("r2", 1, 3, T0))
    with pytest.raises(DispatchError) as raised:
        d.return_to_service("v1", T0)
    assert raised.value.code == "already_in_service"


def test_a_position_report_of_the_known_place_and_time_changes_nothing():
    """v1 is reported at loc 1 at +105 twice: the second report keeps the route's computed times (the
    same evaluation object) and raises no vehicle_moved event; a report at another time recomputes them."""
    d = dispatcher(bus("v1"))
    assert book(d, leave_after("A", 2, 6, T0 + 600)).vehicle_id == "v1"
    d.vehicle_position("v1", 1, T0 + 105)
    d.drain_events()
    before = d.plan.evaluation("v1")
    d.vehicle_position("v1", 1, T0 + 105)
    assert d.plan.evaluation("v1") is before
    assert d.drain_events() == []
    d.vehicle_position("v1", 1, T0 + 165)
    assert d.plan.evaluation("v1") is not before
    assert d.plan.evaluation("v1").arrival[0] > before.arrival[0]
    assert [e.kind for e in d.drain_events()] == [EventKind.VEHICLE_MOVED]
