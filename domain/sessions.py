"""The record that a person's dashboard sessions were ended: by themselves (Sign out
everywhere) or by an admin (`altlas ui sign-out`).

What ends the sessions is kept beside the views, where every `altlas serve` on the store looks
before it lets a session in (adapters/web/session.py); this is who did it and when, in the
hash-chained history. One aggregate per ending, so endings never wait on each other.
"""

from __future__ import annotations

from domain.base import AuditedAggregate, EventMeta


class DashboardSessions(AuditedAggregate):
    class Ended(AuditedAggregate.Created):
        """Every dashboard session ``person`` (a pseudonym) had opened ended, on every
        `serve`; the actor is who ended them."""

        type_name = "DashboardSessionsEnded"
        person: str

    def __init__(self, person: str, actor: str, correlation_id: str) -> None:
        self.person = person
        self.ended_by = actor
        self.correlation_id = correlation_id

    @classmethod
    def end(cls, person: str, meta: EventMeta) -> DashboardSessions:
        return cls._create_audited(cls.Ended, meta, person=person)
