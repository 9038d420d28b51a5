"""Each event's stable name (`type_name`) by the topic the library stores it under, so that a
reader of the stored events names them without importing the aggregates (the command line's
`altlas events`). domain/catalog.py holds the classes; a unit test holds the two equal."""

from __future__ import annotations

# Module names that earlier releases recorded topics under, and where those classes are now:
# before 0.2 domain/ was installed as `altlas.domain`; before 0.9 the matches were domain/arena.py.
OLD_MODULES = {"altlas.domain": "domain", "domain.arena": "domain.matches"}

TYPE_NAMES = {
    "domain.task:Task.Requested": "TaskRequested",
    "domain.task:Task.Segmented": "TaskSegmented",
    "domain.task:Task.ClarificationRequested": "TaskClarificationRequested",
    "domain.task:Task.Clarified": "TaskClarified",
    "domain.task:Task.ClarificationExpired": "TaskClarificationExpired",
    "domain.task:Task.Rejected": "TaskRejected",
    "domain.run:Run.Started": "RunStarted",
    "domain.run:Run.StepStarted": "StepStarted",
    "domain.run:Run.StepSucceeded": "StepSucceeded",
    "domain.run:Run.StepFailed": "StepFailed",
    "domain.run:Run.StepSkipped": "StepSkipped",
    "domain.run:Run.StepInterrupted": "StepInterrupted",
    "domain.run:Run.StepApprovalAsked": "StepApprovalAsked",
    "domain.run:Run.ManualStepPosted": "ManualStepPosted",
    "domain.run:Run.ManualStepConfirmed": "ManualStepConfirmed",
    "domain.run:Run.Completed": "RunCompleted",
    "domain.approval:Approval.Requested": "ApprovalRequested",
    "domain.approval:Approval.VoteCast": "ApprovalVoteCast",
    "domain.approval:Approval.Granted": "ApprovalGranted",
    "domain.approval:Approval.Denied": "ApprovalDenied",
    "domain.approval:Approval.Expired": "ApprovalExpired",
    "domain.approval:Approval.AttemptRefused": "ApprovalAttemptRefused",
    "domain.approval:Approval.Cancelled": "ApprovalCancelled",
    "domain.erasure:Erasure.Opened": "ErasureOpened",
    "domain.erasure:Erasure.Requested": "ErasureRequested",
    "domain.erasure:Erasure.Withdrawn": "ErasureWithdrawn",
    "domain.erasure:Erasure.Forgotten": "PersonForgotten",
    "domain.knowledge:AtlasImport.Imported": "AtlasImported",
    "domain.knowledge:PatternWatch.Opened": "PatternWatchOpened",
    "domain.knowledge:PatternWatch.Low": "PatternSuccessLow",
    "domain.knowledge:PatternWatch.Recovered": "PatternSuccessRecovered",
    "domain.matches:Match.Played": "MatchPlayed",
    "domain.alerts:Alert.Received": "AlertReceived",
    "domain.alerts:Alert.Refreshed": "AlertRefreshed",
    "domain.alerts:Alert.Resolved": "AlertResolved",
    "domain.alerts:Alert.Expired": "AlertExpired",
    "domain.incidents:Incident.Opened": "IncidentOpened",
    "domain.incidents:Incident.AlertsCorrelated": "AlertsCorrelated",
    "domain.incidents:Incident.AlertCleared": "IncidentAlertResolved",
    "domain.incidents:Incident.Enriched": "IncidentEnriched",
    "domain.incidents:Incident.RemediationProposed": "RemediationProposed",
    "domain.incidents:Incident.Merged": "IncidentMerged",
    "domain.incidents:Incident.Resolved": "IncidentResolved",
    "domain.models:ModelRegistry.Opened": "ModelRegistryOpened",
    "domain.models:ModelRegistry.Registered": "ModelRegistered",
    "domain.models:ModelRegistry.ActivationRequested": "ModelActivationRequested",
    "domain.models:ModelRegistry.Activated": "ModelActivated",
    "domain.models:ModelRegistry.PromotionRequested": "AdapterPromotionRequested",
    "domain.models:ModelRegistry.Promoted": "AdapterPromoted",
    "domain.models:ModelRegistry.RollbackRequested": "ModelRollbackRequested",
    "domain.models:ModelRegistry.RolledBack": "ModelRolledBack",
    "domain.models:ModelRegistry.ActivationWithdrawn": "ModelActivationWithdrawn",
    "domain.duel:Duel.Requested": "ArenaRequested",
    "domain.duel:Duel.Planned": "ArenaPlanned",
    "domain.duel:Duel.Voted": "ArenaVoted",
    "domain.duel:Duel.VoteRefused": "ArenaVoteRefused",
    "domain.duel:Duel.RunCounted": "ArenaRunCounted",
    "domain.training:Training.Requested": "TrainingRequested",
    "domain.training:Training.Started": "TrainingStarted",
    "domain.training:Training.Progressed": "TrainingProgressed",
    "domain.training:Training.AdapterTrained": "AdapterTrained",
    "domain.training:Training.Evaluated": "AdapterEvaluated",
    "domain.training:Training.Failed": "TrainingFailed",
    "domain.training:Training.Withdrawn": "TrainingWithdrawn",
    "domain.policy_history:PolicyHistory.Begun": "PolicyHistoryBegun",
    "domain.policy_history:PolicyHistory.Changed": "PolicyChanged",
    "domain.runbooks:Runbook.Opened": "RunbookOpened",
    "domain.runbooks:Runbook.Proposed": "RunbookProposed",
    "domain.runbooks:Runbook.Published": "RunbookPublished",
    "domain.runbooks:Runbook.ProposalWithdrawn": "RunbookProposalWithdrawn",
    "domain.runbooks:Runbook.Retired": "RunbookRetired",
    "domain.triggers:Trigger.Created": "TriggerCreated",
    "domain.triggers:Trigger.Delivered": "TriggerDelivered",
    "domain.triggers:Trigger.Fired": "TriggerFired",
    "domain.triggers:Trigger.Missed": "TriggerMissed",
    "domain.triggers:Trigger.Paused": "TriggerPaused",
    "domain.triggers:Trigger.Resumed": "TriggerResumed",
    "domain.triggers:Trigger.Removed": "TriggerRemoved",
    "domain.voice:Hearing.Doubted": "HearingDoubted",
    "domain.voice:Hearing.Confirmed": "HearingConfirmed",
    "domain.voice:Hearing.Rejected": "HearingRejected",
    "domain.sessions:DashboardSessions.Ended": "DashboardSessionsEnded",
}


def type_name_of(topic: str) -> str:
    """The event's stable name; an event class this release no longer knows keeps its
    topic."""
    module, _, name = topic.partition(":")
    for old, now in OLD_MODULES.items():
        if module == old or module.startswith(f"{old}."):
            module = now + module.removeprefix(old)
            break
    return TYPE_NAMES.get(f"{module}:{name}", topic)
