"""Approval cards follow the recorded events, not the commands: a vote over the HTTP API or the
CLI, the expiry timer, or another altlas process changes a card as surely as a click does."""

from __future__ import annotations

import logging
import threading

from application.history import EventHistory
from application.ports import Bookmark, FrontUnavailableError, Notifier

log = logging.getLogger("altlas.cards")

APPROVAL_CHANGES = frozenset({"ApprovalVoteCast", "ApprovalGranted", "ApprovalDenied",
                              "ApprovalExpired", "ApprovalCancelled"})
RUN_ENDS = frozenset({"RunCompleted"})


class CardUpdates:
    """Tails the event store from its bookmark (from now, the first time), so changes made
    while no front was running show after a restart. Each change re-renders the cards it
    touches once per batch; a render shows the current state, so a repeat is harmless. When
    the front cannot be reached, the bookmark stays before the change it could not show, and
    the follower waits longer each time before trying again."""

    def __init__(self, history: EventHistory, notifier: Notifier, bookmark: Bookmark, *,
                 batch: int = 500, max_backoff: float = 60.0) -> None:
        self._history = history
        self._notifier = notifier
        self._bookmark = bookmark
        saved = bookmark.load()
        if saved is None:
            saved = history.last_position()
            bookmark.save(saved)
        self.position = saved
        self._batch = batch
        self._max_backoff = max_backoff
        self.unavailable = False  # the last poll stopped at a front that could not be reached

    def poll(self) -> int:
        """Render what changed since the last poll; returns how many events were read."""
        records = list(self._history.read(after=self.position, limit=self._batch))
        first_seen: dict[tuple[str, str], int] = {}  # each card, and where its change starts
        for record in records:
            if record.type_name in APPROVAL_CHANGES:
                key = ("approval", str(record.aggregate_id))
            elif record.type_name in RUN_ENDS:
                key = ("run", str(record.aggregate_id))
            else:
                continue
            first_seen.setdefault(key, (record.position or 1) - 1)
        self.unavailable = False
        done = (records[-1].position or self.position) if records else self.position
        for (kind, aggregate_id), before in first_seen.items():
            try:
                if kind == "approval":
                    self._notifier.approval_changed(aggregate_id)
                else:
                    self._notifier.run_finished(aggregate_id)
            except FrontUnavailableError as e:
                log.warning("cards: %s; keeping %s %s for later", e, kind, aggregate_id)
                self.unavailable, done = True, before
                break
            except Exception:
                log.exception("could not update the cards of %s %s", kind, aggregate_id)
        if done != self.position:
            self.position = done
            self._bookmark.save(done)
        return len(records)

    def run(self, stop: threading.Event, idle_seconds: float) -> None:
        backoff = idle_seconds
        while not stop.is_set():
            try:
                read = self.poll()
            except Exception:
                log.exception("reading new events failed; trying again")
                read = 0
            if self.unavailable:
                backoff = min(max(backoff * 2, 1.0), self._max_backoff)
                stop.wait(backoff)
                continue
            backoff = idle_seconds
            if read < self._batch:
                stop.wait(idle_seconds)
