"""The edits of the policy file that running altlas processes adopted, so an auditor can tell
which policy decided what: each is recorded once, whichever processes noticed it.

One history for the installation: its id is fixed, so every process finds the same one and
the store's optimistic concurrency lets only the first of them record an edit.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, uuid5

from domain.base import SYSTEM_ACTOR_PREFIX, AuditedAggregate, EventMeta

HISTORY_ID = uuid5(NAMESPACE_URL, "urn:altlas:policy")
ACTOR = f"{SYSTEM_ACTOR_PREFIX}policy"


class PolicyHistory(AuditedAggregate):
    class Begun(AuditedAggregate.Created):
        type_name = "PolicyHistoryBegun"

    class Changed(AuditedAggregate.Event):
        """The policy file changed from ``old_sha256`` to ``new_sha256`` (the sha256 of each
        file's bytes) and running processes use the new one; ``diff`` is a unified diff of
        the two, ``owner`` the OS user owning the file on the host that noticed it."""

        type_name = "PolicyChanged"
        file: str
        old_sha256: str
        new_sha256: str
        diff: str
        owner: str

        def apply(self, history: PolicyHistory) -> None:
            history.sha256 = self.new_sha256

    def __init__(self, correlation_id: str) -> None:
        self.correlation_id = correlation_id
        self.sha256: str | None = None  # the policy recorded last

    @classmethod
    def begin(cls, meta: EventMeta) -> PolicyHistory:
        return cls._create_audited(cls.Begun, meta, id=HISTORY_ID)

    def change(self, meta: EventMeta, *, file: str, old_sha256: str, new_sha256: str,
               diff: str, owner: str) -> None:
        """Record the edit, unless another process recorded it (or a later one) already."""
        if new_sha256 in (self.sha256, old_sha256):
            return
        self._trigger(self.Changed, meta, file=file, old_sha256=old_sha256,
                      new_sha256=new_sha256, diff=diff, owner=owner)
