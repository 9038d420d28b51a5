"""run_vectors: the embedded vector store of the similar-run search

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_vectors",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("embedder", sa.String(100), primary_key=True),
        sa.Column("task_id", sa.String(36), nullable=False),
        sa.Column("pattern", sa.String(400), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("environment", sa.String(64)),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("run_vectors")
