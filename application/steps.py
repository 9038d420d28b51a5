"""Runs the steps a worker claimed: each with its timeout, retries with backoff and capped
output, and records what happened. Steps of one run share its parallelism; what the steps
need, their conditions and their gates were decided by the reactions before the claim."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from uuid import UUID

from application.app import AltlasApplication
from application.errors import NotFoundError
from application.ports import StepContext, StepExecutor, StepOutcome
from domain.errors import ConflictError
from domain.plan import Plan, PlanStep
from domain.run import DECIDED, FAILED, SUCCEEDED, Run
from domain.secrets import step_references, step_scope_problems
from domain.task import Task

log = logging.getLogger("altlas.steps")

# An executor that does not return within its step's timeout plus this is abandoned.
GRACE_S = 5.0


class StepRunner:
    def __init__(self, app: AltlasApplication, executors: Mapping[str, StepExecutor], *,
                 worker: str, parallelism: int = 4, backoff_s: float = 0.5,
                 max_backoff_s: float = 10.0, secrets: Mapping[str, str] | None = None) -> None:
        self._app = app
        self._executors = executors
        self._secrets = secrets or {}
        self.worker = worker
        self._parallelism = parallelism
        self.backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runs: dict[UUID, tuple[asyncio.Semaphore, list[int]]] = {}  # slots, users
        self._inflight: dict[tuple[UUID, str], Future[None]] = {}
        # re-entrant: a step that is already done runs its callback at once, lock held
        self._lock = threading.RLock()
        self.idle = threading.Event()
        self.idle.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        ready = threading.Event()

        def loop() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=loop, name=f"steps-{self.worker}", daemon=True)
        self._thread.start()
        ready.wait()

    def submit(self, claims: list[tuple[UUID, str]]) -> None:
        """Run steps this worker has claimed (their StepStarted is recorded)."""
        self.start()
        assert self._loop is not None
        with self._lock:
            for run_id, step_id in claims:
                key = (run_id, step_id)
                if key in self._inflight:
                    continue
                self.idle.clear()
                future = asyncio.run_coroutine_threadsafe(self._run(run_id, step_id), self._loop)
                self._inflight[key] = future
                future.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: tuple[UUID, str], future: Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.error("step %s of run %s: %s", key[1], key[0], future.exception())
        with self._lock:
            self._inflight.pop(key, None)
            if not self._inflight:
                self.idle.set()

    @property
    def busy(self) -> list[tuple[UUID, str]]:
        with self._lock:
            return list(self._inflight)

    def stop(self, timeout: float) -> list[tuple[UUID, str]]:
        """Let running steps finish for up to ``timeout`` seconds; returns those still
        running, which the caller records as interrupted."""
        self.idle.wait(timeout)
        left = self.busy
        if self._loop is not None and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._thread = None
        return left

    @staticmethod
    async def _cancel_all() -> None:
        """Cancel what still runs and let it clean up (an executor kills its process)."""
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- one step ----------------------------------------------------------------------

    async def _run(self, run_id: UUID, step_id: str) -> None:
        try:
            run = self._app.load(Run, run_id)
            plan = Plan.from_document(self._app.load(Task, run.task_id).plan)
        except NotFoundError as e:
            log.error("claimed step %s cannot be run: %s", step_id, e)
            return
        slots, users = self._runs.setdefault(
            run_id, (asyncio.Semaphore(self._parallelism), [0]))
        users[0] += 1
        try:
            async with slots:
                await self._attempts(run_id, plan, plan.step(step_id),
                                     run.steps[step_id].attempts)
        finally:
            users[0] -= 1
            if not users[0]:
                del self._runs[run_id]

    async def _attempts(self, run_id: UUID, plan: Plan, step: PlanStep, attempt: int) -> None:
        executor = self._executors.get(step.kind)
        missing = self._undefined(step)
        while True:
            broke = False
            if executor is None:
                outcome = StepOutcome(False, None, "", f"no executor for {step.kind} steps "
                                      "is configured", 0)
            elif missing is not None:
                outcome = StepOutcome(False, None, "", missing, 0)
                broke = True  # trying again finds it no more defined
            else:
                try:
                    context = await asyncio.to_thread(self._context, run_id, plan, step)
                    outcome = await self._attempt(executor, step, context)
                except Exception as e:  # a step never stays running, unrecorded
                    log.exception("step %s of run %s: the %s executor raised", step.id, run_id,
                                  step.kind)
                    outcome = StepOutcome(False, None, "", f"the {step.kind} executor failed: "
                                          f"{type(e).__name__}: {e}", 0)
                    broke = True
            will_retry = executor is not None and not broke and attempt <= step.retries
            try:
                await asyncio.to_thread(self._record, run_id, step, outcome, will_retry)
            except ConflictError as e:  # the claim was taken over meanwhile
                log.warning("step %s of run %s: %s", step.id, run_id, e)
                return
            except Exception as e:  # e.g. an outcome the store refuses
                log.exception("step %s of run %s: its outcome could not be recorded", step.id,
                              run_id)
                await asyncio.to_thread(self._record, run_id, step, StepOutcome(
                    False, outcome.exit_code, "", "its outcome could not be recorded: "
                    f"{type(e).__name__}: {e}", outcome.duration_ms), False)
                return
            if outcome.ok or not will_retry:
                return
            await asyncio.sleep(min(self.backoff_s * 2 ** (attempt - 1), self._max_backoff_s))
            try:
                await asyncio.to_thread(self._app.record_step_started, run_id, step.id,
                                        worker=self.worker)
            except ConflictError as e:
                log.warning("step %s of run %s: not retried here: %s", step.id, run_id, e)
                return
            attempt += 1

    def _record(self, run_id: UUID, step: PlanStep, outcome: StepOutcome,
                will_retry: bool) -> None:
        if outcome.ok:
            self._app.record_step_succeeded(
                run_id, step.id, exit_code=outcome.exit_code, output=outcome.output,
                duration_ms=outcome.duration_ms, facts=outcome.facts, worker=self.worker)
        else:
            self._app.record_step_failed(
                run_id, step.id, error=outcome.error or "failed", exit_code=outcome.exit_code,
                output=outcome.output, duration_ms=outcome.duration_ms, will_retry=will_retry,
                facts=outcome.facts, worker=self.worker)

    async def _attempt(self, executor: StepExecutor, step: PlanStep,
                       context: StepContext) -> StepOutcome:
        try:
            return await asyncio.wait_for(executor.execute(step, context),
                                          timeout=step.timeout_s + GRACE_S)
        except TimeoutError:
            return StepOutcome(False, None, "", f"did not return within its timeout of "
                               f"{step.timeout_s:g}s", int((step.timeout_s + GRACE_S) * 1000))

    def _undefined(self, step: PlanStep) -> str | None:
        """Why the step cannot run for want of a secret, or because the policy in force no
        longer lets one go where the step sends it (a scope narrowed after the plan was
        recorded); None."""
        for name in step_references(step.kind, step.action, step.params):
            if name not in self._secrets:
                return (f"secret {name} is not defined: set ALTLAS_SECRET_{name} where the "
                        "workers run, or add it to their ALTLAS_SECRETS_FILE")
        policy = self._app.policy
        problems = step_scope_problems(step.to_document(), f"step {step.id}", policy.secrets,
                                       policy.local_host)
        return problems[0] if problems else None

    def _context(self, run_id: UUID, plan: Plan, step: PlanStep) -> StepContext:
        run = self._app.load(Run, run_id)
        before = plan.ancestors(step.id)
        return StepContext(
            outputs={sid: s.output for sid, s in run.steps.items()
                     if sid in before and s.status in (SUCCEEDED, FAILED)},
            facts={sid: s.facts for sid, s in run.steps.items() if s.status in DECIDED},
            secrets={name: self._secrets[name]
                     for name in step_references(step.kind, step.action, step.params)},
        )
