"""The use cases that only read: listings of tasks and runs, the approval queue, the
timeline, the incidents (from the views), the recorded events and a run as recorded (from the
store). `UseCases` has them through `UseCasesBase`; the command line's reads
(altlas/quick_reads.py) use them without the application, so this module imports neither
the aggregates nor the application."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from application.errors import NotFoundError
from application.ids import id_text, one_id, run_id_of, whole_id
from application.presenters import PlanModel, RunModel, alert_list
from domain.errors import InvalidInputError
from domain.statuses import RUN_STATUSES, TASK_STATUSES

if TYPE_CHECKING:
    from application.history import EventHistory
    from application.ports import ReadModels
    from application.privacy import Privacy
    from application.snapshots import ApprovalView, RunView, TaskView
    from domain.records import RecordedEvent


ANY: tuple[str, ...] = ()  # an id of any aggregate
KINDS = ("task", "run", "approval")
INCIDENT_STATES = ("open", "resolved", "merged")
TIMELINE_LIMIT = 500


@dataclass(frozen=True)
class Filters:
    """What a listing of tasks or runs may be narrowed to."""

    status: str | None = None
    requester: str | None = None
    since: datetime | None = None
    limit: int = 20
    before: str | None = None  # the cursor of the page before


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None  # give it as ``before`` for the next page; None on the last


def one_of(name: str, value: str | None, allowed: Sequence[str]) -> str | None:
    """A filter's value, refused naming the values it may take rather than matching nothing."""
    if value is not None and value not in allowed:
        raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}")
    return value


class RecordedViews(Protocol):
    """Aggregates as recorded now, as people see them (AltlasApplication's, or
    application/stored.py's StoredViews)."""

    def get_task(self, task_id: UUID) -> TaskView: ...

    def get_run(self, run_id: UUID) -> RunView: ...

    def get_approval(self, approval_id: UUID) -> ApprovalView: ...


class ViewReads(ABC):
    """Reads of the views as people see them: checked for ``who`` (`_may`), from the views
    now or as of a time (`_views`, which counts a replay against ``who``'s rate), people's
    names revealed (`_people`), whole ids known by what the store holds (`_kind_of`)."""

    @abstractmethod
    def _people(self) -> Privacy: ...

    @abstractmethod
    def _may(self, who: str | None, action: str) -> None: ...

    @abstractmethod
    def _views(self, who: str | None, as_of: datetime | None) -> ReadModels: ...

    @abstractmethod
    def _kind_of(self, ident: UUID) -> str | None:
        """What the store holds under ``ident`` (None: nothing)."""

    @abstractmethod
    def _history(self) -> EventHistory: ...

    @abstractmethod
    def _aggregates(self) -> RecordedViews: ...

    @abstractmethod
    def now(self) -> datetime:
        """The time an approval's time left is counted to."""

    def resolve(self, ref: str, kind: str | tuple[str, ...] = KINDS) -> UUID:
        """A whole id, or any unique beginning of one (application/ids.py), of ``kind``: one
        kind of aggregate, several, or ANY."""
        kinds = (kind,) if isinstance(kind, str) else kind
        wanted = " or ".join(kinds) if kinds else "aggregate"
        text = id_text(ref)
        whole = whole_id(text)
        if whole is not None:
            found = self._kind_of(whole)
            if found is None or (kinds and found not in kinds):
                raise NotFoundError(f"no {wanted} with id {whole}", ref)
            return whole
        return one_id(text, [(k, i) for k, i in self._views(None, None).resolve(text)
                             if not kinds or k in kinds], wanted)

    def tasks(self, who: str | None, filters: Filters, as_of: datetime | None = None) -> Page:
        self._may(who, "read")
        return self._page(self._views(who, as_of).list_tasks(
            **self._narrowed(filters, TASK_STATUSES)), filters.limit)

    def runs(self, who: str | None, filters: Filters, as_of: datetime | None = None) -> Page:
        self._may(who, "read")
        return self._page(self._views(who, as_of).list_runs(
            **self._narrowed(filters, RUN_STATUSES)), filters.limit)

    def open_approvals(self, who: str | None, as_of: datetime | None = None
                       ) -> list[dict[str, Any]]:
        """The approval queue: what is open, who voted, how long is left."""
        self._may(who, "read")
        return self._shown(self._views(who, as_of).open_approvals())

    def timeline(self, who: str | None, as_of: datetime | None = None,
                 **filters: Any) -> list[dict[str, Any]]:
        self._may(who, "read")
        if filters.get("actor"):
            filters["actor"] = self._recorded(filters["actor"])
        if filters.get("aggregate_id"):
            filters["aggregate_id"] = str(self.resolve(filters["aggregate_id"], ANY))
        return self._shown(self._views(who, as_of).timeline(**filters))

    def events(self, who: str | None, after: int = 0, limit: int | None = None, *,
               revealed: bool = False) -> list[RecordedEvent]:
        """Recorded events in global order, with their hashes; ``revealed``: names and what
        people wrote shown as they are (the command line, with its own access to the
        store), not as sealed."""
        self._may(who, "read")
        records = list(self._history().read(after=after, limit=limit))
        return self._people().reveal(records) if revealed else records

    def task(self, who: str | None, ref: str) -> TaskView:
        """A task as recorded, with its run's id once it has one."""
        self._may(who, "read")
        task_id = self.resolve(ref, "task")
        recorded = self._aggregates()
        view = recorded.get_task(task_id)
        try:
            run = recorded.get_run(run_id_of(task_id))
        except NotFoundError:
            return view
        return replace(view, run_id=run.id)

    def approval(self, who: str | None, ref: str) -> ApprovalView:
        self._may(who, "read")
        return self._aggregates().get_approval(self.resolve(ref, "approval"))

    def run(self, who: str | None, ref: str) -> RunView:
        self._may(who, "read")
        return self._aggregates().get_run(self.resolve(ref, "run"))

    def plan_model(self, task_id: UUID) -> PlanModel:
        return PlanModel.of(self._aggregates().get_task(task_id))

    def run_model(self, run_id: UUID) -> RunModel:
        recorded = self._aggregates()
        run = recorded.get_run(run_id)
        approvals = {s.approval_id: recorded.get_approval(UUID(s.approval_id))
                     for s in run.steps if s.approval_id}
        return RunModel.of(run, recorded.get_task(UUID(run.task_id)), approvals)

    def incidents(self, who: str | None, *, status: str | None = None,
                  since: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The incidents, newest first; ``status``: open, resolved or merged."""
        self._may(who, "read")
        if status is not None and status not in INCIDENT_STATES:
            raise InvalidInputError(f"unknown incident status {status!r}: use one of "
                                    f"{', '.join(INCIDENT_STATES)}")
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        return [_incident(row) for row in self._views(who, None).incidents(
            status=status, since=since, limit=limit)]

    def incident(self, who: str | None, ref: str) -> dict[str, Any]:
        """One incident (a whole id or its first 6 characters or more) with its timeline:
        its own events and its alerts' firing and resolving, in the order recorded."""
        self._may(who, "read")
        views = self._views(who, None)
        text = id_text(ref, "an incident", NoIncidentError)
        found = views.incidents(prefix=text, limit=2)
        one_id(text, [("incident", row["incident_id"]) for row in found], "incident",
               NoIncidentError)
        shown = _incident(found[0])
        remedy = shown["remediation"]
        if remedy:  # how its remediation went, once it ran
            run_id, outcome = views.runs_of([remedy["task_id"]]).get(
                remedy["task_id"], (None, None))
            shown["remediation"] = {**remedy, "run_id": run_id, "outcome": outcome}
        fingerprint = dict(found[0]["alerts"])
        events = views.events_of([found[0]["incident_id"], *fingerprint], TIMELINE_LIMIT)
        shown["timeline"] = [
            {"time": e["time"].isoformat(), "event": e["type"],
             "fingerprint": fingerprint.get(e["aggregate_id"]) or e["data"].get("fingerprint"),
             "actor": e["actor"], "at": _said(e)}
            for e in events if e["type"] != "AlertRefreshed"]  # re-sent: nothing new
        return shown

    def _narrowed(self, filters: Filters, statuses: Sequence[str]) -> dict[str, Any]:
        """A listing's filters as the views take them (one row more: is there a next page)."""
        return {"status": one_of("status", filters.status, statuses),
                "requester": self._recorded(filters.requester), "since": filters.since,
                "limit": filters.limit + 1, "before": filters.before}

    def _page(self, rows: list[dict[str, Any]], limit: int) -> Page:
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(self._shown(rows), rows[-1]["cursor"] if more and rows else None)

    def _shown(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The views keep people as the events name them; people read names."""
        return self._people().reveal(rows)

    def _recorded(self, person: str | None) -> str | None:
        """A person as the views name them: by pseudonym, or, before pseudonyms, by name."""
        return None if person is None else self._people().find(person) or person


def _incident(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["incident_id"], "title": row["title"], "status": row["status"],
        "opened_at": row["opened_at"].isoformat(),
        "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
        "merged_into": row["merged_into"],
        "alerts": alert_list(row["alerts"], row["firing"]),
        "root_causes": row["root_causes"],
        "summary": row["summary"],
        "evidence": row["evidence"],
        "remediation": row["remediation"],
    }


class NoIncidentError(NotFoundError):
    """No incident has that id."""


def _said(event: dict[str, Any]) -> str | None:
    """When Alertmanager said an alert started or ended, which may be well before altlas
    heard of it."""
    key = {"AlertReceived": "starts_at", "AlertResolved": "ends_at",
           "AlertExpired": "ends_at"}.get(event["type"])
    return event["data"].get(key) if key else None
