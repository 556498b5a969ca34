"""Where a booked rider boards and alights when the dispatcher chose a meeting point: ``bookings.
pickup_meeting_point`` and ``bookings.dropoff_meeting_point`` (JSON: id, name, lat, lon, walk_m, as offered;
null at the door).

Numbered 0017 (issue 17) because other branches add migrations concurrently; it follows main's head 0012
until the branches are merged and re-chained.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('pickup_meeting_point', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('dropoff_meeting_point', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('dropoff_meeting_point')
        batch.drop_column('pickup_meeting_point')
