"""Riders as people and unmet demand: ``users.phone`` and keyless riders (an operator records a caller
who phones in; ``api_key_hash`` becomes nullable), ``bookings.booked_by`` (backfilled with the booking's
rider), and the ``demand`` table of quotes asked, coarsened to grid cells and hours.

Numbered 0012, five above the newest revision seen on other branches (0007), because other branches add
migrations concurrently; it follows main's head 0005 until the branches are merged and re-chained.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-06 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
        batch.alter_column('api_key_hash', existing_type=sa.String(length=128), nullable=True)
        batch.create_index(batch.f('ix_users_phone'), ['phone'], unique=False)
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('booked_by', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_bookings_booked_by_users'), 'users', ['booked_by'], ['id'])
    op.execute('UPDATE bookings SET booked_by = rider_id')
    op.create_table('demand',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('asked_hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trip_hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('origin_cell', sa.String(length=40), nullable=False),
    sa.Column('destination_cell', sa.String(length=40), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_demand'))
    )
    op.create_index('ix_demand_asked_hour', 'demand', ['asked_hour'], unique=False)
    op.create_index('ix_demand_trip_hour', 'demand', ['trip_hour'], unique=False)


def downgrade() -> None:
    """Downgrade schema (fails while a rider without a key exists)."""
    op.drop_index('ix_demand_trip_hour', table_name='demand')
    op.drop_index('ix_demand_asked_hour', table_name='demand')
    op.drop_table('demand')
    with op.batch_alter_table('bookings') as batch:
        batch.drop_constraint(batch.f('fk_bookings_booked_by_users'), type_='foreignkey')
        batch.drop_column('booked_by')
    with op.batch_alter_table('users') as batch:
        batch.drop_index(batch.f('ix_users_phone'))
        batch.alter_column('api_key_hash', existing_type=sa.String(length=128), nullable=False)
        batch.drop_column('phone')
