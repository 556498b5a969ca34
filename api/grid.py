"""The demand grid: a place coarsened to a cell of about :data:`CELL_M` metres, so that the record of
where people asked for trips keeps no address.

Rows are bands of equal latitude (``CELL_M`` metres of meridian each); within a row, columns are
``CELL_M`` metres wide at the row's middle latitude. A cell is named ``"<row>:<col>"``; the name depends
on the place only (no reference point, no state), so every process and every day agree on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CELL_M = 300
METRES_PER_DEGREE = 111_195.0  # of latitude, on the mean Earth sphere (6 371 008.8 m)
_ROW_DEG = CELL_M / METRES_PER_DEGREE


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of the grid: its name and its centre (WGS 84)."""

    id: str
    lat: float
    lon: float


def _column_deg(row: int) -> float:
    """The width in degrees of longitude of the cells of ``row``."""
    middle = (row + 0.5) * _ROW_DEG
    return _ROW_DEG / max(math.cos(math.radians(middle)), 1e-6)


def cell_of(lat: float, lon: float) -> Cell:
    """The cell holding the place ``(lat, lon)``."""
    row = math.floor(lat / _ROW_DEG)
    column = math.floor(lon / _column_deg(row))
    return cell(f"{row}:{column}")


def cell(cell_id: str) -> Cell:
    """The cell named ``cell_id`` (``"<row>:<col>"``) with its centre; ValueError for another name."""
    row_text, _, column_text = cell_id.partition(":")
    row, column = int(row_text), int(column_text)
    return Cell(cell_id, (row + 0.5) * _ROW_DEG, (column + 0.5) * _column_deg(row))
