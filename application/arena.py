"""The arena as people use it: two planners plan one request (or a task's plan meets an
alternative), the plans are shown as A and B, and a person's verdict is a match."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.access import Access
from application.app import AltlasApplication
from application.errors import NotFoundError
from application.snapshots import TaskView
from domain.base import is_person
from domain.duel import Duel, duel_of_task
from domain.errors import ConflictError, InvalidInputError
from domain.models import UnknownModelError
from domain.training import Training

RULES = "rules"


class Arena:
    def __init__(self, app: AltlasApplication, access: Access,
                 resolve: Callable[[str, str | tuple[str, ...]], UUID],
                 adapter: Callable[[str], Training | None]) -> None:
        self.app = app
        self.access = access
        self._resolve = resolve  # (ref, kind) → UUID, as the use cases resolve ids
        self._adapter = adapter  # an evaluated adapter by its name

    def ask(self, who: str, request: str, *, a: str | None = None, b: str | None = None,
            environment: str | None = None, reply_to: dict[str, str] | None = None,
            task_ref: str | None = None) -> dict[str, Any]:
        """Record the duel (ArenaRequested); the reactions plan both sides. Without ``a`` and
        ``b``: the model that plans now (or the rules) against the newest other registered
        model, shown in a random order. With ``task_ref``: that task's plan against it."""
        self.access.check(who, "request")
        task: TaskView | None = None
        if task_ref is not None:
            task = self.app.get_task(self._resolve(task_ref, "task"))
            if task.segmenter is None or task.plan is None:
                raise ConflictError(f"task {task.id} has no plan to duel with yet: try again "
                                    "once it is planned")
            request, environment = self.app.privacy.reveal(task.request), task.environment
            a = task.segmenter
        first, second = self._pair(a, b, planned=task is not None)
        if task is None and secrets.randbelow(2):  # which is A says nothing of who made it
            first, second = second, first
        duel_id = self.app.request_duel(
            request, who, first, second, makers=self._makers(first, second),
            environment=environment, reply_to=reply_to,
            task_id=UUID(task.id) if task is not None else None)
        return self.duel(who, str(duel_id))

    def vote(self, who: str, ref: str, outcome: str) -> dict[str, Any]:
        """A verdict: a, b, tie or both_bad (ArenaVoted and MatchPlayed). Who made one of the
        planners is refused, and the refusal is recorded."""
        self.access.check(who, "judge")
        self.app.vote_duel(self._duel_id(ref), who, outcome)
        return self.duel(who, ref)

    def duel(self, who: str | None, ref: str) -> dict[str, Any]:
        """The duel as people may see it: which planner made which plan only once decided."""
        if who is not None:
            self.access.check(who, "read")
        duel = self.app.load(Duel, self._duel_id(ref))
        decided = duel.status == "decided"
        return {
            "id": str(duel.id), "request": self.app.privacy.reveal(duel.request),
            "requester": self.app.privacy.reveal(duel.requester),
            "environment": duel.environment, "status": duel.status, "task_id": duel.task_id,
            "plans": dict(duel.plans), "problems": dict(duel.problems),
            "planners": {"a": duel.a, "b": duel.b} if decided else None,
            "outcome": duel.outcome,
            "voter": self.app.privacy.reveal(duel.voter) if duel.voter else None,
            "reply_to": duel.reply_to}

    def _duel_id(self, ref: str) -> UUID:
        """A duel's id or a task's (whole, or a beginning): the duel, or the one about the
        task's plan."""
        ident = self._resolve(ref, ("duel", "task"))
        return ident if isinstance(self._found(ident), Duel) else duel_of_task(ident)

    def _found(self, ident: UUID) -> object:
        try:
            return self.app.load(Duel, ident)
        except NotFoundError:
            return None

    def _pair(self, a: str | None, b: str | None, *, planned: bool = False
              ) -> tuple[str, str]:
        """The planners named, else the model that plans now against the newest other;
        ``planned``: a is a task's planner, whose plan is recorded already."""
        registry = self.app.model_registry()
        names = self._registered()
        in_use = registry.adapter["name"] if registry and registry.adapter else (
            registry.active if registry else None)
        first = a or (f"local:{in_use}" if in_use else RULES)
        second = b or next((n for n in reversed(names) if n != first), None)
        if second is None:
            raise ConflictError("the arena needs two planners: register a model "
                                    "(`altlas models add PATH`) to play against the "
                                    f"{first}")
        if first == second:
            raise InvalidInputError(f"{first} cannot play against itself: name two planners")
        self._check_known(*((second,) if planned else (first, second)))
        return first, second

    def record_match(self, who: str, a: str, b: str, outcome: str,
                     task_id: str | None = None) -> str:
        """A verdict recorded by hand (MatchPlayed): the same rule as an arena vote, so
        planners the arena knows, and not judged by who made one of them."""
        self.access.check(who, "judge")
        self._check_known(a, b)  # as written: " rules" is no planner
        return self.app.record_match(a, b, outcome, who, task_id=task_id,
                                     makers=self._makers(a, b))

    def _check_known(self, *planners: str) -> None:
        """UnknownModelError (404) naming the first planner the arena does not know."""
        names = self._registered()
        for name in planners:
            if name != RULES and name not in names and (
                    self._adapter(name.removeprefix("local:")) is None):
                raise UnknownModelError(f"{name} is not a planner the arena knows: rules, "
                                        "local:NAME of a registered model "
                                        f"({', '.join(names) or 'none yet'}), or "
                                        "local:BASE+lora-ID of an evaluated adapter", name)

    def _registered(self) -> list[str]:
        """The registered models' planners, and the adapter that plans now."""
        registry = self.app.model_registry()
        names = [f"local:{n}" for n in (registry.models if registry else ())]
        if registry is not None and registry.adapter is not None:
            names.append(f"local:{registry.adapter['name']}")
        return names

    def _makers(self, *planners: str) -> list[str]:
        """Who made a planner: who registered its model, or asked for its adapter's training
        (people only)."""
        registry = self.app.model_registry()
        found = []
        for planner in planners:
            name = planner.removeprefix("local:")
            model = registry.models.get(name) if registry else None
            maker = model["registered_by"] if model is not None else None
            adapter = self._adapter(name)
            if adapter is not None:
                maker = adapter.requester
            if maker is not None and is_person(maker):
                found.append(self.app.privacy.reveal(maker))
        return found
