"""Data protection: the operators' privacy settings (``privacy_settings``, versions; the highest id is in
force), what each retention run did (``retention_runs``, counts only), riders' erasures (``erasures``, one
per rider) and when a booking's places were coarsened (``bookings.coarsened_at``).

Numbered 0027 because other branches add migrations concurrently; it follows main's head 0017 until the
branches are merged and re-chained.

Revision ID: 0027
Revises: 0021
Create Date: 2026-12-07 20:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | Sequence[str] | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('privacy_settings',
    sa.Column('coarsen_after_days', sa.Integer(), nullable=False),
    sa.Column('prune_after_days', sa.Integer(), nullable=False),
    sa.Column('bus_visible_minutes', sa.Integer(), nullable=False),
    sa.Column('driver_contact_stops', sa.Integer(), nullable=False),
    sa.Column('driver_contact_minutes', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_privacy_settings_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_settings'))
    )
    op.create_table('retention_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('coarsened_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pruned_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bookings_coarsened', sa.Integer(), nullable=False),
    sa.Column('events_pruned', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_runs'))
    )
    op.create_index(op.f('ix_retention_runs_ran_at'), 'retention_runs', ['ran_at'], unique=False)
    op.create_table('erasures',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_erasures_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_erasures'))
    )
    with op.batch_alter_table('bookings') as batch:
        batch.add_column(sa.Column('coarsened_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bookings') as batch:
        batch.drop_column('coarsened_at')
    op.drop_table('erasures')
    op.drop_index(op.f('ix_retention_runs_ran_at'), table_name='retention_runs')
    op.drop_table('retention_runs')
    op.drop_table('privacy_settings')
