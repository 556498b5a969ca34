"""The basemap's vector tiles (routing/basemap.py), made from the service's extract and decoded again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import mapbox_vector_tile
import pytest

from routing.basemap import EXTENT, Basemap, TileCache, tile_bounds, tiles_covering
from routing.settings import DEFAULT_OSM, RoutingSettings

NENDELN = (14, 8626, 5749)  # a zoom-14 tile over Nendeln: village, stream, railway, buildings, roads


@pytest.fixture(scope="module")
def basemap() -> Basemap:
    """Liechtenstein's map features, read once for the module."""
    return Basemap.read(DEFAULT_OSM)


def decoded(data: bytes) -> dict:
    """A tile's layers by name, coordinates as encoded (y down)."""
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def test_a_village_tile_has_water_buildings_roads_with_names_and_the_village_name(basemap):
    """The Nendeln tile decodes into land use, water, waterways, buildings, named roads, the railway and the
    place 'Nendeln' — inside the tile's extent."""
    layers = decoded(basemap.tile(*NENDELN))
    assert {"landuse", "water", "waterway", "building", "road", "rail", "place"} <= set(layers)
    assert len(layers["building"]["features"]) > 50
    assert any(f["properties"].get("name") for f in layers["road"]["features"])
    places = {f["properties"]["name"]: f for f in layers["place"]["features"]}
    assert "Nendeln" in places
    x, y = places["Nendeln"]["geometry"]["coordinates"]
    assert 0 <= x <= EXTENT and 0 <= y <= EXTENT


def test_buildings_and_minor_roads_appear_only_when_zoomed_in(basemap):
    """At zoom 10 the tile over Nendeln has main roads and places but no buildings and no minor roads."""
    _, x, y = NENDELN
    layers = decoded(basemap.tile(10, x >> 4, y >> 4))
    assert "building" not in layers
    classes = {f["properties"]["class"] for f in layers["road"]["features"]}
    assert classes and "minor" not in classes and "service" not in classes


def test_a_tile_far_from_the_region_is_empty(basemap):
    """A tile over the Atlantic has nothing: zero bytes."""
    assert basemap.tile(14, 7000, 6000) == b""


def test_tiles_covering_a_box_include_its_corners():
    """The tiles listed for a box contain its south-west and north-east corners."""
    tiles = tiles_covering((9.4888, 47.0915, 9.6174, 47.2547), 12)
    xs, ys = {x for x, _ in tiles}, {y for _, y in tiles}
    assert len(tiles) == len(xs) * len(ys) >= 4
    west, _, east, _ = tile_bounds(12, min(xs), min(ys))
    assert west < 9.4888 * 111319.49 < east


def test_the_tile_cache_keeps_a_made_tile_as_a_file_and_reads_it_back(tmp_path: Path, basemap):
    """The first request makes the tile and writes it under the cache directory; the second reads the file."""
    cache = TileCache(DEFAULT_OSM, RoutingSettings(cache_dir=tmp_path), basemap)
    first, made = cache.tile(*NENDELN)
    again, kept = cache.tile(*NENDELN)
    assert not made.cached and kept.cached and first == again and made.size == len(first) > 1000
    assert (cache.directory / "14" / "8626" / "5749.pbf").read_bytes() == first


def test_a_tile_away_from_the_region_is_empty_leaves_no_file_and_needs_no_reading(tmp_path: Path, basemap):
    """Tiles away from the region are answered empty and leave no file (asking the whole world for tiles
    cannot fill the disk); the region's extent is kept beside the tiles, so a new process answers them
    without reading the extract."""
    cache = TileCache(DEFAULT_OSM, RoutingSettings(cache_dir=tmp_path), basemap)
    assert cache.tile(18, 1000, 1000)[0] == b""
    assert not any(cache.directory.rglob("*.pbf"))
    fresh = TileCache(DEFAULT_OSM, RoutingSettings(cache_dir=tmp_path))
    assert fresh.tile(14, 7000, 6000)[0] == b""
    assert fresh._basemap is None  # the extent came from its file


def test_a_worker_process_makes_the_same_tiles_and_stops_on_close(tmp_path: Path, basemap):
    """With ``separate_process`` the tile is made in a worker process (which reads the extract itself):
    the same bytes as made here; ``close`` stops the worker."""
    cache = TileCache(DEFAULT_OSM, RoutingSettings(cache_dir=tmp_path), separate_process=True)
    try:
        data, report = cache.tile(*NENDELN)
        assert not report.cached and data == basemap.tile(*NENDELN)
        assert cache._basemap is None  # read in the worker, not here
    finally:
        cache.close()
    assert cache._pool is None


def test_the_worker_process_ends_when_the_service_is_killed(tmp_path: Path):
    """A service killed outright (SIGKILL: no shutdown) leaves no tile worker behind: the worker sees its
    parent gone within seconds and ends."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from routing.basemap import TileCache\n"
        "from routing.settings import DEFAULT_OSM, RoutingSettings\n"
        "settings = RoutingSettings(cache_dir=Path(sys.argv[1]))\n"
        "cache = TileCache(DEFAULT_OSM, settings, separate_process=True)\n"
        "cache.tile(14, 8626, 5749)\n"
        "print(next(iter(cache._pool._processes)), flush=True)\n"
        "sys.stdin.read()\n"
    )
    service = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    worker = int(service.stdout.readline())
    os.kill(worker, 0)  # alive
    service.kill()
    service.wait(timeout=30)
    service.stdin.close()
    service.stdout.close()
    deadline = time.monotonic() + 20
    while _alive(worker):
        assert time.monotonic() < deadline, "the tile worker outlived its service"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"
