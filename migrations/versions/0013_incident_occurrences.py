"""incidents keyed by alert occurrence: an incident's alerts map each Alert's id to its
fingerprint and `firing` lists Alert ids (release 0.5: the same labels may fire twice in one
incident); the view is emptied and folded again from the events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM incidents"))
    op.execute(sa.text("DELETE FROM projection_positions WHERE projection = 'incidents'"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM incidents"))
    op.execute(sa.text("DELETE FROM projection_positions WHERE projection = 'incidents'"))
