"""What several ways around a gate share: a view database of each kind altlas supports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def views_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A view database of each kind altlas supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'views.sqlite3'}"
        return
    import os
    from uuid import uuid4

    import psycopg

    from tests.integration.conftest import DEFAULT_URL

    url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_URL)
    schema = f"t_{uuid4().hex[:12]}"
    yield f"{url}?schema={schema}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
