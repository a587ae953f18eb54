"""Colleagues' time zones and working hours, as the provider revealed them (Graph
getSchedule; Google freeBusy reveals neither), read at most daily per account.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("working_hours", sa.JSON(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contact_schedules_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_schedules")),
        sa.UniqueConstraint("account_id", "email", name=op.f("uq_contact_schedules_account_id")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("schedules_read_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("schedules_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("schedules_error")
        batch_op.drop_column("schedules_read_at")
    op.drop_table("contact_schedules")
