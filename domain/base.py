"""What every altlas aggregate and event shares: who did it, why, and the hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from domain.hashchain import GENESIS, event_hash
from domain.people import SYSTEM_ACTOR_PREFIX as SYSTEM_ACTOR_PREFIX
from domain.people import Seal as Seal
from domain.people import as_written as as_written
from domain.people import is_person as is_person

_EVENT_NS = UUID("6f1f3a52-5a4e-4a53-9d3c-2a6b0e1d7c11")


def event_id(aggregate_id: UUID, version: int) -> str:
    """A stable id for a recorded event, so a re-delivered copy keeps its identity."""
    return str(uuid5(_EVENT_NS, f"{aggregate_id}/{version}"))


@dataclass(frozen=True)
class EventMeta:
    """Who caused an event and in answer to what.

    ``correlation_id`` ties together everything done for one request; ``causation_id``
    names the command or event that directly caused this one.
    """

    actor: str
    correlation_id: str
    causation_id: str

    @classmethod
    def for_command(cls, actor: str, correlation_id: str | None = None) -> EventMeta:
        command_id = str(uuid4())
        return cls(
            actor=actor, correlation_id=correlation_id or command_id, causation_id=command_id
        )

    def kwargs(self) -> dict[str, str]:
        return {
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


class AuditedAggregate(Aggregate):
    """An aggregate whose events carry actor, correlation, causation and a hash chain."""

    class Event(Aggregate.Event):
        type_name: ClassVar[str] = ""

        actor: str
        correlation_id: str
        causation_id: str
        prevhash: str
        hash: str

        def __post_init__(self) -> None:
            super().__post_init__()
            if not self.hash:
                # Sealing a frozen event at construction is the one place we set a field.
                object.__setattr__(
                    self, "hash", event_hash(self.prevhash, self.type_name, vars(self))
                )

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            aggregate.last_hash = self.hash
            return aggregate

    class Created(Event, Aggregate.Created):
        pass

    last_hash: str = GENESIS
    if TYPE_CHECKING:  # set by each aggregate's __init__; not a field of the generated one
        correlation_id: str

    @classmethod
    def _create_audited(
        cls, event_class: type[Aggregate.Created], meta: EventMeta, *, id: UUID | None = None,
        **kwargs: Any,
    ) -> Self:
        return cls._create(
            event_class, id=id or uuid4(), prevhash=GENESIS, hash="", **meta.kwargs(), **kwargs
        )

    def _trigger(self, event_class: type[Aggregate.Event], meta: EventMeta, **kwargs: Any) -> None:
        self.trigger_event(
            event_class, prevhash=self.last_hash, hash="", **meta.kwargs(), **kwargs
        )


def wire_type(event: AuditedAggregate.Event) -> str:
    """The stable event name used in hashes, on the wire and in views."""
    return type(event).type_name
