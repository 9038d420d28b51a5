"""a runbook's retirement and a trigger's status (paused, removed)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runbooks") as batch:
        batch.add_column(sa.Column("retired", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("triggers") as batch:
        batch.add_column(sa.Column("status", sa.String(10), nullable=False,
                                   server_default="active"))


def downgrade() -> None:
    with op.batch_alter_table("triggers") as batch:
        batch.drop_column("status")
    with op.batch_alter_table("runbooks") as batch:
        batch.drop_column("retired")
