"""Approval cards follow the recorded events, not the commands: a vote over the HTTP API or the
CLI, the expiry timer, or another altlas process changes a card as surely as a click does."""

from __future__ import annotations

import logging
import threading

from altlas.application.history import EventHistory
from altlas.application.ports import Bookmark, Notifier

log = logging.getLogger("altlas.cards")

APPROVAL_CHANGES = frozenset({"ApprovalVoteCast", "ApprovalGranted", "ApprovalDenied",
                              "ApprovalExpired", "ApprovalCancelled"})
RUN_ENDS = frozenset({"RunCompleted"})


class CardUpdates:
    """Tails the event store from its bookmark (from now, the first time), so changes made
    while no front was running show after a restart. Each change re-renders the cards it
    touches once per batch; a render shows the current state, so a repeat is harmless."""

    def __init__(self, history: EventHistory, notifier: Notifier, bookmark: Bookmark, *,
                 batch: int = 500) -> None:
        self._history = history
        self._notifier = notifier
        self._bookmark = bookmark
        saved = bookmark.load()
        if saved is None:
            saved = history.last_position()
            bookmark.save(saved)
        self.position = saved
        self._batch = batch

    def poll(self) -> int:
        """Render what changed since the last poll; returns how many events were read."""
        records = list(self._history.read(after=self.position, limit=self._batch))
        changed: dict[tuple[str, str], None] = {}
        for record in records:
            if record.type_name in APPROVAL_CHANGES:
                changed[("approval", str(record.aggregate_id))] = None
            elif record.type_name in RUN_ENDS:
                changed[("run", str(record.aggregate_id))] = None
        for kind, aggregate_id in changed:
            try:
                if kind == "approval":
                    self._notifier.approval_changed(aggregate_id)
                else:
                    self._notifier.run_finished(aggregate_id)
            except Exception:
                log.exception("could not update the cards of %s %s", kind, aggregate_id)
        if records:
            self.position = records[-1].position or self.position
            self._bookmark.save(self.position)
        return len(records)

    def run(self, stop: threading.Event, idle_seconds: float) -> None:
        while not stop.is_set():
            try:
                read = self.poll()
            except Exception:
                log.exception("reading new events failed; trying again")
                read = 0
            if read < self._batch:
                stop.wait(idle_seconds)
