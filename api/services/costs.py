"""The operator's cost settings — what a vehicle-hour and a vehicle-km cost — which the county's reports
(:mod:`api.services.reports`) turn into the cost of a period and the cost per trip.

Settings are kept as versions (``cost_settings``): a change adds a row, the newest is in force, and the
older ones are the history (who changed what when). Before any is set, both rates are zero in euros and
the version is ``None``; reports then leave the costs empty rather than claim the service was free.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from api.db.models import CostSettingsVersion, Currency, User
from api.schemas import CostSettingsBody, CostSettingsPublic


def costs_in_force(session: Session, zone: tzinfo) -> CostSettingsPublic:
    """The newest cost settings (all zero, version ``None``, when none were set), ``valid_from`` in
    ``zone``."""
    row = session.exec(select(CostSettingsVersion).order_by(col(CostSettingsVersion.id).desc())).first()
    if row is None:
        return CostSettingsPublic(per_vehicle_hour=0.0, per_vehicle_km=0.0, currency=Currency.EUR,
                                  version=None, valid_from=None)
    return _public(row, zone)


def change_costs(session: Session, *, user: User, body: CostSettingsBody, now: datetime
                 ) -> CostSettingsPublic:
    """Store ``body`` (validated by its model) as the new version of the cost settings, changed by
    ``user``, in force from ``now`` (aware, in the service's zone)."""
    row = CostSettingsVersion(**body.model_dump(), changed_by=user.id, valid_from=now)
    try:
        session.add(row)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        raise
    session.refresh(row)
    return _public(row, now.tzinfo or UTC)


def _public(row: CostSettingsVersion, zone: tzinfo) -> CostSettingsPublic:
    return CostSettingsPublic(per_vehicle_hour=row.per_vehicle_hour, per_vehicle_km=row.per_vehicle_km,
                              currency=row.currency, version=row.id,
                              valid_from=row.valid_from.astimezone(zone))
