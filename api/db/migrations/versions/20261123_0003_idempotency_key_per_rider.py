"""Idempotency keys are unique per rider, no longer across all riders: the unique index on
``bookings.idempotency_key`` becomes a unique index on ``(rider_id, idempotency_key)``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.drop_index(op.f('ix_bookings_idempotency_key'), table_name='bookings')
    op.create_index('ix_bookings_rider_id_idempotency_key', 'bookings', ['rider_id', 'idempotency_key'],
                    unique=True)


def downgrade() -> None:
    """Downgrade schema (fails if two riders hold the same key by then)."""
    op.drop_index('ix_bookings_rider_id_idempotency_key', table_name='bookings')
    op.create_index(op.f('ix_bookings_idempotency_key'), 'bookings', ['idempotency_key'], unique=True)
