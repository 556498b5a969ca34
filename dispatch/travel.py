"""The one interface through which dispatch sees the road network.

``dispatch`` never touches a graph library: it asks a :class:`TravelTimes` source for travel
times (integer seconds) and distances (integer metres) between *locations*, which are plain
integer ids (the compact node indices of the compiled road graph, or the rows of a matrix in
tests and benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class TravelMatrix:
    """Travel times and distances from each origin (row) to each destination (column)."""

    seconds: np.ndarray  # int64, shape (len(origins), len(destinations))
    metres: np.ndarray  # int64, same shape


class TravelTimes(Protocol):
    """Anything that answers travel times and distances between locations."""

    def matrix(self, origins: Sequence[int], destinations: Sequence[int]) -> TravelMatrix:
        """Return times (s) and distances (m) for every origin × destination pair."""
        ...


class MatrixTravelTimes:
    """A :class:`TravelTimes` over a full, explicit matrix: for tests, benchmarks and small areas."""

    def __init__(self, seconds: np.ndarray, metres: np.ndarray | None = None) -> None:
        seconds = np.asarray(seconds, dtype=np.int64)
        if seconds.ndim != 2 or seconds.shape[0] != seconds.shape[1]:
            raise ValueError(f"travel-time matrix must be square, got shape {seconds.shape}")
        if (seconds < 0).any():
            raise ValueError("travel times must not be negative")
        self._seconds = seconds
        self._metres = seconds.copy() if metres is None else np.asarray(metres, dtype=np.int64)
        if self._metres.shape != seconds.shape:
            raise ValueError("distance matrix must have the shape of the travel-time matrix")

    @property
    def size(self) -> int:
        """Number of locations."""
        return self._seconds.shape[0]

    def matrix(self, origins: Sequence[int], destinations: Sequence[int]) -> TravelMatrix:
        """Return the sub-matrices for ``origins`` × ``destinations``."""
        rows = np.asarray(origins, dtype=np.int64)
        cols = np.asarray(destinations, dtype=np.int64)
        return TravelMatrix(self._seconds[np.ix_(rows, cols)], self._metres[np.ix_(rows, cols)])


class LegTimes:
    """Memoised travel times and distances between locations, fetched from a source in batches.

    The hot paths (insertion, route evaluation) look up single legs; ``prefetch`` asks the source
    for every pair among a set of locations in one matrix call so that those lookups are dict hits.
    """

    def __init__(self, source: TravelTimes, max_pairs: int = 2_000_000) -> None:
        self._source = source
        self._seconds: dict[tuple[int, int], int] = {}
        self._metres: dict[tuple[int, int], int] = {}
        self._max_pairs = max_pairs

    def prefetch(self, origins: Sequence[int], destinations: Sequence[int]) -> None:
        """Fetch all ``origins`` × ``destinations`` pairs not yet known, in one matrix call."""
        rows = list(dict.fromkeys(origins))
        cols = list(dict.fromkeys(destinations))
        if all((a, b) in self._seconds for a in rows for b in cols):
            return
        if len(self._seconds) + len(rows) * len(cols) > self._max_pairs:
            self._seconds.clear()
            self._metres.clear()
        result = self._source.matrix(rows, cols)
        seconds = result.seconds.tolist()
        metres = result.metres.tolist()
        for i, a in enumerate(rows):
            srow, mrow = seconds[i], metres[i]
            for j, b in enumerate(cols):
                self._seconds[(a, b)] = srow[j]
                self._metres[(a, b)] = mrow[j]

    def seconds(self, origin: int, destination: int) -> int:
        """Travel time from ``origin`` to ``destination`` (s)."""
        key = (origin, destination)
        value = self._seconds.get(key)
        if value is None:
            self.prefetch([origin], [destination])
            value = self._seconds[key]
        return value

    def metres(self, origin: int, destination: int) -> int:
        """Driving distance from ``origin`` to ``destination`` (m)."""
        key = (origin, destination)
        if key not in self._metres:
            self.prefetch([origin], [destination])
        return self._metres[key]
