"""Commands of privacy: asking to forget a person."""

from __future__ import annotations

from application.core import AppCore
from application.errors import (
    NotFoundError,
)
from application.snapshots import ApprovalView
from domain.approval import Approval, ApprovalSubject
from domain.base import EventMeta
from domain.erasure import Erasure, erasure_id


class PrivacyCommands(AppCore):
    def request_erasure(self, subject: str, requester: str, reason: str = "") -> ApprovalView:
        """Ask to forget ``subject`` (a pseudonym): once someone else grants the approval
        this opens, the reactions destroy their key and record PersonForgotten."""
        who = self.privacy.pseudonym(requester)
        text = reason.strip()
        ident = erasure_id(subject)

        def command() -> Approval:
            meta = EventMeta.for_command(who)
            try:
                erasure = self._cached(Erasure, ident)
            except NotFoundError:
                erasure = Erasure.open(subject, meta)
            approval = self._installation_approval(
                ApprovalSubject.ERASURE, ident, "forget", "privacy", who,
                excluded=frozenset({subject}),
                reason=f"forget {subject}" + (f": {self.privacy.seal(who, text)}" if text
                                              else ""),
                meta=EventMeta(who, erasure.correlation_id, meta.causation_id),
                refusal="forgetting a person needs an approver or an admin other than who "
                        "asks and who is forgotten; add one to the policy")
            try:
                erasure.request(who, self.privacy.seal(who, text) if text else "",
                                approval.id, EventMeta(who, erasure.correlation_id,
                                                       meta.causation_id))
                self.save(erasure, approval)
            except BaseException:
                self._forget(ident)
                raise
            return approval

        with self._turn(ident), self._revealing():
            return self._shown(ApprovalView.of(self._retrying(command)))

    def erasure_status(self, subject: str) -> str | None:
        """Whether forgetting ``subject`` was asked for (requested), done (forgotten) or
        neither (idle); None if nobody ever asked."""
        try:
            return self._read(Erasure, erasure_id(subject), lambda e: e.status)
        except NotFoundError:
            return None
