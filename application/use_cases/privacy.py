"""Use cases of privacy: forgetting a person, what is recorded about one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from application.history import EventHistory
from application.privacy import is_pseudonym
from application.snapshots import ApprovalView
from application.use_cases.base import _ERASED_REF, NotOnRecordError, UseCasesBase, _about, _names


class PrivacyUseCases(UseCasesBase):
    def forget(self, who: str, person: str, reason: str = "") -> ApprovalView:
        """Ask to forget a person (a name, or #id as erased people are shown): someone
        else with the approver or admin role grants it, then altlas destroys their key."""
        self.access.check(who, "forget")
        return self.app.request_erasure(self._on_record(person), who, reason)

    def personal_data(self, who: str, person: str) -> Iterator[dict[str, Any]]:
        """Every event that names the person or holds what they wrote, as people read it
        (a data-access request); checked before the first one."""
        self.access.check(who, "personal_data")
        subject = self._on_record(person)
        text = person.strip()
        name = None if _ERASED_REF.match(text) or is_pseudonym(text) else text
        return (self.app.privacy.reveal(_about(r)) for r in EventHistory(self.app).read()
                if _names(r, subject, name))

    def _on_record(self, person: str) -> str:
        """The pseudonym of a person on record; a clear refusal for anyone else."""
        text = person.strip()
        found = _ERASED_REF.match(text)
        if found or is_pseudonym(text):
            subject = f"p-{found.group(1)}" if found else text
            if self.app.privacy.keys.known([subject]) or self.app.erasure_status(subject):
                return subject
            raise NotOnRecordError(f"no person #{subject[2:]} is on record; nothing changed",
                                   person)
        named = self.app.privacy.find(text)
        if named is None:
            raise NotOnRecordError(f"no one named {text!r} is on record (never, or forgotten "
                                   "already); nothing changed", person)
        return named
