"""Schema migrations of the read-model database (alembic)."""
