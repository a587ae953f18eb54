"""What each account's last decision rested on, and when its profile was last read.

``analysis_state`` (one row per account) lets a pass with nothing new skip the analysis
and the decision; ``accounts.profile_synced_at`` lets the profile and the directory be
read once a day; ``event_attendees.account_id`` with an index on (account, email), and
indexes on the events' series and iCalendar UIDs, let one contact's events be read
alone, for re-analysing only the contacts a change touched.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_state",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("events_version", sa.Integer(), nullable=False),
        sa.Column("touched", sa.JSON(), nullable=False),
        sa.Column("touched_all", sa.Boolean(), nullable=False),
        sa.Column("analysed_version", sa.Integer(), nullable=True),
        sa.Column("analysis_key", sa.String(length=64), nullable=True),
        sa.Column("decision_key", sa.String(length=64), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("audit", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_analysis_state_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_analysis_state")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile_synced_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("event_attendees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE event_attendees SET account_id = "
        "(SELECT events.account_id FROM events WHERE events.id = event_attendees.event_id)"
    )
    with op.batch_alter_table("event_attendees", schema=None) as batch_op:
        batch_op.alter_column("account_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_event_attendees_account_email", ["account_id", "email"])
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_account_series", ["account_id", "series_id"])
        batch_op.create_index("ix_events_account_uid", ["account_id", "ical_uid"])


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_account_uid")
        batch_op.drop_index("ix_events_account_series")
    with op.batch_alter_table("event_attendees", schema=None) as batch_op:
        batch_op.drop_index("ix_event_attendees_account_email")
        batch_op.drop_column("account_id")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("profile_synced_at")
    op.drop_table("analysis_state")
