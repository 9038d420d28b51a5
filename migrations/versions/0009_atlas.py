"""the .atlas: atlas_requests, atlas_runs, atlas_imports

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "atlas_requests",
        sa.Column("task_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(100), nullable=False),
        sa.Column("environment", sa.String(64)),
        sa.Column("segmenter", sa.String(100)),
        sa.Column("pattern", sa.String(400)),
        sa.Column("intent", sa.String(200)),
        sa.Column("target_kind", sa.String(100)),
        sa.Column("targets", sa.JSON()),
        sa.Column("plan", sa.JSON()),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_atlas_requests_pattern", "atlas_requests", ["pattern"])
    op.create_table(
        "atlas_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("duration_ms", sa.BigInteger()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_atlas_runs_task_id", "atlas_runs", ["task_id"])
    op.create_table(
        "atlas_imports",
        sa.Column("import_id", sa.String(36), primary_key=True),
        sa.Column("pattern", sa.String(400), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("atlas_imports")
    op.drop_index("ix_atlas_runs_task_id", "atlas_runs")
    op.drop_table("atlas_runs")
    op.drop_index("ix_atlas_requests_pattern", "atlas_requests")
    op.drop_table("atlas_requests")
