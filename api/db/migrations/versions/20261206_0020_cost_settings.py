"""The operator's cost settings for the county's reports: cost per vehicle-hour and per vehicle-km and
their currency, kept as versions (``cost_settings``; the highest id is in force).

Numbered 0020 because other branches add migrations concurrently; it follows the newest revision on
main (0012) until the branches are merged and re-chained.

Revision ID: 0020
Revises: 0012
Create Date: 2026-12-06 18:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('cost_settings',
    sa.Column('per_vehicle_hour', sa.Float(), nullable=False),
    sa.Column('per_vehicle_km', sa.Float(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_cost_settings_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_settings'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('cost_settings')
