"""``rufbus graph info``: figures for a cached graph and a clear error for a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.cli import graph_app


def test_info_builds_then_loads_warm_and_prints_the_figures(
    tiny_osm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first call builds (cold), the second reads the cache (warm); both print nodes, edges, km, cache."""
    monkeypatch.setenv("RUFBUS_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    cold = runner.invoke(graph_app, ["info", "--osm", str(tiny_osm)])
    warm = runner.invoke(graph_app, ["info", "--osm", str(tiny_osm)])
    assert cold.exit_code == warm.exit_code == 0, cold.output
    # 4 junctions and 38 curbside nodes: the 762 m roads are cut into 13 pieces, the 890 m one into 15
    assert "nodes   42\n" in cold.output and "edges   82 directed, cut at most 60 m long" in cold.output
    assert "road    2.4 km" in cold.output
    assert "(cold: built)" in cold.output and "(warm: from cache)" in warm.output
    assert f"cache   {tmp_path / 'cache'}" in warm.output


def test_info_on_a_missing_file_exits_with_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing OSM file gives exit code 1 and a message naming the file."""
    monkeypatch.setenv("RUFBUS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(graph_app, ["info", "--osm", str(tmp_path / "gone.osm.pbf")])
    assert result.exit_code == 1
    assert "gone.osm.pbf: file not found" in result.output
