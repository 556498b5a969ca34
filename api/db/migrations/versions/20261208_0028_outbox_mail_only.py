"""The outbox holds e-mails only: a notice's push to the rider's open app is published when its change
commits (api.services.notice_push), so the push rows go — they were live hints, and every notice stays in
``notices`` — and an outbox message always has a recipient.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-08 00:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | Sequence[str] | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("DELETE FROM outbox WHERE channel = 'push' OR recipient IS NULL")
    with op.batch_alter_table('outbox') as batch:
        batch.alter_column('recipient', existing_type=sa.String(length=320), nullable=False)


def downgrade() -> None:
    """Downgrade schema (the push rows are not made again: their notices were pushed or are listed)."""
    with op.batch_alter_table('outbox') as batch:
        batch.alter_column('recipient', existing_type=sa.String(length=320), nullable=True)
