"""Riders' own things: favourite places, companions, and recurring trips with the outcome of each day
(``favourite_places``, ``companions``, ``recurring_trips``, ``recurring_occurrences``).

Numbered 0024 (issue 19) because other branches add migrations concurrently; it follows main's head 0017
until the branches are merged and re-chained.

Revision ID: 0024
Revises: 0025
Create Date: 2026-12-07 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | Sequence[str] | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('favourite_places',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rider_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rider_id'], ['users.id'], name=op.f('fk_favourite_places_rider_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_favourite_places'))
    )
    op.create_index(op.f('ix_favourite_places_rider_id'), 'favourite_places', ['rider_id'], unique=False)
    op.create_table('companions',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rider_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rider_id'], ['users.id'], name=op.f('fk_companions_rider_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companions'))
    )
    op.create_index(op.f('ix_companions_rider_id'), 'companions', ['rider_id'], unique=False)
    op.create_table('recurring_trips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rider_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('origin_lat', sa.Float(), nullable=False),
    sa.Column('origin_lon', sa.Float(), nullable=False),
    sa.Column('origin_name', sa.String(length=120), nullable=False),
    sa.Column('destination_lat', sa.Float(), nullable=False),
    sa.Column('destination_lon', sa.Float(), nullable=False),
    sa.Column('destination_name', sa.String(length=120), nullable=False),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('time_type', sa.String(length=16), nullable=False),
    sa.Column('local_time', sa.String(length=5), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('wheelchairs', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rider_id'], ['users.id'], name=op.f('fk_recurring_trips_rider_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_trips'))
    )
    op.create_index(op.f('ix_recurring_trips_rider_id'), 'recurring_trips', ['rider_id'], unique=False)
    op.create_table('recurring_occurrences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recurring_trip_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('trip_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.String(length=64), nullable=True),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('tried_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recurring_trip_id'], ['recurring_trips.id'],
                            name=op.f('fk_recurring_occurrences_recurring_trip_id_recurring_trips'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurring_occurrences')),
    sa.UniqueConstraint('recurring_trip_id', 'day',
                        name=op.f('uq_recurring_occurrences_recurring_trip_id_day'))
    )
    op.create_index(op.f('ix_recurring_occurrences_recurring_trip_id'), 'recurring_occurrences',
                    ['recurring_trip_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_recurring_occurrences_recurring_trip_id'), table_name='recurring_occurrences')
    op.drop_table('recurring_occurrences')
    op.drop_index(op.f('ix_recurring_trips_rider_id'), table_name='recurring_trips')
    op.drop_table('recurring_trips')
    op.drop_index(op.f('ix_companions_rider_id'), table_name='companions')
    op.drop_table('companions')
    op.drop_index(op.f('ix_favourite_places_rider_id'), table_name='favourite_places')
    op.drop_table('favourite_places')
