"""Events: follows_series (plain occurrences take later changes of their series master).

Microsoft calendars also lose their delta cursor, so the next pass syncs them in full:
occurrences stored before this revision were read from Graph's bare delta occurrences
without their master's attendees and answers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("follows_series", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE calendars SET cursor = NULL WHERE account_id IN "
        "(SELECT id FROM accounts WHERE provider = 'microsoft')"
    )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("follows_series")
