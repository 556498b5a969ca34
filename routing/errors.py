"""Errors raised by the road network; the API maps each to a 4xx answer with its message."""

from __future__ import annotations

from pathlib import Path


class RoutingError(Exception):
    """Base class of every error ``routing`` raises on purpose."""


class OsmFileError(RoutingError):
    """An OSM file is missing, unreadable, or holds no drivable roads."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"OSM file {self.path}: {reason}")


class SnapError(RoutingError):
    """A point lies farther from any drivable road than the snapping limit."""

    def __init__(self, lat: float, lon: float, distance_m: float, limit_m: float) -> None:
        self.lat, self.lon = lat, lon
        self.distance_m, self.limit_m = distance_m, limit_m
        super().__init__(
            f"point (lat {lat:.6f}, lon {lon:.6f}) is {distance_m:.0f} m from the nearest drivable road; "
            f"the limit is {limit_m:.0f} m"
        )


class OutsideServiceAreaError(RoutingError):
    """A point lies outside the service area."""

    def __init__(self, lat: float, lon: float) -> None:
        self.lat, self.lon = lat, lon
        super().__init__(f"point (lat {lat:.6f}, lon {lon:.6f}) is outside the service area")


class UnknownNodeError(RoutingError, IndexError):
    """A node index is not a node of the compiled graph."""

    def __init__(self, node: int, node_count: int) -> None:
        self.node, self.node_count = node, node_count
        super().__init__(f"node {node} is not in the road graph (valid: 0..{node_count - 1})")
