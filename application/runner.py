"""The run worker: takes a run as far as its gates allow, recording every outcome as an event.

Steps run one at a time in dependency order. A step whose approval is still open waits;
the worker returns and is called again when something changes (a vote, a timer).
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from altlas.application.app import AltlasApplication
from altlas.application.ports import StepExecutor, StepOutcome
from altlas.application.views import ApprovalView, RunView
from altlas.domain.approval import GRANTED, OPEN
from altlas.domain.plan import Plan, PlanStep
from altlas.domain.risk import GateKind
from altlas.domain.run import DECIDED, PENDING, RUNNING, SUCCEEDED, Run, StepState


class RunWorker:
    def __init__(self, app: AltlasApplication, executors: Mapping[str, StepExecutor]) -> None:
        self._app = app
        self._executors = executors

    def advance(self, run_id: UUID) -> RunView:
        """Execute every step that may run now; complete the run when all are decided."""
        while True:
            run = self._app.load_run(run_id)
            if run.completed:
                return self._app.get_run(run_id)
            plan = Plan.from_document(self._app.load_task(run.task_id).plan)
            if not any(self._try_step(run, step) for step in plan.topological_order()):
                break
        run = self._app.load_run(run_id)
        if all(s.status in DECIDED for s in run.steps.values()):
            return self._app.complete_run(run_id)
        return self._app.get_run(run_id)

    def _try_step(self, run: Run, step: PlanStep) -> bool:
        """Move one pending step forward; False if it must wait (or is done)."""
        state = run.steps[step.id]
        if state.status != PENDING:
            return False
        for dep in state.needs:
            dep_state = run.steps[dep]
            if dep_state.status in (PENDING, RUNNING):
                return False
            if dep_state.status != SUCCEEDED:
                self._app.record_step_skipped(
                    run.id, step.id, f"needs {dep}, which {dep_state.status}",
                    cancelled=dep_state.cancelled,
                )
                return True
        if state.gate == GateKind.MANUAL.value:
            self._app.record_step_skipped(
                run.id, step.id, f"{state.risk}: altlas never executes this; do it by hand"
            )
            return True
        if state.gate == GateKind.APPROVAL.value:
            approval = self._approval(state)
            if approval.status == OPEN:
                return False
            if approval.status != GRANTED:
                self._app.record_step_skipped(
                    run.id, step.id, f"approval {approval.id} {approval.decision_reason}",
                    cancelled=True,
                )
                return True
        self._execute(run, step)
        return True

    def _approval(self, state: StepState) -> ApprovalView:
        """The step's approval, expired first if its time is up."""
        assert state.approval_id is not None
        approval = self._app.get_approval(UUID(state.approval_id))
        if approval.status == OPEN and self._app.clock() >= approval.expires_at:
            return self._app.expire_approval(UUID(approval.id))
        return approval

    def _execute(self, run: Run, step: PlanStep) -> None:
        executor = self._executors.get(step.kind)
        attempt = run.steps[step.id].attempts
        while True:
            attempt += 1
            self._app.record_step_started(run.id, step.id)
            if executor is None:
                outcome = StepOutcome(False, None, "", f"no executor for {step.kind} steps is "
                                      "configured", 0)
            else:
                outcome = executor.execute(step)
            if outcome.ok:
                self._app.record_step_succeeded(
                    run.id, step.id, exit_code=outcome.exit_code, output=outcome.output,
                    duration_ms=outcome.duration_ms,
                )
                return
            will_retry = executor is not None and attempt <= step.retries
            self._app.record_step_failed(
                run.id, step.id, error=outcome.error or "failed", exit_code=outcome.exit_code,
                output=outcome.output, duration_ms=outcome.duration_ms, will_retry=will_retry,
            )
            if not will_retry:
                return
