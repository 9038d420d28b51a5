"""Similar-run search: completed runs embedded by their request and kept in a vector store
(ports.Embedder, ports.VectorStore); the segmenter's worked examples and the similar past runs
shown with a plan come from here.

A follower of the events indexes each run as it completes (the runs of tasks whose request
was erased are left out); its place in the events is tracked like the chat fronts', so a
restart resumes and nothing is indexed twice in vain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.app import AltlasApplication
from application.errors import NotFoundError
from application.history import EventHistory
from application.ports import (
    Embedder,
    IndexedRun,
    SearchWarmingError,
    VectorStore,
    VectorStoreUnavailableError,
)
from application.signal import IDLE, Outcome, Signal, follow
from domain.atlas import pattern_of
from domain.plan import PlanError
from domain.records import RecordedEvent
from domain.run import settled_outcome

log = logging.getLogger("altlas.similar")

ERASED = "[erased]"
MIN_SCORE = 0.35  # below this, a "similar" run misleads more than it helps


@dataclass(frozen=True)
class SimilarRun:
    run_id: str
    task_id: str
    request: str
    plan: dict[str, Any]
    pattern: str
    outcome: str
    environment: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "task_id": self.task_id, "request": self.request,
                "pattern": self.pattern, "outcome": self.outcome,
                "environment": self.environment, "score": round(self.score, 4),
                "plan": self.plan}


class SimilarRuns:
    def __init__(self, app: AltlasApplication, history: EventHistory, embedder: Embedder,
                 store: VectorStore, tasks_of: Callable[[str], list[str]],
                 batch: int = 500) -> None:
        self.app = app
        self._tasks_of = tasks_of  # the tasks a person (as the events name them) asked for
        self.history = history
        self.embedder = embedder
        self.store = store
        self.batch = batch
        self.name = f"altlas.similar.{store.name}.{embedder.name}"  # what the follower tracks
        self._warming = threading.Event()  # set while a warm-up loads the embedder
        self._warm = threading.Event()

    def warm(self) -> None:
        """Load the embedder ahead of the first search (a model takes seconds); meanwhile a
        search is answered at once with SearchWarmingError instead of waiting for it."""
        if self._warm.is_set():
            return
        self._warming.set()
        try:
            self.embedder.embed(["warm up"])
            self._warm.set()
        except Exception:
            log.exception("similar-run search: the embedder could not be loaded")
        finally:
            self._warming.clear()

    def catch_up(self) -> int:
        """Index the runs completed since the last call; how many were indexed."""
        indexed = 0
        while True:
            start = self.app.tracked(self.name) or 0
            records = list(self.history.read(after=start, limit=self.batch))
            if not records:
                return indexed
            indexed += self._index(records)
            self.app.track(self.name, records[-1].position or start)

    def run(self, stop: threading.Event, idle_seconds: float, wake: Signal | None = None,
            max_backoff: float = 60.0) -> None:
        """Until ``stop``: index what completes, woken when something is recorded. A store
        that cannot be reached is said once and tried again, waiting longer each time."""
        self.warm()
        backoff, down = idle_seconds, False

        def step() -> Outcome:
            nonlocal backoff, down
            try:
                self.catch_up()
            except VectorStoreUnavailableError as e:
                if not down:
                    log.warning("similar-run search: %s; indexing waits", e)
                down, backoff = True, min(max(backoff * 2, 1.0), max_backoff)
                return backoff
            except Exception:
                log.exception("similar-run search: indexing failed; trying again")
                return max(backoff, 1.0)
            if down:
                log.warning("similar-run search: %s is back; indexing again", self.store.name)
            down, backoff = False, idle_seconds
            return IDLE

        follow(stop, wake, step, idle_seconds)

    def reindex(self) -> int:
        """Forget the index and build it again from the whole history."""
        self.store.clear()
        done = self.app.tracked(self.name) or 0
        indexed, batch = 0, []
        for record in self.history.read(stop=done):
            batch.append(record)
            if len(batch) >= self.batch:
                indexed += self._index(batch)
                batch = []
        return indexed + self._index(batch) + self.catch_up()

    def _index(self, records: list[RecordedEvent]) -> int:
        indexed = 0
        runs: list[IndexedRun] = []
        texts: list[str] = []
        for record in records:
            if record.type_name == "PersonForgotten":  # their requests' vectors go too
                indexed += self._add(runs, texts)
                runs, texts = [], []
                self.store.remove(self._tasks_of(record.data["subject"]))
            elif settled_outcome(record.type_name, record.state.get("outcome")) is not None:
                found = self._indexed(record.aggregate_id)
                if found is not None:
                    runs.append(found[0])
                    texts.append(found[1])
        return indexed + self._add(runs, texts)

    def _add(self, runs: list[IndexedRun], texts: list[str]) -> int:
        if runs:
            self.store.add(runs, self.embedder.embed(texts))
        return len(runs)

    def _indexed(self, run_id: UUID) -> tuple[IndexedRun, str] | None:
        try:
            run = self.app.get_run(run_id)
            task = self.app.get_task(UUID(run.task_id))
        except NotFoundError:
            return None
        if task.plan is None or ERASED in task.request or run.outcome is None:
            return None
        try:
            pattern = pattern_of(task.plan).key
        except PlanError:
            return None
        environment = task.environment or next(
            (g.get("environment") for g in task.gates if g.get("environment")), None)
        return IndexedRun(str(run_id), task.id, pattern, run.outcome, environment), task.request

    def search(self, text: str, k: int = 3, *, environment: str | None = None,
               outcome: str | None = None, min_score: float = 0.0) -> list[SimilarRun]:
        """The ``k`` past runs whose requests are nearest ``text``, with their plans."""
        if self._warming.is_set():
            raise SearchWarmingError("the embedding model is still loading (seconds after a "
                                     "start); try again shortly")
        vector = self.embedder.embed([text])[0]
        found = []
        for near in self.store.near(vector, k, environment=environment, outcome=outcome):
            if near.score < min_score:
                continue
            try:
                task = self.app.get_task(UUID(near.run.task_id))
            except NotFoundError:
                continue
            if task.plan is None or ERASED in task.request:
                continue
            r = near.run
            found.append(SimilarRun(r.run_id, r.task_id, task.request, task.plan, r.pattern,
                                    r.outcome, r.environment, near.score))
        return found

    def examples(self, text: str, k: int) -> tuple[tuple[str, dict[str, Any]], ...]:
        """Worked examples for a model: requests and plans of similar runs that succeeded."""
        return tuple((s.request, s.plan) for s in self.search(
            text, k, outcome="succeeded", min_score=MIN_SCORE))
