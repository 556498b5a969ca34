"""The demand generator on Liechtenstein's places: seeded, shaped by the profile, drawn to big places."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from routing.stops import parse_population, read_places
from simulation.generator import DemandProfile, generate_demand
from tests.simulation.conftest import LIECHTENSTEIN

DAY = date(2026, 12, 1)


def draw(network, requests: int, seed: int, **changes):
    region = read_places(LIECHTENSTEIN)
    g = network.graph
    profile = DemandProfile(requests=requests, **changes)
    return generate_demand(region, g.node_lat, g.node_lon, profile, seed, DAY)


def test_population_tags_are_read_and_other_places_weighted_by_kind():
    """Liechtenstein's villages carry their population; tags like 5'933 parse; non-numbers do not."""
    places = {p.name: p for p in read_places(LIECHTENSTEIN).places}
    assert places["Schaan"].weight == 5933 and places["Schaan"].population_tagged
    assert parse_population("5'933") == 5933 and parse_population("about 40") is None


def test_the_same_seed_gives_the_same_day_and_another_seed_another(network):
    """Seeded: identical trips for one seed, different trips for another."""
    assert draw(network, 200, 7) == draw(network, 200, 7)
    assert draw(network, 200, 7) != draw(network, 200, 8)


def test_the_day_has_peaks_prebookings_groups_and_wheelchairs(network):
    """1,000 trips: the 7 h and 16 h hours busier than the 11 h hour; about 30 % pre-booked the evening
    before; groups of up to four; about 3 % with a wheelchair; every trip between two different points."""
    trips = draw(network, 1000, 1)
    hours = Counter(t.time.hour for t in trips)
    assert hours[7] > 2 * hours[11] and hours[16] > 2 * hours[11]
    prebooked = sum(t.submitted_at.date() < DAY for t in trips) / len(trips)
    assert 0.25 < prebooked < 0.35
    assert {t.seats + t.wheelchairs for t in trips} <= {1, 2, 3, 4}
    assert 0.01 < sum(t.wheelchairs for t in trips) / len(trips) < 0.05
    assert all(t.origin != t.destination for t in trips)
    assert all(t.submitted_at <= t.time for t in trips)


def test_trips_gather_at_big_places_and_hubs(network):
    """With every trip bound for a hub, destinations are road nodes within 500 m of a station or bus
    stop; origins of morning trips lie more often near Schaan (5,933 inhabitants) than near Planken (430)."""
    region = read_places(LIECHTENSTEIN)
    trips = draw(network, 300, 3, hub_share=1.0, return_share=0.0)
    projection = network.projection
    hub_xy = np.column_stack(projection.forward(np.array([h.lat for h in region.hubs]),
                                                np.array([h.lon for h in region.hubs])))
    for trip in trips:
        x, y = projection.forward(np.array([trip.destination[0]]), np.array([trip.destination[1]]))
        assert np.hypot(hub_xy[:, 0] - x, hub_xy[:, 1] - y).min() <= 500
    places = {p.name: np.array([p.lat, p.lon]) for p in region.places}

    def near(trip, name):
        return np.hypot(*(np.array(trip.origin) - places[name])) < 0.01

    assert sum(near(t, "Schaan") for t in trips) > 3 * sum(near(t, "Planken") for t in trips)
