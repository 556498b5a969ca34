"""The service rules lose ``prebooking_threshold_s``: a knob that changed nothing (no rule read it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 14:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('service_rules') as batch_op:
        batch_op.drop_column('prebooking_threshold_s')


def downgrade() -> None:
    """Downgrade schema (every version of the rules gets the old default, one hour)."""
    with op.batch_alter_table('service_rules') as batch_op:
        batch_op.add_column(sa.Column('prebooking_threshold_s', sa.Integer(), nullable=False,
                                      server_default='3600'))
