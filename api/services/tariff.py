"""The operator's tariff and the fares it sets: read and change the tariff, price an offer, and keep what
each booking's riders pay for the drivers' manifests.

The tariff is kept as versions (``tariffs``, like the service rules and cost settings): a change adds a
row, the newest prices every new offer, and the older ones are the history. Before any is set, offers
carry no fare. The fare itself is computed by :mod:`dispatch.fares` (exact, in minor units) from the direct
road distance between the offer's pickup and drop-off (distance tariffs) or their places (zone tariffs);
a quote keeps its fare, and the booking made from it stores it: the rider pays what they were offered,
whatever the tariff says later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from api.db.models import Booking, TariffVersion, User
from api.schemas import (
    DistanceSchemeBody,
    FareLinePublic,
    FarePublic,
    TariffBody,
    TariffPublic,
)
from dispatch.fares import DistanceScheme, PassengerCategory, Tariff, Trip, Zone, ZoneScheme, fare
from routing.network import RoadNetwork

FARES_KEPT = 10_000  # bookings whose fare the manifests keep in memory (the oldest are read again)


def tariff_in_force(session: Session, zone: tzinfo) -> TariffPublic:
    """The newest tariff (``tariff`` null, version ``None``, when none was set), ``valid_from`` in
    ``zone``."""
    row = session.exec(select(TariffVersion).order_by(col(TariffVersion.id).desc())).first()
    if row is None:
        return TariffPublic(tariff=None, version=None, valid_from=None)
    return _public(row, zone)


def change_tariff(session: Session, *, user: User, body: TariffBody, now: datetime) -> TariffPublic:
    """Store ``body`` (validated by its model) as the new version of the tariff, changed by ``user``, in
    force for every offer from ``now`` (aware, in the service's zone); open offers and bookings keep their
    fares."""
    row = TariffVersion(tariff=body.model_dump(mode="json"), changed_by=user.id, valid_from=now)
    try:
        session.add(row)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise
    session.refresh(row)
    return _public(row, now.tzinfo or UTC)


def offer_fare(tariff: TariffPublic, network: RoadNetwork, *, pickup: int, dropoff: int,
               passengers: Mapping[PassengerCategory, int]) -> FarePublic | None:
    """The fare of a trip from road node ``pickup`` to ``dropoff`` for ``passengers`` under ``tariff``;
    None without a tariff, or when it cannot price the trip (an end outside every zone)."""
    body = tariff.tariff
    if body is None or tariff.version is None:
        return None
    metres = network.travel(pickup, dropoff)[1] if isinstance(body.scheme, DistanceSchemeBody) else 0
    graph = network.graph
    trip = Trip(metres, (float(graph.node_lat[pickup]), float(graph.node_lon[pickup])),
                (float(graph.node_lat[dropoff]), float(graph.node_lon[dropoff])))
    result = fare(dispatch_tariff(body), trip, passengers)
    if result is None:
        return None
    return FarePublic(currency=body.currency, total_cents=result.total, tariff_version=tariff.version,
                      lines=[FareLinePublic(category=line.category, count=line.count, unit_cents=line.unit,
                                            total_cents=line.total) for line in result.lines])


def dispatch_tariff(body: TariffBody) -> Tariff:
    """The :class:`dispatch.fares.Tariff` a validated tariff body stands for."""
    scheme = body.scheme
    priced: DistanceScheme | ZoneScheme
    if isinstance(scheme, DistanceSchemeBody):
        priced = DistanceScheme(scheme.base_cents, scheme.per_km_cents, scheme.minimum_cents,
                                scheme.cap_cents)
    else:
        zones = tuple(Zone(zone.name, tuple(zone.polygon)) for zone in scheme.zones)
        matrix = None if scheme.matrix is None else {
            (start, end): price for start, row in scheme.matrix.items() for end, price in row.items()}
        priced = ZoneScheme(zones, matrix, tuple(scheme.by_count_cents or ()))
    return Tariff(priced, dict(body.concessions), body.step())


def stored_fare(stored: Mapping[str, object] | None) -> FarePublic | None:
    """The fare a booking row keeps (its ``fare`` column)."""
    return FarePublic.model_validate(stored) if stored is not None else None


class FaresDue:
    """What the riders of each booking pay, as stored with the booking, for the drivers' manifests: kept
    once known (the newest :data:`FARES_KEPT`), read from the database (``engine``) when not. Safe to use
    from several threads."""

    def __init__(self, engine: Engine | None = None, kept: int = FARES_KEPT) -> None:
        self._engine, self._kept = engine, kept
        self._known: OrderedDict[str, FarePublic | None] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, booking_id: str, due: FarePublic | None) -> None:
        """Keep what the riders of ``booking_id`` pay (None: nothing priced)."""
        with self._lock:
            self._known[booking_id] = due
            self._known.move_to_end(booking_id)
            while len(self._known) > self._kept:
                self._known.popitem(last=False)

    def of(self, booking_ids: Iterable[str]) -> dict[str, FarePublic]:
        """The fares of those of ``booking_ids`` that have one."""
        wanted = list(dict.fromkeys(booking_ids))
        with self._lock:
            missing = [b for b in wanted if b not in self._known]
        if missing and self._engine is not None:
            with Session(self._engine) as session:
                rows = session.exec(select(Booking.id, Booking.fare)
                                    .where(col(Booking.id).in_(missing))).all()
            for booking_id, stored in rows:
                self.remember(booking_id, stored_fare(stored))
        with self._lock:
            return {b: due for b in wanted if (due := self._known.get(b)) is not None}


def _public(row: TariffVersion, zone: tzinfo) -> TariffPublic:
    return TariffPublic(tariff=TariffBody.model_validate(row.tariff), version=row.id,
                        valid_from=row.valid_from.astimezone(zone))
