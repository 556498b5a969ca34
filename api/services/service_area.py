"""The service area (a GeoJSON Polygon or MultiPolygon) and the service hours, as operators set them.

Each change is a new ``service_areas`` row (the older rows are the history; the newest is in force) with a
``service_area_changed`` event, and — when the hours change — a new ``service_rules`` version, all in one
transaction. The area in force is the road network's service area: quotes from or to a point outside it
are refused with ``outside_area`` (promises already made stay). Without a stored area the service uses
``RUFBUS_SERVICE_AREA`` or a buffer around the road graph. At start, and when a worker takes over the
dispatch, the newest stored area is put in force again (:func:`apply_stored_area`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from sqlmodel import Session

from api.db.models import Event, ServiceArea, ServiceRulesVersion, User
from api.db.repository import latest_service_area, save_service_area
from api.errors import InvalidRequest
from api.schemas import ServiceAreaBody, ServiceAreaPublic
from api.services.live_plan import LiveDispatch, actor, plan_change
from dispatch.events import EventKind
from dispatch.model import ServiceRules
from routing.network import RoadNetwork
from routing.service_area import ServiceArea as AreaShape


def apply_stored_area(session: Session, network: RoadNetwork) -> None:
    """Put the newest stored service area in force on ``network`` (nothing stored: it keeps its own)."""
    row = latest_service_area(session)
    if row is not None:
        network.service_area = AreaShape(shape(json.loads(row.geojson)))


def area_in_force(live: LiveDispatch, session: Session) -> ServiceAreaPublic:
    """The area and hours in force, with the version row of the area (``null`` for the built-in one)."""
    with live.lock:
        row = latest_service_area(session)
        rules = live.dispatcher.rules
    polygon = live.network.service_area.polygon
    return ServiceAreaPublic(
        version=row.id if row else None, name=row.name if row else "default",
        valid_from=row.valid_from.astimezone(live.clock.zone) if row else None, geojson=mapping(polygon),
        area_km2=live.network.service_area.area_km2(live.network.projection),
        service_start_s=rules.service_start_s, service_end_s=rules.service_end_s)


def change_area(live: LiveDispatch, session: Session, *, user: User, body: ServiceAreaBody
                ) -> ServiceAreaPublic:
    """Validate and put in force a new area (and hours, when given): 422 ``invalid_service_area`` or
    ``invalid_rules`` with the problems."""
    area = _validated_area(live.network, body.geojson)
    with plan_change(live, session) as now:
        rules = live.dispatcher.rules
        hours = {name: value for name in ("service_start_s", "service_end_s")
                 if (value := getattr(body, name)) is not None}
        new_rules = _rules_with_hours(rules, hours) if hours else None
        moment = live.clock.to_datetime(now)
        row = ServiceArea(name=body.name, geojson=json.dumps(body.geojson), valid_from=moment)
        version = None if new_rules is None else ServiceRulesVersion.from_rules(
            new_rules, valid_from=moment, changed_by=user.id)
        save_service_area(session, area=row, rules=version,
                          event=Event(time=moment, kind=EventKind.SERVICE_AREA_CHANGED, actor=actor(user),
                                      payload={"name": body.name, **hours}))
        live.network.service_area = area  # new quotes are checked against it at once
        if new_rules is not None:
            live.dispatcher.rules = new_rules
    return area_in_force(live, session)


def _validated_area(network: RoadNetwork, geojson: dict[str, Any]) -> AreaShape:
    """The area a GeoJSON Polygon/MultiPolygon describes, if valid, in WGS 84 and covering some road."""
    if geojson.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidRequest("invalid_service_area", "the area must be a GeoJSON Polygon or MultiPolygon")
    try:
        polygon = shape(geojson)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError,
            shapely.errors.ShapelyError) as error:
        raise InvalidRequest("invalid_service_area", f"the GeoJSON cannot be read: {error}") from error
    problems = []
    if polygon.is_empty:
        problems.append("the area is empty")
    elif not polygon.is_valid:
        problems.append(f"the polygon is not valid: {shapely.is_valid_reason(polygon)}")
    else:
        west, south, east, north = polygon.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            problems.append("coordinates must be [longitude, latitude] in WGS 84")
    if not problems:
        area = AreaShape(polygon)
        graph = network.graph
        if not area.contains(graph.node_lat, graph.node_lon).any():
            problems.append("the area contains no road of the network")
    if problems:
        raise InvalidRequest("invalid_service_area", "; ".join(problems), detail=problems)
    return area


def _rules_with_hours(rules: ServiceRules, hours: dict[str, int]) -> ServiceRules:
    try:
        return ServiceRules(**{**dataclasses.asdict(rules), **hours})
    except ValueError as error:
        problems = str(error).removeprefix("invalid service rules: ").split("; ")
        raise InvalidRequest("invalid_rules", str(error), detail=problems) from error

