"""What a planner adapter would learn from: request → plan pairs from the history (runs that
succeeded, the plans that won in the arena) and the `dev` labelled file — deduplicated by
request, credentials taken out, and never a request of the `test` file, which only measures.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from application.app import AltlasApplication
from application.history import EventHistory
from domain.duel import Duel
from domain.run import SUCCEEDED, settled_outcome
from domain.secrets import Redactor
from domain.task import Task

SOURCES = ("run", "arena", "dev")  # earlier sources win a duplicate


class Learned(NamedTuple):
    """A request and its plan from the history, and who wrote the request (as recorded: a
    pseudonym), so that forgetting them finds it in the files it goes to."""

    request: str
    plan: dict[str, Any]
    by: str


@dataclass(frozen=True)
class Example:
    request: str
    plan: dict[str, Any]  # {"steps": [...]}, in the fields a planner writes
    source: str
    by: str | None = None  # None: the dev file's

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request, "plan": self.plan, "source": self.source,
                **({"by": self.by} if self.by else {})}


@dataclass(frozen=True)
class Dataset:
    examples: tuple[Example, ...]
    left_out: dict[str, int] = field(default_factory=dict)  # why → how many

    def by_source(self) -> dict[str, int]:
        counts = Counter(e.source for e in self.examples)
        return {source: counts.get(source, 0) for source in SOURCES}

    def jsonl(self) -> Iterator[str]:
        for example in self.examples:
            yield json.dumps(example.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"


def key(request: str) -> str:
    """Requests that differ only in case and spacing are the same request."""
    return " ".join(request.lower().split())


def labelled(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(request, plan) of a labelled file's requests that expect a plan."""
    return [(r["request"], {"steps": r["steps"]}) for r in document.get("requests", ())
            if r.get("expect") == "plan" and r.get("steps")]


def build(runs: Iterable[Learned], arena: Iterable[Learned],
          dev: Iterable[tuple[str, dict[str, Any]]],
          test_requests: Iterable[str], redactor: Redactor) -> Dataset:
    """The examples, in source order (runs, arena winners, dev), each request once."""
    frozen = {key(r) for r in test_requests}
    seen: set[str] = set()
    left_out: Counter[str] = Counter()
    examples: list[Example] = []
    from_dev = (Learned(request, plan, "") for request, plan in dev)
    for source, pairs in (("run", runs), ("arena", arena), ("dev", from_dev)):
        for request, plan, by in pairs:
            clean = redactor.text(request).text
            steps = [_step(s, redactor) for s in plan.get("steps", ())]
            if key(clean) in frozen or key(request) in frozen:
                left_out["in the test file"] += 1
            elif key(clean) in seen:
                left_out["a duplicate"] += 1
            elif not steps:
                left_out["no steps"] += 1
            else:
                seen.add(key(clean))
                examples.append(Example(clean, {"steps": steps}, source, by or None))
    return Dataset(tuple(examples), dict(left_out))


def from_history(app: AltlasApplication, history: EventHistory
                 ) -> tuple[list[Learned], list[Learned]]:
    """Every run that succeeded, and every plan that won a duel, in the order they
    happened; requests in clear (the events hold them sealed)."""
    runs: list[Learned] = []
    arena: list[Learned] = []
    for record in history.read():
        if settled_outcome(record.type_name, record.state.get("outcome")) == SUCCEEDED:
            task_id = UUID(app.get_run(record.aggregate_id).task_id)
            task = app.get_task(task_id)
            if task.plan is not None:
                runs.append(Learned(task.request, task.plan,
                                    app.load(Task, task_id).requester))
        elif record.type_name == "ArenaVoted" and record.state.get("outcome") in ("a", "b"):
            duel = app.load(Duel, record.aggregate_id)
            won = duel.plans.get(record.state["outcome"])
            if won:
                arena.append(Learned(app.privacy.reveal(duel.request), won, duel.requester))
    return runs, arena


def last_training(history: EventHistory) -> tuple[UUID, dict[str, int]] | None:
    """The last training asked for, and how many examples of each source it had."""
    found = None
    for record in history.read():
        if record.type_name == "TrainingRequested":
            found = (record.aggregate_id, dict(record.state.get("by_source", {})))
    return found


def _step(step: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    kept: dict[str, Any] = {k: step[k] for k in ("id", "kind", "action", "target", "needs")
                            if k in step}
    kept["action"] = redactor.text(str(kept.get("action", ""))).text
    return kept
