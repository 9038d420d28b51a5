"""Aggregates as recorded, as the fronts see them: the views of a task, a run and an
approval, people's names revealed. `AltlasApplication` reads them through its cache; the
command line's reads of a store in clear (altlas/quick_reads.py) through the library's
repository alone, which records nothing and builds no application."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from application.errors import NotFoundError
from application.snapshots import ApprovalView, RunView, TaskView
from domain.approval import Approval
from domain.run import Run
from domain.task import Task

if TYPE_CHECKING:
    from eventsourcing.application import Repository

    from application.privacy import Privacy

A = TypeVar("A")
T = TypeVar("T")


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's projector without its per-event runtime Protocol check, which cost
    a third of every command's time on Python 3.11 (bench/append.py)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def checked(kind: type[A], aggregate_id: UUID, found: Any) -> A:
    if not isinstance(found, kind):
        raise NotFoundError(f"no {kind.__name__.lower()} with id {aggregate_id}")
    return found


def stored(repository: Repository[UUID], kind: type[A], aggregate_id: UUID) -> A:
    """The aggregate as the repository has it; NotFoundError if it holds no ``kind`` there."""
    try:
        found = repository.get(aggregate_id, projector_func=project)
    except AggregateNotFoundError:
        found = None
    return checked(kind, aggregate_id, found)


class StoredViews:
    """`AltlasApplication.get_task`, `get_run` and `get_approval`, from the repository."""

    def __init__(self, repository: Repository[UUID], privacy: Privacy) -> None:
        self._repository = repository
        self._privacy = privacy

    def get_task(self, task_id: UUID) -> TaskView:
        return self._read(Task, task_id, TaskView.of)

    def get_run(self, run_id: UUID) -> RunView:
        return self._read(Run, run_id, RunView.of)

    def get_approval(self, approval_id: UUID) -> ApprovalView:
        return self._read(Approval, approval_id, ApprovalView.of)

    def _read(self, kind: type[A], aggregate_id: UUID, view: Callable[[A], T]) -> T:
        return self._privacy.reveal(view(stored(self._repository, kind, aggregate_id)))


class RecordedStore(Application[UUID]):
    """The store as the library's own application reads it, found where the library's
    settings (``store_env``) say: no command, reaction or policy, and no table created."""

    name = "altlas"  # AltlasApplication.name: the library names the stores after it

    def __init__(self, store_env: Mapping[str, str]) -> None:
        super().__init__(env={**store_env, "CREATE_TABLE": "n"})
