"""Stops, places and hubs read from an OSM extract in one pass (routing.stops), on a tiny hand-written file
and the real one."""

from __future__ import annotations

from pathlib import Path

from routing.stops import parse_population, read_places

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
  <node id="11" lat="47.16" lon="9.56"><tag k="place" v="village"/><tag k="name" v="Au"/>
    <tag k="population" v="1'234"/></node>
  <node id="12" lat="47.17" lon="9.57"><tag k="place" v="hamlet"/><tag k="name" v="Egg"/></node>
  <node id="13" lat="47.18" lon="9.58"><tag k="place" v="locality"/><tag k="name" v="Ried"/></node>
  <node id="14" lat="47.19" lon="9.59"><tag k="railway" v="station"/><tag k="highway" v="bus_stop"/></node>
</osm>
"""


def test_named_stops_once_per_name_sorted(tmp_path):
    """Stops with a name are read (bus stop, railway halt, bus platform), one per name at the lowest node
    id, sorted by name; unnamed stops and other named nodes are not stops."""
    extract = tmp_path / "tiny.osm"
    extract.write_text(TINY, encoding="utf-8")
    stops = read_places(extract).stops
    assert [(s.name, s.id, s.kind) for s in stops] == [
        ("Äule", "osm-8", "bus_stop"),
        ("Bahnhof", "osm-7", "station"),
        ("Post", "osm-3", "bus_stop"),
    ]
    assert (stops[2].lat, stops[2].lon) == (47.11, 9.51)


def test_liechtenstein_has_its_bus_stops():
    """The shipped extract yields over a hundred named stops, among them Vaduz's and Schaan's."""
    names = [s.name for s in read_places(REPO / "data" / "liechtenstein-latest.osm.pbf").stops]
    assert len(names) > 100 and len(set(names)) == len(names)
    assert any("Vaduz" in n for n in names) and any("Schaan" in n for n in names)


def test_places_weighted_by_population_or_kind_and_hubs_named_or_not(tmp_path):
    """The same pass reads settlements (a village with its population tag, a hamlet weighted by its kind;
    a locality is no settlement) and hubs: every bus stop, named or not, and a node that is both a station
    and a bus stop once, as a station."""
    extract = tmp_path / "tiny.osm"
    extract.write_text(TINY, encoding="utf-8")
    region = read_places(extract)
    assert [(p.name, p.kind, p.weight, p.population_tagged) for p in region.places] == [
        ("Au", "village", 1234, True), ("Egg", "hamlet", 100, False)]
    assert [(h.kind, h.lat) for h in region.hubs] == [
        ("bus_stop", 47.10), ("bus_stop", 47.11), ("bus_stop", 47.14), ("station", 47.19)]


def test_an_extract_changed_on_disk_is_read_again(tmp_path):
    """Reading is cached per file, but a file rewritten with other content is read afresh."""
    extract = tmp_path / "tiny.osm"
    extract.write_text(TINY, encoding="utf-8")
    assert len(read_places(extract).stops) == 3
    extract.write_text(TINY.replace('<tag k="name" v="Bahnhof"/>', ""), encoding="utf-8")
    assert [s.name for s in read_places(extract).stops] == ["Äule", "Post"]


def test_population_tags_parse_with_separators_and_refuse_words():
    """``5'933``, ``5 933`` and ``5933`` are 5,933 people; ``about 40``, ``0`` and no tag are none."""
    assert parse_population("5'933") == parse_population("5 933") == parse_population("5933") == 5933
    assert parse_population("about 40") is None and parse_population("0") is None
    assert parse_population(None) is None
