"""The altlas application: one method per use case, ids and primitives in and out.

It also reacts to its own events (application/reactions/): a reaction's new events and the
position of the event it reacted to are recorded in one transaction, by the event store's
process recorder and its tracking records, so each event is reacted to once, whichever
process gets there first.
"""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ProcessRecorder, RecordConflictError, Recording, Tracking
from eventsourcing.utils import register_topic

import domain
from application.access import installation_approvers
from application.documents import DocumentError, schema_errors
from application.errors import (
    ConcurrentUpdateError,
    NotFoundError,
    TaskNotReadyError,
    UnknownEnvironmentError,
)
from application.ports import Clock, PersonKeys, system_clock
from application.privacy import Privacy, is_pseudonym
from application.signal import Signal
from application.snapshots import ApprovalView, RunView, TaskView
from domain.alerts import FIRING, Alert, IncomingAlert, alert_id
from domain.approval import Approval, ApprovalSubject
from domain.base import AuditedAggregate, EventMeta, Seal, as_written, is_person
from domain.duel import Duel, DuelDecidedError, MakerCannotJudgeError, duel_of_task
from domain.erasure import Erasure, erasure_id
from domain.errors import ConflictError, DomainError, InvalidInputError
from domain.knowledge import AtlasImport, import_id
from domain.matches import Match
from domain.models import REGISTRY_ID, ModelRegistry, UnknownModelError
from domain.plan import Plan
from domain.policy import Policy
from domain.risk import GateKind, RiskLevel, Tier
from domain.run import Run
from domain.secrets import Redactor, plan_problems
from domain.task import Task
from domain.training import Training

# Releases before 0.2 installed domain/ as `altlas.domain`, and stored events name their classes
# by that topic (`altlas.domain.task:Task.Requested`): they resolve to the same classes.
register_topic("altlas.domain", domain)
# Before 0.9 the matches between planners were domain/arena.py.
register_topic("domain.arena", domain.matches)

RUNNER = "altlas:runner"
SCHEDULER = "altlas:scheduler"
PRIVACY = "altlas:privacy"
MODELS = "altlas:models"  # who records a change of model, once approved
ARENA = "altlas:arena"  # who records a duel's plans, and what its task's run made of it
TRAINER = "altlas:trainer"  # who records a training's progress and its adapter
ATLAS = "altlas:atlas"
ALERTMANAGER = "altlas:alertmanager"  # alerts are recorded as the sender's, not a person's
CORRELATOR = "altlas:correlator"
INCIDENTS = "altlas:incidents"  # who asks for the remediation of an incident
MAX_ATTEMPTS = 20
LOADED = 256  # aggregates whose last loaded state each process keeps, to bring up to date
_RUNS = uuid5(NAMESPACE_URL, "urn:altlas:runs")

T = TypeVar("T")
A = TypeVar("A", bound=AuditedAggregate)


def run_id_of(task_id: UUID) -> UUID:
    """A task's run has an id derived from the task's, so starting it twice conflicts."""
    return uuid5(_RUNS, str(task_id))


class AltlasApplication(Application[UUID]):
    name = "altlas"

    def __init__(self, policy: Policy, clock: Clock = system_clock,
                 env: dict[str, str] | None = None, *, keys: PersonKeys,
                 redactor: Redactor | None = None) -> None:
        super().__init__(env=env)
        self.policy = policy
        self.clock = clock
        # People are named by pseudonym in every event, and what they write is sealed with
        # their own key: names in, names out, at this class's methods (application/privacy.py).
        self.privacy = Privacy(keys)
        # what step outcomes are cleaned of before they are recorded (domain/secrets.py)
        self.redactor = redactor or Redactor()
        self.recorder: ProcessRecorder
        self.recorded = Signal()  # set after every save in this process: followers wake on it
        # Commands on one aggregate take turns within this process (200 people clicking at
        # once would otherwise mostly retry); across processes optimistic concurrency decides.
        self._turns = tuple(threading.Lock() for _ in range(64))
        self._loaded: LRUCache[UUID, Any] = LRUCache(LOADED)

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: an application recorder that can also record, in the same
        transaction as new events, how far a follower of the events has got."""
        return self.factory.process_recorder()

    def save(self, *aggregates: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, without its runtime Protocol checks (a fifth of a command's
        time, bench/append.py): altlas saves only its own aggregates."""
        processing = ProcessingEvent[UUID]()
        _collect(processing, aggregates)
        recordings = self._record(processing)
        self._notify(recordings)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        if recordings:
            self.recorded.notify()

    # -- tasks ------------------------------------------------------------------------

    def request_task(
        self, request: str, requester: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None, source: str = "api",
        chaos_level: int | None = None, reply_to: dict[str, str] | None = None,
    ) -> UUID:
        self._check_environment(environment)
        who = self.privacy.pseudonym(requester)
        with self._revealing():
            task = Task.request_work(request, who, EventMeta.for_command(who), mode=mode,
                                     persona=persona, environment=environment, source=source,
                                     chaos_level=chaos_level, reply_to=reply_to,
                                     seal=self.privacy.sealer(who))
        self.save(task)
        return task.id

    def record_segmentation(
        self, task_id: UUID, document: Any, *, segmenter: str, actor: str,
        fallback_reason: str | None = None,
    ) -> TaskView:
        """Check a plan against the policy and record it with each step's risk and gate."""
        plan = Plan.from_document(document)

        def segment(task: Task, meta: EventMeta) -> None:
            plan_doc, gates = self.classify(plan, task.mode, task.requester)
            task.record_segmentation(
                plan_doc, gates, segmenter, meta,
                fallback_reason=self.written(fallback_reason, meta.actor, task.requester))

        return self._shown(TaskView.of(self._change(Task, task_id, actor, segment)))

    def submit_plan(
        self, request: str, document: Any, requester: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None,
        chaos_level: int | None = None, segmenter: str = "hand-written", source: str = "alt",
        reply_to: dict[str, str] | None = None,
    ) -> TaskView:
        """A plan written by hand: the task and its plan are recorded together, after the
        same checks a segmenter's plan passes, or nothing is recorded."""
        self._check_environment(environment)
        who = self.privacy.pseudonym(requester)
        plan_doc, gates = self.classify(Plan.from_document(document), mode, who)
        meta = EventMeta.for_command(who)
        with self._revealing():
            task = Task.request_work(request, who, meta, mode=mode, persona=persona,
                                     environment=environment, source=source,
                                     chaos_level=chaos_level, reply_to=reply_to,
                                     seal=self.privacy.sealer(who))
            task.record_segmentation(plan_doc, gates, segmenter,
                                     EventMeta(who, task.correlation_id, meta.causation_id))
        self.save(task)
        return self._shown(TaskView.of(task))

    def reject_task(self, task_id: UUID, reason: str, *, actor: str) -> TaskView:
        def reject(task: Task, meta: EventMeta) -> None:
            task.reject(self.written(reason, meta.actor, task.requester) or "", meta)

        return self._shown(TaskView.of(self._change(Task, task_id, actor, reject)))

    def answer_task(self, task_id: UUID, answer: str, *, by: str,
                    deputies: Collection[str] = ()) -> TaskView:
        """The requester's answer to what altlas asked (or, for altlas's own requests, a
        deputy's): planning starts again with it."""
        def clarify(task: Task, meta: EventMeta) -> None:
            task.clarify(answer, meta, self.clock(), seal=self.privacy.sealer(meta.actor),
                         deputies=[self._as_recorded(d, task.requester) for d in deputies])

        return self._shown(TaskView.of(self._change(Task, task_id, by, clarify)))

    def expire_question(self, task_id: UUID, *, actor: str = SCHEDULER) -> TaskView:
        def expire(task: Task, meta: EventMeta) -> None:
            task.expire_question(self.clock(), meta)

        return self._shown(TaskView.of(self._change(Task, task_id, actor, expire)))

    def check_plan(self, document: Any, mode: str = "normal", requester: str | None = None
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What recording this plan would record — each step's risk and gate — or the
        error that would refuse it; records nothing."""
        return self.classify(Plan.from_document(document), mode, requester)

    def classify(self, plan: Plan, mode: str, requester: str | None
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Each step's risk and gate by the policy; a gate nobody could pass is refused now
        rather than when the run starts. Each step's params must match their kind's schema,
        so nothing malformed reaches an executor; a credential is never written into a plan
        (it would stay in the history for ever), only referred to as {secret:NAME}."""
        doc = plan.to_document()
        problems = schema_errors(doc) + plan_problems(doc)
        if problems:
            raise DocumentError(problems)
        gates = []
        named = self._naming(requester)
        for step, step_doc in zip(plan.steps, doc["steps"], strict=True):
            verdict = self.policy.classify(step)
            tier = self.policy.environments[verdict.environment].tier
            if mode == "chaos" and tier is not Tier.DEV:
                raise InvalidInputError(
                    f"step {step.id}: chaos mode runs only in dev, not in {verdict.environment}"
                )
            gate = self.policy.gate(step, verdict)
            eligible = frozenset(named(p) for p in gate.eligible)
            counting = eligible - {named(requester) if requester else None}
            if gate.kind is GateKind.APPROVAL and len(counting) < gate.required:
                raise InvalidInputError(
                    f"step {step.id}: {verdict.risk.value} in {verdict.environment} needs "
                    f"{gate.required} approval(s) but only {len(counting)} eligible people "
                    "besides the requester exist; fix the policy's approver groups")
            step_doc["risk"] = verdict.risk.value
            gates.append({
                "step_id": step.id, "risk": verdict.risk.value, "effect": verdict.effect.value,
                "environment": verdict.environment, "target": verdict.target,
                "gate": gate.kind.value, "required": gate.required,
                "eligible": sorted(eligible), "expires_in_s": gate.expires_in.total_seconds(),
                "reason": f"{verdict.reason}; {gate.reason}",
            })
        return doc, gates

    def _check_environment(self, environment: str | None) -> None:
        if environment is not None and environment not in self.policy.environments:
            known = ", ".join(self.policy.environments)
            raise UnknownEnvironmentError(
                f"unknown environment {environment!r}; use one of {known}")

    # -- runs -------------------------------------------------------------------------

    def open_run(self, task: Task, meta: EventMeta, now: datetime
                 ) -> tuple[Run, list[Approval]]:
        """The run of a segmented task, with an approval for every gated step that has no
        condition (not saved); a conditional one asks once its condition holds."""
        if task.status != "segmented":
            raise TaskNotReadyError(f"task {task.id} is {task.status}; only a segmented task "
                                    "can run")
        if task.mode == "dream":
            raise TaskNotReadyError(f"task {task.id} is a dream: its plan is shown, never run")
        run_id = run_id_of(task.id)
        plan = Plan.from_document(task.plan)
        approvals: list[Approval] = []
        steps = []
        for step, gate in zip(plan.steps, task.gates, strict=True):
            approval_id = None
            if gate["gate"] == GateKind.APPROVAL.value and step.condition is None:
                approval = self.step_approval(task, run_id, step.id, meta, now)
                approvals.append(approval)
                approval_id = str(approval.id)
            steps.append({"id": step.id, "kind": step.kind, "risk": gate["risk"],
                          "gate": gate["gate"], "needs": list(step.needs),
                          "approval_id": approval_id})
        return Run.start(task.id, steps, meta, run_id=run_id), approvals

    @staticmethod
    def step_approval(task: Task, run_id: UUID, step_id: str, meta: EventMeta,
                      now: datetime) -> Approval:
        """The approval a gated step of the task's plan asks for (not saved)."""
        assert task.plan is not None  # a run is only ever opened for a planned task
        gate = task.gates[[s["id"] for s in task.plan["steps"]].index(step_id)]
        return Approval.request(
            subject=ApprovalSubject.STEP, task_id=task.id, run_id=run_id, step_id=step_id,
            risk=gate["risk"],            environment=gate["environment"], requester=task.requester,
            eligible=frozenset(gate["eligible"]), required=gate["required"],
            expires_at=now + timedelta(seconds=gate["expires_in_s"]),
            reason=gate["reason"], meta=meta, authors=frozenset(task.authors),
        )

    def start_run(self, task_id: UUID, *, actor: str) -> RunView:
        """Start a task's run by hand (the reactions start it when its plan is recorded)."""
        with self._turn(task_id):
            task = self._cached(Task, task_id)
        who = self._as_recorded(actor, task.requester)
        with self._revealing():
            run, approvals = self.open_run(task, EventMeta(who, task.correlation_id,
                                                           str(uuid4())), self.clock())
        try:
            self.save(run, *approvals)
        except RecordConflictError:
            raise RunAlreadyStartedError(
                f"task {task_id} already has its run {run.id}") from None
        return self._shown(RunView.of(run))

    def record_step_started(self, run_id: UUID, step_id: str, *, worker: str | None = None,
                            actor: str = RUNNER) -> None:
        """``worker`` claims the step (None: a person reports starting it by hand); the
        run checks the step's gate against its approval as recorded now."""
        def start(run: Run, meta: EventMeta) -> None:
            approval_id = run.steps[step_id].approval_id if step_id in run.steps else None
            approval = self.load(Approval, UUID(approval_id)) if approval_id else None
            run.start_step(step_id, meta, worker, approval)

        self._on_run(run_id, actor, start)

    def record_step_succeeded(self, run_id: UUID, step_id: str, *, exit_code: int | None,
                              output: str, duration_ms: int,
                              facts: dict[str, Any] | None = None, worker: str | None = None,
                              actor: str = RUNNER) -> None:
        """Recorded redacted, whoever reports it: a worker or a person."""
        output, _, facts, redacted = self._redacted(output, None, facts)

        def succeed(run: Run, meta: EventMeta) -> None:
            run.check_claim(step_id, worker, meta.actor)
            run.succeed_step(step_id, meta, exit_code=exit_code, output=output,
                             duration_ms=duration_ms, facts=facts, redacted=redacted)

        self._on_run(run_id, actor, succeed)

    def record_step_failed(self, run_id: UUID, step_id: str, *, error: str, exit_code: int | None,
                           output: str, duration_ms: int, will_retry: bool = False,
                           facts: dict[str, Any] | None = None, worker: str | None = None,
                           actor: str = RUNNER) -> None:
        output, failure, facts, redacted = self._redacted(output, error, facts)

        def fail(run: Run, meta: EventMeta) -> None:
            run.check_claim(step_id, worker, meta.actor)
            run.fail_step(step_id, meta, error=failure or "failed", exit_code=exit_code,
                          output=output, duration_ms=duration_ms, will_retry=will_retry,
                          facts=facts, redacted=redacted)

        self._on_run(run_id, actor, fail)

    def _redacted(self, output: str, error: str | None, facts: dict[str, Any] | None
                  ) -> tuple[str, str | None, dict[str, Any], int]:
        """A step's outcome as it may be recorded, and how many credentials it lost."""
        (output, error, facts), count = self.redactor.data([output, error, facts or {}])
        return output, error, facts, count

    def record_step_skipped(self, run_id: UUID, step_id: str, reason: str, *,
                            cancelled: bool = False, actor: str = RUNNER) -> None:
        def skip(run: Run, meta: EventMeta) -> None:
            run.skip_step(step_id, self.written(reason, meta.actor) or "", meta,
                          cancelled=cancelled)

        self._on_run(run_id, actor, skip)

    def interrupt_step(self, run_id: UUID, step_id: str, *, worker: str | None, why: str,
                       actor: str = RUNNER) -> None:
        """``worker`` is gone: the step it claimed runs again or fails as unknown. Nothing
        happens if the step has moved on or another worker has claimed it since."""
        def interrupt(run: Run, meta: EventMeta) -> None:
            step = run.steps.get(step_id)
            if step is not None and step.worker == worker and not run.completed:
                run.interrupt_step(step_id, meta, why=why)

        self._on_run(run_id, actor, interrupt)

    def confirm_manual_step(self, run_id: UUID, step_id: str, *, by: str,
                            note: str = "") -> RunView:
        """``by`` did a step altlas left to a person, and says so."""
        def confirm(run: Run, meta: EventMeta) -> None:
            run.confirm_manual_step(step_id, meta.actor, note, meta,
                                    seal=self.privacy.sealer(meta.actor))

        return self._shown(RunView.of(self._change(Run, run_id, by, confirm)))

    def complete_run(self, run_id: UUID, *, actor: str = RUNNER) -> RunView:
        def complete(run: Run, meta: EventMeta) -> None:
            run.complete(meta, duration_ms=self.duration_ms(run))

        return self._shown(RunView.of(self._change(Run, run_id, actor, complete)))

    def duration_ms(self, run: Run) -> int:
        elapsed = self.clock() - run.created_on
        return max(int(elapsed.total_seconds() * 1000), 0)

    def _on_run(self, run_id: UUID, actor: str,
                change: Callable[[Run, EventMeta], None]) -> None:
        self._change(Run, run_id, actor, change)

    # -- approvals --------------------------------------------------------------------

    def cast_vote(self, approval_id: UUID, voter: str) -> ApprovalView:
        return self._on_approval(approval_id, voter,
                                 lambda a, meta: a.cast_vote(meta.actor, self.clock(), meta))

    def deny_approval(self, approval_id: UUID, voter: str, reason: str) -> ApprovalView:
        return self._on_approval(approval_id, voter, lambda a, meta: a.deny(
            meta.actor, reason, self.clock(), meta, seal=self.privacy.sealer(meta.actor)))

    def expire_approval(self, approval_id: UUID, *, actor: str = SCHEDULER) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.expire(self.clock(), meta))

    def record_refused_attempt(self, approval_id: UUID, attempt: str, by: str,
                               reason: str) -> None:
        """Put a refused vote or denial on the record (at most one per person a minute);
        the approval stays as it was."""
        self._change(Approval, approval_id, by, lambda a, meta: a.record_refusal(
            attempt, meta.actor, reason, self.clock(), meta,
            seal=self.privacy.sealer(meta.actor)))

    def cancel_approval(self, approval_id: UUID, reason: str, *, actor: str) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.cancel(
            reason, meta, seal=self.privacy.sealer(meta.actor)))

    def _on_approval(self, approval_id: UUID, actor: str,
                     change: Callable[[Approval, EventMeta], None]) -> ApprovalView:
        return self._shown(ApprovalView.of(self._change(Approval, approval_id, actor, change)))

    # -- privacy ----------------------------------------------------------------------

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

    # -- models ---------------------------------------------------------------------------

    def register_model(self, actor: str, **model: Any) -> None:
        """Record a GGUF file in the registry (ModelRegistered); the registry opens with its
        first model."""
        def command() -> None:
            meta = EventMeta.for_command(self.privacy.pseudonym(actor))
            try:
                registry = self._cached(ModelRegistry, REGISTRY_ID)
            except NotFoundError:
                registry = ModelRegistry.open(meta)
            try:
                registry.register(meta, **model)
                self.save(registry)
            except BaseException:
                self._forget(REGISTRY_ID)
                raise

        with self._turn(REGISTRY_ID), self._revealing():
            self._retrying(command)

    def request_model_activation(self, model: str, requester: str, reason: str = ""
                                 ) -> ApprovalView:
        """Ask that the local segmenter plan with ``model``: once someone else grants the
        approval this opens, the reactions record ModelActivated."""
        return self._registry_change(
            requester, reason, f"plan with {model}", "activate", frozenset(),
            lambda registry, who, text, approval, meta: registry.request_activation(
                model, who, text, approval, meta), missing=model)

    def request_adapter_promotion(self, training_id: UUID, requester: str, reason: str = ""
                                  ) -> ApprovalView:
        """Ask that the adapter of ``training_id`` plan on its base: refused unless its
        latest evaluation beats the base; whoever asked for the training may not approve
        it. Once granted, the reactions record AdapterPromoted."""
        training = self.load(Training, training_id)
        measured = training.promotable()
        return self._registry_change(
            requester, reason, f"plan with the adapter {training.adapter_name}", "promote",
            frozenset({training.requester}),
            lambda registry, who, text, approval, meta: registry.request_promotion(
                adapter=training.adapter_name, base=training.base,
                path=measured["gguf_path"], sha256=measured["gguf_sha256"],
                training_id=training.id, requester=who, reason=text, approval_id=approval,
                meta=meta), missing=training.base)

    def request_model_rollback(self, requester: str, reason: str = "") -> ApprovalView:
        """Ask to go back to what planned before the last activation or promotion; once
        granted, the reactions record ModelRolledBack."""
        return self._registry_change(
            requester, reason, "roll back the model that plans", "rollback", frozenset(),
            lambda registry, who, text, approval, meta: registry.request_rollback(
                who, text, approval, meta), missing="any")

    def _registry_change(self, requester: str, reason: str, what: str, step: str,
                         makers: frozenset[str],
                         ask: Callable[[ModelRegistry, str, str, UUID, EventMeta], None], *,
                         missing: str) -> ApprovalView:
        """A change of what plans, asked for: an approval by an approver or admin other than
        who asks (and than ``makers``, pseudonyms) decides it."""
        who = self.privacy.pseudonym(requester)
        text = " ".join(reason.split())

        def command() -> Approval:
            try:
                registry = self._cached(ModelRegistry, REGISTRY_ID)
            except NotFoundError:
                raise UnknownModelError(f"no model is registered as {missing!r}: `altlas "
                                        "models add PATH` registers one", missing) from None
            meta = EventMeta(who, registry.correlation_id, str(uuid4()))
            approval = self._installation_approval(
                ApprovalSubject.REGISTRY, REGISTRY_ID, step, "models", who,
                excluded=makers,  # the makers chose what the adapter learned
                reason=what + (f": {text}" if text else ""), meta=meta,
                refusal="changing the model needs an approver or an admin other than who "
                        "asks (and who asked for its training); add one to the policy")
            try:
                ask(registry, who, text, approval.id, meta)
                self.save(registry, approval)
            except BaseException:
                self._forget(REGISTRY_ID)
                raise
            return approval

        with self._turn(REGISTRY_ID), self._revealing():
            return self._shown(ApprovalView.of(self._retrying(command)))

    def request_training(self, base: str, requester: str, *, dataset: str,
                         dataset_sha256: str, examples: int, by_source: dict[str, int],
                         hyperparameters: dict[str, Any], minimum: int,
                         training_id: UUID | None = None) -> ApprovalView:
        """Ask to train a LoRA adapter on ``base`` (TrainingRequested): once someone else
        grants the approval this opens, the reactions start the training worker."""
        who = self.privacy.pseudonym(requester)
        registry = self.model_registry()
        if registry is None:
            raise UnknownModelError(f"no model is registered as {base!r}: `altlas models add "
                                    "PATH` registers one", base)
        model = registry.model(base)
        training_id = training_id or uuid4()
        meta = EventMeta.for_command(who)
        approval = self._installation_approval(
            ApprovalSubject.TRAINING, training_id, "train", "models", who,
            excluded=frozenset(),
            reason=f"train a LoRA adapter on {base} from {examples} example(s)", meta=meta,
            refusal="training needs an approver or an admin other than who asks; add one to "
                    "the policy")
        training = Training.request(
            training_id, base=base, base_sha256=model["sha256"], dataset=dataset,
            dataset_sha256=dataset_sha256, examples=examples, by_source=by_source,
            hyperparameters=hyperparameters, requester=who, approval_id=approval.id,
            minimum=minimum, meta=EventMeta(who, str(training_id), meta.causation_id))
        self.save(training, approval)
        return self._shown(ApprovalView.of(approval))

    def _installation_approval(
        self, subject: ApprovalSubject, subject_id: UUID, step: str, environment: str,
        who: str, *, excluded: frozenset[str], reason: str, meta: EventMeta, refusal: str,
    ) -> Approval:
        """An approval of what concerns the whole installation (forgetting a person, the
        model that plans, a training): one vote by an approver or admin other than who asks
        and ``excluded``; ``refusal`` says why none could be asked when nobody is left."""
        eligible = frozenset(self.privacy.pseudonym(p)
                             for p in installation_approvers(self.policy))
        if not eligible - {who} - excluded:
            raise InvalidInputError(refusal)
        return Approval.request(
            subject=subject, task_id=subject_id, run_id=None, step_id=step,
            risk=RiskLevel.HIGH_RISK.value, environment=environment, requester=who,
            eligible=eligible, required=1, expires_at=self.clock() + self.policy.expiry,
            reason=reason, meta=meta, authors=excluded)

    def change_training(self, training_id: UUID, actor: str,
                        change: Callable[[Training, EventMeta], None]) -> Training:
        return self._change(Training, training_id, actor, change)

    def model_registry(self) -> ModelRegistry | None:
        """The registry as recorded now; None before its first model."""
        try:
            return self.load(ModelRegistry, REGISTRY_ID)
        except NotFoundError:
            return None

    def import_atlas(self, source: str, digest: str, exported_at: str,
                     patterns: list[dict[str, Any]], actor: str) -> bool:
        """Record another installation's .atlas (AtlasImported); False, and nothing recorded,
        when the same document was imported before."""
        ident = import_id(digest)
        with self._turn(ident):
            if self.exists(ident):
                return False
            meta = EventMeta.for_command(self.privacy.pseudonym(actor))
            try:
                self.save(AtlasImport.record(source, digest, exported_at, patterns, meta))
            except RecordConflictError:  # another process imported it just now
                return False
            return True

    def record_match(self, a: str, b: str, outcome: str, actor: str, *, source: str = "vote",
                     weight: float = 1.0, task_id: str | None = None) -> str:
        """Record who won a match between two planners (MatchPlayed); its id."""
        meta = EventMeta.for_command(self.privacy.pseudonym(actor))
        match = Match.record(a, b, outcome, meta, source=source, weight=weight, task_id=task_id)
        self.save(match)
        return str(match.id)

    # -- the arena ----------------------------------------------------------------------

    def request_duel(self, request: str, requester: str, a: str, b: str, *,
                     makers: list[str], environment: str | None = None,
                     reply_to: dict[str, str] | None = None,
                     task_id: UUID | None = None) -> UUID:
        """Ask two planners to plan ``request`` (ArenaRequested); with ``task_id``, side a is
        that task's recorded plan and b the alternative. The reactions plan the rest."""
        Duel.check_request(request)
        who = self.privacy.pseudonym(requester)
        plan_a = None
        if task_id is not None:
            task = self._read(Task, task_id, lambda t: t)
            if task.plan is None:
                raise TaskNotReadyError(f"task {task_id} has no plan yet to duel with")
            if self.exists(duel_of_task(task_id)):
                raise ConflictError(f"task {task_id} has its duel already")
            plan_a = task.plan
        meta = EventMeta.for_command(who)
        self._check_environment(environment)
        duel = Duel.request_duel(self.written(request, who) or "", who, a, b, meta,
                                 environment=environment, reply_to=reply_to, task_id=task_id,
                                 plan_a=plan_a, makers=[self.privacy.pseudonym(m)
                                                        for m in makers])
        self.save(duel)
        return duel.id

    def vote_duel(self, duel_id: UUID, voter: str, outcome: str) -> Duel:
        """A person's verdict (ArenaVoted, and the MatchPlayed it makes); a vote that does
        not count is put on the record (ArenaVoteRefused) and raised."""
        who = self.privacy.pseudonym(voter)

        def command() -> Duel:
            duel = self._cached(Duel, duel_id)
            meta = EventMeta(who, duel.correlation_id, str(uuid4()))
            try:
                duel.check_vote(who, outcome)
            except (MakerCannotJudgeError, DuelDecidedError) as e:
                duel.refuse_vote(who, self.privacy.reveal(str(e)), meta)
                self.save(duel)
                raise
            match = Match.record(duel.a, duel.b, outcome, meta, source="vote",
                                 task_id=duel.task_id)
            try:
                duel.vote(who, outcome, match.id, meta)
                self.save(duel, match)
            except BaseException:
                self._forget(duel_id)
                raise
            return duel

        with self._turn(duel_id), self._revealing():
            return self._retrying(command)

    def receive_alert(self, incoming: IncomingAlert) -> str:
        """Record one alert Alertmanager sent: see :meth:`receive_alerts`."""
        return self.receive_alerts([incoming])[0]

    def receive_alerts(self, batch: list[IncomingAlert]) -> list[str]:
        """Record the alerts of one webhook call, in one transaction: for each, ``received``
        (new), ``refreshed`` (sent again while firing, its last-seen time or expected end
        moved on), ``resolved`` or ``unchanged`` (a repeat of what is recorded). Credentials
        in labels and annotations are taken out first."""
        cleaned = [(alert_id(a.fingerprint, a.starts_at), a,
                    self.redactor.data([a.labels, a.annotations])[0]) for a in batch]

        def command() -> list[str]:
            meta = EventMeta.for_command(ALERTMANAGER)
            now = self.clock()
            alerts: dict[UUID, Alert] = {}
            said = []
            for ident, incoming, (labels, notes) in cleaned:
                alert = alerts.get(ident)
                outcome = "unchanged"
                if alert is None:
                    try:
                        alert = self.load(Alert, ident)
                    except NotFoundError:
                        alert = Alert.receive(incoming.fingerprint, labels, notes,
                                              incoming.starts_at, now, meta,
                                              incoming.expected_end, **incoming.sender)
                        outcome = "received"
                    alerts[ident] = alert
                if incoming.resolved:
                    if alert.resolve(max(incoming.ends_at or incoming.starts_at,
                                         incoming.starts_at), meta) and outcome == "unchanged":
                        outcome = "resolved"
                elif outcome == "unchanged" and alert.status == FIRING and alert.refresh(
                        now, incoming.expected_end, meta):
                    outcome = "refreshed"
                said.append(outcome)
            self.save(*alerts.values())
            return said

        return self._retrying(command)

    def expire_alert(self, ident: UUID, ends_at: datetime, reason: str, incident: str) -> bool:
        """An alert over without a resolved notice (its endsAt passed): AlertExpired, once;
        False when it had ended already."""

        def command() -> bool:
            alert = self.load(Alert, ident)
            expired = alert.expire(ends_at, reason, EventMeta(CORRELATOR, incident,
                                                              str(uuid4())))
            if expired:
                self.save(alert)
            return expired

        with self._turn(ident):
            return self._retrying(command)

    def written(self, text: str | None, writer: str, about: str | None = None) -> str | None:
        """What ``writer`` wrote, sealed with their key; altlas's own words about a person
        (which may quote them: a rejected request) with ``about``'s key."""
        if text is None:
            return None
        return self._sealer(writer if is_person(writer) else about)(text)

    def _sealer(self, writer: str | None) -> Seal:
        return as_written if writer is None else self.privacy.sealer(writer)

    # -- reactions --------------------------------------------------------------------

    def react(self, tracking: Tracking, reaction: Callable[[Reaction], None],
              worker: str | None = None) -> Reaction:
        """Run one reaction to the event at ``tracking`` and record its new events with the
        tracking record, in one transaction. Raises RecordConflictError when another
        process reacted first, or an aggregate changed meanwhile: nothing is recorded."""
        effects = Reaction(self, ProcessingEvent[UUID](tracking=tracking), worker)
        reaction(effects)
        _collect(effects.processing, effects.loaded.values())
        self._notify(self._record(effects.processing))
        return effects

    def track(self, follower: str, position: int) -> bool:
        """Record that ``follower`` has handled the events up to ``position``; False if a
        process of the same follower had got there first."""
        try:
            self.recorder.insert_tracking(Tracking(follower, position))
        except RecordConflictError:
            return False
        return True

    def tracked(self, follower: str) -> int | None:
        """How far ``follower`` has got; None if it never started."""
        return self.recorder.max_tracking_id(follower)

    # -- reads ------------------------------------------------------------------------

    def get_task(self, task_id: UUID) -> TaskView:
        return self._shown(self._read(Task, task_id, TaskView.of))

    def get_run(self, run_id: UUID) -> RunView:
        return self._shown(self._read(Run, run_id, RunView.of))

    def get_approval(self, approval_id: UUID) -> ApprovalView:
        return self._shown(self._read(Approval, approval_id, ApprovalView.of))

    def load(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate as recorded now, a copy of its own (reactions change it, then
        record it); raises NotFoundError. A copy of the last one loaded here is brought
        up to date with the events recorded since, rather than replaying them all: an
        incident of a thousand alerts is loaded once per alert in a storm."""
        try:
            known: Any = self._loaded.get(aggregate_id)
        except KeyError:
            known = None
        if known is None:
            found = _project(None, self.events.get(aggregate_id))
        else:
            found = _project(copy.deepcopy(known), self.events.get(aggregate_id,
                                                                   gt=known.version))
        if found is not None:
            self._loaded.put(aggregate_id, copy.deepcopy(found))
        return self._checked(kind, aggregate_id, found)

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    # -- plumbing ---------------------------------------------------------------------

    def _shown(self, view: T) -> T:
        """A view as people read it: names, and what they wrote, unless forgotten."""
        return self.privacy.reveal(view)

    @contextmanager
    def _revealing(self) -> Iterator[None]:
        """A refusal names people as people know them."""
        try:
            yield
        except DomainError as e:
            if e.args and isinstance(e.args[0], str):
                e.args = (self.privacy.reveal(e.args[0]), *e.args[1:])
            raise

    def _as_recorded(self, name: str, like: str | None) -> str:
        """``name`` as an aggregate names people: by pseudonym, or by name in one recorded
        before pseudonyms (``like``, a person it names, is in clear)."""
        if like is not None and is_person(like) and not is_pseudonym(like):
            return name
        return self.privacy.pseudonym(name)

    def _naming(self, like: str | None) -> Callable[[str], str]:
        return lambda name: self._as_recorded(name, like)

    def _cached(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate from the cache (or the store, the first time). In another process
        it may have moved on since: a command's save then conflicts, and the command is
        decided again on what is recorded. Call with the aggregate's turn held."""
        try:
            found = self.repository.get(aggregate_id, projector_func=_project)
        except AggregateNotFoundError:
            found = None
        return self._checked(kind, aggregate_id, found)

    @staticmethod
    def _checked(kind: type[A], aggregate_id: UUID, found: Any) -> A:
        if not isinstance(found, kind):
            raise NotFoundError(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return found

    def _read(self, kind: type[A], aggregate_id: UUID, view: Callable[[A], T]) -> T:
        """What is recorded now: the cached aggregate, brought up to date first (another
        process may have changed it), shown as an immutable view."""
        with self._turn(aggregate_id):
            return view(self._current(kind, aggregate_id))

    def _current(self, kind: type[A], aggregate_id: UUID) -> A:
        """The cached aggregate brought up to date: another process may have changed it, and
        a command decided on a stale copy would be refused for a state that has passed.
        Call with the aggregate's turn held."""
        aggregate = self._cached(kind, aggregate_id)
        newer = list(self.events.get(aggregate_id, gt=aggregate.version))
        return _project(aggregate, newer) if newer else aggregate

    def _forget(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with contextlib.suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def _change(self, kind: type[A], aggregate_id: UUID, actor: str,
                change: Callable[[A, EventMeta], None]) -> A:
        """Load, decide, save; on a version conflict, all three again from the store. A
        refused or failed command leaves nothing half-changed in the cache."""
        command_id = str(uuid4())

        def command() -> A:
            aggregate = self._current(kind, aggregate_id)
            who = self._as_recorded(actor, getattr(aggregate, "requester", None))
            try:
                change(aggregate, EventMeta(who, aggregate.correlation_id, command_id))
                self.save(aggregate)
            except BaseException:
                self._forget(aggregate_id)
                raise
            return aggregate

        with self._turn(aggregate_id), self._revealing():
            return self._retrying(command)

    @contextmanager
    def _turn(self, aggregate_id: UUID) -> Iterator[None]:
        with self._turns[aggregate_id.int % len(self._turns)]:
            yield

    @staticmethod
    def _retrying(command: Callable[[], T]) -> T:
        """Optimistic concurrency: on a version conflict, reload and decide again."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return command()
            except RecordConflictError:
                if attempt == MAX_ATTEMPTS:
                    break
                time.sleep(random.uniform(0, 0.002 * attempt))
        raise ConcurrentUpdateError(
            f"gave up after {MAX_ATTEMPTS} attempts: others kept changing it; try again"
        )


class Reaction:
    """What a reaction works with: aggregates as recorded now, changed in memory and
    recorded together when the reaction returns; and the steps it claimed for its worker,
    which the worker runs once the claims are recorded."""

    def __init__(self, app: AltlasApplication, processing: ProcessingEvent[UUID],
                 worker: str | None) -> None:
        self.app = app
        self.processing = processing
        self.worker = worker
        self.now = app.clock()
        self.loaded: dict[UUID, Aggregate] = {}
        self.claims: list[tuple[UUID, str]] = []

    def get(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate, loaded once per reaction: later changes see earlier ones."""
        found = self.loaded.get(aggregate_id)
        if found is None:
            found = self.app.load(kind, aggregate_id)
            self.loaded[aggregate_id] = found
        if not isinstance(found, kind):
            raise NotFoundError(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return found

    @property
    def position(self) -> int:
        """Where the event reacted to is in the store's sequence."""
        assert self.processing.tracking is not None
        return self.processing.tracking.notification_id

    def add(self, *aggregates: Aggregate) -> None:
        """New aggregates this reaction creates."""
        for aggregate in aggregates:
            self.loaded[aggregate.id] = aggregate

    def claim(self, run_id: UUID, step_id: str) -> None:
        self.claims.append((run_id, step_id))


def _collect(processing: ProcessingEvent[UUID], aggregates: Iterable[Any]) -> None:
    for aggregate in aggregates:
        processing.events.extend(aggregate.collect_events())
        processing.aggregates[aggregate.id] = aggregate


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event runtime Protocol check, which cost
    a third of every command's time on Python 3.11 (bench/append.py)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class RunAlreadyStartedError(TaskNotReadyError):
    """The task's run exists already (the reactions start it when the plan is recorded)."""
