"""Commands of runs: open a task's run, record what its steps did, complete it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import RecordConflictError

from application.core import RUNNER, AppCore, RunAlreadyStartedError, run_id_of
from application.errors import (
    TaskNotReadyError,
)
from application.snapshots import RunView
from domain.approval import Approval, ApprovalSubject
from domain.base import EventMeta
from domain.plan import Plan
from domain.risk import GateKind, RiskLevel
from domain.run import Run
from domain.task import Task


class RunCommands(AppCore):
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
        """``by`` did a step altlas left to a person, and says so: someone who could have
        approved it (the policy's approvers of its environment and risk, as now)."""
        task = self.load(Task, self.load(Run, run_id).task_id)
        authors = frozenset(task.authors)
        gate = next((g for g in task.gates if g["step_id"] == step_id), None)
        allowed = None if gate is None else self.policy.confirmers(
            gate["environment"], RiskLevel(gate["risk"]))
        named = self._naming(task.requester)
        confirmers = None if allowed is None else frozenset(named(p) for p in allowed)

        def confirm(run: Run, meta: EventMeta) -> None:
            run.confirm_manual_step(step_id, meta.actor, note, meta,
                                    seal=self.privacy.sealer(meta.actor), authors=authors,
                                    confirmers=confirmers)

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
