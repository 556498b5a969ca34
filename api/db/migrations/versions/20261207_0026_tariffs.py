"""The operator's tariff, kept as versions (``tariffs``: the whole tariff as JSON; the highest id is in
force), and the fare each booking was offered (``bookings.fare`` as JSON, ``bookings.fare_total`` in minor
units; null where no tariff priced the trip).

Numbered 0026 (issue 19, fares) because other branches add migrations concurrently; it follows main's head
0017 until the branches are merged and re-chained.

Revision ID: 0026
Revises: 0027
Create Date: 2026-12-07 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | Sequence[str] | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('tariffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tariff', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_tariffs_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tariffs'))
    )
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('fare', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('fare_total', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('fare_total')
        batch.drop_column('fare')
    op.drop_table('tariffs')
