"""The use cases every front shares: chat, HTTP and the command line call these, with the
person who is asking, and render what comes back. Each checks access in one place
(application/access.py); what happens afterwards is the reactions' business. One module per
area, combined here.
"""

from __future__ import annotations

from application.use_cases.approvals import ApprovalUseCases
from application.use_cases.audit import AuditUseCases
from application.use_cases.base import (
    Filters,
    NoIncidentError,
    NotOnCallError,
    NotOnRecordError,
    Page,
    StateAt,
)
from application.use_cases.incidents import IncidentUseCases
from application.use_cases.knowledge import KnowledgeUseCases
from application.use_cases.models import ModelUseCases
from application.use_cases.privacy import PrivacyUseCases
from application.use_cases.runbooks import RunbookUseCases
from application.use_cases.runs import RunUseCases
from application.use_cases.sessions import SessionUseCases
from application.use_cases.tasks import TaskUseCases
from application.use_cases.voice import Ears, Heard, VoiceUseCases

__all__ = ["Ears", "Filters", "Heard", "NoIncidentError", "NotOnCallError",
           "NotOnRecordError", "Page", "StateAt", "UseCases"]


class UseCases(TaskUseCases, RunUseCases, ApprovalUseCases, AuditUseCases, PrivacyUseCases,
               KnowledgeUseCases, IncidentUseCases, ModelUseCases, RunbookUseCases,
               VoiceUseCases, SessionUseCases):
    """Every area's use cases (application/use_cases/base.py holds what they share)."""
