"""What the use cases of every area share: the application, the views, ids as people
give them, and the one access check."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from application.access import Access, NotOwnerError
from application.app import AltlasApplication
from application.arena import Arena
from application.atlas import Atlas
from application.errors import NotFoundError, TooOftenError
from application.history import EventHistory
from application.leaderboards import Leaderboards
from application.model_registry import Models
from application.ports import Auditor, Charts, ModelFiles, RateLimits, ReadModels, SignOuts
from application.privacy import Privacy
from application.reads import ANY as ANY
from application.reads import Filters as Filters
from application.reads import NoIncidentError as NoIncidentError
from application.reads import Page as Page
from application.reads import ViewReads
from application.reads import one_of as one_of
from application.similar import SimilarRuns
from domain.catalog import aggregate_kind
from domain.errors import InvalidInputError
from domain.policy import Policy
from domain.records import RecordedEvent

if TYPE_CHECKING:
    from application.use_cases.voice import Ears

ALERTS_PER_TRANSACTION = 500  # a webhook call of 10,000 alerts is 20 transactions
_ERASED_REF = re.compile(r"^(?:erased person )?#([0-9a-f]{12})$")


@dataclass(frozen=True)
class StateAt:
    """What was true at a moment: from the views replayed up to it."""

    until: datetime
    events: int
    open_approvals: list[dict[str, Any]] = field(default_factory=list)
    running_runs: list[dict[str, Any]] = field(default_factory=list)


class UseCasesBase(ViewReads):
    def __init__(self, app: AltlasApplication, history: EventHistory,
                 reads: Callable[[], ReadModels],
                 auditor: Callable[[], Auditor],
                 reads_at: Callable[[datetime], tuple[ReadModels, int]], *,
                 similar: Callable[[], SimilarRuns] | None = None,
                 charts: Charts | None = None, model_files: ModelFiles | None = None,
                 limits: RateLimits | None = None,
                 credentials: Callable[[], Policy] | None = None,
                 ears: Ears | None = None,
                 sign_outs: Callable[[], SignOuts] | None = None) -> None:
        self.app = app
        self.ears = ears
        self._sign_outs = sign_outs  # made when first used: it imports the dashboard
        self.history = history
        self._similar = similar
        self._charts = charts
        self.leaderboards = Leaderboards(reads, self.atlas)
        self.access = Access(lambda: app.policy, credentials)
        self.models = Models(app, model_files, self.access, reads)
        self.arena = Arena(app, self.access, self.resolve, self.models.adapter)
        self._reads = reads
        self._auditor = auditor
        self._reads_at = reads_at
        self._limits = limits

    def kind(self, ref: str) -> tuple[str, UUID]:
        """What a reference names: ("task" | "run" | "approval", its id)."""
        ident = self.resolve(ref)
        found = self._kind_of(ident)
        assert found is not None
        return found, ident

    def _kind_of(self, ident: UUID) -> str | None:
        """What the store holds under ``ident`` (a view may not show it yet)."""
        first = next(iter(self.app.events.get(ident, limit=1)), None)
        return None if first is None else aggregate_kind(getattr(first, "type_name", ""))

    def atlas(self) -> Atlas:
        return Atlas(self._reads, self.app.privacy, self.app.import_atlas)

    def _drawing(self, who: str | None) -> Charts:
        self._may(who, "read")
        if self._charts is None:
            raise InvalidInputError("charts are not drawn here")
        return self._charts

    def _aggregates(self) -> AltlasApplication:
        return self.app

    def _history(self) -> EventHistory:
        return self.history

    def _may(self, who: str | None, action: str) -> None:
        """``who`` None is the command line reading with its own access to the store."""
        if who is not None:
            self.access.check(who, action)

    def _people(self) -> Privacy:
        return self.app.privacy

    def _spend(self, who: str | None, work: str) -> None:
        """Count expensive ``work`` against ``who``'s rate (the command line, None, reads
        with its own access to the store and is not counted); TooOftenError past it."""
        if who is None or self._limits is None:
            return
        wait = self._limits.take(who, work)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooOftenError(f"{work} asked for too often: try again in {seconds} s "
                                "(ALTLAS_RATE_LIMITS sets how often a person may)", seconds)

    def _views(self, who: str | None, as_of: datetime | None) -> ReadModels:
        if as_of is None:
            return self._reads()
        self._spend(who, "replay")
        return self._reads_at(as_of)[0]

    def position(self) -> int:
        """How far the history has got: where following what happens next starts."""
        return self.history.last_position()

    def now(self) -> datetime:
        return self.app.clock()


class NotOnCallError(NotOwnerError):
    """Someone not on call answered what altlas asked for itself."""

    def __init__(self, message: str, person: str, owner: str, environment: str,
                 oncall: tuple[str, ...]) -> None:
        super().__init__(message, person, "answer", owner)
        self.environment, self.oncall = environment, oncall


class NotOnRecordError(NotFoundError):
    """Nobody by that name or id is on record: never recorded, or forgotten already."""


def _about(record: RecordedEvent) -> dict[str, Any]:
    return {"position": record.position, "id": record.id, "type": record.type_name,
            "time": record.time, "aggregate_id": str(record.aggregate_id),
            "actor": record.actor, "data": record.data}


def _names(record: RecordedEvent, pseudonym: str, name: str | None) -> bool:
    """The event names the person or holds what they wrote: by pseudonym, or, in history
    from before pseudonyms, by name."""
    found = False

    def look(value: Any) -> None:
        nonlocal found
        if isinstance(value, str):
            found = found or pseudonym in value or value == name
        elif isinstance(value, list | tuple):
            for v in value:
                look(v)
        elif isinstance(value, dict):
            for v in value.values():
                look(v)

    look(record.actor)
    look(record.data)
    return found
