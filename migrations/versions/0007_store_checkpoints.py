"""store_checkpoints: checkpoints over the event store's global order kept outside the
store, beside the views, so that a store that lost events is noticed; its genesis row marks
the live views, its replay row a replay target

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
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
        "store_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("running_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("superseded", sa.Text(), nullable=True),
    )
    op.create_index("ix_store_checkpoints_source_position", "store_checkpoints",
                    ["source", "position"])


def downgrade() -> None:
    op.drop_index("ix_store_checkpoints_source_position", "store_checkpoints")
    op.drop_table("store_checkpoints")
