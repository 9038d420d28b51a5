"""One view model per thing altlas shows people: a plan, a run, an approval card.

Every medium renders these: plain text for the command line and chat (application/text.py),
Slack's Block Kit and Discord's components (bots/). The models hold what is true; the
renderers decide how it reads, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only read from: the command line's reads import no aggregate
    from application.snapshots import ApprovalView, RunView, TaskView
    from domain.incidents import Incident
    from domain.policy import Policy


@dataclass(frozen=True)
class PlanStepModel:
    id: str
    kind: str
    action: str
    target: str | None
    needs: tuple[str, ...]
    risk: str
    gate: str
    required: int
    eligible: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class PlanModel:
    task_id: str
    request: str
    requester: str
    persona: str
    mode: str
    status: str
    segmenter: str | None
    fallback_reason: str | None
    rejection: str | None
    steps: tuple[PlanStepModel, ...]

    @classmethod
    def of(cls, task: TaskView) -> PlanModel:
        gates = {g["step_id"]: g for g in task.gates}
        steps = tuple(
            PlanStepModel(
                id=s["id"], kind=s["kind"], action=s["action"],
                target=gates[s["id"]]["target"], needs=tuple(s.get("needs", ())),
                risk=gates[s["id"]]["risk"], gate=gates[s["id"]]["gate"],
                required=gates[s["id"]]["required"],
                eligible=tuple(gates[s["id"]]["eligible"]), reason=gates[s["id"]]["reason"])
            for s in (task.plan or {}).get("steps", []))
        return cls(task.id, task.request, task.requester, task.persona, task.mode, task.status,
                   task.segmenter, task.fallback_reason, task.rejection, steps)


@dataclass(frozen=True)
class RunStepModel:
    id: str
    status: str
    risk: str
    gate: str
    duration_ms: int | None
    error: str | None
    output: str
    approval_id: str | None
    waiting_for: int | None  # approvals still needed, while its approval is open
    manual: str | None  # what a person should do, for a step altlas never runs
    confirmed_by: str | None = None  # who did it by hand and said so
    redacted: int = 0  # credentials taken out of what it printed or failed with
    asks_when: str | None = None  # a gated step's condition: approval is asked once it holds


@dataclass(frozen=True)
class RunModel:
    run_id: str
    task_id: str
    request: str
    outcome: str | None
    steps: tuple[RunStepModel, ...]

    @classmethod
    def of(cls, run: RunView, task: TaskView,
           approvals: Mapping[str, ApprovalView]) -> RunModel:
        planned = {s["id"]: s for s in (task.plan or {}).get("steps", [])}
        steps = []
        for s in run.steps:
            approval = approvals.get(s.approval_id or "")
            waiting = (approval.remaining if approval is not None and s.status == "pending"
                       and approval.status == "open" else None)
            manual = planned.get(s.id, {}).get("action") if s.gate == "manual" else None
            asks_when = (planned.get(s.id, {}).get("when") if s.gate == "approval"
                         and s.approval_id is None and s.status == "pending" else None)
            steps.append(RunStepModel(s.id, s.status, s.risk, s.gate, s.duration_ms, s.error,
                                      s.output, s.approval_id, waiting, manual,
                                      s.confirmed_by, s.redacted, asks_when))
        return cls(run.id, run.task_id, task.request, run.outcome, tuple(steps))

    @property
    def waiting(self) -> tuple[RunStepModel, ...]:
        """Steps waiting for people: nothing more happens to them until someone votes."""
        return tuple(s for s in self.steps if s.waiting_for is not None)


@dataclass(frozen=True)
class CardModel:
    """Everything an approval message shows, whatever the medium draws it with."""

    approval: ApprovalView
    task: TaskView
    step: dict[str, Any]
    oncall: tuple[str, ...]
    run_outcome: str | None = None

    @property
    def open(self) -> bool:
        return self.approval.status == "open"

    @classmethod
    def of(cls, approval: ApprovalView, task: TaskView, run_outcome: str | None,
           policy: Policy) -> CardModel:
        step: dict[str, Any] = next((s for s in (task.plan or {}).get("steps", [])
                                     if s["id"] == approval.step_id), {})
        return cls(approval, task, step, oncall_of(policy, approval.environment), run_outcome)


def oncall_of(policy: Policy, environment: str | None) -> tuple[str, ...]:
    """The people of an environment's on-call group."""
    env = policy.environments.get(environment or "")
    return tuple(sorted(policy.groups.get(env.oncall_group or "", ()))) if env else ()


def incident_model(incident: Incident) -> dict[str, Any]:
    """An incident as its events leave it, shaped like the incidents view's rows."""
    return {
        "id": str(incident.id), "title": incident.title, "status": incident.status,
        "opened_at": incident.opened_at, "resolved_at": incident.resolved_at,
        "merged_into": incident.merged_into,
        "alerts": alert_list(incident.alerts, incident.firing),
        "root_causes": incident.root_causes, "summary": incident.summary,
        "remediation": incident.remediation,
    }


def alert_list(alerts: Mapping[str, str], firing: Iterable[str]) -> list[dict[str, Any]]:
    """An incident's alerts (alert id → fingerprint), by fingerprint and then id."""
    live = set(firing)
    return [{"fingerprint": f, "alert_id": a, "firing": a in live}
            for a, f in sorted(alerts.items(), key=lambda item: (item[1], item[0]))]


def incident_environment(policy: Policy, incident: Incident,
                         labels: Iterable[Mapping[str, str]]) -> str | None:
    return incident.environment(
        {h.name: h.environment for h in policy.hosts.values()},
        {s.name: s.hosts for s in policy.services.values()}, labels, policy.environments)
