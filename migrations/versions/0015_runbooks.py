"""the runbooks and triggers views

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runbooks",
        sa.Column("runbook_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(200)),
        sa.Column("plan_hash", sa.String(64)),
        sa.Column("parameters", sa.JSON()),
        sa.Column("pending", sa.Integer()),
        sa.Column("approval_id", sa.String(36)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "triggers",
        sa.Column("trigger_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("runbook", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True)),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("last_task_id", sa.String(36)),
    )
    op.create_index("ix_triggers_next_at", "triggers", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_triggers_next_at", "triggers")
    op.drop_table("triggers")
    op.drop_table("runbooks")
