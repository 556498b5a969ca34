"""A bus's route as drivers see it: ordered stops with planned times, who boards and alights, and the
roads to drive (GeoJSON LineString).

Built in two steps so that the dispatcher's lock is held only for the first: :func:`route_snapshot`
copies what the plan says (immutable values, cheap) and :func:`route_public` adds the road geometry,
which takes shortest-path work, outside the lock. The drivers' API and the live layer's pushes share it.

The route names no rider: a stop is a booking id at a stop point (the curb node or meeting point where
the bus stops, never the place the rider sent), and passed stops leave the route. Whom to call about a
stop — the rider's name and phone — is :func:`driver_contacts`: only for the next stops the operators'
privacy settings allow (``driver_contact_stops``, planned within ``driver_contact_minutes``), asked for
when needed and never pushed or kept in the live layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import orjson
from sqlmodel import Session, col, select

from api.db.models import Booking, User
from api.schemas import DriverContactPublic, DriverRoutePublic, LineString, RouteStopPublic, Window
from api.services.live_plan import EncodedRoute, LiveDispatch
from api.services.privacy_settings import settings_in_force
from dispatch.disturbance import no_show_wait
from dispatch.evaluation import RouteEvaluation
from dispatch.model import Promise, Route, StopKind


@dataclass(frozen=True)
class RouteSnapshot:
    """A vehicle's route in force at one moment, with what the view needs around it."""

    vehicle_id: str
    route: Route
    evaluation: RouteEvaluation
    location: int  # road node the bus stands at or leaves from
    promises: dict[str, Promise]  # pickup promises of the route's riders
    no_show_wait_s: int | None = None  # the wait at the next stop, a pickup where the bus stands


def route_snapshot(live: LiveDispatch, vehicle_id: str) -> RouteSnapshot:
    """Copy ``vehicle_id``'s route in force; the caller holds ``live.lock``."""
    plan = live.dispatcher.plan
    route = plan.route(vehicle_id)
    promises = {}
    for stop in route.stops:  # look up the route's riders only: copying every booking is too slow here
        if stop.kind is StopKind.PICKUP:
            booking = plan.booking_table.get(stop.request_id)
            if booking is not None:  # a pickup without a booking has no promise to show
                promises[stop.request_id] = booking.promise
    location = plan.state(vehicle_id).location
    wait = None
    if route.stops and route.stops[0].kind is StopKind.PICKUP and route.stops[0].location == location:
        wait = no_show_wait(plan, vehicle_id, live.dispatcher.rules)
    return RouteSnapshot(vehicle_id, route, plan.evaluation(vehicle_id), location, promises, wait)


def route_public(live: LiveDispatch, snapshot: RouteSnapshot) -> DriverRoutePublic:
    """The drivers' view of ``snapshot``: stops with times, windows, pins and, at pickups, the fare to
    collect, the route's lock, and the geometry from the bus's location through every stop (none for an
    empty route)."""
    graph, dt = live.network.graph, live.clock.to_datetime
    route, evaluation = snapshot.route, snapshot.evaluation
    stops = []
    fares = live.fares.of(stop.request_id for stop in route.stops if stop.kind is StopKind.PICKUP)
    for k, stop in enumerate(route.stops):
        promise = snapshot.promises.get(stop.request_id) if stop.kind is StopKind.PICKUP else None
        window = Window(start=dt(promise.window_start), end=dt(promise.window_end)) if promise else None
        stops.append(
            RouteStopPublic(
                kind=stop.kind,
                booking_id=None if stop.kind is StopKind.BREAK else stop.request_id,
                lat=float(graph.node_lat[stop.location]),
                lon=float(graph.node_lon[stop.location]),
                street=graph.street(stop.location),
                planned_arrival=dt(evaluation.arrival[k]),
                planned_start=dt(evaluation.start[k]),
                planned_departure=dt(evaluation.departure[k]),
                seats=stop.seats,
                wheelchairs=stop.wheelchairs,
                pickup_window=window,
                no_show_wait_s=snapshot.no_show_wait_s if k == 0 else None,
                fare=fares.get(stop.request_id) if stop.kind is StopKind.PICKUP else None,
                pinned=stop.kind is not StopKind.BREAK and stop.request_id in route.pinned,
            )
        )
    nodes = [snapshot.location, *(stop.location for stop in route.stops)]
    return DriverRoutePublic(
        vehicle_id=snapshot.vehicle_id,
        stops=stops,
        geometry=road_geometry(live, nodes) if route.stops else None,
        lock=route.lock,
    )


def encoded_route(live: LiveDispatch, vehicle_id: str) -> bytes:
    """``vehicle_id``'s route answer (:func:`route_public` as JSON bytes), encoded again only when its
    route, its times or the bus's place changed since the last answer: drivers ask every few seconds,
    and a route planned two days ahead has thousands of road positions to encode."""
    with live.lock:
        dispatcher = live.dispatcher
        route, evaluation = dispatcher.plan.route(vehicle_id), dispatcher.plan.evaluation(vehicle_id)
        location = dispatcher.plan.state(vehicle_id).location
        kept = live.encoded_routes.get(vehicle_id)
        if kept is not None and kept.route is route and kept.evaluation is evaluation \
                and kept.location == location:
            return kept.body
        snapshot = route_snapshot(live, vehicle_id)
    body = orjson.dumps(route_json(route_public(live, snapshot)))
    live.encoded_routes[vehicle_id] = EncodedRoute(snapshot.route, snapshot.evaluation, snapshot.location,
                                                   body)
    return body


def route_json(view: DriverRoutePublic) -> dict[str, Any]:
    """``view`` as JSON-ready values; the geometry's positions are passed on as they are, not walked
    through pydantic (a route has thousands of them)."""
    data = view.model_dump(mode="json", exclude={"geometry"})
    geometry = view.geometry
    data["geometry"] = (None if geometry is None
                        else {"type": geometry.type, "coordinates": geometry.coordinates})
    return data


def road_geometry(live: LiveDispatch, nodes: list[int]) -> LineString:
    """The roads through ``nodes`` in order, one fastest path per leg, joints not repeated."""
    coordinates: list[tuple[float, float]] = []
    for origin, destination in pairwise(nodes):
        points = live.network.route(origin, destination).positions
        skip = 1 if coordinates and points and points[0] == coordinates[-1] else 0
        coordinates.extend(points[skip:])
    if len(coordinates) == 1:  # already standing at every stop: a LineString needs two positions
        coordinates.append(coordinates[0])
    return LineString.model_construct(type="LineString", coordinates=coordinates)  # valid by construction


def driver_contacts(live: LiveDispatch, session: Session, *, vehicle_id: str) -> list[DriverContactPublic]:
    """The riders' names and phones for the next ``driver_contact_stops`` pickups and drop-offs of
    ``vehicle_id``'s route that are planned to start within ``driver_contact_minutes`` of now (the
    privacy settings in force), in route order; a rider without a name on record (erased) is left out."""
    settings = settings_in_force(session)
    session.commit()  # end the read before waiting for the lock
    with live.lock:
        plan = live.dispatcher.plan
        route, evaluation = plan.route(vehicle_id), plan.evaluation(vehicle_id)
        now = live.clock.now()
    horizon = now + settings.driver_contact_minutes * 60
    upcoming = [(stop, start) for k, (stop, start) in enumerate(zip(route.stops, evaluation.start))
                if k < settings.driver_contact_stops and start <= horizon and stop.kind is not StopKind.BREAK]
    ids = [stop.request_id for stop, _ in upcoming]
    riders = dict(session.exec(select(Booking.id, User).join(User, col(User.id) == col(Booking.rider_id))
                               .where(col(Booking.id).in_(ids))).all())
    session.commit()  # end the read
    dt = live.clock.to_datetime
    return [DriverContactPublic(booking_id=stop.request_id, kind=stop.kind, planned_start=dt(start),
                                name=riders[stop.request_id].name, phone=riders[stop.request_id].phone)
            for stop, start in upcoming if stop.request_id in riders and riders[stop.request_id].name]
