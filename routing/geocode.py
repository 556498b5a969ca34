"""Offline address and place search over the region's OSM extract (the one the road graph is built from).

What can be found (:class:`PlaceEntry`, by ``kind``):

- ``address``: every node or way with ``addr:housenumber`` and ``addr:street`` (or ``addr:place``), at
  the node or the mean of the way's nodes (buildings); its town is ``addr:city``, else the nearest
  settlement, and ``addr:postcode`` when tagged.
- ``place``: named ``place=*`` nodes (towns, villages, hamlets, localities), weighted by population.
- ``stop``: named bus stops, bus stations and rail stations (as :mod:`routing.stops` knows them).
- ``poi``: named amenities, shops, tourism, leisure, offices, healthcare and historic sites.
- ``street``: named streets, once per street and settlement, at the street's node nearest its middle.

Matching ignores case and accents (``name_key``: ``Zürich`` ~ ``zurich``, ``Straße`` ~ ``strasse``), and a
German umlaut also matches its two-letter spelling (``zuerich``). Every word of a query must be the start
of a word of the entry (its name, street, house number, postcode or town). Results are ranked by how well
the words match (whole words before prefixes, the name before the town, an exact house number first),
the kind's importance (a place's population) and the distance from the area's centre.

The entries are read in one pyosmium pass (about a second for Liechtenstein) and cached on disk as JSON
next to the road graph (``<region>-places-<key>.json``); the word index is built from them on load.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from routing.compiled import file_sha256
from routing.errors import OsmFileError
from routing.osm_import import check_osm_path
from routing.settings import RoutingSettings
from routing.stops import KIND_WEIGHTS, name_key, parse_population, stop_kind

FORMAT_VERSION = 1
KINDS = ("place", "stop", "street", "poi", "address")
POI_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "healthcare", "historic", "craft")
TOWN_KINDS = ("city", "town", "village", "suburb")  # what an address's town may be
SKIPPED_HIGHWAYS = frozenset({"platform", "bus_stop", "proposed", "construction", "abandoned", "razed"})
READ_KEYS = ("addr:housenumber", "place", "name", "highway")  # a found object has at least one of these
_WORD = re.compile(r"\w+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
# Ranking (see PlaceIndex.search): points per query word by where and how it matched; extra points by kind.
WORD_POINTS = {("name", True): 2.0, ("name", False): 1.5, ("detail", True): 1.0, ("detail", False): 0.7}
HOUSENUMBER_POINTS = 3.0
LEADING_POINTS = 1.0  # the entry's name starts with the query's first word
KIND_POINTS = {"place": 1.0, "stop": 0.8, "street": 0.6, "poi": 0.5, "address": 0.0}
KM_PENALTY = 0.04  # per km from the area's centre
OUTSIDE_PENALTY = 10.0  # outside the service area: listed after every match inside


@dataclass(frozen=True)
class PlaceEntry:
    """Something a rider can search for: what it is, what it is called, where it is."""

    kind: str  # place, stop, street, poi, address
    name: str  # "Städtle 43", "Vaduz", "Landesmuseum", "Landstrasse"
    detail: str  # where: "9490 Vaduz"; for a poi its kind and town ("museum, Vaduz")
    housenumber: str  # "" but for addresses
    lat: float
    lon: float
    weight: float  # inhabitants for places, 0 for the others
    osm: str  # "n123" / "w456": the object it was read from, for ids

    @property
    def label(self) -> str:
        """The entry as one line: ``"Städtle 43, 9490 Vaduz"``."""
        return f"{self.name}, {self.detail}" if self.detail else self.name


@dataclass(frozen=True)
class PlaceMatch:
    """A search result: the entry, its score and whether it lies inside the service area."""

    entry: PlaceEntry
    score: float
    inside: bool


def words(text: str) -> list[str]:
    """The words of ``text`` as the index keeps them: case and accents dropped."""
    return _WORD.findall(name_key(text))


def index_words(text: str) -> set[str]:
    """The words an entry is found by: :func:`words`, and each with umlauts spelt ``ae``/``oe``/``ue``."""
    return set(words(text)) | set(words(text.translate(_UMLAUTS)))


# -- reading the extract ---------------------------------------------------------------------------------

def read_entries(osm_file: Path) -> list[PlaceEntry]:
    """Every searchable entry of ``osm_file`` (see the module docstring), in a stable order.

    Raises :class:`OsmFileError` when the file is missing or unreadable.
    """
    import osmium

    check_osm_path(osm_file)
    raw: list[tuple[str, dict[str, str], float, float, str]] = []  # (type, tags, lat, lon, osm id)
    street_points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        processor = (osmium.FileProcessor(str(osm_file), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations().with_filter(osmium.filter.KeyFilter(*READ_KEYS)))
        for obj in processor:
            tags = {tag.k: tag.v for tag in obj.tags}
            if isinstance(obj, osmium.osm.Node):
                if obj.location.valid():
                    raw.append(("n", tags, obj.location.lat, obj.location.lon, f"n{obj.id}"))
                continue
            assert isinstance(obj, osmium.osm.Way), "the processor reads nodes and ways"
            points = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            if not points:
                continue
            highway, name = tags.get("highway"), tags.get("name")
            if highway and name and highway not in SKIPPED_HIGHWAYS:
                street_points[name].extend(points)
            if "addr:housenumber" in tags or _poi_kind(tags):
                lat, lon = np.mean(np.array(points), axis=0).tolist()
                raw.append(("w", tags, lat, lon, f"w{obj.id}"))
    except RuntimeError as exc:
        raise OsmFileError(osm_file, f"cannot read the file ({exc})") from exc
    towns = _Towns([(t.get("name", ""), lat, lon) for _, t, lat, lon, _ in raw
                    if t.get("place") in TOWN_KINDS and t.get("name")])
    entries: list[PlaceEntry] = []
    for _, tags, lat, lon, osm in raw:
        entries.extend(_entries_of(tags, lat, lon, osm, towns))
    entries.extend(_streets(street_points, towns))
    return _unique(entries)


def _unique(entries: list[PlaceEntry]) -> list[PlaceEntry]:
    """The entries less repeats of the same kind and label (a stop's two sides of the road, an address
    tagged on both a node and its building): the first is kept (nodes before ways, lower ids first)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for entry in entries:
        key = (entry.kind, name_key(entry.label))
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def _poi_kind(tags: dict[str, str]) -> str | None:
    """The kind value of a named point of interest (``"school"``, ``"bakery"``), or None."""
    if "name" not in tags:
        return None
    return next((tags[key] for key in POI_KEYS if key in tags and tags[key] not in ("no", "yes")),
                next((key for key in POI_KEYS if key in tags), None))


def _entries_of(tags: dict[str, str], lat: float, lon: float, osm: str, towns: _Towns
                ) -> Iterable[PlaceEntry]:
    """The entries one object gives: an address, a place, a stop and/or a point of interest."""
    name = tags.get("name", "").strip()
    town = tags.get("addr:city") or towns.nearest(lat, lon)
    street = tags.get("addr:street") or tags.get("addr:place")
    number = tags.get("addr:housenumber", "").strip()
    if number and street:
        detail = " ".join(part for part in (tags.get("addr:postcode", ""), town) if part)
        yield PlaceEntry("address", f"{street} {number}", detail, number, lat, lon, 0.0, osm)
    kind = tags.get("place")
    if kind and name:
        population = parse_population(tags.get("population"))
        weight = population or KIND_WEIGHTS.get(kind, 10.0)
        near = towns.nearest(lat, lon) if kind not in TOWN_KINDS else ""
        yield PlaceEntry("place", name, near if near != name else "", "", lat, lon, weight, osm)
        return
    if name and osm.startswith("n") and stop_kind(cast(Any, tags)) is not None:
        yield PlaceEntry("stop", name, town, "", lat, lon, 0.0, osm)
        return
    poi = _poi_kind(tags)
    if poi:
        what = poi.replace("_", " ")
        yield PlaceEntry("poi", name, f"{what}, {town}" if town else what, "", lat, lon, 0.0, osm)


def _streets(points: dict[str, list[tuple[float, float]]], towns: _Towns) -> Iterable[PlaceEntry]:
    """One entry per street name and town: the street's point nearest the middle of its points there."""
    for name in sorted(points):
        by_town: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for lat, lon in points[name]:
            by_town[towns.nearest(lat, lon)].append((lat, lon))
        for town in sorted(by_town):
            array = np.array(by_town[town])
            middle = array.mean(axis=0)
            lat, lon = array[int(np.argmin(((array - middle) ** 2).sum(axis=1)))].tolist()
            key = hashlib.sha1(f"{name}|{town}".encode()).hexdigest()[:12]
            yield PlaceEntry("street", name, town, "", lat, lon, 0.0, f"s{key}")


class _Towns:
    """The settlements an address may belong to, for the nearest one's name."""

    def __init__(self, towns: list[tuple[str, float, float]]) -> None:
        self.names = [name for name, _, _ in towns]
        self.lat = np.array([lat for _, lat, _ in towns])
        self.lon = np.array([lon for _, _, lon in towns])
        self.cos = math.cos(math.radians(float(self.lat.mean()))) if towns else 1.0

    def nearest(self, lat: float, lon: float) -> str:
        """The nearest settlement's name ("" when the extract has none)."""
        if not self.names:
            return ""
        d2 = (self.lat - lat) ** 2 + ((self.lon - lon) * self.cos) ** 2
        return self.names[int(np.argmin(d2))]


# -- the cache -------------------------------------------------------------------------------------------

def cache_path(source: Path, settings: RoutingSettings, source_sha256: str | None = None) -> Path:
    """The entries' cache file for ``source``: a changed file or format gives a new one."""
    sha = source_sha256 or file_sha256(source)
    key = hashlib.sha256(f"{sha}:places:v{FORMAT_VERSION}".encode()).hexdigest()[:20]
    return settings.cache_dir / f"{source.name.split('.')[0]}-places-{key}.json"


@dataclass(frozen=True)
class IndexReport:
    """How an index was obtained: its cache file, whether it was read from the extract now, seconds taken."""

    cache_file: Path
    built: bool
    seconds: float


def load_or_build(source: Path, settings: RoutingSettings) -> tuple[PlaceIndex, IndexReport]:
    """The place index of ``source``: entries from the cache, or read from the extract and cached."""
    started = time.perf_counter()
    check_osm_path(source)
    target = cache_path(source, settings)
    entries: list[PlaceEntry] | None = None
    if target.is_file():
        try:
            entries = [PlaceEntry(*row) for row in json.loads(target.read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            target.unlink(missing_ok=True)
    built = entries is None
    if entries is None:
        entries = read_entries(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps([astuple(e) for e in entries], ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
    index = PlaceIndex(entries)
    return index, IndexReport(target, built, time.perf_counter() - started)


# -- the index -------------------------------------------------------------------------------------------

class PlaceIndex:
    """Entries with a word index: every word of every entry, sorted, each with the entries holding it."""

    def __init__(self, entries: list[PlaceEntry]) -> None:
        self.entries = entries
        postings: dict[str, dict[int, bool]] = defaultdict(dict)  # word -> {entry: found in its name}
        for i, entry in enumerate(entries):
            for word in index_words(f"{entry.detail} {entry.housenumber}"):
                postings[word][i] = False
            for word in index_words(entry.name):
                postings[word][i] = True
        self._words = sorted(postings)
        self._postings = [postings[word] for word in self._words]
        self.lat = np.array([e.lat for e in entries], dtype=np.float64)
        self.lon = np.array([e.lon for e in entries], dtype=np.float64)
        importance = [KIND_POINTS[e.kind] + 0.5 * math.log10(max(e.weight, 1.0)) for e in entries]
        self._importance = np.array(importance, dtype=np.float64)
        self._name_keys = np.array([name_key(e.name) for e in entries], dtype=np.str_)
        self._name_rank = np.argsort(np.argsort(self._name_keys, kind="stable"), kind="stable")
        self._numbers = np.array([name_key(e.housenumber) for e in entries], dtype=np.str_)

    def __len__(self) -> int:
        return len(self.entries)

    def _matching(self, word: str) -> dict[int, float]:
        """Entries with a word starting with ``word``: entry -> the points the best such word earns."""
        found: dict[int, float] = {}
        start = bisect.bisect_left(self._words, word)
        for position in range(start, len(self._words)):
            candidate = self._words[position]
            if not candidate.startswith(word):
                break
            exact = candidate == word
            for entry, in_name in self._postings[position].items():
                points = WORD_POINTS["name" if in_name else "detail", exact]
                if points > found.get(entry, 0.0):
                    found[entry] = points
        return found

    def inside(self, contains: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
        """Which entries lie inside an area, given its vectorised ``contains(lat, lon)``: a mask to pass to
        :meth:`search` (compute it once per area)."""
        return np.asarray(contains(self.lat, self.lon), dtype=bool)

    def search(self, query: str, limit: int, inside: np.ndarray, centre: tuple[float, float]
               ) -> list[PlaceMatch]:
        """The best ``limit`` entries matching every word of ``query``, best first.

        ``inside`` (from :meth:`inside`) says which entries lie in the service area: those outside come
        last, flagged. ``centre`` (lat, lon) is where distance is measured from.
        """
        query_words = list(dict.fromkeys(words(query)))
        if not query_words:
            return []
        scores: dict[int, float] | None = None
        for word in query_words:
            found = self._matching(word)
            scores = found if scores is None else {e: s + found[e] for e, s in scores.items() if e in found}
            if not scores:
                return []
        assert scores is not None
        ids = np.fromiter(scores, dtype=np.int64, count=len(scores))
        total = np.fromiter(scores.values(), dtype=np.float64, count=len(scores)) + self._importance[ids]
        numbers = [w for w in query_words if any(c.isdigit() for c in w)]
        if numbers:
            total += HOUSENUMBER_POINTS * np.isin(self._numbers[ids], numbers)
        total += LEADING_POINTS * np.char.startswith(self._name_keys[ids], " ".join(query_words))
        lat, lon = self.lat[ids], self.lon[ids]
        km = np.hypot(lat - centre[0], (lon - centre[1]) * math.cos(math.radians(centre[0]))) * 111.2
        within = inside[ids]
        total -= KM_PENALTY * km + np.where(within, 0.0, OUTSIDE_PENALTY)
        total = np.round(total, 3)
        order = np.lexsort((self._name_rank[ids], -total))[:limit]
        return [PlaceMatch(self.entries[int(ids[k])], float(total[k]), bool(within[k]))
                for k in order.tolist()]
