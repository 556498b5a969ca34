"""Routing settings: a frozen value read from the environment, with no work at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OSM = REPO_ROOT / "data" / "liechtenstein-latest.osm.pbf"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "rufbus"


@dataclass(frozen=True)
class RoutingSettings:
    """Options of the road network.

    Environment variables (all optional): ``RUFBUS_OSM_FILE``, ``RUFBUS_CACHE_DIR``,
    ``RUFBUS_SNAP_MAX_M``, ``RUFBUS_SERVICE_AREA`` (GeoJSON file), ``RUFBUS_SERVICE_AREA_BUFFER_M``,
    ``RUFBUS_ROW_CACHE_MB``, ``RUFBUS_MATRIX_WORKERS`` (processes for large matrices; 0: one per
    CPU, 1: never fork), ``RUFBUS_MATRIX_PARALLEL_ROWS`` (fewest missing rows worth the workers).
    """

    osm_file: Path = DEFAULT_OSM
    cache_dir: Path = DEFAULT_CACHE_DIR
    snap_max_m: float = 500.0
    service_area_geojson: Path | None = None
    service_area_buffer_m: float = 1000.0
    row_cache_mb: float = 256.0
    speeds_kmh: dict[str, float] | None = None  # None: routing.speeds.RURAL_SPEEDS_KMH
    matrix_workers: int = 0  # 0: one per CPU
    matrix_parallel_rows: int = 64
    max_edge_m: float | None = 60.0  # None: edges are never cut

    @classmethod
    def from_env(cls) -> RoutingSettings:
        """Read the settings from ``RUFBUS_*`` environment variables, defaults elsewhere."""
        env = os.environ
        area = env.get("RUFBUS_SERVICE_AREA")
        return cls(
            osm_file=Path(env.get("RUFBUS_OSM_FILE", DEFAULT_OSM)),
            cache_dir=Path(env.get("RUFBUS_CACHE_DIR", DEFAULT_CACHE_DIR)),
            snap_max_m=float(env.get("RUFBUS_SNAP_MAX_M", 500.0)),
            service_area_geojson=Path(area) if area else None,
            service_area_buffer_m=float(env.get("RUFBUS_SERVICE_AREA_BUFFER_M", 1000.0)),
            row_cache_mb=float(env.get("RUFBUS_ROW_CACHE_MB", 256.0)),
            matrix_workers=int(env.get("RUFBUS_MATRIX_WORKERS", 0)),
            matrix_parallel_rows=int(env.get("RUFBUS_MATRIX_PARALLEL_ROWS", 64)),
            max_edge_m=float(env.get("RUFBUS_MAX_EDGE_M", 60.0)) or None,
        )
