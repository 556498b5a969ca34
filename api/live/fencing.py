"""Fencing: a worker that lost its dispatcher lease can no longer write the plan.

A worker that takes over the dispatch of an area raises the area's ``epoch`` in ``dispatcher_leases``
(:meth:`Fence.raise_epoch`) before it loads the plan. Every commit of a session that carries the fence
(``session.info["fence"]``, set for the API's sessions) first reads the epoch with ``FOR UPDATE``
(PostgreSQL: the row stays locked until the commit ends; SQLite: writers are serialised anyway) and fails
with :class:`LeaseLost` if it is no longer this worker's. So a write either commits before the new
dispatcher raised the epoch — and is in the plan it then loads — or does not commit at all.
"""

from __future__ import annotations

from sqlalchemy import Engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col
from sqlmodel import select as select_rows

from api.db.models import DispatcherLease, utc_now
from api.db.repository import PersistenceError


class LeaseLost(PersistenceError):
    """This worker no longer holds the dispatcher lease: its change was not saved (retry it)."""

    code = "dispatcher_moved"


class Fence:
    """This worker's claim to write the plan of ``area``: the epoch it raised when it took over."""

    def __init__(self, engine: Engine, area: str, holder: str) -> None:
        self._engine, self.area, self.holder = engine, area, holder
        self.epoch: int | None = None

    def raise_epoch(self) -> int:
        """Claim the area: raise its epoch past every earlier holder's and remember it."""
        for attempt in range(2):
            with Session(self._engine) as session:
                row = session.exec(
                    select_rows(DispatcherLease).where(DispatcherLease.area == self.area).with_for_update()
                ).first()
                if row is None:
                    row = DispatcherLease(area=self.area, epoch=0)
                row.epoch += 1
                row.holder, row.acquired_at = self.holder, utc_now()
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:  # another worker created the row at the same moment
                    if attempt:
                        raise
                    continue
                self.epoch = row.epoch
                return row.epoch
        raise AssertionError("unreachable")

    def revoke(self) -> None:
        """The lease is gone: refuse every further write."""
        self.epoch = None

    def check(self, session: OrmSession) -> None:
        """Raise :class:`LeaseLost` unless the area's epoch is still this worker's; locks the row."""
        current = session.execute(
            select(col(DispatcherLease.epoch)).where(col(DispatcherLease.area) == self.area).with_for_update()
        ).scalar_one_or_none()
        if self.epoch is None or current != self.epoch:
            raise LeaseLost(f"this worker no longer dispatches area {self.area!r}; retry the request")


def _before_commit(session: OrmSession) -> None:
    fence: Fence | None = session.info.get("fence")
    if fence is not None:
        fence.check(session)


def install_fencing() -> None:
    """Check the fence of every session that carries one before it commits (idempotent)."""
    if not event.contains(OrmSession, "before_commit", _before_commit):
        event.listen(OrmSession, "before_commit", _before_commit)
