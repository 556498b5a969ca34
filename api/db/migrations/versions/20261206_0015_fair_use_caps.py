"""Fair use: the ``fair_use_caps`` table — per-rider caps on open bookings and seats per time slot, set by
operators; rows are only added, the newest is in force.

Numbered 0015, above the revisions other branches add concurrently (0008 …); it follows main's head 0012
until the branches are merged and re-chained.

Revision ID: 0015
Revises: 0020
Create Date: 2026-12-06 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('fair_use_caps',
    sa.Column('max_open_bookings', sa.Integer(), nullable=False),
    sa.Column('max_seats_per_slot', sa.Integer(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_fair_use_caps_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fair_use_caps'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('fair_use_caps')
