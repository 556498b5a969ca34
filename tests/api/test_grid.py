"""The demand grid (api.grid): places coarsened to cells of about 300 m."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from api.grid import CELL_M, METRES_PER_DEGREE, cell, cell_of


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance in metres (accurate over a few hundred metres)."""
    north = (a[0] - b[0]) * METRES_PER_DEGREE
    east = (a[1] - b[1]) * METRES_PER_DEGREE * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(north, east)


def test_two_houses_in_one_street_share_a_cell_and_the_cell_is_not_the_address():
    """Two doors 20 m apart in Vaduz fall into one cell; its centre is not either door."""
    door, neighbour = (47.14100, 9.52150), (47.14110, 9.52170)
    found = cell_of(*door)
    assert found.id == cell_of(*neighbour).id
    assert (found.lat, found.lon) != door


def test_places_a_kilometre_apart_fall_into_different_cells():
    """Vaduz and a point 1 km north of it are in different cells, some three rows apart."""
    south, north = cell_of(47.1410, 9.5215), cell_of(47.1410 + 1000 / METRES_PER_DEGREE, 9.5215)
    assert south.id != north.id
    assert int(north.id.split(":")[0]) - int(south.id.split(":")[0]) in (3, 4)


@given(st.floats(min_value=-80, max_value=80), st.floats(min_value=-179, max_value=179))
def test_a_place_lies_within_half_a_cell_diagonal_of_its_cell_centre(lat, lon):
    """Every place is at most half a 300 m cell's diagonal (≈ 212 m, plus rounding) from its cell's
    centre, and naming the centre again gives the same cell."""
    found = cell_of(lat, lon)
    assert metres_between((lat, lon), (found.lat, found.lon)) <= CELL_M * math.sqrt(2) / 2 + 1
    assert cell(found.id) == found
    assert cell_of(found.lat, found.lon) == found
