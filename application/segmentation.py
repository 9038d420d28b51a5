"""Segmentation: a request becomes a plan the policy accepts, or a reasoned rejection.

The primary segmenter is tried — a model gets one retry when its output is not a valid plan —
then the fallback, and the fallback is recorded on the event with the reason. With two
readings, a model's plan is read a second time, sampled: when both are plans that do what was
asked but do different things, altlas asks which was meant (self-consistency). A plan is only
taken when it does what was asked (domain.grounding): the hosts the request names, every
clause covered, commands altlas knows the meaning of; otherwise the next segmenter is tried,
and when none makes one, what to ask the person instead. With a model as primary the rules are
the fallback; with the rules as primary a model may be the fallback for the requests the rules
do not understand. Similar successful plans go into a model's prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from application.ports import SegmentationRequest, Segmenter, VectorStoreUnavailableError
from application.privacy import Privacy
from domain.asking import Question, question, same_reading, two_readings, with_answers
from domain.errors import DomainError
from domain.grounding import Inventory, Problem, Reading, check, read_request
from domain.plan import Plan
from domain.policy import Policy

log = logging.getLogger("altlas.segmentation")

SEGMENTER_ACTOR = "altlas:segmenter"
SECOND_READING = 0.7  # the temperature a model reads a request at the second time


# (request text, how many) → requests and plans of similar runs that succeeded
Examples = Callable[[str, int], tuple[tuple[str, dict[str, Any]], ...]]


class PlanChecker(Protocol):
    privacy: Privacy  # the request is recorded sealed; the segmenters read it plain

    @property
    def policy(self) -> Policy:
        """The policy in force: its inventory is what a request may name."""

    def check_plan(self, document: Any, mode: str = "normal", requester: str | None = None
                   ) -> object:
        """Raise a DomainError if the policy would refuse this plan."""


class Asked(Protocol):
    """What is planned: a task, or an arena duel's request."""

    @property
    def id(self) -> Any:
        """Named in the log."""

    request: str  # as recorded (sealed)
    requester: str
    answers: list[dict[str, Any]]
    mode: str
    persona: str
    environment: str | None
    chaos_level: int | None

    @property
    def picked_hosts(self) -> list[str]:
        """Hosts the requester picked when asked."""


@dataclass(frozen=True)
class PlanOutcome:
    """A plan the policy accepts and the segmenter that made it, or why there is none."""

    plan: dict[str, Any] | None
    segmenter: str
    fallback_reason: str | None = None
    problem: str = ""
    ungrounded: tuple[Problem, ...] = ()  # why the plans made were not what was asked
    question: Question | None = None  # what to ask the person instead, when there is no plan


class NotGroundedError(DomainError):
    """The plan does something other than what was asked."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("the plan does not do what was asked: "
                         + "; ".join(str(p) for p in problems[:3]))
        self.problems = tuple(problems)


class SegmentationService:
    def __init__(self, app: PlanChecker, segmenter: Segmenter, fallback: Segmenter | None,
                 similar: Examples | None = None, examples: int = 2,
                 readings: int = 1) -> None:
        self._app = app
        self._segmenter = segmenter
        self._fallback = fallback
        self._similar = similar
        self._examples = examples
        self._readings = readings

    def use(self, segmenter: Segmenter, fallback: Segmenter | None) -> None:
        """Plan with these from now on: made with the policy the process adopted."""
        self._segmenter, self._fallback = segmenter, fallback

    @property
    def name(self) -> str:
        return self._segmenter.name

    def plan(self, task: Asked) -> PlanOutcome:
        """A plan for the task by the first segmenter that makes one the policy accepts."""
        text = self._app.privacy.reveal(task.request)
        if task.answers:  # what the requester answered when asked
            text = with_answers(text, self._app.privacy.reveal(task.answers))
        request = SegmentationRequest(
            text=text, mode=task.mode, persona=task.persona,
            environment=task.environment, chaos_level=task.chaos_level)
        inventory = Inventory.of(self._app.policy)
        reading = read_request(request.text, inventory)
        denied = next((p.pattern for p in self._app.policy.deny if p.search(request.text)), None)
        if denied is not None:
            return PlanOutcome(None, self.name, problem="the policy refuses what this request "
                               f"asks for (it matches the deny rule {denied!r})")
        ungrounded: list[Problem] = []
        plan, problem, asked = self._attempts(self._segmenter, request, task, reading,
                                              ungrounded)
        if plan is not None:
            return PlanOutcome(plan, self.name)
        if asked is not None:
            return PlanOutcome(None, self.name, problem=problem, question=asked)
        if self._fallback is not None:
            reason = f"{self.name}: {problem}"
            log.warning("task %s: %s; falling back to %s", task.id, reason, self._fallback.name)
            plan, fallback_problem, asked = self._attempts(self._fallback, request, task,
                                                           reading, ungrounded)
            if plan is not None:
                return PlanOutcome(plan, self._fallback.name, fallback_reason=reason)
            if asked is not None:
                return PlanOutcome(None, self._fallback.name, problem=fallback_problem,
                                   question=asked)
            problem = f"{problem}; {self._fallback.name}: {fallback_problem}"
        return PlanOutcome(None, self.name, problem=problem, ungrounded=tuple(ungrounded),
                           question=question(reading, ungrounded, inventory))

    def _attempts(self, segmenter: Segmenter, request: SegmentationRequest, task: Asked,
                  reading: Reading, ungrounded: list[Problem]
                  ) -> tuple[dict[str, Any] | None, str, Question | None]:
        """A model is asked twice (its output may be bad once), with worked examples; the
        rules once, and need none. A plan, or why there is none and what to ask."""
        deterministic = getattr(segmenter, "deterministic", False)
        tries = 1 if deterministic else 2
        if not deterministic:
            request = replace(request, examples=self.similar(request.text))
        problem = ""
        for attempt in range(1, tries + 1):
            plan, problem = self._try(segmenter, request, task, reading, ungrounded)
            if plan is not None:
                if deterministic or self._readings < 2:
                    return plan, "", None
                return self._read_again(segmenter, request, task, reading, plan)
            if tries > 1:
                problem = f"no valid plan in {attempt} attempt(s) ({problem})"
        return None, problem, None

    def _read_again(self, segmenter: Segmenter, request: SegmentationRequest, task: Asked,
                    reading: Reading, plan: dict[str, Any]
                    ) -> tuple[dict[str, Any] | None, str, Question | None]:
        """The plan, unless a second, sampled reading is also a plan that does what was asked
        and does something else: then which one was meant is asked. A second reading that
        is no plan at all does not outvote the first."""
        second, _ = self._try(segmenter, replace(request, temperature=SECOND_READING), task,
                              reading, [])
        if second is None:
            return plan, "", None
        first, other = Plan.from_document(plan), Plan.from_document(second)
        if same_reading(first, other):
            return plan, "", None
        log.info("task %s: %s read the request two ways", task.id, segmenter.name)
        return None, f"{segmenter.name} read the request two ways", two_readings(
            first, other, self._app.policy.local_host)

    def _try(self, segmenter: Segmenter, request: SegmentationRequest, task: Asked,
             reading: Reading, ungrounded: list[Problem]) -> tuple[dict[str, Any] | None, str]:
        try:
            plan = segmenter.segment(request)
            self._app.check_plan(plan, task.mode, task.requester)
            self.ground(plan, task, reading)
        except NotGroundedError as e:
            ungrounded.extend(e.problems)
            return None, str(e)
        except DomainError as e:
            return None, str(e)
        except Exception as e:  # a model's failure is this attempt's failure, with its reason
            log.warning("%s failed: %s", segmenter.name, e, exc_info=True)
            return None, f"{type(e).__name__}: {e}"
        return plan, ""

    def ground(self, plan: dict[str, Any], task: Asked, reading: Reading) -> None:
        """Raise NotGroundedError unless the plan does what the request asks. Explore and
        chaos add steps of their own on purpose: there only the hosts are held to the
        request."""
        problems = check(Plan.from_document(plan), reading, Inventory.of(self._app.policy),
                         environment=task.environment, picked=task.picked_hosts)
        if task.mode != "normal":
            problems = [p for p in problems if p.kind == "host"]
        if problems:
            raise NotGroundedError(problems)

    def similar(self, request: str) -> tuple[tuple[str, dict[str, Any]], ...]:
        """The few most similar plans that ran successfully, as worked examples (from the
        similar-run search); none if the search cannot answer now."""
        if self._similar is None or self._examples == 0:
            return ()
        try:
            return self._similar(request, self._examples)
        except VectorStoreUnavailableError as e:
            log.warning("no worked examples: %s", e)
            return ()
