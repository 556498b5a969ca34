"""Bookings keep where the bus stops for the rider: the pickup and drop-off points at the curb, their
streets and the rider's walks (null for bookings made before).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 18:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENDS = ('pickup', 'dropoff')


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('bookings') as batch_op:
        for end in _ENDS:
            batch_op.add_column(sa.Column(f'{end}_lat', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column(f'{end}_lon', sa.Float(), nullable=True))
            batch_op.add_column(sa.Column(f'{end}_street', sa.Text(), nullable=True))
            batch_op.add_column(sa.Column(f'{end}_walk_m', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bookings') as batch_op:
        for end in _ENDS:
            for column in ('lat', 'lon', 'street', 'walk_m'):
                batch_op.drop_column(f'{end}_{column}')
