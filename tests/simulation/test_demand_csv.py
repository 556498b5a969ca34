"""The shared demand CSV: reading the shared example, writing it back unchanged, naming bad lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dispatch.model import TimeType
from simulation.demand_csv import DemandFileError, read_demand, service_date, write_demand

EXAMPLE = Path(__file__).resolve().parents[3] / "shared" / "demand" / "example-liechtenstein.csv"


def test_shared_example_reads_and_round_trips(tmp_path):
    """The 60-request example reads (a third pre-booked the evening before) and writes back identical."""
    trips = read_demand(EXAMPLE)
    assert len(trips) == 60
    assert service_date(trips) == date(2026, 12, 1)
    assert {t.time_type for t in trips} == {TimeType.LEAVE_AFTER, TimeType.ARRIVE_BY}
    write_demand(tmp_path / "copy.csv", trips)
    assert read_demand(tmp_path / "copy.csv") == trips
    assert (tmp_path / "copy.csv").read_text() == EXAMPLE.read_text()


def test_a_bad_row_is_named_by_its_line(tmp_path):
    """A row with an unknown time type fails with its line number."""
    lines = EXAMPLE.read_text().splitlines()
    lines[3] = lines[3].replace("leave_after", "whenever").replace("arrive_by", "whenever")
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DemandFileError, match="line 4"):
        read_demand(tmp_path / "bad.csv")


def test_a_missing_column_is_named(tmp_path):
    """A file without the wheelchair column is refused, naming it."""
    (tmp_path / "short.csv").write_text("request_id,submitted_at\nr1,2026-12-01T08:00:00\n")
    with pytest.raises(DemandFileError, match="wheelchair"):
        read_demand(tmp_path / "short.csv")


def test_a_trip_for_nobody_is_refused(tmp_path):
    """A row with no seat and no wheelchair space is named by its line."""
    lines = EXAMPLE.read_text().splitlines()
    fields = lines[1].split(",")
    lines[1] = ",".join([*fields[:-2], "0", "0"])
    (tmp_path / "empty.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DemandFileError, match="line 2"):
        read_demand(tmp_path / "empty.csv")
