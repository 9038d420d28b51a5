"""the runbooks view

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


def downgrade() -> None:
    op.drop_table("runbooks")
