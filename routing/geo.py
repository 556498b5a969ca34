"""A local metric projection: metres east/north of a centre point, accurate over a county."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around ``(lat0, lon0)``; distortion < 0.1 % within ~50 km."""

    lat0: float
    lon0: float

    @classmethod
    def around(cls, lat: np.ndarray, lon: np.ndarray) -> LocalProjection:
        """Return the projection centred on the middle of the given points' bounding box."""
        return cls(float((lat.min() + lat.max()) / 2), float((lon.min() + lon.max()) / 2))

    def forward(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (x, y) in metres for latitudes and longitudes in degrees."""
        scale = np.radians(1.0) * EARTH_RADIUS_M
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * scale * np.cos(np.radians(self.lat0))
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * scale
        return x, y

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (lat, lon) in degrees for local metres."""
        scale = np.radians(1.0) * EARTH_RADIUS_M
        lat = np.asarray(y, dtype=np.float64) / scale + self.lat0
        lon = np.asarray(x, dtype=np.float64) / (scale * np.cos(np.radians(self.lat0))) + self.lon0
        return lat, lon
