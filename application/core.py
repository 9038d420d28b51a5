"""What every area's commands share: the one eventsourcing Application (one store, one
notification log, one hash-chained order of events), the actors altlas records as,
loading and saving aggregates with optimistic concurrency, reactions and their tracking.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import (
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ProcessRecorder, RecordConflictError, Recording, Tracking
from eventsourcing.utils import register_topic

from application.access import installation_approvers
from application.errors import (
    ConcurrentUpdateError,
    NotFoundError,
    TaskNotReadyError,
    UnknownEnvironmentError,
)
from application.ids import run_id_of as run_id_of
from application.ports import Clock, PersonalFiles, PersonKeys, system_clock
from application.privacy import Privacy, is_pseudonym
from application.signal import Signal
from application.snapshots import ApprovalView, RunView, TaskView
from application.stored import checked, project, stored
from domain.approval import Approval, ApprovalSubject
from domain.base import AuditedAggregate, EventMeta, Seal, as_written, is_person
from domain.erasure import Erasure, erasure_id
from domain.errors import DomainError, InvalidInputError
from domain.event_names import OLD_MODULES
from domain.policy import Policy
from domain.risk import RiskLevel
from domain.run import Run
from domain.secrets import Redactor
from domain.task import Task

if TYPE_CHECKING:  # the reactions reach every area's commands
    from application.app import AltlasApplication

# Stored events name their classes by the topics of earlier releases too
# (`altlas.domain.task:Task.Requested`): they resolve to the same classes.
for _old, _now in OLD_MODULES.items():
    register_topic(_old, importlib.import_module(_now))

RUNNER = "altlas:runner"
SCHEDULER = "altlas:scheduler"
PRIVACY = "altlas:privacy"
MODELS = "altlas:models"  # who records a change of model, once approved
ARENA = "altlas:arena"  # who records a duel's plans, and what its task's run made of it
TRAINER = "altlas:trainer"  # who records a training's progress and its adapter
ATLAS = "altlas:atlas"
ALERTMANAGER = "altlas:alertmanager"  # alerts are recorded as the sender's, not a person's
CORRELATOR = "altlas:correlator"
INCIDENTS = "altlas:incidents"  # who asks for the remediation of an incident
RUNBOOKS = "altlas:runbooks"  # who publishes a runbook's version once it is approved
MAX_ATTEMPTS = 20
LOADED = 256  # aggregates whose last loaded state each process keeps, to bring up to date

T = TypeVar("T")
A = TypeVar("A", bound=AuditedAggregate)


class AppCore(Application[UUID]):
    def __init__(self, policy: Policy, clock: Clock = system_clock,
                 env: dict[str, str] | None = None, *, keys: PersonKeys,
                 files: PersonalFiles | None = None, redactor: Redactor | None = None
                 ) -> None:
        super().__init__(env=env)
        self.policy = policy
        self.clock = clock
        # People are named by pseudonym in every event, and what they write is sealed with
        # their own key: names in, names out, at this class's methods (application/privacy.py).
        self.privacy = Privacy(keys, files, self._forgotten)
        # what step outcomes are cleaned of before they are recorded (domain/secrets.py)
        self.redactor = redactor or Redactor()
        self.recorder: ProcessRecorder
        self.recorded = Signal()  # set after every save in this process: followers wake on it
        # Commands on one aggregate take turns within this process (200 people clicking at
        # once would otherwise mostly retry); across processes optimistic concurrency decides.
        self._turns = tuple(threading.Lock() for _ in range(64))
        self._loaded: LRUCache[UUID, Any] = LRUCache(LOADED)

    def construct_recorder(self) -> ProcessRecorder:
        """A process recorder: an application recorder that can also record, in the same
        transaction as new events, how far a follower of the events has got."""
        return self.factory.process_recorder()

    def save(self, *aggregates: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, without its runtime Protocol checks (a fifth of a command's
        time, bench/append.py): altlas saves only its own aggregates."""
        processing = ProcessingEvent[UUID]()
        collect_effects(processing, aggregates)
        recordings = self._record(processing)
        self._notify(recordings)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        super()._notify(recordings)
        if recordings:
            self.recorded.notify()

    def _installation_approval(
        self, subject: ApprovalSubject, subject_id: UUID, step: str, environment: str,
        who: str, *, excluded: frozenset[str], reason: str, meta: EventMeta, refusal: str,
    ) -> Approval:
        """An approval of what concerns the whole installation (forgetting a person, the
        model that plans, a training): one vote by an approver or admin other than who asks
        and ``excluded``; ``refusal`` says why none could be asked when nobody is left."""
        eligible = frozenset(self.privacy.pseudonym(p)
                             for p in installation_approvers(self.policy))
        if not eligible - {who} - excluded:
            raise InvalidInputError(refusal)
        return Approval.request(
            subject=subject, task_id=subject_id, run_id=None, step_id=step,
            risk=RiskLevel.HIGH_RISK.value, environment=environment, requester=who,
            eligible=eligible, required=1, expires_at=self.clock() + self.policy.expiry,
            reason=reason, meta=meta, authors=excluded)

    def written(self, text: str | None, writer: str, about: str | None = None) -> str | None:
        """What ``writer`` wrote, sealed with their key; altlas's own words about a person
        (which may quote them: a rejected request) with ``about``'s key."""
        if text is None:
            return None
        return self._sealer(writer if is_person(writer) else about)(text)

    def _sealer(self, writer: str | None) -> Seal:
        return as_written if writer is None else self.privacy.sealer(writer)

    def track(self, follower: str, position: int) -> bool:
        """Record that ``follower`` has handled the events up to ``position``; False if a
        process of the same follower had got there first."""
        try:
            self.recorder.insert_tracking(Tracking(follower, position))
        except RecordConflictError:
            return False
        return True

    def tracked(self, follower: str) -> int | None:
        """How far ``follower`` has got; None if it never started."""
        return self.recorder.max_tracking_id(follower)

    def get_task(self, task_id: UUID) -> TaskView:
        return self._shown(self._read(Task, task_id, TaskView.of))

    def get_run(self, run_id: UUID) -> RunView:
        return self._shown(self._read(Run, run_id, RunView.of))

    def get_approval(self, approval_id: UUID) -> ApprovalView:
        return self._shown(self._read(Approval, approval_id, ApprovalView.of))

    def load(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate as recorded now, a copy of its own (reactions change it, then
        record it); raises NotFoundError. A copy of the last one loaded here is brought
        up to date with the events recorded since, rather than replaying them all: an
        incident of a thousand alerts is loaded once per alert in a storm."""
        try:
            known: Any = self._loaded.get(aggregate_id)
        except KeyError:
            known = None
        if known is None:
            found = project(None, self.events.get(aggregate_id))
        else:
            found = project(copy.deepcopy(known), self.events.get(aggregate_id,
                                                                   gt=known.version))
        if found is not None:
            self._loaded.put(aggregate_id, copy.deepcopy(found))
        return checked(kind, aggregate_id, found)

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _check_environment(self, environment: str | None) -> None:
        if environment is not None and environment not in self.policy.environments:
            known = ", ".join(self.policy.environments)
            raise UnknownEnvironmentError(
                f"unknown environment {environment!r}; use one of {known}")

    def _shown(self, view: T) -> T:
        """A view as people read it: names, and what they wrote, unless forgotten."""
        return self.privacy.reveal(view)

    @contextmanager
    def _revealing(self) -> Iterator[None]:
        """A refusal names people as people know them."""
        try:
            yield
        except DomainError as e:
            if e.args and isinstance(e.args[0], str):
                e.args = (self.privacy.reveal(e.args[0]), *e.args[1:])
            raise

    def _as_recorded(self, name: str, like: str | None) -> str:
        """``name`` as an aggregate names people: by pseudonym, or by name in one recorded
        before pseudonyms (``like``, a person it names, is in clear)."""
        if like is not None and is_person(like) and not is_pseudonym(like):
            return name
        return self.privacy.pseudonym(name)

    def _naming(self, like: str | None) -> Callable[[str], str]:
        return lambda name: self._as_recorded(name, like)

    def _cached(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate from the cache (or the store, the first time). In another process
        it may have moved on since: a command's save then conflicts, and the command is
        decided again on what is recorded. Call with the aggregate's turn held."""
        return stored(self.repository, kind, aggregate_id)

    def _forgotten(self, pseudonym: str) -> bool:
        """Whether the history records the person forgotten, so that a key put back from a
        copy afterwards is not believed. Read without taking the erasure's turn: this is
        asked while a command holds another aggregate's."""
        return any(isinstance(e, Erasure.Forgotten)
                   for e in self.events.get(erasure_id(pseudonym)))

    def _read(self, kind: type[A], aggregate_id: UUID, view: Callable[[A], T]) -> T:
        """What is recorded now: the cached aggregate, brought up to date first (another
        process may have changed it), shown as an immutable view."""
        with self._turn(aggregate_id):
            return view(self._current(kind, aggregate_id))

    def _current(self, kind: type[A], aggregate_id: UUID) -> A:
        """The cached aggregate brought up to date: another process may have changed it, and
        a command decided on a stale copy would be refused for a state that has passed.
        Call with the aggregate's turn held."""
        aggregate = self._cached(kind, aggregate_id)
        newer = list(self.events.get(aggregate_id, gt=aggregate.version))
        return project(aggregate, newer) if newer else aggregate

    def _moved_on(self, aggregate_id: UUID, version: int) -> bool:
        """Events of the aggregate past ``version`` are recorded: one indexed query."""
        return bool(self.recorder.select_events(aggregate_id, gt=version, limit=1))

    def _forget(self, aggregate_id: UUID) -> None:
        if self.repository.cache is not None:
            with contextlib.suppress(KeyError):
                self.repository.cache.get(aggregate_id, evict=True)

    def _change(self, kind: type[A], aggregate_id: UUID, actor: str,
                change: Callable[[A, EventMeta], None]) -> A:
        """Load, decide, save; on a version conflict, all three again from the store. A
        refused or failed command leaves nothing half-changed in the cache.

        The cached copy may be stale (another process changed the aggregate). A command
        that records something finds out for free: its save conflicts. One that refuses or
        records nothing may have decided on a state that has passed, so it asks the store
        once whether anything newer is recorded, and if so is decided again."""
        command_id = str(uuid4())

        def command() -> A:
            aggregate = self._cached(kind, aggregate_id)
            seen = aggregate.version
            who = self._as_recorded(actor, getattr(aggregate, "requester", None))
            try:
                change(aggregate, EventMeta(who, aggregate.correlation_id, command_id))
                if aggregate.pending_events:
                    self.save(aggregate)
                elif self._moved_on(aggregate_id, seen):
                    raise RecordConflictError("decided on a stale copy")
            except DomainError:
                self._forget(aggregate_id)
                if self._moved_on(aggregate_id, seen):
                    raise RecordConflictError("refused on a stale copy") from None
                raise
            except BaseException:
                self._forget(aggregate_id)
                raise
            return aggregate

        with self._turn(aggregate_id), self._revealing():
            return self._retrying(command)

    @contextmanager
    def _turn(self, aggregate_id: UUID) -> Iterator[None]:
        with self._turns[aggregate_id.int % len(self._turns)]:
            yield

    @staticmethod
    def _retrying(command: Callable[[], T]) -> T:
        """Optimistic concurrency: on a version conflict, reload and decide again."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return command()
            except RecordConflictError:
                if attempt == MAX_ATTEMPTS:
                    break
                time.sleep(random.uniform(0, 0.002 * attempt))
        raise ConcurrentUpdateError(
            f"gave up after {MAX_ATTEMPTS} attempts: others kept changing it; try again"
        )


class Reaction:
    """What a reaction works with: aggregates as recorded now, changed in memory and
    recorded together when the reaction returns; and the steps it claimed for its worker,
    which the worker runs once the claims are recorded."""

    def __init__(self, app: AltlasApplication, processing: ProcessingEvent[UUID],
                 worker: str | None) -> None:
        self.app = app
        self.processing = processing
        self.worker = worker
        self.now = app.clock()
        self.loaded: dict[UUID, Aggregate] = {}
        self.claims: list[tuple[UUID, str]] = []

    def get(self, kind: type[A], aggregate_id: UUID) -> A:
        """The aggregate, loaded once per reaction: later changes see earlier ones."""
        found = self.loaded.get(aggregate_id)
        if found is None:
            found = self.app.load(kind, aggregate_id)
            self.loaded[aggregate_id] = found
        if not isinstance(found, kind):
            raise NotFoundError(f"no {kind.__name__.lower()} with id {aggregate_id}")
        return found

    @property
    def position(self) -> int:
        """Where the event reacted to is in the store's sequence."""
        assert self.processing.tracking is not None
        return self.processing.tracking.notification_id

    def add(self, *aggregates: Aggregate) -> None:
        """New aggregates this reaction creates."""
        for aggregate in aggregates:
            self.loaded[aggregate.id] = aggregate

    def claim(self, run_id: UUID, step_id: str) -> None:
        self.claims.append((run_id, step_id))


def collect_effects(processing: ProcessingEvent[UUID], aggregates: Iterable[Any]) -> None:
    for aggregate in aggregates:
        processing.events.extend(aggregate.collect_events())
        processing.aggregates[aggregate.id] = aggregate


class RunAlreadyStartedError(TaskNotReadyError):
    """The task's run exists already (the reactions start it when the plan is recorded)."""
