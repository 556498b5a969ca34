"""Fixtures for simulation tests: the shipped Liechtenstein road network, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.network import RoadNetwork
from routing.settings import RoutingSettings

REPO = Path(__file__).resolve().parents[2]
LIECHTENSTEIN = REPO / "data" / "liechtenstein-latest.osm.pbf"


@pytest.fixture(scope="session")
def network() -> RoadNetwork:
    """The default region's road network (compiled once into the cache)."""
    return RoadNetwork.load(LIECHTENSTEIN, RoutingSettings.from_env())
