"""Contacts keep what the provider told about key people for moments: the directory's
hire date and the latest long out-of-office seen in free/busy (start, end, working days),
when each was last read, and why the last read failed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMNS = (
    ("hire_date", sa.Date()),
    ("hire_date_read_at", sa.DateTime(timezone=True)),
    ("hire_date_error", sa.Text()),
    ("absence_start", sa.DateTime(timezone=True)),
    ("absence_end", sa.DateTime(timezone=True)),
    ("absence_days", sa.Integer()),
    ("schedule_read_at", sa.DateTime(timezone=True)),
    ("schedule_error", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        for name, _kind in reversed(COLUMNS):
            batch_op.drop_column(name)
