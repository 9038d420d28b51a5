"""seen_requests: signed requests a front has accepted, so a replay inside the signature's
window is refused and a platform's own retry is handled once; approvals.excluded: who may not
approve (the requester and whoever wrote the plan)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("front", sa.String(length=20), primary_key=True),
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("excluded", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("excluded")
    op.drop_index("ix_seen_requests_seen_at", "seen_requests")
    op.drop_table("seen_requests")
