"""The service area: a polygon from a GeoJSON file, or by default a buffer around the road graph."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from routing.errors import OutsideServiceAreaError, RoutingError
from routing.geo import LocalProjection


class ServiceArea:
    """A (multi)polygon in lat/lon with vectorised point-in-area checks."""

    def __init__(self, polygon: shapely.Geometry) -> None:
        if polygon.geom_type not in ("Polygon", "MultiPolygon") or polygon.is_empty:
            raise RoutingError(f"service area must be a non-empty polygon, got {polygon.geom_type}")
        self.polygon = polygon
        shapely.prepare(self.polygon)

    @classmethod
    def from_geojson(cls, path: Path) -> ServiceArea:
        """Read a GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection (union of its polygons)."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RoutingError(f"cannot read service area {path}: {exc}") from exc
        features = data.get("features", [data]) if data.get("type") == "FeatureCollection" else [data]
        geometries = [shape(f.get("geometry", f)) for f in features]
        return cls(shapely.union_all(geometries))

    @classmethod
    def around_nodes(
        cls, lat: np.ndarray, lon: np.ndarray, projection: LocalProjection, buffer_m: float
    ) -> ServiceArea:
        """Return the convex hull of the given points grown by ``buffer_m`` metres."""
        x, y = projection.forward(lat, lon)
        hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y]))).buffer(buffer_m)
        hx, hy = np.asarray(hull.exterior.xy)
        hlat, hlon = projection.inverse(hx, hy)
        return cls(shapely.Polygon(np.column_stack([hlon, hlat])))

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Return a boolean array: which points lie inside (or on the edge of) the area."""
        x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        return shapely.intersects_xy(self.polygon, x, y)

    def require(self, lat: np.ndarray, lon: np.ndarray) -> None:
        """Raise :class:`OutsideServiceAreaError` for the first point outside the area."""
        lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
        outside = np.flatnonzero(~self.contains(lat, lon))
        if outside.size:
            i = int(outside[0])
            raise OutsideServiceAreaError(float(lat[i]), float(lon[i]))

    def area_km2(self, projection: LocalProjection) -> float:
        """Return the area in km², measured in the given local projection."""
        return float(shapely.transform(self.polygon, lambda xy: np.column_stack(
            projection.forward(xy[:, 1], xy[:, 0]))).area) / 1e6
