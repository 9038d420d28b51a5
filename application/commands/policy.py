"""Commands of the policy's history: an edit of the file that running processes adopted."""

from __future__ import annotations

from application.core import AppCore
from application.errors import NotFoundError
from domain.base import EventMeta
from domain.policy_history import ACTOR, HISTORY_ID, PolicyHistory


class PolicyCommands(AppCore):
    def record_policy_change(self, *, file: str, old_sha256: str, new_sha256: str, diff: str,
                             owner: str) -> bool:
        """PolicyChanged, once however many processes noticed the edit: the first to save
        wins, the others conflict, load what it recorded and find nothing left to record.
        Whether this call recorded it."""
        def command() -> bool:
            meta = EventMeta.for_command(ACTOR)
            try:
                history = self._cached(PolicyHistory, HISTORY_ID)
            except NotFoundError:
                history = PolicyHistory.begin(meta)
            try:
                history.change(meta, file=file, old_sha256=old_sha256, new_sha256=new_sha256,
                               diff=diff, owner=owner)
                if not any(isinstance(e, PolicyHistory.Changed)
                           for e in history.pending_events):
                    return False  # recorded already, by this process or another
                self.save(history)
            except BaseException:
                self._forget(HISTORY_ID)
                raise
            return True

        with self._turn(HISTORY_ID):
            return self._retrying(command)
