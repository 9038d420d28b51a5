"""An arena duel: two planners plan the same request, and people see the plans as A and B —
which planner is which stays hidden until someone says which plan is better. The verdict is a
match (domain.matches) the leaderboards rate.

A duel may be about a real task: one side is the plan that task recorded, the other the
alternative the arena made for it; when the task's run completes, its outcome counts as a
match between the two as well.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError, InvalidInputError
from domain.matches import MAX_NAME, MakerCannotJudgeError, check_verdict

__all__ = ["Duel", "DuelDecidedError", "MakerCannotJudgeError", "duel_of_task"]

REQUESTED, PLANNED, DECIDED = "requested", "planned", "decided"
MAX_REQUEST_CHARS = 2000
_DUELS = uuid5(NAMESPACE_URL, "urn:altlas:duels")


def duel_of_task(task_id: UUID) -> UUID:
    """The duel about a task's plan: one per task, so its run finds it."""
    return uuid5(_DUELS, str(task_id))


class Duel(AuditedAggregate):
    class Requested(AuditedAggregate.Created):
        """``a`` and ``b`` are the planners in the order shown (drawn at random); ``makers``
        made one of them (registered the model, trained the adapter) and may not judge."""

        type_name = "ArenaRequested"
        request: str  # sealed with the requester's key
        requester: str
        environment: str | None
        a: str
        b: str
        makers: list[str]
        reply_to: dict[str, str] | None
        task_id: str | None  # the task whose recorded plan is side a, if any
        plan_a: dict[str, Any] | None  # that plan

    class Planned(AuditedAggregate.Event):
        """Each side's plan, or why it made none."""

        type_name = "ArenaPlanned"
        plans: dict[str, Any]  # "a" / "b" → plan document or None
        problems: dict[str, str]  # "a" / "b" → why there is no plan ("" when there is one)

        def apply(self, duel: Duel) -> None:
            duel.plans = dict(self.plans)
            duel.problems = dict(self.problems)
            duel.status = PLANNED

    class Voted(AuditedAggregate.Event):
        type_name = "ArenaVoted"
        voter: str
        outcome: str
        match_id: UUID

        def apply(self, duel: Duel) -> None:
            duel.status = DECIDED
            duel.outcome = self.outcome
            duel.voter = self.voter

    class VoteRefused(AuditedAggregate.Event):
        """A vote that did not count, on the record: who tried and why."""

        type_name = "ArenaVoteRefused"
        by: str
        reason: str

    class RunCounted(AuditedAggregate.Event):
        """The task's run completed: a match between the plan that ran and the alternative."""

        type_name = "ArenaRunCounted"
        run_id: str
        run_outcome: str
        match_id: UUID

        def apply(self, duel: Duel) -> None:
            duel.run_counted = True

    def __init__(self, request: str, requester: str, environment: str | None, a: str, b: str,
                 makers: list[str], reply_to: dict[str, str] | None, task_id: str | None,
                 plan_a: dict[str, Any] | None, correlation_id: str) -> None:
        self.request = request
        self.requester = requester
        self.environment = environment
        self.a, self.b = a, b
        self.makers = list(makers)
        self.reply_to = dict(reply_to) if reply_to else None
        self.task_id = task_id
        self.plan_a = plan_a
        self.correlation_id = correlation_id
        self.status = REQUESTED
        self.plans: dict[str, Any] = {}
        self.problems: dict[str, str] = {}
        self.outcome: str | None = None
        self.voter: str | None = None
        self.run_counted = False
        # what segmentation reads of a request (application.segmentation.Asked)
        self.answers: list[dict[str, Any]] = []
        self.mode, self.persona = "normal", "technical_expert"
        self.chaos_level: int | None = None

    @property
    def picked_hosts(self) -> list[str]:
        return []  # a duel asks nothing back: the request is planned as written

    @staticmethod
    def check_request(request: str) -> None:
        """The request as written (before it is sealed)."""
        if not request.strip():
            raise InvalidInputError("the arena needs a request both planners plan")
        if len(request) > MAX_REQUEST_CHARS:
            raise InvalidInputError(f"the request has {len(request)} characters; at most "
                                    f"{MAX_REQUEST_CHARS}")

    @classmethod
    def request_duel(cls, request: str, requester: str, a: str, b: str, meta: EventMeta, *,
                     environment: str | None = None, makers: list[str] | None = None,
                     reply_to: dict[str, str] | None = None, task_id: UUID | None = None,
                     plan_a: dict[str, Any] | None = None) -> Duel:
        if not request:
            raise InvalidInputError("the arena needs a request both planners plan")
        for name in (a, b):
            if not name or len(name) > MAX_NAME:
                raise InvalidInputError(f"a planner's name has 1 to {MAX_NAME} characters")
        if a == b:
            raise InvalidInputError(f"{a} cannot play against itself: name two planners")
        if (task_id is None) != (plan_a is None):
            raise InvalidInputError("a duel about a task takes that task's recorded plan")
        extra = {"id": duel_of_task(task_id)} if task_id is not None else {}
        return cls._create_audited(
            cls.Requested, meta, request=request, requester=requester,
            environment=environment, a=a, b=b, makers=sorted(set(makers or ())),
            reply_to=reply_to, task_id=str(task_id) if task_id else None, plan_a=plan_a,
            **extra)

    def record_plans(self, plans: dict[str, Any], problems: dict[str, str],
                     meta: EventMeta) -> None:
        if self.status != REQUESTED:
            raise ConflictError(f"duel {self.id} is planned already")
        if set(plans) != {"a", "b"} or set(problems) != {"a", "b"}:
            raise InvalidInputError("a duel's plans are a and b")
        self._trigger(self.Planned, meta, plans=plans, problems=problems)

    def check_vote(self, voter: str, outcome: str) -> None:
        """Raise what a vote by ``voter`` would be refused for."""
        if self.status == REQUESTED:
            raise ConflictError("the plans are not ready yet; vote once both are shown")
        if self.status == DECIDED:
            raise DuelDecidedError(f"this duel was decided already: {self.outcome}")
        check_verdict(voter, outcome, self.makers, self.planless)

    @property
    def planless(self) -> list[str]:
        """The sides that made no plan."""
        return [side for side in ("a", "b") if self.plans.get(side) is None]

    def vote(self, voter: str, outcome: str, match_id: UUID, meta: EventMeta) -> None:
        self.check_vote(voter, outcome)
        self._trigger(self.Voted, meta, voter=voter, outcome=outcome, match_id=match_id)

    def refuse_vote(self, by: str, reason: str, meta: EventMeta) -> None:
        self._trigger(self.VoteRefused, meta, by=by, reason=reason[:300])

    def count_run(self, run_id: str, run_outcome: str, match_id: UUID,
                  meta: EventMeta) -> None:
        if self.task_id is None:
            raise ConflictError("only a duel about a task counts its run")
        if self.run_counted:
            raise ConflictError(f"the run of task {self.task_id} was counted already")
        self._trigger(self.RunCounted, meta, run_id=run_id, run_outcome=run_outcome,
                      match_id=match_id)

    def run_verdict(self, run_outcome: str) -> str:
        """The plan that ran (a) won if its run succeeded; else the alternative (b)."""
        return "a" if run_outcome == "succeeded" else "b"


class DuelDecidedError(ConflictError):
    """The first vote decided the duel; later ones do not count."""
