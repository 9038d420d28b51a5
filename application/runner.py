"""The run worker: executes a run's plan as a DAG, as far as its gates allow.

Independent steps run in parallel (bounded); each has its timeout, retries with backoff and
capped output; a step waits for what it needs, its condition and its approval. A denied or
expired approval cancels the step and, with a reason, everything that needs it. Every
outcome is recorded as an event; a step whose approval is still open waits, and the worker
returns, to be called again when something changes (a vote, the expiry timer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from application.app import AltlasApplication
from application.ports import StepContext, StepExecutor, StepOutcome
from application.views import ApprovalView, RunView
from domain.approval import GRANTED, OPEN
from domain.conditions import evaluate
from domain.errors import ConflictError
from domain.plan import Plan, PlanStep
from domain.risk import GateKind
from domain.run import DECIDED, FAILED, PENDING, RUNNING, SUCCEEDED, Run, StepState

# An executor that does not return within its step's timeout plus this is abandoned.
GRACE_S = 5.0


@dataclass(frozen=True)
class _Decision:
    action: str  # "wait", "skip" or "run"
    reason: str = ""
    cancelled: bool = False


_WAIT = _Decision("wait")
_RUN = _Decision("run")


class RunWorker:
    def __init__(self, app: AltlasApplication, executors: Mapping[str, StepExecutor], *,
                 parallelism: int = 4, backoff_s: float = 0.5, max_backoff_s: float = 10.0
                 ) -> None:
        self._app = app
        self._executors = executors
        self._parallelism = parallelism
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s

    def advance(self, run_id: UUID) -> RunView:
        """Run every step that may run now; complete the run when all are decided."""
        return asyncio.run(self.advance_async(run_id))

    async def advance_async(self, run_id: UUID) -> RunView:
        run = self._app.load_run(run_id)
        if run.completed:
            return RunView.of(run)
        plan = Plan.from_document(self._app.load_task(run.task_id).plan)
        slots = asyncio.Semaphore(self._parallelism)
        running: dict[str, asyncio.Task[None]] = {}
        while True:
            run = self._app.load_run(run_id)
            progressed = False
            for step in plan.topological_order():
                if step.id in running or run.steps[step.id].status != PENDING:
                    continue
                decision = self._decide(run, plan, step)
                if decision.action == "skip":
                    self._skip(run, step, decision)
                    progressed = True
                elif decision.action == "run":
                    running[step.id] = asyncio.create_task(
                        self._execute(run_id, plan, step, slots))
            if progressed:
                continue
            if not running:
                break
            done, _ = await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
            for sid in [sid for sid, task in running.items() if task in done]:
                running.pop(sid).result()
        run = self._app.load_run(run_id)
        if all(s.status in DECIDED for s in run.steps.values()):
            return self._app.complete_run(run_id)
        return RunView.of(run)

    # -- deciding ----------------------------------------------------------------------

    def _decide(self, run: Run, plan: Plan, step: PlanStep) -> _Decision:
        state = run.steps[step.id]
        for dep in state.needs:
            need = run.steps[dep]
            if need.status in (PENDING, RUNNING):
                return _WAIT
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
            return _Decision("skip", f"{state.risk}: altlas never executes this; a person "
                             f"should: {step.action}")
        if state.gate == GateKind.APPROVAL.value:
            approval = self._approval(state)
            if approval.status == OPEN:
                return _WAIT
            if approval.status != GRANTED:
                return _Decision("skip", f"approval {approval.id} {approval.decision_reason}",
                                 cancelled=True)
        return _RUN

    def _approval(self, state: StepState) -> ApprovalView:
        """The step's approval, expired first if its time is up."""
        assert state.approval_id is not None
        approval = self._app.get_approval(UUID(state.approval_id))
        if approval.status == OPEN and self._app.clock() >= approval.expires_at:
            return self._app.expire_approval(UUID(approval.id))
        return approval

    def _skip(self, run: Run, step: PlanStep, decision: _Decision) -> None:
        self._app.record_step_skipped(run.id, step.id, decision.reason,
                                      cancelled=decision.cancelled)
        approval_id = run.steps[step.id].approval_id
        # nobody should be asked to approve a step that will not run
        if approval_id and self._app.get_approval(UUID(approval_id)).status == OPEN:
            self._app.cancel_approval(UUID(approval_id), f"step skipped: {decision.reason}",
                                      actor="altlas:runner")

    # -- executing ---------------------------------------------------------------------

    async def _execute(self, run_id: UUID, plan: Plan, step: PlanStep,
                       slots: asyncio.Semaphore) -> None:
        executor = self._executors.get(step.kind)
        async with slots:
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._app.record_step_started(run_id, step.id)
                except ConflictError:
                    return  # another worker has taken this step
                if executor is None:
                    outcome = StepOutcome(False, None, "", f"no executor for {step.kind} steps "
                                          "is configured", 0)
                else:
                    outcome = await self._attempt(executor, step, self._context(run_id, plan,
                                                                                 step))
                if outcome.ok:
                    self._app.record_step_succeeded(
                        run_id, step.id, exit_code=outcome.exit_code, output=outcome.output,
                        duration_ms=outcome.duration_ms, facts=outcome.facts)
                    return
                will_retry = executor is not None and attempt <= step.retries
                self._app.record_step_failed(
                    run_id, step.id, error=outcome.error or "failed", exit_code=outcome.exit_code,
                    output=outcome.output, duration_ms=outcome.duration_ms,
                    will_retry=will_retry, facts=outcome.facts)
                if not will_retry:
                    return
                await asyncio.sleep(min(self._backoff_s * 2 ** (attempt - 1),
                                        self._max_backoff_s))

    async def _attempt(self, executor: StepExecutor, step: PlanStep,
                       context: StepContext) -> StepOutcome:
        try:
            return await asyncio.wait_for(executor.execute(step, context),
                                          timeout=step.timeout_s + GRACE_S)
        except TimeoutError:
            return StepOutcome(False, None, "", f"did not return within its timeout of "
                               f"{step.timeout_s:g}s", int((step.timeout_s + GRACE_S) * 1000))

    def _context(self, run_id: UUID, plan: Plan, step: PlanStep) -> StepContext:
        run = self._app.load_run(run_id)
        before = plan.ancestors(step.id)
        return StepContext(
            outputs={sid: s.output for sid, s in run.steps.items()
                     if sid in before and s.status in (SUCCEEDED, FAILED)},
            facts={sid: s.facts for sid, s in run.steps.items() if s.status in DECIDED},
        )
