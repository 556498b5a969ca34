"""The offline place search (routing/geocode.py): matching on tiny hand-made entries, and reading, caching
and searching the real extract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routing.geocode import PlaceEntry, PlaceIndex, load_or_build, read_entries
from routing.settings import DEFAULT_OSM, RoutingSettings

CENTRE = (47.0, 9.0)


def entry(kind: str, name: str, detail: str = "", number: str = "", lat: float = 47.0, lon: float = 9.0,
          weight: float = 0.0) -> PlaceEntry:
    """An entry at ``lat, lon`` (the centre by default)."""
    return PlaceEntry(kind, name, detail, number, lat, lon, weight, f"n{abs(hash(name)) % 10**6}")


def search(index: PlaceIndex, query: str, inside: np.ndarray | None = None, limit: int = 10) -> list[str]:
    """The labels found for ``query``, best first (every entry inside unless told)."""
    mask = np.ones(len(index), dtype=bool) if inside is None else inside
    return [m.entry.label for m in index.search(query, limit, mask, CENTRE)]


def test_case_accents_and_sharp_s_are_ignored_and_umlauts_match_both_spellings():
    """'zurich' and 'zuerich' find Zürich; 'strasse' finds Straße; capitals change nothing."""
    index = PlaceIndex([entry("place", "Zürich", weight=400_000), entry("street", "Hauptstraße", "Au")])
    assert search(index, "zurich") == search(index, "ZUERICH") == ["Zürich"]
    assert search(index, "hauptstrasse") == search(index, "HAUPTSTR") == ["Hauptstraße, Au"]


def test_every_word_must_start_a_word_of_the_entry():
    """Each query word is a prefix of some word (name, house number, postcode, town); a word in the middle
    of another does not match."""
    index = PlaceIndex([entry("address", "Feldweg 3", "9490 Vaduz", "3"),
                        entry("address", "Feldweg 3", "9494 Schaan", "3")])
    assert search(index, "feld 3 vad") == ["Feldweg 3, 9490 Vaduz"]
    assert search(index, "9494") == ["Feldweg 3, 9494 Schaan"]
    assert search(index, "eldweg") == []


def test_an_exact_house_number_ranks_before_numbers_it_only_starts():
    """'Städtle 4' lists number 4 before 43 and 44, which it also matches."""
    index = PlaceIndex([entry("address", f"Städtle {n}", "Vaduz", str(n)) for n in (43, 4, 44)])
    assert search(index, "städtle 4") == ["Städtle 4, Vaduz", "Städtle 43, Vaduz", "Städtle 44, Vaduz"]


def test_a_large_place_ranks_before_a_small_one_and_outside_the_area_comes_last():
    """Among equal matches the town with more people comes first, and one outside the area after all
    inside, flagged."""
    index = PlaceIndex([entry("place", "Bergdorf", weight=100), entry("place", "Bergstadt", weight=20_000),
                        entry("place", "Bergheim", weight=1_000_000, lat=48.0)])
    inside = np.array([True, True, False])
    matches = index.search("berg", 10, inside, CENTRE)
    assert [m.entry.name for m in matches] == ["Bergstadt", "Bergdorf", "Bergheim"]
    assert [m.inside for m in matches] == [True, True, False]


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory):
    """The index of the service's extract, built into a fresh cache directory and read back from it."""
    settings = RoutingSettings(cache_dir=tmp_path_factory.mktemp("places-cache"))
    built, report = load_or_build(DEFAULT_OSM, settings)
    cached, again = load_or_build(DEFAULT_OSM, settings)
    return built, report, cached, again


def test_the_extract_gives_addresses_places_stops_streets_and_pois_and_the_cache_gives_them_back(real_index):
    """Every kind is read from Liechtenstein's extract; the second load reads the cache file (JSON) and
    gives the same entries."""
    built, report, cached, again = real_index
    kinds = {e.kind for e in built.entries}
    assert kinds == {"address", "place", "stop", "street", "poi"}
    assert report.built and not again.built and again.cache_file == report.cache_file
    assert cached.entries == built.entries
    assert len(json.loads(Path(report.cache_file).read_text(encoding="utf-8"))) == len(built.entries)


def test_a_known_street_and_house_number_of_the_extract_is_found_first(real_index):
    """The Landesmuseum's address, Städtle 43 in 9490 Vaduz, is the first hit for 'stadtle 43'."""
    index = real_index[0]
    first = index.search("stadtle 43", 5, np.ones(len(index), dtype=bool), CENTRE)[0].entry
    assert (first.kind, first.label) == ("address", "Städtle 43, 9490 Vaduz")
    assert 47.13 < first.lat < 47.15 and 9.51 < first.lon < 9.53


def test_reading_a_missing_extract_is_an_osm_file_error(tmp_path: Path):
    """A file that is not there is reported as such, not as an empty index."""
    from routing.errors import OsmFileError

    with pytest.raises(OsmFileError):
        read_entries(tmp_path / "nowhere.osm.pbf")
