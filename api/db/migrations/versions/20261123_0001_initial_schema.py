"""Initial schema: vehicles, shifts and breaks, service rules and area, bookings, planned stops, events,
users.

Generated with ``alembic revision --autogenerate`` from api/db/models.py, then reviewed: indexes created
with plain ``op.create_index`` (no batch mode needed for new tables); enum columns are VARCHARs and
datetimes ``timestamp with time zone``, as api/db/types.py stores them.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:00:16.283941
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=True),
    sa.Column('vehicle_id', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index(op.f('ix_events_kind'), 'events', ['kind'], unique=False)
    op.create_index(op.f('ix_events_request_id'), 'events', ['request_id'], unique=False)
    op.create_index(op.f('ix_events_time'), 'events', ['time'], unique=False)
    op.create_index(op.f('ix_events_vehicle_id'), 'events', ['vehicle_id'], unique=False)

    op.create_table('service_areas',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('geojson', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_areas'))
    )
    op.create_table('vehicles',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('wheelchair_spaces', sa.Integer(), nullable=False),
    sa.Column('depot_lat', sa.Float(), nullable=False),
    sa.Column('depot_lon', sa.Float(), nullable=False),
    sa.Column('depot_node', sa.BigInteger(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles'))
    )
    op.create_table('shifts',
    sa.Column('vehicle_id', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_shifts_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts'))
    )
    op.create_index(op.f('ix_shifts_vehicle_id_starts_at'), 'shifts', ['vehicle_id', 'starts_at'],
                    unique=False)

    op.create_table('users',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('vehicle_id', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('api_key_hash', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_users_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index(op.f('ix_users_api_key_hash'), 'users', ['api_key_hash'], unique=True)

    op.create_table('bookings',
    sa.Column('origin_lat', sa.Float(), nullable=False),
    sa.Column('origin_lon', sa.Float(), nullable=False),
    sa.Column('origin_node', sa.BigInteger(), nullable=False),
    sa.Column('destination_lat', sa.Float(), nullable=False),
    sa.Column('destination_lon', sa.Float(), nullable=False),
    sa.Column('destination_node', sa.BigInteger(), nullable=False),
    sa.Column('time_type', sa.String(length=16), nullable=False),
    sa.Column('requested_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('wheelchairs', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('rider_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rejection_cause', sa.String(length=40), nullable=True),
    sa.Column('vehicle_id', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('direct_s', sa.Integer(), nullable=True),
    sa.Column('earliest_pickup', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_pickup', sa.DateTime(timezone=True), nullable=True),
    sa.Column('max_ride_s', sa.Integer(), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latest_dropoff', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('picked_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dropped_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rider_id'], ['users.id'], name=op.f('fk_bookings_rider_id_users')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'], name=op.f('fk_bookings_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    op.create_index(op.f('ix_bookings_idempotency_key'), 'bookings', ['idempotency_key'], unique=True)
    op.create_index(op.f('ix_bookings_rider_id'), 'bookings', ['rider_id'], unique=False)
    op.create_index(op.f('ix_bookings_status'), 'bookings', ['status'], unique=False)
    op.create_index(op.f('ix_bookings_vehicle_id'), 'bookings', ['vehicle_id'], unique=False)

    op.create_table('service_rules',
    sa.Column('max_wait_s', sa.Integer(), nullable=False),
    sa.Column('pickup_window_s', sa.Integer(), nullable=False),
    sa.Column('ride_alpha', sa.Float(), nullable=False),
    sa.Column('ride_beta_s', sa.Integer(), nullable=False),
    sa.Column('max_detour_s', sa.Integer(), nullable=False),
    sa.Column('stop_dwell_s', sa.Integer(), nullable=False),
    sa.Column('boarding_s_per_passenger', sa.Integer(), nullable=False),
    sa.Column('booking_horizon_s', sa.Integer(), nullable=False),
    sa.Column('min_notice_s', sa.Integer(), nullable=False),
    sa.Column('prebooking_threshold_s', sa.Integer(), nullable=False),
    sa.Column('service_start_s', sa.Integer(), nullable=False),
    sa.Column('service_end_s', sa.Integer(), nullable=False),
    sa.Column('offer_validity_s', sa.Integer(), nullable=False),
    sa.Column('no_show_wait_s', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_service_rules_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_rules'))
    )
    op.create_table('shift_breaks',
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('earliest_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('latest_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_shift_breaks_shift_id_shifts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_breaks'))
    )
    op.create_index(op.f('ix_shift_breaks_shift_id'), 'shift_breaks', ['shift_id'], unique=False)

    op.create_table('planned_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vehicle_id', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('node', sa.BigInteger(), nullable=False),
    sa.Column('planned_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'],
                            name=op.f('fk_planned_stops_booking_id_bookings')),
    sa.ForeignKeyConstraint(['vehicle_id'], ['vehicles.id'],
                            name=op.f('fk_planned_stops_vehicle_id_vehicles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_stops')),
    sa.UniqueConstraint('vehicle_id', 'sequence', name=op.f('uq_planned_stops_vehicle_id_sequence'))
    )
    op.create_index(op.f('ix_planned_stops_booking_id'), 'planned_stops', ['booking_id'], unique=False)
    op.create_index(op.f('ix_planned_stops_vehicle_id'), 'planned_stops', ['vehicle_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_planned_stops_vehicle_id'), table_name='planned_stops')
    op.drop_index(op.f('ix_planned_stops_booking_id'), table_name='planned_stops')

    op.drop_table('planned_stops')
    op.drop_index(op.f('ix_shift_breaks_shift_id'), table_name='shift_breaks')

    op.drop_table('shift_breaks')
    op.drop_table('service_rules')
    op.drop_index(op.f('ix_bookings_vehicle_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_status'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_rider_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_idempotency_key'), table_name='bookings')

    op.drop_table('bookings')
    op.drop_index(op.f('ix_users_api_key_hash'), table_name='users')

    op.drop_table('users')
    op.drop_index(op.f('ix_shifts_vehicle_id_starts_at'), table_name='shifts')

    op.drop_table('shifts')
    op.drop_table('vehicles')
    op.drop_table('service_areas')
    op.drop_index(op.f('ix_events_vehicle_id'), table_name='events')
    op.drop_index(op.f('ix_events_time'), table_name='events')
    op.drop_index(op.f('ix_events_request_id'), table_name='events')
    op.drop_index(op.f('ix_events_kind'), table_name='events')

    op.drop_table('events')
