"""The views opened for a read alone: no event store, no projections run, no migration.

A read of the embedded default first brings the views up to the store's end
(`System.reads`). When they are there already, that catch-up does nothing, and a read that
opens only the views shows exactly what it would have shown; `current_views` answers
whether they are, from the positions the views keep with their rows."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from projections.schema import positions, store_checkpoints
from projections.store import at_head

STORE = "store"  # the embedded feed: the projections' source and the checkpoints'
# The projections the embedded feed runs (projections/views.py PROJECTIONS; a unit test
# holds the two equal): named here so a read imports none of them.
PROJECTION_NAMES = ("tasks", "approvals", "timeline", "atlas", "leaderboards", "incidents")

_POSITIONS = select(positions.c.projection, positions.c.position).where(
    positions.c.source == STORE, positions.c.partition == 0)
_HEAD = select(func.max(store_checkpoints.c.position)).where(
    store_checkpoints.c.source == STORE, store_checkpoints.c.superseded.is_(None))


def current_views(engine: Engine, store_end: int) -> bool:
    """Whether the views are at the newest schema and every projection, and the checkpoint
    over the store, has applied exactly up to ``store_end``: a catch-up would change
    nothing, and the store lost nothing they saw (the start-up check's question)."""
    if store_end < 1 or not at_head(engine):
        return False
    try:
        with engine.connect() as conn:
            applied = dict(conn.execute(_POSITIONS).tuples().all())
            head = conn.execute(_HEAD).scalar()
    except SQLAlchemyError:
        return False
    return head == store_end and all(applied.get(name) == store_end
                                     for name in PROJECTION_NAMES)


def applied_position(engine: Engine) -> int:
    """How far every projection the embedded feed runs has applied the store's events: what
    a page drawn from the views now shows (0 before any, or while they cannot be read)."""
    try:
        with engine.connect() as conn:
            applied = {name: at for name, at in conn.execute(_POSITIONS)}
    except SQLAlchemyError:
        return 0
    return min((applied.get(name, 0) for name in PROJECTION_NAMES), default=0)
