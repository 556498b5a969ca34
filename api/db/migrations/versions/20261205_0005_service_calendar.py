"""The service calendar: hours per weekday and exceptions by date (public holidays).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 17:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOURS = ("(start_s IS NULL AND end_s IS NULL) OR (start_s IS NOT NULL AND end_s IS NOT NULL "
         "AND start_s >= 0 AND start_s < end_s AND end_s <= 86400)")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('service_weekdays',
    sa.Column('weekday', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('start_s', sa.Integer(), nullable=True),
    sa.Column('end_s', sa.Integer(), nullable=True),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_service_weekdays_weekday')),
    sa.CheckConstraint(HOURS, name=op.f('ck_service_weekdays_hours')),
    sa.PrimaryKeyConstraint('weekday', name=op.f('pk_service_weekdays'))
    )
    op.create_table('service_exceptions',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('start_s', sa.Integer(), nullable=True),
    sa.Column('end_s', sa.Integer(), nullable=True),
    sa.CheckConstraint(HOURS, name=op.f('ck_service_exceptions_hours')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_service_exceptions'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('service_exceptions')
    op.drop_table('service_weekdays')
