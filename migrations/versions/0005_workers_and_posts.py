"""run_steps.worker and .retrying: which worker holds a step; chat_posts: what each chat
front has said, so a message is sent once and replies find their thread

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_steps") as batch:
        batch.add_column(sa.Column("worker", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("retrying", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "chat_posts",
        sa.Column("platform", sa.String(length=20), primary_key=True),
        sa.Column("key", sa.String(length=120), primary_key=True),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("message", sa.String(length=100), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_run_steps_status", "run_steps", ["status"])


def downgrade() -> None:
    op.drop_index("ix_run_steps_status", "run_steps")
    op.drop_table("chat_posts")
    with op.batch_alter_table("run_steps") as batch:
        batch.drop_column("retrying")
        batch.drop_column("worker")
