"""Accounts gain the provider's stable user id and a session epoch.

``subject`` (Microsoft ``tid:oid``, Google ``sub``) replaces the address as the key an
account is matched on; ``session_epoch`` lets sign-out and deletion end every cookie
issued before them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(200), nullable=True))
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_unique_constraint("uq_accounts_provider_subject", ["provider", "subject"])


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_accounts_provider_subject", type_="unique")
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("subject")
