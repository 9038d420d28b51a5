"""Commands of the policy's history: an edit of the file that running processes adopted."""

from __future__ import annotations

import re
from collections.abc import Collection

from application.core import AppCore
from application.errors import NotFoundError
from domain.base import EventMeta
from domain.policy_history import ACTOR, HISTORY_ID, PolicyHistory

# a chat identity in the policy (slack:U0ALICE01): personal data, kept out of the events
_IDENTITY = re.compile(r"\b(slack|discord|api):[A-Za-z0-9._-]+")


class PolicyCommands(AppCore):
    def record_policy_change(self, *, file: str, old_sha256: str, new_sha256: str, diff: str,
                             owner: str, people: Collection[str] = ()) -> bool:
        """PolicyChanged, once however many processes noticed the edit: the first to save
        wins, the others conflict, load what it recorded and find nothing left to record.
        Whether this call recorded it. The diff names ``people`` (both versions' people) by
        pseudonym, like every event, and leaves their chat identities out."""
        diff = self._without_people(diff, people)

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

    def _without_people(self, diff: str, people: Collection[str]) -> str:
        diff = _IDENTITY.sub(lambda m: f"{m.group(1)}:…", diff)
        for name in sorted(people, key=len, reverse=True):
            if re.search(_whole(name), diff):
                diff = re.sub(_whole(name), self.privacy.pseudonym(name), diff)
        return diff


def _whole(name: str) -> str:
    """``name`` as a word of its own, never part of a host or another name (web-1, bob2)."""
    return rf"(?<![A-Za-z0-9._-]){re.escape(name)}(?![A-Za-z0-9._-])"
