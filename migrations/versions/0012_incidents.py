"""the incidents view

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("firing", sa.JSON(), nullable=False),
        sa.Column("root_causes", sa.JSON(), nullable=False),
        sa.Column("root", sa.String(200)),
        sa.Column("merged_into", sa.String(36)),
        sa.Column("summary", sa.Text()),
        sa.Column("evidence", sa.JSON()),
        sa.Column("remediation", sa.JSON()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_incidents_status_opened", "incidents", ["status", "opened_at"])
    op.create_index("ix_incidents_root", "incidents", ["root", "status"])


def downgrade() -> None:
    op.drop_index("ix_incidents_root", "incidents")
    op.drop_index("ix_incidents_status_opened", "incidents")
    op.drop_table("incidents")
