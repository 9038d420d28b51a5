"""Reading whole views back, to compare them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from projections.views import PROJECTIONS


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def dump(engine: Engine, skip: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every row of every view table, sorted, in comparable form. Columns named in ``skip``
    (such as the feed-specific position) are left out."""
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for projection in PROJECTIONS.values():
            for table in projection.tables:
                rows = [{k: _plain(v) for k, v in row._asdict().items() if k not in skip}
                        for row in conn.execute(select(table))]
                out[table.name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True,
                                                                       default=str))
    return out
