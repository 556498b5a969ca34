"""The basemap: Mapbox vector tiles made offline from the region's OSM extract, cached on disk.

One pyosmium pass (areas assembled from closed ways and multipolygons) reads what a readable map needs,
in Web Mercator metres, into these layers (each feature with the zoom it appears from):

| layer | what | properties |
|---|---|---|
| ``landuse`` | forest, grass, farmland, residential, industrial, park, rock areas | ``class`` |
| ``water`` | lakes, ponds, reservoirs, river areas | ``class`` |
| ``waterway`` | rivers, canals, streams, ditches | ``class``, ``name`` |
| ``building`` | buildings (from zoom 14) | |
| ``road`` | roads and paths | ``class`` (motorway … minor, service, path), ``name`` (or ``ref``) |
| ``rail`` | railways | ``class`` |
| ``place`` | named towns, villages, hamlets, localities | ``class``, ``name``, ``rank`` (0: most important) |

A tile (:meth:`Basemap.tile`) holds the features that reach into it, clipped to the tile with a small
buffer, simplified to half a pixel and quantised to :data:`EXTENT` units; place points reach
:data:`LABEL_BUFFER` units beyond the tile, so a label across a tile edge is drawn whole by both tiles.
:class:`TileCache` keeps every tile made as a file under the cache directory
(``<region>-tiles-<key>/z/x/y.pbf``); a tile outside the region's extent is empty without a file, so the
files never outgrow the region's tiles whatever clients ask for. The extract is read only when a tile
inside is not there yet.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from routing.compiled import file_sha256
from routing.errors import OsmFileError
from routing.osm_import import check_osm_path
from routing.settings import RoutingSettings
from routing.stops import KIND_WEIGHTS, parse_population

FORMAT_VERSION = 1
EXTENT = 4096
CLIP_BUFFER = 64  # tile units beyond the edge kept for lines and areas (no seams under thick strokes)
LABEL_BUFFER = 1024  # tile units beyond the edge kept for place points (labels across the edge)
MIN_ZOOM, MAX_ZOOM = 6, 18
HALF_WORLD = 20037508.342789244  # Web Mercator: metres from the origin to the world's edge
LAYERS = ("landuse", "water", "waterway", "building", "road", "rail", "place")

# Area classes: (key, value) -> class. Listed here is what the map draws; the rest is left out.
LANDUSE: dict[tuple[str, str], str] = {
    ("landuse", "forest"): "forest", ("natural", "wood"): "forest", ("natural", "scrub"): "grass",
    ("landuse", "meadow"): "grass", ("landuse", "grass"): "grass", ("natural", "grassland"): "grass",
    ("natural", "heath"): "grass", ("landuse", "farmland"): "farmland", ("landuse", "orchard"): "farmland",
    ("landuse", "vineyard"): "farmland", ("landuse", "farmyard"): "farmland",
    ("landuse", "residential"): "residential", ("landuse", "industrial"): "industrial",
    ("landuse", "commercial"): "industrial", ("landuse", "retail"): "industrial",
    ("landuse", "cemetery"): "park", ("leisure", "park"): "park", ("leisure", "pitch"): "park",
    ("leisure", "golf_course"): "park", ("leisure", "sports_centre"): "park",
    ("natural", "bare_rock"): "rock", ("natural", "scree"): "rock", ("natural", "glacier"): "rock",
}
WATER: dict[tuple[str, str], str] = {
    ("natural", "water"): "lake", ("waterway", "riverbank"): "river", ("landuse", "reservoir"): "lake",
    ("landuse", "basin"): "lake", ("leisure", "swimming_pool"): "pool",
}
WATERWAY_ZOOM = {"river": 8, "canal": 11, "stream": 13, "ditch": 15, "drain": 15}
ROAD_CLASS: dict[str, tuple[str, int]] = {  # highway -> (class, min zoom)
    "motorway": ("motorway", 6), "motorway_link": ("motorway", 10), "trunk": ("trunk", 6),
    "trunk_link": ("trunk", 10), "primary": ("primary", 8), "primary_link": ("primary", 11),
    "secondary": ("secondary", 9), "secondary_link": ("secondary", 12), "tertiary": ("tertiary", 11),
    "tertiary_link": ("tertiary", 13), "unclassified": ("minor", 12), "residential": ("minor", 12),
    "living_street": ("minor", 13), "road": ("minor", 13), "service": ("service", 14),
    "pedestrian": ("path", 14), "track": ("path", 14), "footway": ("path", 15), "path": ("path", 14),
    "cycleway": ("path", 14), "bridleway": ("path", 15), "steps": ("path", 16),
}
PLACE_ZOOM = {"city": 6, "town": 8, "village": 10, "suburb": 11, "hamlet": 12, "locality": 14,
              "isolated_dwelling": 15, "neighbourhood": 14, "quarter": 13}
AREA_KEYS = ("building", "landuse", "natural", "waterway", "leisure")
READ_KEYS = (*AREA_KEYS, "highway", "railway", "place")
POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon
LINE_TYPES = (1, 5)  # LineString, MultiLineString


def _area_zoom(area_m2: float) -> int:
    """The zoom an area appears from: large forests and lakes early, small fields late."""
    if area_m2 > 2e6:
        return 8
    if area_m2 > 2e5:
        return 10
    if area_m2 > 2e4:
        return 12
    return 13


def mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 degrees to Web Mercator metres."""
    x = np.radians(lon) * 6378137.0
    y = np.log(np.tan(np.pi / 4 + np.radians(np.clip(lat, -85.05, 85.05)) / 2)) * 6378137.0
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's (west, south, east, north) in Web Mercator metres; y counts from the north."""
    size = 2 * HALF_WORLD / (1 << z)
    west, north = -HALF_WORLD + x * size, HALF_WORLD - y * size
    return west, north - size, west + size, north


BY_AREA = -1  # a feature's min zoom follows from its area (:func:`_area_zoom`)


@dataclass
class _LayerBuilder:
    """A layer as read: each feature's geometry as WKB in degrees, its properties and min zoom."""

    wkb: list[bytes] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    minzoom: list[int] = field(default_factory=list)

    def add(self, wkb: bytes, properties: dict[str, Any], minzoom: int) -> None:
        self.wkb.append(wkb)
        self.properties.append(properties)
        self.minzoom.append(minzoom)


class MapLayer:
    """One layer's features in Web Mercator metres, with a spatial index."""

    def __init__(self, name: str, built: _LayerBuilder) -> None:
        self.name = name
        degrees = shapely.from_wkb(np.array(built.wkb, dtype=object), on_invalid="ignore")
        self.geometries = shapely.transform(degrees, lambda xy: np.column_stack(mercator(xy[:, 0], xy[:, 1])))
        self.properties = built.properties
        minzoom = np.array(built.minzoom, dtype=np.int64)
        by_area = minzoom == BY_AREA
        minzoom[by_area] = [_area_zoom(a) for a in shapely.area(self.geometries[by_area]).tolist()]
        self.minzoom = minzoom
        self.tree = shapely.STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.properties)


class Basemap:
    """The region's map features by layer, answering tiles."""

    def __init__(self, layers: dict[str, MapLayer]) -> None:
        self.layers = layers

    @classmethod
    def read(cls, osm_file: Path) -> Basemap:
        """Read the map features of an OSM extract (see the module docstring).

        Raises :class:`OsmFileError` when the file is missing or unreadable.
        """
        import osmium

        check_osm_path(osm_file)
        built = {name: _LayerBuilder() for name in LAYERS}
        factory = osmium.geom.WKBFactory()
        try:
            processor = (osmium.FileProcessor(str(osm_file))
                         .with_areas(osmium.filter.KeyFilter(*AREA_KEYS))
                         .with_filter(osmium.filter.KeyFilter(*READ_KEYS)))
            for obj in processor:
                tags = {tag.k: tag.v for tag in obj.tags}
                if isinstance(obj, osmium.osm.Area):
                    _add_area(built, tags, partial(factory.create_multipolygon, obj))
                elif isinstance(obj, osmium.osm.Way):
                    _add_line(built, tags, partial(factory.create_linestring, obj))
                elif isinstance(obj, osmium.osm.Node) and obj.location.valid():
                    _add_place(built, tags, obj.location.lon, obj.location.lat)
        except RuntimeError as exc:
            raise OsmFileError(osm_file, f"cannot read the file ({exc})") from exc
        return cls({name: MapLayer(name, layer) for name, layer in built.items()})

    def extent(self) -> tuple[float, float, float, float]:
        """The bounds of every feature (west, south, east, north in Web Mercator metres)."""
        layers = [layer for layer in self.layers.values() if len(layer)]
        bounds = np.array([shapely.total_bounds(layer.geometries) for layer in layers])
        return (float(bounds[:, 0].min()), float(bounds[:, 1].min()), float(bounds[:, 2].max()),
                float(bounds[:, 3].max()))

    def tile(self, z: int, x: int, y: int) -> bytes:
        """The vector tile ``z/x/y`` (MVT, :data:`EXTENT` units, y down); b"" where the map has nothing."""
        import mapbox_vector_tile

        west, south, east, north = tile_bounds(z, x, y)
        scale = EXTENT / (east - west)
        pixel = (east - west) / 256
        layers = []
        for layer in self.layers.values():
            buffer = (LABEL_BUFFER if layer.name == "place" else CLIP_BUFFER) / scale
            box = (west - buffer, south - buffer, east + buffer, north + buffer)
            hits = layer.tree.query(shapely.box(*box))
            hits = hits[layer.minzoom[hits] <= z]
            if hits.size == 0:
                continue
            geometries = layer.geometries[hits]
            if layer.name != "place":
                geometries = shapely.simplify(shapely.clip_by_rect(geometries, *box), pixel / 2)
                polygons = np.isin(shapely.get_type_id(geometries), POLYGON_TYPES)
                tiny = polygons & (shapely.area(geometries) < pixel**2)
                keep = ~shapely.is_empty(geometries) & ~tiny
                hits, geometries = hits[keep], geometries[keep]
            local = shapely.transform(geometries, lambda xy: np.column_stack(
                [(xy[:, 0] - west) * scale, (north - xy[:, 1]) * scale]))
            kinds = shapely.get_type_id(layer.geometries[hits])
            features = []
            for i, geometry, kind in zip(hits.tolist(), local.tolist(), kinds.tolist(), strict=True):
                part = _only_kind(geometry, kind)
                if part is not None:
                    features.append({"geometry": part, "properties": layer.properties[i]})
            if features:
                layers.append({"name": layer.name, "features": features})
        if not layers:
            return b""
        options = {"y_coord_down": True, "extents": EXTENT}
        return bytes(mapbox_vector_tile.encode(layers, default_options=options))


def _only_kind(geometry: shapely.Geometry, source_type: int) -> shapely.Geometry | None:
    """``geometry`` reduced to parts of its source's kind (clipping may add points or lines to areas)."""
    if geometry.geom_type != "GeometryCollection":
        return geometry
    family = ("Polygon" if source_type in POLYGON_TYPES
              else "LineString" if source_type in LINE_TYPES else "Point")
    parts = [part for part in shapely.get_parts(geometry) if part.geom_type.endswith(family)]
    return shapely.union_all(parts) if parts else None


def _add_area(built: dict[str, _LayerBuilder], tags: dict[str, str], wkb: Callable[[], str]) -> None:
    """An assembled area: a building, water or a land use, or nothing the map draws."""
    water = next((cls for (k, v), cls in WATER.items() if tags.get(k) == v), None)
    landuse = next((cls for (k, v), cls in LANDUSE.items() if tags.get(k) == v), None)
    building = tags.get("building", "no") != "no"
    if not (water or landuse or building):
        return
    try:
        geometry = bytes.fromhex(wkb())
    except RuntimeError:
        return  # an area osmium could not assemble (a broken multipolygon)
    if building:
        built["building"].add(geometry, {}, 14)
    elif water:
        built["water"].add(geometry, {"class": water}, BY_AREA)
    elif landuse:
        built["landuse"].add(geometry, {"class": landuse}, BY_AREA)


def _add_line(built: dict[str, _LayerBuilder], tags: dict[str, str], wkb: Callable[[], str]) -> None:
    """A way: a road, a railway or a waterway (areas come as :class:`osmium.osm.Area`)."""
    road = ROAD_CLASS.get(tags.get("highway", ""))
    waterway = tags.get("waterway", "")
    rail = tags.get("railway") == "rail"
    if not (road or waterway in WATERWAY_ZOOM or rail) or tags.get("area") == "yes":
        return
    try:
        geometry = bytes.fromhex(wkb())
    except RuntimeError:
        return  # a way with too few located nodes
    name = tags.get("name") or tags.get("ref")
    if road:
        properties = {"class": road[0], **({"name": name} if name else {})}
        built["road"].add(geometry, properties, road[1])
    elif waterway in WATERWAY_ZOOM:
        properties = {"class": waterway, **({"name": name} if name else {})}
        built["waterway"].add(geometry, properties, WATERWAY_ZOOM[waterway])
    else:
        built["rail"].add(geometry, {"class": "rail"}, 10)


def _add_place(built: dict[str, _LayerBuilder], tags: dict[str, str], lon: float, lat: float) -> None:
    """A named place node, ranked by population (or its kind's usual size)."""
    kind, name = tags.get("place", ""), tags.get("name")
    if kind not in PLACE_ZOOM or not name:
        return
    people = parse_population(tags.get("population")) or KIND_WEIGHTS.get(kind, 10.0)
    rank = max(0, 7 - int(math.log10(people)))  # 0: a million people, 6: ten
    built["place"].add(shapely.to_wkb(shapely.Point(lon, lat)), {"class": kind, "name": name, "rank": rank},
                       PLACE_ZOOM[kind])


@dataclass(frozen=True)
class TileReport:
    """How a tile was obtained: read from the cache, or made now (and the seconds it took)."""

    cached: bool
    seconds: float
    size: int


class TileCache:
    """Tiles of one extract as files under the cache directory, made on first request.

    The region's extent (Web Mercator, with the label buffer of the widest tile) is kept beside the tiles
    (``extent.json``): a tile outside it is answered empty at once — no file, and in a new process without
    reading the extract — so that the files never outgrow the region's tiles whatever clients ask for.

    With ``separate_process``, tiles are made (and the extract read) in one worker process of their own,
    started on the first tile not yet on disk: making a tile is Python work that would otherwise hold up
    the service's other requests. :meth:`close` stops it.
    """

    def __init__(self, osm_file: Path, settings: RoutingSettings, basemap: Basemap | None = None, *,
                 separate_process: bool = False) -> None:
        """Tiles of ``osm_file`` under ``settings.cache_dir``; ``basemap``: its features if already read."""
        check_osm_path(osm_file)
        self.osm_file = osm_file
        key = hashlib.sha256(f"{file_sha256(osm_file)}:tiles:v{FORMAT_VERSION}".encode()).hexdigest()[:20]
        self.directory = settings.cache_dir / f"{osm_file.name.split('.')[0]}-tiles-{key}"
        self._basemap = basemap
        self._extent: tuple[float, float, float, float] | None = None
        self._loading = threading.Lock()
        self._separate = separate_process and basemap is None
        self._pool: ProcessPoolExecutor | None = None

    @property
    def basemap(self) -> Basemap:
        """The extract's map features, read on first use (in this process)."""
        with self._loading:
            if self._basemap is None:
                self._basemap = Basemap.read(self.osm_file)
            return self._basemap

    def _run(self, task: Callable[..., Any], *args: int) -> Any:
        """``task(basemap, *args)`` here, or in the worker process (started again once if it died)."""
        if not self._separate:
            return task(self.basemap, *args)
        try:
            return self._worker().submit(_in_worker, task, *args).result()
        except BrokenProcessPool:
            self.close()
            return self._worker().submit(_in_worker, task, *args).result()

    def _worker(self) -> ProcessPoolExecutor:
        """The worker process, started on first use (it reads the extract as it starts)."""
        with self._loading:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker, initargs=(str(self.osm_file),))
            return self._pool

    def close(self) -> None:
        """Stop the worker process, if one was started."""
        with self._loading:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Where the region has map features (west, south, east, north in Web Mercator metres, grown by
        the label buffer of a tile at :data:`MIN_ZOOM`), from its file or from the features."""
        if self._extent is None:
            path = self.directory / "extent.json"
            try:
                west, south, east, north = json.loads(path.read_text())
            except (OSError, ValueError, TypeError):
                west, south, east, north = self._run(Basemap.extent)
                grow = LABEL_BUFFER / EXTENT * 2 * HALF_WORLD / (1 << MIN_ZOOM)
                west, south, east, north = west - grow, south - grow, east + grow, north + grow
                _write(path, json.dumps([west, south, east, north]).encode())
            self._extent = (float(west), float(south), float(east), float(north))
        return self._extent

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, TileReport]:
        """Tile ``z/x/y`` from its file, or made from the extract and kept; b"" outside the region."""
        started = time.perf_counter()
        west, south, east, north = tile_bounds(z, x, y)
        region = self.extent
        if west > region[2] or east < region[0] or south > region[3] or north < region[1]:
            return b"", TileReport(False, time.perf_counter() - started, 0)
        path = self.directory / str(z) / str(x) / f"{y}.pbf"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            pass
        else:
            return data, TileReport(True, time.perf_counter() - started, len(data))
        data = self._run(Basemap.tile, z, x, y)
        _write(path, data)
        return data, TileReport(False, time.perf_counter() - started, len(data))


_WORKER_BASEMAP: Basemap | None = None  # the worker process's features (see TileCache)
PARENT_POLL_S = 1.0


def _start_worker(osm_file: str) -> None:
    """Read the extract once in a new worker process, which ends when the service's process does (also
    when that one is killed and cannot stop it)."""
    global _WORKER_BASEMAP
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="tiles-parent-watch").start()
    _WORKER_BASEMAP = Basemap.read(Path(osm_file))


def _exit_with_parent(parent: int) -> None:
    """End this worker process once its parent is gone (it is then re-parented)."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


def _in_worker(task: Callable[..., Any], *args: int) -> Any:
    """Run ``task(basemap, *args)`` on the worker's features."""
    assert _WORKER_BASEMAP is not None, "the worker reads the extract when it starts"
    return task(_WORKER_BASEMAP, *args)


def _write(path: Path, data: bytes) -> None:
    """Write a file atomically (a temporary file, then a rename), making its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    """The (x, y) of the zoom-``z`` tiles covering ``bounds`` (west, south, east, north in degrees)."""
    west, south, east, north = bounds
    (x0, x1), (y1, y0) = mercator(np.array([west, east]), np.array([south, north]))
    size = 2 * HALF_WORLD / (1 << z)
    cols = range(int((x0 + HALF_WORLD) // size), int((x1 + HALF_WORLD) // size) + 1)
    rows = range(int((HALF_WORLD - y0) // size), int((HALF_WORLD - y1) // size) + 1)
    return [(x, y) for x in cols for y in rows]
