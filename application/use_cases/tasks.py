"""Use cases of requests and plans."""

from __future__ import annotations

from typing import Any

from application.presenters import oncall_of
from application.snapshots import TaskView
from application.use_cases.base import NotOnCallError, UseCasesBase
from domain.base import is_person


class TaskUseCases(UseCasesBase):
    def request_work(self, who: str, text: str, *, mode: str = "normal",
                     persona: str = "technical_expert", environment: str | None = None,
                     chaos_level: int | None = None, source: str = "api",
                     reply_to: dict[str, str] | None = None) -> TaskView:
        """Record the request; the reactions plan it and run what the gates allow."""
        self.access.check(who, "request")
        task_id = self.app.request_task(text, who, mode=mode, persona=persona,
                                        environment=environment, source=source,
                                        chaos_level=chaos_level, reply_to=reply_to)
        return self.app.get_task(task_id)

    def submit_plan(self, who: str, document: Any, *, request: str, mode: str = "normal",
                    persona: str = "technical_expert", environment: str | None = None,
                    chaos_level: int | None = None, source: str = "alt",
                    reply_to: dict[str, str] | None = None) -> TaskView:
        """A hand-written plan: the task and its plan in one go, through the same gates."""
        self.access.check(who, "request")
        return self.app.submit_plan(request, document, who, mode=mode, persona=persona,
                                    environment=environment, chaos_level=chaos_level,
                                    source=source, reply_to=reply_to)

    def record_plan(self, who: str, task_ref: str, document: Any) -> TaskView:
        task_id = self.resolve(task_ref, "task")
        self.access.check(who, "plan", owner=self.app.get_task(task_id).requester)
        return self.app.record_segmentation(task_id, document, segmenter="hand-written",
                                            actor=who)

    def answer(self, who: str, task_ref: str, answer: str) -> TaskView:
        """Only who asked for the work answers what altlas asked about it; for what altlas
        asked for itself (an incident's remediation), the on-call people of its
        environment, who then may not approve it."""
        task_id = self.resolve(task_ref, "task")
        task = self.app.get_task(task_id)
        if is_person(task.requester):
            self.access.check(who, "answer", owner=task.requester)
            return self.app.answer_task(task_id, answer, by=who)
        self.access.check(who, "answer")
        deputies = oncall_of(self.app.policy, task.environment)
        if who not in deputies:
            raise NotOnCallError(
                f"only the on-call people of {task.environment or 'its environment'} "
                f"({', '.join(deputies) or 'none in the policy'}) answer for {task.requester}",
                who, task.requester, task.environment or "-", deputies)
        return self.app.answer_task(task_id, answer, by=who, deputies=deputies)

    def reject_task(self, who: str, task_ref: str, reason: str) -> TaskView:
        self.access.check(who, "reject")
        return self.app.reject_task(self.resolve(task_ref, "task"), reason, actor=who)

    def check_plan(self, document: Any, mode: str = "normal") -> list[dict[str, Any]]:
        """The gate of each step of a hand-written plan, or why it is refused; records
        nothing."""
        return self.app.check_plan(document, mode)[1]
