"""Use cases of the dashboard's sessions: ending every session of a person, on every `serve`."""

from __future__ import annotations

from application.errors import NotFoundError
from application.snapshots import SessionsEndedView
from application.use_cases.base import UseCasesBase
from domain.errors import InvalidInputError


class SessionUseCases(UseCasesBase):
    def end_sessions(self, who: str, person: str) -> SessionsEndedView:
        """End every dashboard session ``person`` opened until now, on every `serve` of the
        store, and record who did it: a person ends their own, an admin anyone's. The
        sessions end first, so the record says what happened; should recording fail, the
        caller is told and ending again is harmless."""
        self.access.check(who, "end_sessions", owner=person)
        people = self.access.policy.people
        if person not in people:
            raise NotInPolicyError(
                f"{person!r} is not a person in the policy, so has no dashboard session to "
                "end (whoever is taken out of the policy is signed out at their next click); "
                f"name one of: {', '.join(sorted(people))}")
        if self._sign_outs is None:
            raise InvalidInputError("dashboard sessions are not kept here")
        self._sign_outs().end_everywhere(person)
        return self.app.record_sessions_ended(person, who)


class NotInPolicyError(NotFoundError):
    """A person the policy does not name: they have no session to end."""
