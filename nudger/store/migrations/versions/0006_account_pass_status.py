"""Accounts record their passes: when the last one ran, how it ended, when the next is due,
and whether one waits on the worker queue.

``nudger status``, ``/healthz`` and the scheduler read them; with a broker the scheduler
claims ``enqueued_at`` by a conditional UPDATE so an account is never queued twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_pass_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_pass_status", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("last_pass_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for column in ("enqueued_at", "next_due_at", "last_pass_error", "last_pass_status"):
            batch_op.drop_column(column)
        batch_op.drop_column("last_pass_at")
