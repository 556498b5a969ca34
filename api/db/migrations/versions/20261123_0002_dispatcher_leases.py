"""The dispatcher lease table: one row per service area with the epoch of the worker allowed to write its
plan (fencing for the Redis lease of the live layer).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('dispatcher_leases',
    sa.Column('area', sa.String(length=120), nullable=False),
    sa.Column('epoch', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('area', name=op.f('pk_dispatcher_leases'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('dispatcher_leases')
