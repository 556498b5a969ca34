"""The small LRU cache (routing.lru) and the path cache of RoadNetwork.route built on it."""

from __future__ import annotations

import numpy as np
import pytest

from routing.lru import LruCache
from routing.network import RoadNetwork


def test_the_least_recently_used_goes_first():
    """Beyond its capacity the cache forgets the entry used longest ago; reading counts as use."""
    cache: LruCache[str, int] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)
    with pytest.raises(ValueError):
        LruCache(0)


def test_a_repeated_route_is_the_cached_path_and_equals_a_fresh_one(li_network: RoadNetwork):
    """Asking twice for a leg returns the same path object; a network with empty caches computes the
    same nodes, times, distance and shape; legs from one origin share its shortest-path tree."""
    rng = np.random.default_rng(7)
    origin, *destinations = (int(n) for n in rng.integers(0, li_network.graph.node_count, 6))
    first = [li_network.route(origin, d) for d in destinations]
    assert all(li_network.route(origin, d) is path for d, path in zip(destinations, first))
    fresh = RoadNetwork(li_network.graph, li_network.settings)
    for destination, path in zip(destinations, first):
        again = fresh.route(origin, destination)
        assert (again.seconds, again.metres) == (path.seconds, path.metres)
        assert np.array_equal(again.nodes, path.nodes) and np.array_equal(again.lat, path.lat)
        assert (path.seconds, path.metres) == fresh.travel(origin, destination)
    assert len(fresh._trees) == 1
