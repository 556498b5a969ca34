"""Operators' manual control of the plan: bookings pinned to their bus, a vehicle's route lock, a break's
place (an ad-hoc break where the bus stands), and the audit log of manual changes (``audit_log``).

Numbered 0021 because other branches add migrations concurrently; it follows 0017 until the branches are
merged and re-chained.

Revision ID: 0021
Revises: 0024
Create Date: 2026-12-07 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | Sequence[str] | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema (nothing pinned or locked, every stored break at the depot)."""
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.add_column(sa.Column('pinned', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('vehicles') as batch_op:
        batch_op.add_column(sa.Column('route_lock', sa.String(length=16), nullable=False,
                                      server_default='none'))
    with op.batch_alter_table('shift_breaks') as batch_op:
        batch_op.add_column(sa.Column('node', sa.BigInteger(), nullable=True))
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('operator_name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('booking_id', sa.String(length=64), nullable=True),
    sa.Column('vehicle_id', sa.String(length=64), nullable=True),
    sa.Column('from_vehicle_id', sa.String(length=64), nullable=True),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    for column in ('time', 'operator_id', 'action', 'booking_id', 'vehicle_id', 'from_vehicle_id'):
        op.create_index(op.f(f'ix_audit_log_{column}'), 'audit_log', [column], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    for column in ('time', 'operator_id', 'action', 'booking_id', 'vehicle_id', 'from_vehicle_id'):
        op.drop_index(op.f(f'ix_audit_log_{column}'), table_name='audit_log')
    op.drop_table('audit_log')
    with op.batch_alter_table('shift_breaks') as batch_op:
        batch_op.drop_column('node')
    with op.batch_alter_table('vehicles') as batch_op:
        batch_op.drop_column('route_lock')
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.drop_column('pinned')
