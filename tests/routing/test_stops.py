"""Named stops read from an OSM extract (routing.stops), on a tiny hand-written file and the real one."""

from __future__ import annotations

from pathlib import Path

from routing.stops import read_stops

REPO = Path(__file__).resolve().parents[2]
TINY = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="5" lat="47.10" lon="9.50"><tag k="highway" v="bus_stop"/><tag k="name" v="Post"/></node>
  <node id="3" lat="47.11" lon="9.51"><tag k="highway" v="bus_stop"/><tag k="name" v="Post"/></node>
  <node id="7" lat="47.12" lon="9.52"><tag k="railway" v="halt"/><tag k="name" v="Bahnhof"/></node>
  <node id="8" lat="47.13" lon="9.53"><tag k="public_transport" v="platform"/><tag k="bus" v="yes"/>
    <tag k="name" v="Äule"/></node>
  <node id="9" lat="47.14" lon="9.54"><tag k="highway" v="bus_stop"/></node>
  <node id="10" lat="47.15" lon="9.55"><tag k="shop" v="bakery"/><tag k="name" v="Beck"/></node>
</osm>
"""


def test_named_stops_once_per_name_sorted(tmp_path):
    """Stops with a name are read (bus stop, railway halt, bus platform), one per name at the lowest node
    id, sorted by name; unnamed stops and other named nodes are not stops."""
    extract = tmp_path / "tiny.osm"
    extract.write_text(TINY, encoding="utf-8")
    stops = read_stops(extract)
    assert [(s.name, s.id, s.kind) for s in stops] == [
        ("Äule", "osm-8", "bus_stop"),
        ("Bahnhof", "osm-7", "station"),
        ("Post", "osm-3", "bus_stop"),
    ]
    assert (stops[2].lat, stops[2].lon) == (47.11, 9.51)


def test_liechtenstein_has_its_bus_stops():
    """The shipped extract yields over a hundred named stops, among them Vaduz's and Schaan's."""
    names = [s.name for s in read_stops(REPO / "data" / "liechtenstein-latest.osm.pbf")]
    assert len(names) > 100 and len(set(names)) == len(names)
    assert any("Vaduz" in n for n in names) and any("Schaan" in n for n in names)
