"""The basemap's tiles over HTTP, ``GET /map/tiles/{z}/{x}/{y}.pbf`` (public)."""

from __future__ import annotations

import mapbox_vector_tile
import pytest

from tests.routing.test_basemap import NENDELN


def test_a_tile_is_a_vector_tile_with_the_map_layers(module_client):
    """The Nendeln tile comes as a Mapbox vector tile, cacheable by browsers, with water, buildings, named
    roads and the village's name."""
    z, x, y = NENDELN
    answer = module_client.get(f"/map/tiles/{z}/{x}/{y}.pbf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "max-age" in answer.headers["cache-control"]
    layers = mapbox_vector_tile.decode(answer.content)
    assert {"water", "building", "road", "place"} <= set(layers)
    assert "Nendeln" in {f["properties"]["name"] for f in layers["place"]["features"]}


@pytest.mark.parametrize("path", ["/map/tiles/5/0/0.pbf", "/map/tiles/19/0/0.pbf",
                                  "/map/tiles/14/16384/0.pbf", "/map/tiles/14/0/-1.pbf",
                                  "/map/tiles/14/x/0.pbf", "/map/tiles/14/99999999999999999999999/0.pbf"])
def test_a_zoom_or_tile_number_out_of_range_is_422(module_client, path):
    """Zooms outside 6..18, numbers outside 0..2^z-1 or not numbers: 422 ``invalid_request``, never a 500."""
    answer = module_client.get(path)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"
