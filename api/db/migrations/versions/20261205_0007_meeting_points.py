"""Meeting points (virtual stops), and the service rules' meeting mode and walking limit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 18:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema (every stored version of the rules gets the defaults: door to door, 300 m)."""
    op.create_table('meeting_points',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('node', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_points'))
    )
    with op.batch_alter_table('service_rules') as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), nullable=False,
                                      server_default='door_to_door'))
        batch_op.add_column(sa.Column('max_walk_m', sa.Integer(), nullable=False, server_default='300'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('service_rules') as batch_op:
        batch_op.drop_column('max_walk_m')
        batch_op.drop_column('mode')
    op.drop_table('meeting_points')
