"""The one interface through which dispatch sees the road network.

``dispatch`` never touches a graph library: it asks a :class:`TravelTimes` source for travel
times (integer seconds) and distances (integer metres) between *locations*, which are plain
integer ids (the compact node indices of the compiled road graph, or the rows of a matrix in
tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

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


MAX_COLUMNS = 512  # destinations (places of recent quotes) whose columns are kept
MAX_COLUMN_ORIGINS = 2048  # a kept column holding more starts afresh (most of its places long gone)


class LegTimes:
    """Memoised travel times and distances between locations, fetched from a source in batches.

    The hot paths (insertion, route evaluation) look up single legs; ``prefetch`` asks the source
    for every missing pair among some locations in one matrix call, so that those lookups are dict
    hits. Memory is bounded: past ``max_pairs`` remembered pairs the memo starts afresh.
    """

    def __init__(self, source: TravelTimes, max_pairs: int = 4_000_000,
                 max_column_origins: int = MAX_COLUMN_ORIGINS) -> None:
        self.source = source
        self._max_column_origins = max_column_origins
        self._seconds: dict[int, dict[int, int]] = {}
        self._metres: dict[int, dict[int, int]] = {}
        self._pairs = 0
        self._max_pairs = max_pairs
        self._to: dict[int, dict[int, int]] = {}  # destination -> {origin: seconds}, see ``fetch_to``
        self._to_m: dict[int, dict[int, int]] = {}  # destination -> {origin: metres}

    def prefetch(self, origins: Sequence[int], destinations: Sequence[int]) -> None:
        """Fetch the ``origins`` × ``destinations`` pairs not yet known, in one matrix call."""
        wanted = set(destinations)
        rows, missing = [], set()
        for a in dict.fromkeys(origins):
            known = self._seconds.get(a)
            gap = wanted if known is None else wanted - known.keys()
            if gap:
                rows.append(a)
                missing |= gap
        if not rows:
            return
        cols = list(missing)  # only what some row lacks: a bus that moved adds one column, not all of them
        if self._pairs + len(rows) * len(cols) > self._max_pairs:
            self._seconds.clear()
            self._metres.clear()
            self._pairs = 0
        result = self.source.matrix(rows, cols)
        for a, srow, mrow in zip(rows, result.seconds.tolist(), result.metres.tolist()):
            seconds = self._seconds.setdefault(a, {})
            before = len(seconds)
            seconds.update(zip(cols, srow))
            self._metres.setdefault(a, {}).update(zip(cols, mrow))
            self._pairs += len(seconds) - before

    def _lookup(self, rows: dict[int, dict[int, int]], columns: dict[int, dict[int, int]],
                origin: int, destination: int) -> int:
        try:
            return rows[origin][destination]
        except KeyError:
            column = columns.get(destination)
            if column is not None and origin in column:
                return column[origin]
            self.prefetch([origin], [destination])
            return rows[origin][destination]

    def seconds(self, origin: int, destination: int) -> int:
        """Travel time from ``origin`` to ``destination`` (s)."""
        return self._lookup(self._seconds, self._to, origin, destination)

    def metres(self, origin: int, destination: int) -> int:
        """Driving distance from ``origin`` to ``destination`` (m)."""
        return self._lookup(self._metres, self._to_m, origin, destination)

    def prefetch_legs(self, locations: Sequence[int]) -> None:
        """Make sure every consecutive leg of a path through ``locations`` is known."""
        known = self._seconds
        to = self._to
        missing = [(a, b) for a, b in pairwise(locations)
                   if b not in known.get(a, ()) and a not in to.get(b, ())]
        if missing:
            self.prefetch([a for a, _ in missing], [b for _, b in missing])

    def fetch_to(self, origins: Sequence[int], destinations: Sequence[int]) -> None:
        """Fetch travel times from many origins to a few destinations, kept per destination.

        Cheaper than :meth:`prefetch` for that shape: one dict per destination, no per-pair
        bookkeeping, and one matrix call for the origins the destinations' dicts lack; :meth:`to` and
        :meth:`seconds` read them. At most ``MAX_COLUMNS`` destinations are kept, apart from the pairs
        that ``max_pairs`` bounds (the one used longest ago goes first); a column that would hold more
        than ``max_column_origins`` origins starts afresh.
        """
        rows = list(dict.fromkeys(origins))
        gaps = {b: gap for b in dict.fromkeys(destinations) if (gap := self._column_gap(b, rows))}
        if not gaps:
            return
        starts = list(dict.fromkeys(a for gap in gaps.values() for a in gap))
        ends = list(gaps)
        result = self.source.matrix(starts, ends)  # one call for every column that lacks something
        at = {a: k for k, a in enumerate(starts)}
        for j, (b, gap) in enumerate(gaps.items()):
            picked = [at[a] for a in gap]
            self._to[b].update(zip(gap, result.seconds[picked, j].tolist()))
            self._to_m[b].update(zip(gap, result.metres[picked, j].tolist()))

    def _column_gap(self, destination: int, origins: Sequence[int]) -> list[int]:
        """The ``origins`` a destination's column lacks (all of them when the column starts afresh); the
        column becomes the latest used."""
        column, column_m = self._to.pop(destination, {}), self._to_m.pop(destination, {})
        if not column and len(self._to) >= MAX_COLUMNS:  # a new column: the one used longest ago goes
            oldest = next(iter(self._to))
            del self._to[oldest], self._to_m[oldest]
        self._to[destination], self._to_m[destination] = column, column_m  # now the latest used
        missing = [a for a in dict.fromkeys(origins) if a not in column]  # e.g. only the buses that moved
        if missing and len(column) + len(missing) > self._max_column_origins:
            column.clear()
            column_m.clear()
            missing = list(dict.fromkeys(origins))
        return missing

    def _fill_column(self, destination: int, origins: Sequence[int]) -> None:
        """Add the travel times from the ``origins`` a destination's column lacks."""
        missing = self._column_gap(destination, origins)
        if not missing:
            return
        result = self.source.matrix(missing, [destination])
        self._to[destination].update(zip(missing, result.seconds[:, 0].tolist()))
        self._to_m[destination].update(zip(missing, result.metres[:, 0].tolist()))

    def to(self, origins: Sequence[int], destination: int) -> list[int]:
        """Travel times from each of ``origins`` to one destination (the missing ones fetched into its
        column)."""
        try:
            return list(map(self._to[destination].__getitem__, origins))
        except KeyError:
            self._fill_column(destination, origins)
            return list(map(self._to[destination].__getitem__, origins))

    def from_(self, origin: int, destinations: Sequence[int]) -> list[int]:
        """Travel times from one origin to each of ``destinations`` (fetched if missing)."""
        try:
            return list(map(self._seconds[origin].__getitem__, destinations))
        except KeyError:
            self.prefetch([origin], destinations)
            return list(map(self._seconds[origin].__getitem__, destinations))
