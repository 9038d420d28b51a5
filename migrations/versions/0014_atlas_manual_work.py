"""the .atlas counts a run left to a person once its manual work is confirmed, and not at all
before (release 0.6): its rows are emptied and folded again from the events

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _refold()


def downgrade() -> None:
    _refold()


def _refold() -> None:
    for table in ("atlas_runs", "atlas_requests", "atlas_imports"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM projection_positions WHERE projection = 'atlas'"))
