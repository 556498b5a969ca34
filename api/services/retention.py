"""The retention job: riders' exact places are kept only as long as needed, the event log not for ever.

Each run, as the operators' settings in force say (:mod:`api.services.privacy_settings`):

* **coarsens** every booking whose trip (requested time) lies more than ``coarsen_after_days`` in the
  past and that is over (not booked, not on board): the points the rider sent, the stop points and the
  road nodes become the centre of their ~300 m grid cell (:mod:`api.grid`) and the road node nearest to
  it; the walk lengths and the Idempotency-Key the rider's app sent are cleared. The street names stay (a
  street, not a house), as do the meeting points (public places). ``coarsened_at`` marks the row, so a
  booking is coarsened once.
* **prunes** the event log before ``prune_after_days`` — the refusals of riders' quotes with it — except
  the two kinds the county's reports read (:data:`REPORT_EVENT_KINDS`: a bus's arrival at a pickup, which
  gives the wait; a cancellation, whose actor says who cancelled), which hold a booking id and a stop kind
  or actor only. The demand records (:mod:`api.services.demand`) are coarse from the start and feed the
  reports' refused trips: they stay.

The county's reports keep every count, wait and ride-time figure of coarsened trips; vehicle-km are then
measured between the cells' road nodes instead of the riders' stops (a few hundred metres per stop).

What a run did is kept as counts (``retention_runs``) and logged as counts, never whose data. It runs in
the service on the worker that dispatches (:class:`RetentionTimer`, every ``RUFBUS_RETENTION_EVERY_S``)
and by hand: ``rufbus retention run [--dry-run]``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, func, select

from api.db.models import ACTIVE_STATUSES, Booking, Event, RetentionRun
from api.grid import Cell, cell_of
from api.schemas import RetentionRunPublic
from api.services.privacy_settings import settings_in_force
from dispatch.events import EventKind
from routing.network import RoadNetwork

logger = logging.getLogger(__name__)

# The event kinds the county's reports read (api.services.kpis.pickup_arrivals, reports._cancellers).
REPORT_EVENT_KINDS = (EventKind.VEHICLE_ARRIVED, EventKind.BOOKING_CANCELLED)
CHUNK = 500  # bookings coarsened per transaction

CellNode = Callable[[Cell], int]  # the road node that stands for a grid cell


def road_cells(network: RoadNetwork) -> CellNode:
    """The road node a bus may stop at nearest to a cell's centre, remembered per cell."""
    known: dict[str, int] = {}

    def node(cell: Cell) -> int:
        if cell.id not in known:
            snapped = network.curb_snapper.snap(np.array([cell.lat]), np.array([cell.lon]))
            known[cell.id] = int(snapped.node[0])
        return known[cell.id]

    return node


def coarsen_booking(row: Booking, cell_node: CellNode, now: datetime) -> None:
    """Replace ``row``'s exact places by their grid cells (centre and road node), clear the walks and the
    client's Idempotency-Key, and mark the row coarsened at ``now``."""
    origin, destination = cell_of(row.origin_lat, row.origin_lon), cell_of(row.destination_lat,
                                                                           row.destination_lon)
    row.origin_lat, row.origin_lon, row.origin_node = origin.lat, origin.lon, cell_node(origin)
    row.destination_lat, row.destination_lon = destination.lat, destination.lon
    row.destination_node = cell_node(destination)
    if row.pickup_lat is not None and row.pickup_lon is not None:
        pickup = cell_of(row.pickup_lat, row.pickup_lon)
        row.pickup_lat, row.pickup_lon, row.pickup_walk_m = pickup.lat, pickup.lon, None
    if row.dropoff_lat is not None and row.dropoff_lon is not None:
        dropoff = cell_of(row.dropoff_lat, row.dropoff_lon)
        row.dropoff_lat, row.dropoff_lon, row.dropoff_walk_m = dropoff.lat, dropoff.lon, None
    row.idempotency_key = None
    row.coarsened_at = now


def run_retention(session: Session, *, now: datetime, cell_node: CellNode | None, dry_run: bool = False,
                  lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext
                  ) -> RetentionRunPublic:
    """Coarsen and prune what the settings in force say is due at ``now`` and record the counts; with
    ``dry_run`` only count (``cell_node`` may then be None). Writes happen in chunks, each in its own
    transaction under ``lock`` (the dispatch lock on SQLite, where one writer at a time gets in)."""
    settings = settings_in_force(session)
    coarsen_before = now - timedelta(days=settings.coarsen_after_days)
    prune_before = now - timedelta(days=settings.prune_after_days)
    due = (col(Booking.coarsened_at).is_(None), col(Booking.requested_time) < coarsen_before,
           col(Booking.status).not_in(ACTIVE_STATUSES))
    old_events = (col(Event.time) < prune_before, col(Event.kind).not_in(REPORT_EVENT_KINDS))
    if dry_run:
        coarsened = session.exec(select(func.count()).select_from(Booking).where(*due)).one()
        pruned = session.exec(select(func.count()).select_from(Event).where(*old_events)).one()
        session.commit()  # end the read
    else:
        if cell_node is None:
            raise ValueError("coarsening needs the road nodes of the grid's cells")
        coarsened = 0
        while True:
            with lock():
                ids = session.exec(select(Booking.id).where(*due).order_by(col(Booking.id))
                                   .limit(CHUNK)).all()
                session.commit()  # end the read: on SQLite a reader cannot write once another has
                if ids:  # the chunk's first statement writes, so that its reads and writes are one writer's
                    session.exec(update(Booking).where(col(Booking.id).in_(ids)).values(coarsened_at=now))
                    for row in session.exec(select(Booking).where(col(Booking.id).in_(ids))).all():
                        coarsen_booking(row, cell_node, now)
                    session.commit()
            coarsened += len(ids)
            if len(ids) < CHUNK:
                break
        with lock():
            pruned = session.exec(delete(Event).where(*old_events)).rowcount
            session.add(RetentionRun(ran_at=now, coarsened_before=coarsen_before, pruned_before=prune_before,
                                     bookings_coarsened=coarsened, events_pruned=pruned))
            session.commit()
    logger.info("retention%s: %d bookings coarsened (trips before %s), %d events pruned (before %s)",
                " (dry run)" if dry_run else "", coarsened, coarsen_before.isoformat(), pruned,
                prune_before.isoformat())
    return RetentionRunPublic(ran_at=now, dry_run=dry_run, coarsened_before=coarsen_before,
                              pruned_before=prune_before, bookings_coarsened=int(coarsened),
                              events_pruned=int(pruned))


class RetentionTimer:
    """A thread that runs the retention job every ``every_s`` wall seconds while ``is_dispatcher()`` (one
    worker of an area runs it: the one holding the dispatcher lease); ``now`` is the service clock."""

    def __init__(self, engine: Engine, *, every_s: float, now: Callable[[], datetime], cell_node: CellNode,
                 is_dispatcher: Callable[[], bool],
                 lock: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext) -> None:
        self._engine, self._every_s, self._now, self._cell_node = engine, every_s, now, cell_node
        self._is_dispatcher, self._lock = is_dispatcher, lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rufbus-retention", daemon=True)

    def start(self) -> None:
        """Start the thread (``every_s`` 0: never)."""
        if self._every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop after the run under way."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run_once(self) -> RetentionRunPublic:
        """Run the job now."""
        with Session(self._engine, expire_on_commit=False) as session:
            return run_retention(session, now=self._now(), cell_node=self._cell_node, lock=self._lock)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            if self._is_dispatcher():
                try:
                    self.run_once()
                except Exception:  # one failed run must not end the timer; the next one tries again
                    logger.exception("the retention job failed")
