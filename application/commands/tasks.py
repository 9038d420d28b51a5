"""Commands of requests and plans: record a request, its plan, its answer; classify a plan."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from uuid import UUID

from application.core import SCHEDULER, AppCore
from application.documents import plan_checked
from application.snapshots import TaskView
from domain.base import EventMeta
from domain.policy import StepRefusedError
from domain.risk import GateKind, Tier
from domain.task import Task


class TaskCommands(AppCore):
    def request_task(
        self, request: str, requester: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None, source: str = "api",
        chaos_level: int | None = None, reply_to: dict[str, str] | None = None,
        heard: dict[str, Any] | None = None,
    ) -> UUID:
        """``heard``: what was heard of the clip a spoken request came in."""
        self._check_environment(environment)
        who = self.privacy.pseudonym(requester)
        with self._revealing():
            task = Task.request_work(request, who, EventMeta.for_command(who), mode=mode,
                                     persona=persona, environment=environment, source=source,
                                     chaos_level=chaos_level, reply_to=reply_to,
                                     seal=self.privacy.sealer(who), heard=heard)
        self.save(task)
        return task.id

    def record_segmentation(
        self, task_id: UUID, document: Any, *, segmenter: str, actor: str,
        fallback_reason: str | None = None,
    ) -> TaskView:
        """Check a plan against the policy and record it with each step's risk and gate."""
        plan_checked(document, self.policy)  # refused before the task is loaded

        def segment(task: Task, meta: EventMeta) -> None:
            plan_doc, gates = self.classify(document, task.mode, task.requester)
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
        task = self.written_task(request, document, self.privacy.pseudonym(requester),
                                 mode=mode, persona=persona, environment=environment,
                                 chaos_level=chaos_level, segmenter=segmenter, source=source,
                                 reply_to=reply_to)
        self.save(task)
        return self._shown(TaskView.of(task))

    def written_task(
        self, request: str, document: Any, who: str, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None,
        chaos_level: int | None = None, segmenter: str = "hand-written", source: str = "alt",
        reply_to: dict[str, str] | None = None, on_behalf_of: str | None = None,
    ) -> Task:
        """The task of a hand-written plan, checked and classified, not yet recorded: a
        trigger records it with its firing, in one transaction. ``who`` as recorded."""
        self._check_environment(environment)
        plan_doc, gates = self.classify(document, mode, on_behalf_of or who)
        meta = EventMeta.for_command(who)
        with self._revealing():
            task = Task.request_work(request, who, meta, mode=mode, persona=persona,
                                     environment=environment, source=source,
                                     chaos_level=chaos_level, reply_to=reply_to,
                                     seal=self.privacy.sealer(on_behalf_of or who),
                                     on_behalf_of=on_behalf_of)
            task.record_segmentation(plan_doc, gates, segmenter,
                                     EventMeta(who, task.correlation_id, meta.causation_id))
        return task

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
        return self.classify(document, mode, requester)

    def classify(self, document: Any, mode: str, requester: str | None
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The plan's checks (``plan_checked``), then each step's risk and gate by the
        policy; a gate nobody could pass is refused now rather than when the run starts."""
        plan, doc = plan_checked(document, self.policy)
        gates = []
        named = self._naming(requester)
        for step, step_doc in zip(plan.steps, doc["steps"], strict=True):
            verdict = self.policy.classify(step)
            tier = self.policy.environments[verdict.environment].tier
            if mode == "chaos" and tier is not Tier.DEV:
                raise StepRefusedError(
                    f"step {step.id}: chaos mode runs only in dev, not in {verdict.environment}"
                )
            gate = self.policy.gate(step, verdict)
            eligible = frozenset(named(p) for p in gate.eligible)
            counting = eligible - {named(requester) if requester else None}
            if gate.kind is GateKind.APPROVAL and len(counting) < gate.required:
                raise StepRefusedError(
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
