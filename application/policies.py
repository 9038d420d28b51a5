"""The process policies: what altlas does by itself after an event (DESIGN.md §5).

Nothing after a command depends on which front took it or whether that process still lives:
every continuation is a reaction to a recorded event, listed in EVENT_HANDLERS. A reaction
decides and collects new events; it does no I/O of its own. The worker that ran it records
the new events together with the position of the event it reacted to (application.app
AltlasApplication.react), then does the I/O the reaction asked for: the steps it claimed.
What people are told follows the events too, from each chat front (application/conversation.py,
its table TOLD).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.app import (
    ARENA,
    ATLAS,
    CORRELATOR,
    INCIDENTS,
    MODELS,
    PRIVACY,
    RUNNER,
    TRAINER,
    Reaction,
    run_id_of,
)
from application.enrichment import Enrichment, Remedy, generator_urls
from application.errors import NotFoundError
from application.incidents import IncidentDesk
from application.ports import Segmenter
from application.presenters import incident_environment
from application.segmentation import SEGMENTER_ACTOR, SegmentationService
from domain.alerts import Alert
from domain.approval import GRANTED, OPEN, Approval, ApprovalSubject
from domain.arena import Match
from domain.atlas import failure_text, pattern_of
from domain.base import AuditedAggregate, EventMeta, event_id, is_person
from domain.conditions import evaluate
from domain.duel import Duel, duel_of_task
from domain.erasure import REQUESTED, Erasure
from domain.errors import DomainError
from domain.incidents import OPEN as OPEN_INCIDENT
from domain.incidents import Incident, incident_id
from domain.knowledge import PatternWatch, watch_id
from domain.models import PROMOTE, REGISTRY_ID, ModelRegistry
from domain.plan import Plan, PlanError, PlanStep
from domain.risk import GateKind
from domain.run import AT_REST, FAILED, MANUAL, PENDING, RUNNING, SUCCEEDED, Run
from domain.task import MAX_QUESTIONS, Task
from domain.training import NotPromotableError, Training

log = logging.getLogger("altlas.policies")


@dataclass(frozen=True)
class Ports:
    """What the reactions need from outside: the segmenters (a model may take seconds), the
    outcomes of a pattern's runs so far (the .atlas view), and the correlator."""

    segmentation: SegmentationService
    outcomes: Callable[[str], list[tuple[str, str, str | None]]] | None = None
    incidents: IncidentDesk | None = None
    enrichment: Enrichment | None = None
    # an arena contender by its planner name (rules, local:NAME); KeyError when unknown
    contenders: Callable[[str], Segmenter] | None = None
    arena_run_weight: float = 0.5  # what a run's outcome weighs as a match, against a vote
    # starts the training worker of a training (its own process); None: nothing can train
    trainer: Callable[[UUID], None] | None = None


Event = AuditedAggregate.Event
Handler = Callable[[Any, Reaction, Ports], None]


def plan_task(event: Task.Requested | Task.Clarified, r: Reaction, ports: Ports) -> None:
    """Plan the request (with the answers given so far), ask the requester what no plan can
    tell, or reject it with the reason; a task planned by hand meanwhile is left as it is.
    The question expires like an approval."""
    task = r.get(Task, event.originator_id)
    if task.status != "requested":
        return
    outcome = ports.segmentation.plan(task)
    meta = _meta(task, SEGMENTER_ACTOR, event)
    asked = outcome.question
    if outcome.plan is None and asked is not None and len(task.answers) < MAX_QUESTIONS:
        seal = r.app.privacy.sealer(task.requester) if is_person(task.requester) else None
        task.ask(asked.about, seal(asked.text) if seal else asked.text, list(asked.choices),
                 (seal(asked.part) if seal else asked.part) if asked.part else None,
                 r.now + r.app.policy.expiry, meta)
        return
    if outcome.plan is None:  # why, quoting the request: redacted, then sealed as it is
        problem = r.app.redactor.text(outcome.problem).text
        task.reject(r.app.written(problem, meta.actor, task.requester) or "", meta)
        return
    plan_doc, gates = r.app.classify(Plan.from_document(outcome.plan), task.mode,
                                     task.requester)
    fallback = outcome.fallback_reason
    task.record_segmentation(
        plan_doc, gates, outcome.segmenter, meta,
        fallback_reason=r.app.written(r.app.redactor.text(fallback).text if fallback else None,
                                      meta.actor, task.requester))


def start_run(event: Task.Segmented, r: Reaction, ports: Ports) -> None:
    """Start the run, with an approval for each gated step, unless the task is a dream or
    its run was started by hand already."""
    task = r.get(Task, event.originator_id)
    if task.mode == "dream" or r.app.exists(run_id_of(task.id)):
        return
    run, approvals = r.app.open_run(task, _meta(task, task.requester, event), r.now)
    r.add(run, *approvals)


def advance_run(event: Event, r: Reaction, ports: Ports) -> None:
    """Skip what cannot run, claim what may run now for this worker, complete the run when
    every step is decided."""
    run_id = event.originator_id
    if isinstance(event, Approval.Event):
        approval_run = r.get(Approval, event.originator_id).run_id
        if approval_run is None:
            return
        run_id = approval_run
    run = r.get(Run, run_id)
    if run.completed:
        return
    plan = Plan.from_document(r.get(Task, run.task_id).plan)
    meta = _meta(run, RUNNER, event)
    progressed = True
    while progressed:  # a skip can decide the steps that need it
        progressed = False
        for step in plan.topological_order():
            state = run.steps[step.id]
            if state.status != PENDING or state.retrying:
                continue
            decision = _decide(run, step, r)
            if decision.action == "skip":
                run.skip_step(step.id, decision.reason, meta, cancelled=decision.cancelled)
                _withdraw_approval(run, step.id, decision.reason, r, event)
                progressed = True
            elif decision.action == "ask":
                asked = r.app.step_approval(r.get(Task, run.task_id), run.id, step.id, meta,
                                            r.now)
                run.ask_approval(step.id, asked.id, meta)
                r.add(asked)
            elif decision.action == "post":
                run.post_manual_step(step.id, decision.reason, meta)
                progressed = True
            elif decision.action == "run":
                approval_id = run.steps[step.id].approval_id
                approval = r.get(Approval, UUID(approval_id)) if approval_id else None
                run.start_step(step.id, meta, r.worker, approval)
                r.claim(run.id, step.id)
    if all(s.status in AT_REST for s in run.steps.values()):
        run.complete(meta, duration_ms=r.app.duration_ms(run))


def decided(event: Event, r: Reaction, ports: Ports) -> None:
    """A decided approval moves its run on, or settles the erasure or the change of model
    it was asked for."""
    approval = r.get(Approval, event.originator_id)
    match approval.subject:
        case ApprovalSubject.STEP:
            advance_run(event, r, ports)
        case ApprovalSubject.TRAINING:
            settle_training(event, approval, r, ports)
        case ApprovalSubject.REGISTRY:
            settle_activation(event, approval, r)
        case ApprovalSubject.ERASURE:
            settle_erasure(event, r, ports)


def settle_training(event: Event, approval: Approval, r: Reaction, ports: Ports) -> None:
    """Granted: the training worker starts, in a process of its own (it records
    TrainingStarted itself, once: a second start finds it started and leaves). Otherwise
    the training is withdrawn."""
    training = r.get(Training, approval.task_id)
    if training.status != "requested":
        return
    if not isinstance(event, Approval.Granted):
        training.withdraw(approval.decision_reason or approval.status,
                          _meta(training, TRAINER, event))
    elif ports.trainer is None:
        training.fail("no training worker can start here: install altlas[train]",
                      _meta(training, TRAINER, event))
    else:
        ports.trainer(training.id)


def settle_activation(event: Event, approval: Approval, r: Reaction) -> None:
    """Granted: the model, the adapter, or what planned before, plans from now on
    (ModelActivated, AdapterPromoted, ModelRolledBack). An adapter is promoted only if its
    latest evaluation still beats its base. Otherwise the request is withdrawn and what plans
    stays."""
    registry = r.get(ModelRegistry, REGISTRY_ID)
    pending = registry.pending
    if pending is None or pending["approval_id"] != str(approval.id):
        return
    meta = _meta(registry, MODELS, event)
    reason = approval.decision_reason or approval.status
    if isinstance(event, Approval.Granted) and pending.get("action") == PROMOTE:
        try:
            r.get(Training, UUID(pending["training_id"])).promotable()
        except NotPromotableError as e:
            registry.withdraw(approval.id, str(e), meta)
            return
    if isinstance(event, Approval.Granted):
        registry.activate(approval.id, meta)
    else:
        registry.withdraw(approval.id, reason, meta)


def settle_erasure(event: Event, r: Reaction, ports: Ports) -> None:
    """Granted: destroy the person's key, then record PersonForgotten. Destroying it is the
    one effect a reaction has itself: it must come before the event that says it is done,
    and a crash between the two only destroys nothing again when the reaction is retried.
    Denied, expired or cancelled: the request is withdrawn and nothing is forgotten."""
    approval = r.get(Approval, event.originator_id)
    try:
        erasure = r.get(Erasure, approval.task_id)
    except NotFoundError:
        return
    if erasure.status != REQUESTED or erasure.approval_id != approval.id:
        return
    meta = _meta(erasure, PRIVACY, event)
    if isinstance(event, Approval.Granted):
        r.app.privacy.forget(erasure.subject)
        erasure.forget(approval.id, meta)
    else:
        erasure.withdraw(approval.id, approval.decision_reason or approval.status, meta)


def plan_duel(event: Duel.Requested, r: Reaction, ports: Ports) -> None:
    """Each side plans the request as it would for a task (grounded and checked like any
    plan); a side that cannot says why. A duel about a task keeps that task's plan as a."""
    duel = r.get(Duel, event.originator_id)
    if duel.status != "requested":
        return
    plans: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for side, name in (("a", duel.a), ("b", duel.b)):
        if side == "a" and duel.plan_a is not None:
            plans[side], problems[side] = duel.plan_a, ""
            continue
        try:
            planner = (ports.contenders or _no_contenders)(name)
        except KeyError as e:
            plans[side], problems[side] = None, str(e.args[0] if e.args else e)
            continue
        outcome = SegmentationService(r.app, planner, None).plan(duel)
        plans[side] = outcome.plan
        problems[side] = "" if outcome.plan is not None else outcome.problem or "no plan"
    duel.record_plans(plans, problems, _meta(duel, ARENA, event))


def _no_contenders(name: str) -> Segmenter:
    raise KeyError(f"{name} cannot plan in this process: no arena here")


def completed(event: Run.Completed, r: Reaction, ports: Ports) -> None:
    watch_pattern(event, r, ports)
    count_duel_run(event, r, ports)


def count_duel_run(event: Run.Completed, r: Reaction, ports: Ports) -> None:
    """A run of a task the arena made an alternative for: its outcome is a match between the
    plan that ran and that alternative (MatchPlayed, source run)."""
    run = r.get(Run, event.originator_id)
    try:
        duel = r.get(Duel, duel_of_task(run.task_id))
    except NotFoundError:
        return
    if duel.run_counted or duel.status == "requested" or not duel.plans.get("b"):
        return  # counted, or no alternative to compare with
    meta = _meta(duel, ARENA, event)
    match = Match.record(duel.a, duel.b, duel.run_verdict(run.outcome or "failed"), meta,
                         source="run", weight=ports.arena_run_weight, task_id=duel.task_id)
    duel.count_run(str(run.id), run.outcome or "failed", match.id, meta)
    r.add(match)


def watch_pattern(event: Run.Completed, r: Reaction, ports: Ports) -> None:
    """A completed run counts toward its plan's pattern: a pattern that now fails too often,
    or no longer does, is said once (PatternSuccessLow, PatternSuccessRecovered). The view
    may not show this run yet: it is counted from the event."""
    if ports.outcomes is None:
        return
    run = r.get(Run, event.originator_id)
    task = r.get(Task, run.task_id)
    try:
        pattern = pattern_of(task.plan).key if task.plan is not None else None
    except PlanError:
        pattern = None
    if pattern is None:
        return
    seen = {run_id: (outcome, error) for run_id, outcome, error in ports.outcomes(pattern)}
    failed = [failure_text(s.id, s.error, s.output) for s in run.steps.values()
              if s.status == FAILED and s.error]
    seen.pop(str(run.id), None)
    seen[str(run.id)] = (event.outcome, failed[-1] if failed else None)
    errors = [error or outcome for outcome, error in seen.values() if outcome != SUCCEEDED]
    learning = r.app.policy.learning
    runs, successes = len(seen), sum(1 for o, _ in seen.values() if o == SUCCEEDED)
    try:
        watch = r.get(PatternWatch, watch_id(pattern))
    except NotFoundError:  # opened at its first crossing only: most patterns never cross
        if runs < learning.min_runs or successes / runs >= learning.low_success:
            return
        watch = PatternWatch.open(pattern, EventMeta(
            ATLAS, run.correlation_id, event_id(event.originator_id, event.originator_version)))
        r.add(watch)
    watch.observe(runs, successes, learning.low_success, learning.min_runs,
                  errors[-1] if errors else None, str(run.id), _meta(watch, ATLAS, event))


def correlate_alert(event: Alert.Received, r: Reaction, ports: Ports) -> None:
    """Put the alert in its incident: a new one, or one it relates to (by the topology,
    labels or words), merging the incidents it shows to have one cause; and record the
    occurrences its arrival shows to be over (their endsAt passed, or it fired again)."""
    if ports.incidents is None:
        return
    verdict = ports.incidents.decide(r.position, event)
    cause = event_id(event.originator_id, event.originator_version)
    for ended in verdict.ended:
        alert = r.get(Alert, UUID(ended.key))
        alert.expire(ended.at, ended.reason, EventMeta(CORRELATOR, ended.incident, cause))
    if verdict.incident is None or verdict.repeat:
        return
    meta = EventMeta(CORRELATOR, str(verdict.incident), cause)
    mine = {str(event.originator_id): event.fingerprint}
    incident = None if verdict.opened else _open_incident(r, verdict.incident)
    if incident is None:  # new; or the correlator's was never recorded, or has closed
        ident = verdict.incident
        if not verdict.opened and r.app.exists(ident):
            ident = incident_id(event.originator_id)
        r.add(Incident.open(ident, mine, f"{event.name or 'alert'} on {verdict.component}",
                            verdict.root_causes, event.starts_at, meta))
        return
    merged = []
    for other_id in verdict.merged:
        other = _open_incident(r, other_id)
        if other is not None and other is not incident:
            mine.update(other.merge_into(incident, meta))
            merged.append(str(other_id))
    incident.correlate(mine, merged, verdict.root_causes, meta)


def clear_alert(event: Alert.Resolved | Alert.Expired, r: Reaction, ports: Ports) -> None:
    """The alert leaves its incident; the incident resolves with its last firing alert."""
    if ports.incidents is None:
        return
    verdict = ports.incidents.decide(r.position, event)
    incident = _open_incident(r, verdict.incident) if verdict.incident else None
    if incident is not None:
        incident.clear(verdict.alert_id, event.ends_at, EventMeta(
            CORRELATOR, str(incident.id), event_id(event.originator_id,
                                                    event.originator_version)))


def enrich_incident(event: Incident.Opened, r: Reaction, ports: Ports) -> None:
    """Find the evidence of a new incident (its metrics, incidents like it), whatever
    happened to it meanwhile: a merged or resolved incident keeps what was found."""
    if ports.enrichment is None:
        return
    incident = r.get(Incident, event.originator_id)
    if incident.enriched:
        return
    alerts = {a: r.get(Alert, UUID(a)) for a in incident.alerts}
    found = ports.enrichment.findings(str(incident.id), incident.title, datetime.fromisoformat(
        incident.opened_at), incident.root_causes, generator_urls(alerts))
    meta = EventMeta(CORRELATOR, str(incident.id),
                     event_id(event.originator_id, event.originator_version))
    incident.enrich(found.to_event(), meta)
    remedy = ports.enrichment.remedy(incident.root_causes,
                                     [alerts[f].annotations for f in sorted(alerts)])
    if remedy is not None:
        _propose(incident, remedy, [a.labels for a in alerts.values()], r, meta)


def _propose(incident: Incident, remedy: Remedy, labels: list[dict[str, str]], r: Reaction,
             meta: EventMeta) -> None:
    """Ask for the remediation as a task of the incident's environment, told in the thread
    of the incident's message; its steps pass the gates like anyone's. A plan the policy no
    longer allows is left for the segmenter to make again; a request altlas cannot take (too
    long, an environment gone) is not proposed."""
    policy = r.app.policy
    environment = incident_environment(policy, incident, labels)
    channels = policy.environments[environment].oncall_channels if environment else {}
    front = next((f for f in ("slack", "discord") if f in channels), None)
    reply_to = {"front": front, "channel": channels[front], "incident": str(incident.id)} \
        if front else None
    try:
        task = Task.request_work(remedy.request, INCIDENTS, meta, environment=environment,
                                 source="incident", reply_to=reply_to)
    except DomainError as e:
        log.warning("incident %s: remediation %r not proposed: %s", incident.id,
                    remedy.request, e)
        return
    if remedy.plan is not None:
        try:
            plan_doc, gates = r.app.classify(Plan.from_document(remedy.plan), task.mode,
                                             INCIDENTS)
            task.record_segmentation(plan_doc, gates, f"atlas:{remedy.pattern}", meta)
        except DomainError as e:  # planned afresh instead
            log.info("incident %s: the .atlas plan no longer passes: %s", incident.id, e)
    r.add(task)
    incident.propose(task.id, remedy.request, remedy.source, remedy.pattern, meta)


def _open_incident(r: Reaction, ident: UUID) -> Incident | None:
    """The open incident the correlator names, following merges; None when it was never
    recorded (its first alerts came before this release correlated) or has closed."""
    for _ in range(10):
        try:
            incident = r.get(Incident, ident)
        except NotFoundError:
            return None
        if incident.merged_into is None:
            return incident if incident.status == OPEN_INCIDENT else None
        ident = UUID(incident.merged_into)
    return None


@dataclass(frozen=True)
class _Decision:
    action: str  # "wait", "skip", "ask" (for its approval), "post" (to a person) or "run"
    reason: str = ""
    cancelled: bool = False


_WAIT = _Decision("wait")
_RUN = _Decision("run")


def _decide(run: Run, step: PlanStep, r: Reaction) -> _Decision:
    state = run.steps[step.id]
    stopped = run.stopped_by
    if stopped is not None:
        return _Decision("skip", f"not run: the run stopped at {stopped.id}, whose outcome is "
                         "unknown", cancelled=True)
    for dep in state.needs:
        need = run.steps[dep]
        if need.status in (PENDING, RUNNING):
            return _WAIT
        if need.status == MANUAL:
            return _Decision("skip", f"needs {dep}, which is left to a person; do this by "
                             "hand too once it is done")
        if need.status != SUCCEEDED:
            how = "was cancelled" if need.cancelled else need.status
            return _Decision("skip", f"needs {dep}, which {how}", need.cancelled)
    condition = step.condition
    if condition is not None:
        verdict = evaluate(condition, {sid: s.facts for sid, s in run.steps.items()})
        if verdict.holds is None:
            return _Decision("skip", f"condition {condition} cannot be decided: "
                             f"{verdict.explanation}")
        if not verdict.holds:
            return _Decision("skip", f"condition not met: {verdict.explanation}")
    if state.gate == GateKind.MANUAL.value:
        return _Decision("post", f"{state.risk}: altlas never runs this; a person does it by "
                         "hand and confirms it")
    if state.gate == GateKind.APPROVAL.value:
        if state.approval_id is None:  # its condition held just now: people are asked
            return _Decision("ask")
        approval = r.get(Approval, UUID(state.approval_id))
        if approval.status == OPEN:
            return _WAIT
        if approval.status != GRANTED:
            return _Decision("skip", f"approval {approval.id} {approval.decision_reason}",
                             cancelled=True)
    return _RUN


def _withdraw_approval(run: Run, step_id: str, reason: str, r: Reaction, event: Event) -> None:
    """Nobody should be asked to approve a step that will not run."""
    approval_id = run.steps[step_id].approval_id
    if approval_id is None:
        return
    approval = r.get(Approval, UUID(approval_id))
    if approval.is_open:
        approval.cancel(f"step skipped: {reason}", _meta(approval, RUNNER, event))


def _meta(aggregate: AuditedAggregate, actor: str, cause: Event) -> EventMeta:
    return EventMeta(actor, aggregate.correlation_id,
                     event_id(cause.originator_id, cause.originator_version))


# What happens after each event. Events not listed change nothing by themselves.
EVENT_HANDLERS: dict[type[Event], Handler] = {
    Task.Requested: plan_task,            # plan it, ask back, or reject it with the reason
    Task.Clarified: plan_task,            # plan it again with the answer
    Task.Segmented: start_run,            # start the run, unless the mode is dream
    Run.Started: advance_run,             # run what may run at once, open the waits
    Run.StepSucceeded: advance_run,       # what needed it may run now
    Run.StepFailed: advance_run,          # what needed it is skipped (a retry waits)
    Run.StepSkipped: advance_run,
    Run.StepInterrupted: advance_run,     # run it again (read-only) or stop the run
    Approval.Granted: decided,            # the gated step runs; or the person is forgotten
    Approval.Denied: decided,             # the gated step and what needs it are cancelled
    Approval.Expired: decided,
    Approval.Cancelled: decided,
    Run.Completed: completed,             # the .atlas watches its pattern; a duel counts it
    Duel.Requested: plan_duel,            # each side of an arena duel plans the request
    Alert.Received: correlate_alert,      # open an incident, or join (and merge) one
    Alert.Resolved: clear_alert,          # the incident resolves with its last alert
    Alert.Expired: clear_alert,           # over without a resolved notice: the same
    Incident.Opened: enrich_incident,     # its metrics, anomalies, incidents like it
}

# Planning may wait seconds for a model: it follows the events on a lane of its own, so votes
# and step results never queue behind it. Each lane keeps its own place in the events.
# Alerts have their own lane too: a storm of them never delays a run.
_PLANNING: frozenset[type[Event]] = frozenset({Task.Requested, Task.Clarified,
                                               Duel.Requested})
_ALERTS: frozenset[type[Event]] = frozenset({Alert.Received, Alert.Resolved, Alert.Expired})
# Enriching waits for Prometheus: on a lane of its own, so correlation never queues behind it.
_ENRICHING: frozenset[type[Event]] = frozenset({Incident.Opened})
LANES: dict[str, frozenset[type[Event]]] = {
    "planning": _PLANNING,
    "runs": frozenset(EVENT_HANDLERS) - _PLANNING - _ALERTS - _ENRICHING,
    "incidents": _ALERTS,
    "enrichment": _ENRICHING,
}
