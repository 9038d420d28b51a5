"""Reactions of requests: plan them, ask back, or reject them with the reason."""

from __future__ import annotations

from application.core import Reaction
from application.reactions.common import Ports, meta_of
from application.segmentation import SEGMENTER_ACTOR
from domain.base import is_person
from domain.task import MAX_QUESTIONS, Task


def plan_task(event: Task.Requested | Task.Clarified, r: Reaction, ports: Ports) -> None:
    """Plan the request (with the answers given so far), ask the requester what no plan can
    tell, or reject it with the reason; a task planned by hand meanwhile is left as it is.
    The question expires like an approval."""
    task = r.get(Task, event.originator_id)
    if task.status != "requested":
        return
    outcome = ports.segmentation.plan(task)
    meta = meta_of(task, SEGMENTER_ACTOR, event)
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
    plan_doc, gates = r.app.classify(outcome.plan, task.mode,
                                     task.on_behalf_of or task.requester)
    fallback = outcome.fallback_reason
    task.record_segmentation(
        plan_doc, gates, outcome.segmenter, meta,
        fallback_reason=r.app.written(r.app.redactor.text(fallback).text if fallback else None,
                                      meta.actor, task.requester))
