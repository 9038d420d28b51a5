"""A lane of reactions: follows the events of its kinds and reacts to each exactly once.

Every process with a worker runs the same lanes over the same store. Each event's reaction is
recorded with a tracking record under the lane's name, in the same transaction as its new
events, so whichever process records first wins and the others find the event taken and
move on; a restarted process resumes after the last event any of them finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import cast
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    RecordConflictError,
    Tracking,
)
from eventsourcing.utils import get_topic

from application.app import AltlasApplication
from application.core import Reaction
from application.lanes import begin_tracking, tracking_name
from application.reactions import EVENT_HANDLERS, SHARDS, Event, Handler, Ports
from domain.base import event_id

log = logging.getLogger("altlas.policies")

# A reaction that keeps raising (a bug, not a database that is away) is tried this often,
# then set aside with an error in the log, so the events behind it are not held up for ever.
MAX_FAILURES = 5
# How often a reaction is decided again when the aggregates it changes keep changing under it.
MAX_CONFLICTS = 50

Claims = Callable[[list[tuple[UUID, str]]], None]


@dataclass
class LaneStats:
    reacted: int = 0
    taken_by_others: int = 0
    set_aside: int = 0


class Lane:
    def __init__(self, app: AltlasApplication, lane: str, kinds: frozenset[type[Event]],
                 ports: Ports, *, worker: str, on_claims: Claims,
                 handlers: Mapping[type[Event], Handler] = EVENT_HANDLERS,
                 batch: int = 100) -> None:
        self.app = app
        self.name = tracking_name(lane)
        self.ports = ports
        self.worker = worker
        self.on_claims = on_claims
        self.batch = batch
        self._handlers = {get_topic(kind): handlers[kind] for kind in kinds}
        self._topics = sorted(self._handlers)
        self.stats = LaneStats()
        self._known: int | None = None  # the position this process recorded last
        self._shard, self._shards = SHARDS.get(lane, (0, 1))  # its share of the aggregates
        self._passed = 0  # read up to here, and nothing of this lane's share was left
        self.busy = False  # reacting to an event right now
        # whether this process is the one to follow the lane now (application/lane_shares.py)
        self.owns: Callable[[], bool] = lambda: True

    def position(self) -> int:
        """The last event of this lane that some process has reacted to."""
        return self.app.tracked(self.name) or 0

    def pending(self) -> bool:
        """Events of this lane wait for a reaction."""
        return any(self._mine(n) for n in self._select(self._start(), self.batch))

    def _start(self) -> int:
        """Where to read from: the store's position for the lane, or past the events of
        other shares this lane has read over since."""
        return max(self.position(), self._passed)

    def _mine(self, n: Notification) -> bool:
        if self._shards == 1:
            return True
        return UUID(str(n.originator_id)).int % self._shards == self._shard

    def poll(self) -> int:
        """React to the events recorded since the lane's position; how many were handled
        (here or, found taken, by another process). After its own reactions the lane knows
        where it is; after another process's, it asks the store. A lane another worker
        follows is left to it."""
        if not self.owns():
            self._known = None
            return 0
        start = self._known if self._known is not None else self._start()
        notifications = self._select(start, self.batch)
        for n in notifications:
            if not self._mine(n):
                self._known = self._passed = n.id  # another share's: nothing to record
                continue
            self.busy = True
            try:
                handled = self._handle(n)
            finally:
                self.busy = False
            if not handled:
                self._known = None
                return 1  # another process is ahead: start again from its position
            self._known = n.id
        if not notifications:
            self._known = None  # others may react to what comes next: ask next time
        return len(notifications)

    def _select(self, after: int, limit: int) -> list[Notification]:
        return list(self.app.recorder.select_notifications(
            after, limit, topics=self._topics, inclusive_of_start=False))

    def _handle(self, n: Notification) -> bool:
        """React to one event; False if another process had already done so."""
        handler = self._handlers[n.topic]
        tracking = Tracking(self.name, n.id)
        conflicts = failures = 0
        while True:
            event = cast(Event, self.app.mapper.to_domain_event(n))
            try:
                reaction = self.app.react(tracking, partial(self._react, handler, event),
                                          worker=self.worker)
            except RecordConflictError:
                if self.position() >= n.id:
                    self.stats.taken_by_others += 1
                    return False
                conflicts += 1
                if conflicts >= MAX_CONFLICTS:
                    self._set_aside(n, "its aggregates kept changing under it")
                    return True
                continue  # an aggregate changed meanwhile: decide again on what is there now
            except (OperationalError, InterfaceError) as e:
                log.warning("%s: the event store is not answering (%s); trying again", self.name,
                            e)
                time.sleep(1.0)
                continue
            except Exception as e:
                failures += 1
                log.exception("%s: reacting to %s at position %d failed (%d of %d)", self.name,
                              n.topic, n.id, failures, MAX_FAILURES)
                if failures >= MAX_FAILURES:
                    self._set_aside(n, f"{type(e).__name__}: {e}")
                    return True
                time.sleep(0.2 * failures)
                continue
            self.stats.reacted += 1
            if reaction.claims:
                self.on_claims(list(reaction.claims))
            return True

    def _react(self, handler: Handler, event: Event, reaction: Reaction) -> None:
        handler(event, reaction, self.ports)

    def _set_aside(self, n: Notification, why: str) -> None:
        """Never silently: the error names the event, and the metrics count it."""
        log.error("%s: set aside the reaction to %s (event %s, position %d): %s", self.name,
                  n.topic, event_id(UUID(str(n.originator_id)), n.originator_version), n.id,
                  why)
        self.stats.set_aside += 1
        self.app.track(self.name, n.id)  # (or another process got past it)


__all__ = ["Lane", "Reaction", "begin_tracking", "tracking_name"]
