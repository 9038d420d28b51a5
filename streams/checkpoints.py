"""Checkpoints over the event store's global order, kept outside the store, in the views
database: how far the feeds have seen the store. A store that lost events (a WAL file cut by
a crash, a restore from an older backup, an emptied file) is noticed against them at
start-up, by /healthz and by `audit verify`; the chains inside the store cannot notice a
loss at its end.

The embedded feed keeps a moving head, rewritten with every batch it applies (in the same
transaction as the views), and keeps one every ``keep_every`` events for good. The running
hash is carried on from the head, so a batch costs a few hashes and one or two statements.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    false,
    func,
    inspect,
    select,
    update,
)

from domain.hashchain import GENESIS, running_hash
from domain.records import RecordedEvent
from projections.schema import positions, store_checkpoints
from streams.cloudevents import Checkpoint

STORE = "store"    # the embedded feed's checkpoints (the projections' own source name)
REPLAY = "replay"  # the row that marks a database as a replay target
# Other sources: "kafka:<topic>", the relay's checkpoints as the Kafka feeds received them.

_C = store_checkpoints.c


@dataclass(frozen=True)
class Head:
    """A point in the global order: the last position seen, the running hash up to it and
    how many events that covers."""

    position: int
    running_hash: str
    events: int


GENESIS_HEAD = Head(0, GENESIS, 0)


@dataclass(frozen=True)
class SetAside:
    """Checkpoints of a history whose loss an operator accepted."""

    position: int
    events: int
    recorded_at: datetime
    reason: str


def _live(source: str | None) -> list[Any]:
    """Checkpoints of ``source`` (None: of every feed) that are not set aside."""
    which = _C.source != REPLAY if source is None else _C.source == source
    return [which, _C.superseded.is_(None)]


def _head_of(source: str | None) -> Any:
    return (select(_C.position, _C.running_hash, _C.events).where(*_live(source))
            .order_by(_C.position.desc(), _C.events.desc()).limit(1))


_HEAD = _head_of(STORE)
_ANY_HEAD = _head_of(None)


class CheckpointLog:
    """The checkpoints kept in one views database: this source's head moves on (extend,
    saw); listing, the losses set aside and accepting one cover every source."""

    def __init__(self, engine: Engine, source: str = STORE, keep_every: int = 1000) -> None:
        self.engine = engine
        self.source = source
        self.keep_every = max(keep_every, 1)
        self._head = _HEAD if source == STORE else _head_of(source)

    def head(self, conn: Connection | None = None) -> Head:
        """The last checkpoint that is not set aside (genesis if there is none)."""
        if conn is None:
            with self.engine.connect() as own:
                return self.head(own)
        row = conn.execute(self._head).first()
        return GENESIS_HEAD if row is None else Head(row.position, row.running_hash, row.events)

    def mark_live(self) -> None:
        """Write the genesis checkpoint if this source has none: it marks the database as
        the live views (a replay target carrying it is refused)."""
        with self.engine.begin() as conn:
            if conn.execute(select(_C.id).where(*_live(self.source)).limit(1)).first() is None:
                self._insert(conn, GENESIS_HEAD, kept=True)

    def extend(self, conn: Connection, after: int, records: Sequence[RecordedEvent],
               seen: Head | None = None) -> Head | None:
        """Fold ``records`` (everything the store holds after position ``after``, in order,
        up to some point) into the head, in the caller's transaction; returns the new head.
        None when the head is before ``after`` (it was set aside meanwhile): the records in
        between are not at hand, and the caller reads from the head next time.

        ``seen``, the head the caller last wrote or read, saves reading it again: the
        moving head is moved on only if it is still exactly that (nobody else moved it).
        """
        if seen is not None and seen.position >= after:
            moved = _fold(seen, records)
            if moved is seen:
                return seen
            if not self._keeps(seen, moved) and conn.execute(
                    _move(self.source), {"o_position": seen.position,
                                         "o_hash": seen.running_hash,
                                         **_values(moved)}).rowcount:
                return moved
        head = self.head(conn)
        if head.position < after:
            return None
        moved = _fold(head, records)
        if moved is head:
            return head
        if self._keeps(head, moved):
            self._insert(conn, moved, kept=True)
            conn.execute(delete(store_checkpoints).where(
                *_live(self.source), _C.kept == false(), _C.position < moved.position))
            return moved
        done = conn.execute(update(store_checkpoints).where(
            *_live(self.source), _C.kept == false(), _C.position < moved.position).values(
            **_values(moved))).rowcount
        if not done and conn.execute(select(_C.id).where(
                *_live(self.source), _C.position >= moved.position).limit(1)).first() is None:
            self._insert(conn, moved, kept=False)
        return moved

    def _keeps(self, head: Head, moved: Head) -> bool:
        """Whether the move passes a multiple of ``keep_every`` events: that one stays."""
        return moved.events // self.keep_every > head.events // self.keep_every

    def record(self, head: Head, *, note: str | None = None) -> None:
        """Replace this source's checkpoints by one (a replay target's marker)."""
        with self.engine.begin() as conn:
            conn.execute(delete(store_checkpoints).where(_C.source == self.source))
            self._insert(conn, head, kept=True, note=note)

    def _insert(self, conn: Connection, head: Head, *, kept: bool,
                note: str | None = None) -> None:
        conn.execute(store_checkpoints.insert().values(
            source=self.source, position=head.position, running_hash=head.running_hash,
            events=head.events, recorded_at=datetime.now(UTC), kept=kept, superseded=note))

    def saw(self, checkpoint: Checkpoint) -> None:
        """Keep a checkpoint a feed received (the relay's, from the topic), unless one as
        far is kept already."""
        with self.engine.begin() as conn:
            if self.head(conn).position < checkpoint.position:
                self._insert(conn, Head(checkpoint.position, checkpoint.running_hash,
                                        checkpoint.events), kept=True)

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint kept beside these views (of every feed) that is not set
        aside, oldest first: what `audit verify` checks the store against."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(store_checkpoints).where(*_live(None))
                                .order_by(_C.position, _C.events))
            return [Checkpoint(r.position, r.running_hash, r.events, r.recorded_at.isoformat())
                    for r in rows]

    def set_aside(self) -> list[SetAside]:
        """Checkpoints set aside by accepted losses, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(store_checkpoints).where(
                _C.source != REPLAY, _C.superseded.is_not(None))
                .order_by(_C.recorded_at, _C.position))
            return [SetAside(r.position, r.events, r.recorded_at, str(r.superseded))
                    for r in rows]

    def accept_loss(self, end: Head, reason: str) -> list[Checkpoint]:
        """Set aside, with ``reason``, every checkpoint past the store's ``end``: they
        cover events the store no longer has. They stay, for every later audit to show,
        beside a record of the acceptance: the store's own checkpoint at its end, set aside
        with the same reason. Returns the checkpoints set aside."""
        with self.engine.begin() as conn:
            rows = list(conn.execute(select(store_checkpoints).where(
                *_live(None), _C.position > end.position).order_by(_C.position)))
            if rows:
                conn.execute(update(store_checkpoints).where(
                    _C.id.in_([r.id for r in rows])).values(superseded=reason))
            self._insert(conn, end, kept=True, note=reason)
        return [Checkpoint(r.position, r.running_hash, r.events, r.recorded_at.isoformat())
                for r in rows]


def _fold(head: Head, records: Sequence[RecordedEvent]) -> Head:
    """``head`` carried on over the records after it (``head`` itself if there are none)."""
    running, count, position = head.running_hash, head.events, head.position
    for record in records:
        if (record.position or 0) > position:
            running = running_hash(running, record.hash)
            count += 1
            position = record.position or 0
    return head if count == head.events else Head(position, running, count)


def _values(head: Head) -> dict[str, Any]:
    return {"position": head.position, "running_hash": head.running_hash,
            "events": head.events, "recorded_at": datetime.now(UTC)}


@functools.cache
def _move(source: str) -> Any:
    """Move the moving head on from exactly where it was (built once: every batch)."""
    return update(store_checkpoints).where(
        *_live(source), _C.kept == false(), _C.position == bindparam("o_position"),
        _C.running_hash == bindparam("o_hash"))


@dataclass(frozen=True)
class OutsideMarks:
    """What the views database says of the store: how far the views have applied it (fed
    from the store) and the last checkpoint of any feed (None: none beyond genesis)."""

    views_position: int
    checkpoint: Head | None

    @property
    def seen(self) -> int:
        return max(self.views_position, self.checkpoint.position if self.checkpoint else 0)


NO_MARKS = OutsideMarks(0, None)


def read_marks(conn: Connection) -> OutsideMarks:
    """The marks of a views database at any schema version (tables it lacks say nothing)."""
    tables = set(inspect(conn).get_table_names())
    views = 0
    if positions.name in tables:
        views = conn.execute(select(func.max(positions.c.position)).where(
            positions.c.source == STORE)).scalar() or 0
    checkpoint = None
    if store_checkpoints.name in tables:
        row = conn.execute(_ANY_HEAD).first()
        if row is not None and row.position > 0:
            checkpoint = Head(row.position, row.running_hash, row.events)
    return OutsideMarks(int(views), checkpoint)


RECOVERING = 'see README "Recovering a store"'


def store_problem(store_end: int, marks: OutsideMarks) -> str | None:
    """Why a store that ends at ``store_end`` cannot be what the views and checkpoints saw,
    in one line naming the positions; None if it can."""
    if marks.seen <= store_end:
        return None
    seen = []
    if marks.views_position:
        seen.append(f"the views have applied up to {marks.views_position}")
    if marks.checkpoint is not None:
        seen.append(f"the last checkpoint covers {marks.checkpoint.position} "
                    f"({marks.checkpoint.events} events)")
    what = " and ".join(seen)
    if store_end == 0:
        return (f"the event store is empty but {what}: the store was emptied or replaced; "
                f"restore it from a backup ({RECOVERING})")
    return (f"the event store ends at position {store_end} but {what}: events were lost; "
            f"restore the store from a backup, or accept the loss with `altlas audit "
            f"accept-loss --yes` ({RECOVERING})")

