"""The operators' privacy settings: how long riders' data is kept exactly and who sees what when.

Set with ``PUT /v1/operator/retention`` and stored as versions in ``privacy_settings`` (the newest is in
force; before any, :data:`DEFAULTS`). They are read where they apply: by the retention job
(:mod:`api.services.retention`), the rider's view of a booking (:mod:`api.services.booking_view`: the bus
only from ``bus_visible_minutes`` before the pickup) and the drivers' contacts
(:mod:`api.services.route_view`).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from api.db.models import PrivacySettings, PrivacySettingsBase, RetentionRun, User
from api.schemas import PrivacySettingsBody, RetentionPublic, RetentionRunPublic

# In force until operators set their own: exact places for three months (complaints, lost property), the
# event log a year (the county's yearly report), the bus from ten minutes before a pickup, riders' contacts
# for the next two stops within half an hour.
DEFAULTS = PrivacySettingsBase(coarsen_after_days=90, prune_after_days=365, bus_visible_minutes=10,
                               driver_contact_stops=2, driver_contact_minutes=30)


def settings_in_force(session: Session) -> PrivacySettings:
    """The newest stored settings, or :data:`DEFAULTS` (``id`` None) when operators never set any."""
    row = session.exec(select(PrivacySettings).order_by(col(PrivacySettings.id).desc())).first()
    return row if row is not None else PrivacySettings(**DEFAULTS.model_dump())


def read_retention(session: Session) -> RetentionPublic:
    """The settings in force with their version and the last retention run."""
    return _public(session, settings_in_force(session))


def change_settings(session: Session, *, user: User, body: PrivacySettingsBody) -> RetentionPublic:
    """Store ``body`` as the settings in force from now on (the next retention run and every view after
    this answer follow them)."""
    row = PrivacySettings(**body.model_dump(), changed_by=user.id)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(session, row)


def _public(session: Session, row: PrivacySettings) -> RetentionPublic:
    last = session.exec(select(RetentionRun).order_by(col(RetentionRun.id).desc())).first()
    session.commit()  # end the read
    return RetentionPublic(**PrivacySettingsBase.model_validate(row).model_dump(), version=row.id,
                           valid_from=row.valid_from if row.id is not None else None,
                           last_run=None if last is None else RetentionRunPublic(
                               ran_at=last.ran_at, dry_run=False, coarsened_before=last.coarsened_before,
                               pruned_before=last.pruned_before, bookings_coarsened=last.bookings_coarsened,
                               events_pruned=last.events_pruned))
