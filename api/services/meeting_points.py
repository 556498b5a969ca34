"""Meeting points (virtual stops) as operators keep them and riders walk to them.

The stored set starts as the area's seed (:func:`routing.meeting_points.seed_points`: its OSM bus stops
and points generated along roads a bus can stop on), written on first use of an empty table. Operators
then add, move, rename and deactivate points one by one, or import a GeoJSON FeatureCollection of Point
features (validated as a whole: one bad feature and nothing is stored, 422 ``invalid_meeting_points``
with a problem per feature), and export the set in the same form. Every point lies inside the service
area and near a road, and knows the drive node a bus stops at.

Riders get the meeting points within the area's walking limit of a place (:func:`candidates_near`) and
the walk to one of them over the walk graph (:func:`walk_to`).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlmodel import Session

from api.db.models import MEETING_POINT_NAME_LENGTH, MeetingPoint, MeetingPointSource, utc_now
from api.db.repository import IntegrityViolation, count_meeting_points, meeting_points, save_meeting_points
from api.errors import InvalidRequest, NotFound
from api.schemas import (
    MEETING_POINT_ID,
    ChosenMeetingPoint,
    MeetingPointCandidatePublic,
    MeetingPointCandidatesPublic,
    MeetingPointCreate,
    MeetingPointImportPublic,
    MeetingPointPublic,
    MeetingPointUpdate,
    WalkPublic,
)
from dispatch.meeting import place_options
from dispatch.model import MeetingMode, PlaceOption, ServiceRules
from routing.meeting_points import seed_points
from routing.network import RoadNetwork
from routing.walking import WalkNetwork, candidates

MAX_IMPORT_FEATURES = 10_000
_ID = re.compile(MEETING_POINT_ID)


def ensure_seeded(session: Session, network: RoadNetwork) -> None:
    """Write the area's seed into an empty ``meeting_points`` table (another worker seeding at the same
    time wins; its rows are the same)."""
    if count_meeting_points(session):
        return
    rows = [MeetingPoint(id=seed.id, name=seed.name, lat=seed.lat, lon=seed.lon,
                         source=MeetingPointSource(seed.source), node=seed.node)
            for seed in seed_points(network)]
    try:
        save_meeting_points(session, points=rows)
    except IntegrityViolation:  # the other worker's rows are in: nothing left to do
        return


def public(point: MeetingPoint) -> MeetingPointPublic:
    """The API's view of a stored point."""
    return MeetingPointPublic(id=point.id, name=point.name, lat=point.lat, lon=point.lon,
                              source=point.source, active=point.active)


def feature_collection(session: Session, network: RoadNetwork) -> dict[str, Any]:
    """Every meeting point (active or not) as a GeoJSON FeatureCollection; each feature's ``id`` and
    properties ``id``, ``name``, ``source``, ``active``."""
    ensure_seeded(session, network)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": p.id, "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
         "properties": {"id": p.id, "name": p.name, "source": p.source.value, "active": p.active}}
        for p in meeting_points(session)]}


def add_point(session: Session, network: RoadNetwork, body: MeetingPointCreate) -> MeetingPointPublic:
    """Add one operator's point (in the area, near a road); 422 ``invalid_meeting_points`` for an id in
    use."""
    ensure_seeded(session, network)
    point_id = body.id or _new_id()
    if session.get(MeetingPoint, point_id) is not None:
        raise InvalidRequest("invalid_meeting_points", f"a meeting point with id {point_id!r} exists already")
    node = _node(network, body.lat, body.lon)
    row = MeetingPoint(id=point_id, name=body.name, lat=body.lat, lon=body.lon,
                       source=MeetingPointSource.OPERATOR, node=node)
    save_meeting_points(session, points=[row])
    return public(row)


def update_point(session: Session, network: RoadNetwork, point_id: str, body: MeetingPointUpdate
                 ) -> MeetingPointPublic:
    """Rename, move (lat and lon together; the point becomes the operator's) or (de)activate one point."""
    ensure_seeded(session, network)
    row = session.get(MeetingPoint, point_id)
    if row is None:
        raise NotFound("unknown_meeting_point", f"no meeting point with id {point_id!r}")
    if (body.lat is None) != (body.lon is None):
        raise InvalidRequest("invalid_meeting_points", "moving a point needs both lat and lon")
    if body.lat is not None and body.lon is not None and (body.lat, body.lon) != (row.lat, row.lon):
        row.node = _node(network, body.lat, body.lon)
        row.lat, row.lon, row.source = body.lat, body.lon, MeetingPointSource.OPERATOR
    if body.name is not None:
        row.name = body.name
    if body.active is not None:
        row.active = body.active
    row.updated_at = utc_now()
    save_meeting_points(session, points=[row])
    return public(row)


def import_points(session: Session, network: RoadNetwork, geojson: Any) -> MeetingPointImportPublic:
    """Add or replace (by id) the points of a GeoJSON FeatureCollection of Point features, all or none.

    Each feature needs a ``name`` property (1 to 120 characters) and may carry an ``id`` (the feature's
    or a property; a new one is made up without) and ``active`` (default true). A point that keeps its
    stored position keeps its source; any other becomes the operator's. Problems (not a collection,
    not a Point, outside the area, off the roads, ids twice, …) are a 422 ``invalid_meeting_points``
    whose detail lists every one.
    """
    ensure_seeded(session, network)
    features, problems = _features(geojson)
    parsed: list[tuple[str, str, float, float, bool]] = []
    seen: set[str] = set()
    for index, feature in enumerate(features):
        found = _feature(feature, f"features[{index}]")
        if isinstance(found, list):
            problems += found
            continue
        if found[0] in seen:
            problems.append(f"features[{index}]: id {found[0]!r} appears twice")
        seen.add(found[0])
        parsed.append(found)
    nodes = _nodes_or_problems(network, parsed, problems)
    if problems:
        raise InvalidRequest("invalid_meeting_points", f"{len(problems)} problem(s) in the GeoJSON; nothing "
                             "was stored", detail=problems)
    stored = {p.id: p for p in meeting_points(session)}
    rows, created = [], 0
    for (point_id, name, lat, lon, active), node in zip(parsed, nodes, strict=True):
        old = stored.get(point_id)
        created += old is None
        kept = old is not None and (old.lat, old.lon) == (lat, lon)
        rows.append(MeetingPoint(id=point_id, name=name, lat=lat, lon=lon, active=active, node=node,
                                 source=old.source if kept and old else MeetingPointSource.OPERATOR,
                                 updated_at=utc_now()))
    save_meeting_points(session, points=rows)
    return MeetingPointImportPublic(created=created, updated=len(rows) - created,
                                    total=count_meeting_points(session))


def candidates_near(session: Session, network: RoadNetwork, walk: Callable[[], WalkNetwork],
                    rules: ServiceRules, lat: float, lon: float) -> MeetingPointCandidatesPublic:
    """The active meeting points within the rules' walking limit of ``(lat, lon)``, nearest walk first
    (none when the area serves door to door: then the walk graph ``walk()`` gives is not even loaded)."""
    network.service_area.require(np.array([lat]), np.array([lon]))
    found: list[MeetingPointCandidatePublic] = []
    if rules.mode != MeetingMode.DOOR_TO_DOOR:
        ensure_seeded(session, network)
        points = meeting_points(session, active_only=True)
        by_id = {p.id: p for p in points}
        found = [MeetingPointCandidatePublic(meeting_point=public(by_id[c.point.id]), walk_m=c.metres)
                 for c in candidates(walk(), (lat, lon), points, rules.max_walk_m)]
    return MeetingPointCandidatesPublic(mode=rules.mode, max_walk_m=rules.max_walk_m, candidates=found)


def trip_options(session: Session, network: RoadNetwork, walk: Callable[[], WalkNetwork], rules: ServiceRules,
                 point: tuple[float, float], door: int
                 ) -> tuple[tuple[PlaceOption, ...], dict[str, ChosenMeetingPoint]]:
    """Where a bus may serve one end of a trip at ``point`` (``(lat, lon)``, snapped to drive node ``door``)
    under the area's mode (:func:`dispatch.meeting.place_options`: none door to door; the door and the active
    meeting points within the walking limit in hybrid; those points only in stops only), and each meeting
    point among them as an offer names it (by id)."""
    if rules.mode == MeetingMode.DOOR_TO_DOOR:
        return (), {}
    ensure_seeded(session, network)
    points = meeting_points(session, active_only=True)
    by_id = {p.id: p for p in points}
    reachable = candidates(walk(), point, points, rules.max_walk_m)
    options = place_options(rules.mode, door,
                            ((by_id[c.point.id].node, c.metres, c.point.id) for c in reachable))
    named = {}
    for option in options:
        if option.meeting_point_id is not None:
            row = by_id[option.meeting_point_id]
            named[row.id] = ChosenMeetingPoint(id=row.id, name=row.name, lat=row.lat, lon=row.lon,
                                               walk_m=option.walk_m)
    return options, named


def walk_to(session: Session, network: RoadNetwork, walk: Callable[[], WalkNetwork], lat: float, lon: float,
            point_id: str) -> WalkPublic:
    """The walk from ``(lat, lon)`` (in the service area) to the active meeting point ``point_id``."""
    network.service_area.require(np.array([lat]), np.array([lon]))
    ensure_seeded(session, network)
    row = session.get(MeetingPoint, point_id)
    if row is None or not row.active:
        raise NotFound("unknown_meeting_point", f"no active meeting point with id {point_id!r}")
    path = walk().walk((lat, lon), (row.lat, row.lon))
    return WalkPublic(meeting_point=public(row), metres=path.metres, path=path.geojson())


def _new_id() -> str:
    return f"op-{secrets.token_hex(6)}"


def _node(network: RoadNetwork, lat: float, lon: float) -> int:
    """The drive node of a point in the area near a road (else 422 ``outside_area`` / ``off_road``)."""
    return int(network.snap([lat], [lon]).node[0])


def _features(geojson: Any) -> tuple[list[Any], list[str]]:
    """The features of a FeatureCollection, or the problem with it."""
    if not isinstance(geojson, dict) or geojson.get("type") != "FeatureCollection":
        return [], ["the body must be a GeoJSON FeatureCollection"]
    features = geojson.get("features")
    if not isinstance(features, list):
        return [], ["features must be a list"]
    if len(features) > MAX_IMPORT_FEATURES:
        return [], [f"at most {MAX_IMPORT_FEATURES} features at once"]
    return features, []


def _feature(feature: Any, where: str) -> tuple[str, str, float, float, bool] | list[str]:
    """One feature as (id, name, lat, lon, active), or its problems."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return [f"{where}: not a GeoJSON Feature"]
    geometry = feature.get("geometry")
    properties = feature.get("properties") or {}
    problems = []
    if not isinstance(properties, dict):
        return [f"{where}: properties must be an object"]
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        problems.append(f"{where}: the geometry must be a Point")
    elif (not isinstance(coordinates, list) or len(coordinates) not in (2, 3)
          or not all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                     for c in coordinates)):
        problems.append(f"{where}: coordinates must be [longitude, latitude]")
    elif not (-180 <= coordinates[0] <= 180 and -90 <= coordinates[1] <= 90):
        problems.append(f"{where}: coordinates must be [longitude, latitude] in WGS 84")
    name = properties.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MEETING_POINT_NAME_LENGTH:
        problems.append(f"{where}: name must be a text of 1 to {MEETING_POINT_NAME_LENGTH} characters")
    point_id = properties.get("id", feature.get("id"))
    if point_id is None:
        point_id = _new_id()
    elif not isinstance(point_id, str) or not _ID.match(point_id):
        problems.append(f"{where}: id must be 1 to 64 letters, digits, '_', '.' or '-'")
    active = properties.get("active", True)
    if not isinstance(active, bool):
        problems.append(f"{where}: active must be true or false")
    if problems:
        return problems
    assert isinstance(coordinates, list) and isinstance(name, str) and isinstance(point_id, str)
    return point_id, name.strip(), float(coordinates[1]), float(coordinates[0]), active


def _nodes_or_problems(network: RoadNetwork, parsed: Sequence[tuple[str, str, float, float, bool]],
                       problems: list[str]) -> list[int]:
    """The drive node of every parsed point; a problem for each outside the area or off the roads."""
    if not parsed:
        return []
    lat = np.array([p[2] for p in parsed])
    lon = np.array([p[3] for p in parsed])
    inside = network.in_service_area(lat, lon)
    snap = network.snapper.snap(lat, lon)
    limit = network.settings.snap_max_m
    for (point_id, *_), ok, distance in zip(parsed, inside.tolist(), snap.distance_m.tolist(), strict=True):
        if not ok:
            problems.append(f"{point_id}: outside the service area")
        elif distance > limit:
            problems.append(f"{point_id}: {distance:.0f} m from the nearest road (at most {limit:.0f} m)")
    return [int(n) for n in snap.node.tolist()]
