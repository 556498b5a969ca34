"""Codes that confirm a new e-mail address for an existing account: ``sign_in_codes.for_user_id`` names
the user whose address is to change (null: a sign-in or sign-up code, as before).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-09 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: str | Sequence[str] | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('sign_in_codes') as batch:
        batch.add_column(sa.Column('for_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                   nullable=True))


def downgrade() -> None:
    """Downgrade schema (pending address changes are dropped with their codes)."""
    op.execute("DELETE FROM sign_in_codes WHERE for_user_id IS NOT NULL")
    with op.batch_alter_table('sign_in_codes') as batch:
        batch.drop_column('for_user_id')
