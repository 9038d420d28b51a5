"""Commands of the arena and matches between planners."""

from __future__ import annotations

from uuid import UUID, uuid4

from application.core import AppCore
from application.errors import (
    TaskNotReadyError,
)
from domain.base import EventMeta
from domain.duel import Duel, DuelDecidedError, MakerCannotJudgeError, duel_of_task
from domain.errors import ConflictError
from domain.matches import Match, NoPlanCannotWinError
from domain.task import Task


class ArenaCommands(AppCore):
    def record_match(self, a: str, b: str, outcome: str, actor: str, *, makers: list[str],
                     source: str = "vote", weight: float = 1.0,
                     task_id: str | None = None) -> str:
        """Record who won a match between two planners (MatchPlayed); its id. ``makers``:
        who made a or b (application.arena), who may not judge them."""
        meta = EventMeta.for_command(self.privacy.pseudonym(actor))
        match = Match.record(a, b, outcome, meta, source=source, weight=weight, task_id=task_id,
                             makers=[self.privacy.pseudonym(m) for m in makers])
        self.save(match)
        return str(match.id)

    def request_duel(self, request: str, requester: str, a: str, b: str, *,
                     makers: list[str], environment: str | None = None,
                     reply_to: dict[str, str] | None = None,
                     task_id: UUID | None = None) -> UUID:
        """Ask two planners to plan ``request`` (ArenaRequested); with ``task_id``, side a is
        that task's recorded plan and b the alternative. The reactions plan the rest."""
        Duel.check_request(request)
        who = self.privacy.pseudonym(requester)
        plan_a = None
        if task_id is not None:
            task = self._read(Task, task_id, lambda t: t)
            if task.plan is None:
                raise TaskNotReadyError(f"task {task_id} has no plan yet to duel with")
            if self.exists(duel_of_task(task_id)):
                raise ConflictError(f"task {task_id} has its duel already")
            plan_a = task.plan
        meta = EventMeta.for_command(who)
        self._check_environment(environment)
        duel = Duel.request_duel(self.written(request, who) or "", who, a, b, meta,
                                 environment=environment, reply_to=reply_to, task_id=task_id,
                                 plan_a=plan_a, makers=[self.privacy.pseudonym(m)
                                                        for m in makers])
        self.save(duel)
        return duel.id

    def vote_duel(self, duel_id: UUID, voter: str, outcome: str) -> Duel:
        """A person's verdict (ArenaVoted, and the MatchPlayed it makes); a vote that does
        not count is put on the record (ArenaVoteRefused) and raised."""
        who = self.privacy.pseudonym(voter)

        def command() -> Duel:
            duel = self._cached(Duel, duel_id)
            meta = EventMeta(who, duel.correlation_id, str(uuid4()))
            try:
                duel.check_vote(who, outcome)
            except (MakerCannotJudgeError, NoPlanCannotWinError, DuelDecidedError) as e:
                duel.refuse_vote(who, self.privacy.reveal(str(e)), meta)
                self.save(duel)
                raise
            match = Match.record(duel.a, duel.b, outcome, meta, source="vote",
                                 task_id=duel.task_id, makers=duel.makers,
                                 planless=duel.planless)
            try:
                duel.vote(who, outcome, match.id, meta)
                self.save(duel, match)
            except BaseException:
                self._forget(duel_id)
                raise
            return duel

        with self._turn(duel_id), self._revealing():
            return self._retrying(command)
