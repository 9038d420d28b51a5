"""Commands of the dashboard's sessions: the record that a person's sessions were ended."""

from __future__ import annotations

from application.core import AppCore
from application.snapshots import SessionsEndedView
from domain.base import EventMeta
from domain.sessions import DashboardSessions


class SessionCommands(AppCore):
    def record_sessions_ended(self, person: str, by: str) -> SessionsEndedView:
        """DashboardSessionsEnded: ``by`` ended every dashboard session of ``person`` (names;
        both are recorded by pseudonym)."""
        ended = DashboardSessions.end(self.privacy.pseudonym(person),
                                      EventMeta.for_command(self.privacy.pseudonym(by)))
        self.save(ended)
        return self._shown(SessionsEndedView.of(ended))
