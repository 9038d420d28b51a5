"""The altlas application: one method per use case, ids and primitives in and out."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import register_topic

import domain
from application.errors import (
    ConcurrentUpdateError,
    NotFoundError,
    TaskNotReadyError,
    UnknownEnvironmentError,
)
from application.ports import Clock, system_clock
from application.views import ApprovalView, RunView, TaskView
from domain.approval import Approval
from domain.base import AuditedAggregate, EventMeta
from domain.errors import InvalidInputError
from domain.plan import Plan
from domain.policy import Policy
from domain.risk import GateKind, Tier
from domain.run import Run
from domain.task import Task

# Releases before 0.2 installed domain/ as `altlas.domain`, and stored events name their classes
# by that topic (`altlas.domain.task:Task.Requested`): they resolve to the same classes.
register_topic("altlas.domain", domain)

RUNNER = "altlas:runner"
SCHEDULER = "altlas:scheduler"
MAX_ATTEMPTS = 20

T = TypeVar("T")
A = TypeVar("A", bound=AuditedAggregate)


class AltlasApplication(Application[UUID]):
    name = "altlas"

    def __init__(self, policy: Policy, clock: Clock = system_clock,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(env=env)
        self.policy = policy
        self.clock = clock
        # Commands on one aggregate take turns within this process (200 people clicking at
        # once would otherwise mostly retry); across processes optimistic concurrency decides.
        self._turns = tuple(threading.Lock() for _ in range(64))

    # -- tasks ------------------------------------------------------------------------

    def request_task(
        self, request: str, requester: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None, source: str = "api",
        chaos_level: int | None = None,
    ) -> UUID:
        if environment is not None and environment not in self.policy.environments:
            known = ", ".join(self.policy.environments)
            raise UnknownEnvironmentError(
                f"unknown environment {environment!r}; use one of {known}")
        task = Task.request_work(request, requester, EventMeta.for_command(requester), mode=mode,
                                 persona=persona, environment=environment, source=source,
                                 chaos_level=chaos_level)
        self.save(task)
        return task.id

    def record_segmentation(
        self, task_id: UUID, document: Any, *, segmenter: str, actor: str,
        fallback_reason: str | None = None,
    ) -> TaskView:
        """Check a plan against the policy and record it with each step's risk and gate."""
        plan = Plan.from_document(document)

        def segment(task: Task, meta: EventMeta) -> None:
            plan_doc, gates = self._classify(plan, task.mode)
            task.record_segmentation(plan_doc, gates, segmenter, meta,
                                     fallback_reason=fallback_reason)

        return TaskView.of(self._change(Task, task_id, actor, segment))

    def submit_plan(
        self, request: str, document: Any, requester: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None,
        chaos_level: int | None = None, segmenter: str = "hand-written", source: str = "alt",
    ) -> TaskView:
        """A plan written by hand: the task and its plan are recorded together, after the
        same checks a segmenter's plan passes, or nothing is recorded."""
        if environment is not None and environment not in self.policy.environments:
            known = ", ".join(self.policy.environments)
            raise UnknownEnvironmentError(
                f"unknown environment {environment!r}; use one of {known}")
        plan_doc, gates = self._classify(Plan.from_document(document), mode)
        meta = EventMeta.for_command(requester)
        task = Task.request_work(request, requester, meta, mode=mode, persona=persona,
                                 environment=environment, source=source,
                                 chaos_level=chaos_level)
        task.record_segmentation(plan_doc, gates, segmenter,
                                 EventMeta(requester, task.correlation_id, meta.causation_id))
        self.save(task)
        return TaskView.of(task)

    def reject_task(self, task_id: UUID, reason: str, *, actor: str) -> TaskView:
        return TaskView.of(self._change(Task, task_id, actor,
                                        lambda task, meta: task.reject(reason, meta)))

    def check_plan(self, document: Any, mode: str = "normal"
                   ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What recording this plan would record — each step's risk and gate — or the
        error that would refuse it; records nothing."""
        return self._classify(Plan.from_document(document), mode)

    def _classify(self, plan: Plan, mode: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        doc = plan.to_document()
        gates = []
        for step, step_doc in zip(plan.steps, doc["steps"], strict=True):
            verdict = self.policy.classify(step)
            tier = self.policy.environments[verdict.environment].tier
            if mode == "chaos" and tier is not Tier.DEV:
                raise InvalidInputError(
                    f"step {step.id}: chaos mode runs only in dev, not in {verdict.environment}"
                )
            gate = self.policy.gate(step, verdict)
            step_doc["risk"] = verdict.risk.value
            gates.append({
                "step_id": step.id, "risk": verdict.risk.value, "effect": verdict.effect.value,
                "environment": verdict.environment, "target": verdict.target,
                "gate": gate.kind.value, "required": gate.required,
                "eligible": sorted(gate.eligible), "expires_in_s": gate.expires_in.total_seconds(),
                "reason": f"{verdict.reason}; {gate.reason}",
            })
        return doc, gates

    # -- runs -------------------------------------------------------------------------

    def start_run(self, task_id: UUID, *, actor: str) -> RunView:
        """Start a run of a segmented task and open an approval for every gated step."""
        command_id = str(uuid4())

        def command() -> RunView:
            task = self._get(Task, task_id)
            if task.status != "segmented":
                raise TaskNotReadyError(f"task {task_id} is {task.status}; only a segmented task "
                                        "can run")
            if task.mode == "dream":
                raise TaskNotReadyError(
                    f"task {task_id} is a dream: its plan is shown, never run")
            meta = EventMeta(actor, task.correlation_id, command_id)
            run_id = uuid4()
            now = self.clock()
            plan = Plan.from_document(task.plan)
            approvals: list[Approval] = []
            steps = []
            for step, gate in zip(plan.steps, task.gates, strict=True):
                approval_id = None
                if gate["gate"] == GateKind.APPROVAL.value:
                    approval = Approval.request(
                        task_id=task.id, run_id=run_id, step_id=step.id, risk=gate["risk"],
                        environment=gate["environment"], requester=task.requester,
                        eligible=frozenset(gate["eligible"]), required=gate["required"],
                        expires_at=now + timedelta(seconds=gate["expires_in_s"]),
                        reason=gate["reason"], meta=meta,
                    )
                    approvals.append(approval)
                    approval_id = str(approval.id)
                steps.append({"id": step.id, "kind": step.kind, "risk": gate["risk"],
                              "gate": gate["gate"], "needs": list(step.needs),
                              "approval_id": approval_id})
            run = Run.start(task.id, steps, meta, run_id=run_id)
            self.save(run, *approvals)
            return RunView.of(run)

        return self._retrying(command)

    def record_step_started(self, run_id: UUID, step_id: str, *, actor: str = RUNNER) -> None:
        self._on_run(run_id, actor, lambda run, meta: run.start_step(step_id, meta))

    def record_step_succeeded(self, run_id: UUID, step_id: str, *, exit_code: int | None,
                              output: str, duration_ms: int,
                              facts: dict[str, Any] | None = None, actor: str = RUNNER) -> None:
        self._on_run(run_id, actor, lambda run, meta: run.succeed_step(
            step_id, meta, exit_code=exit_code, output=output, duration_ms=duration_ms,
            facts=facts))

    def record_step_failed(self, run_id: UUID, step_id: str, *, error: str, exit_code: int | None,
                           output: str, duration_ms: int, will_retry: bool = False,
                           facts: dict[str, Any] | None = None, actor: str = RUNNER) -> None:
        self._on_run(run_id, actor, lambda run, meta: run.fail_step(
            step_id, meta, error=error, exit_code=exit_code, output=output,
            duration_ms=duration_ms, will_retry=will_retry, facts=facts))

    def record_step_skipped(self, run_id: UUID, step_id: str, reason: str, *,
                            cancelled: bool = False, actor: str = RUNNER) -> None:
        self._on_run(run_id, actor,
                     lambda run, meta: run.skip_step(step_id, reason, meta, cancelled=cancelled))

    def complete_run(self, run_id: UUID, *, actor: str = RUNNER) -> RunView:
        def complete(run: Run, meta: EventMeta) -> None:
            elapsed = self.clock() - run.created_on
            run.complete(meta, duration_ms=max(int(elapsed.total_seconds() * 1000), 0))

        return self._on_run(run_id, actor, complete)

    def _on_run(self, run_id: UUID, actor: str,
                change: Callable[[Run, EventMeta], None]) -> RunView:
        return RunView.of(self._change(Run, run_id, actor, change))

    # -- approvals --------------------------------------------------------------------

    def cast_vote(self, approval_id: UUID, voter: str) -> ApprovalView:
        return self._on_approval(approval_id, voter,
                                 lambda a, meta: a.cast_vote(voter, self.clock(), meta))

    def deny_approval(self, approval_id: UUID, voter: str, reason: str) -> ApprovalView:
        return self._on_approval(approval_id, voter,
                                 lambda a, meta: a.deny(voter, reason, self.clock(), meta))

    def expire_approval(self, approval_id: UUID, *, actor: str = SCHEDULER) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.expire(self.clock(), meta))

    def record_refused_attempt(self, approval_id: UUID, attempt: str, by: str,
                               reason: str) -> None:
        """Put a refused vote or denial on the record; the approval stays as it was."""
        self._change(Approval, approval_id, by,
                     lambda a, meta: a.record_refusal(attempt, by, reason, meta))

    def cancel_approval(self, approval_id: UUID, reason: str, *, actor: str) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.cancel(reason, meta))

    def _on_approval(self, approval_id: UUID, actor: str,
                     change: Callable[[Approval, EventMeta], None]) -> ApprovalView:
        return ApprovalView.of(self._change(Approval, approval_id, actor, change))

    # -- reads ------------------------------------------------------------------------

    def get_task(self, task_id: UUID) -> TaskView:
        return TaskView.of(self._get(Task, task_id))

    def get_run(self, run_id: UUID) -> RunView:
        return RunView.of(self._get(Run, run_id))

    def get_approval(self, approval_id: UUID) -> ApprovalView:
        return ApprovalView.of(self._get(Approval, approval_id))

    def load_run(self, run_id: UUID) -> Run:
        return self._get(Run, run_id)

    def load_task(self, task_id: UUID) -> Task:
        return self._get(Task, task_id)

    def load_approval(self, approval_id: UUID) -> Approval:
        return self._get(Approval, approval_id)

    # -- plumbing ---------------------------------------------------------------------

    def _get(self, kind: type[A], aggregate_id: UUID) -> A:
        label = kind.__name__.lower()
        try:
            aggregate = self.repository.get(aggregate_id, projector_func=_project)
        except AggregateNotFoundError:
            raise NotFoundError(f"no {label} with id {aggregate_id}") from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(f"no {label} with id {aggregate_id}")
        return aggregate

    def _change(self, kind: type[A], aggregate_id: UUID, actor: str,
                change: Callable[[A, EventMeta], None]) -> A:
        """Load, decide, save; on a version conflict, all three again."""
        command_id = str(uuid4())

        def command() -> A:
            aggregate = self._get(kind, aggregate_id)
            change(aggregate, EventMeta(actor, aggregate.correlation_id, command_id))
            self.save(aggregate)
            return aggregate

        with self._turns[aggregate_id.int % len(self._turns)]:
            return self._retrying(command)

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


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event runtime Protocol check, which cost
    a third of every command's time on Python 3.11 (bench/append.py)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
