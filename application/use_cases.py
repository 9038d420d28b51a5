"""The use cases every front shares: chat, HTTP and the command line call these, with the
person who is asking, and render what comes back. Each checks access in one place
(application/access.py); what happens afterwards is the reactions' business.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from application.access import Access, NotOwnerError
from application.app import AltlasApplication, run_id_of
from application.arena import Arena
from application.atlas import Atlas
from application.documents import last_document
from application.enrichment import key_series
from application.errors import AmbiguousIdError, NotFoundError
from application.history import EventHistory
from application.leaderboards import Leaderboards
from application.model_registry import Models
from application.ports import Auditor, Charts, ModelFiles, ReadModels
from application.presenters import CardModel, PlanModel, RunModel, alert_list, oncall_of
from application.privacy import is_pseudonym
from application.similar import SimilarRun, SimilarRuns
from application.snapshots import ApprovalView, RunView, TaskView
from domain.alerts import IncomingAlert
from domain.base import is_person
from domain.errors import DomainError, InvalidInputError
from domain.incidents import Incident
from domain.records import RecordedEvent
from domain.training import OUTCOMES

KINDS = ("task", "run", "approval")
INCIDENT_STATES = ("open", "resolved", "merged")
TIMELINE_LIMIT = 500
ALERTS_PER_TRANSACTION = 500  # a webhook call of 10,000 alerts is 20 transactions
_REF = re.compile(r"^[0-9a-f][0-9a-f-]{5,35}$")
_ERASED_REF = re.compile(r"^(?:erased person )?#([0-9a-f]{12})$")


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


@dataclass(frozen=True)
class StateAt:
    """What was true at a moment: from the views replayed up to it."""

    until: datetime
    events: int
    open_approvals: list[dict[str, Any]] = field(default_factory=list)
    running_runs: list[dict[str, Any]] = field(default_factory=list)


class UseCases:
    def __init__(self, app: AltlasApplication, history: EventHistory,
                 reads: Callable[[], ReadModels],
                 auditor: Callable[[], Auditor],
                 reads_at: Callable[[datetime], tuple[ReadModels, int]], *,
                 similar: Callable[[], SimilarRuns] | None = None,
                 charts: Charts | None = None, model_files: ModelFiles | None = None) -> None:
        self.app = app
        self.history = history
        self._similar = similar
        self._charts = charts
        self.leaderboards = Leaderboards(reads, self.atlas)
        self.access = Access(app.policy)
        self.models = Models(app, model_files, self.access, reads)
        self.arena = Arena(app, self.access, self.resolve, self.models.adapter)
        self._reads = reads
        self._auditor = auditor
        self._reads_at = reads_at

    # -- asking for work ---------------------------------------------------------------

    def request_work(self, who: str, text: str, *, mode: str = "normal",
                     persona: str = "technical_expert", environment: str | None = None,
                     chaos_level: int | None = None, source: str = "api",
                     reply_to: dict[str, str] | None = None) -> TaskView:
        """Record the request; the reactions plan it and run what the gates allow."""
        self.access.check(who, "request")
        task_id = self.app.request_task(text, who, mode=mode, persona=persona,
                                        environment=environment, source=source,
                                        chaos_level=chaos_level, reply_to=reply_to)
        return self.app.get_task(task_id)

    def submit_plan(self, who: str, document: Any, *, request: str, mode: str = "normal",
                    persona: str = "technical_expert", environment: str | None = None,
                    chaos_level: int | None = None, source: str = "alt",
                    reply_to: dict[str, str] | None = None) -> TaskView:
        """A hand-written plan: the task and its plan in one go, through the same gates."""
        self.access.check(who, "request")
        return self.app.submit_plan(request, document, who, mode=mode, persona=persona,
                                    environment=environment, chaos_level=chaos_level,
                                    source=source, reply_to=reply_to)

    def record_plan(self, who: str, task_ref: str, document: Any) -> TaskView:
        task_id = self.resolve(task_ref, "task")
        self.access.check(who, "plan", owner=self.app.get_task(task_id).requester)
        return self.app.record_segmentation(task_id, document, segmenter="hand-written",
                                            actor=who)

    def answer(self, who: str, task_ref: str, answer: str) -> TaskView:
        """Only who asked for the work answers what altlas asked about it; for what altlas
        asked for itself (an incident's remediation), the on-call people of its
        environment, who then may not approve it."""
        task_id = self.resolve(task_ref, "task")
        task = self.app.get_task(task_id)
        if is_person(task.requester):
            self.access.check(who, "answer", owner=task.requester)
            return self.app.answer_task(task_id, answer, by=who)
        self.access.check(who, "answer")
        deputies = oncall_of(self.app.policy, task.environment)
        if who not in deputies:
            raise NotOnCallError(
                f"only the on-call people of {task.environment or 'its environment'} "
                f"({', '.join(deputies) or 'none in the policy'}) answer for {task.requester}",
                who, task.requester, task.environment or "-", deputies)
        return self.app.answer_task(task_id, answer, by=who, deputies=deputies)

    def reject_task(self, who: str, task_ref: str, reason: str) -> TaskView:
        self.access.check(who, "reject")
        return self.app.reject_task(self.resolve(task_ref, "task"), reason, actor=who)

    def start_run(self, who: str, task_ref: str) -> RunView:
        self.access.check(who, "start")
        return self.app.start_run(self.resolve(task_ref, "task"), actor=who)

    # -- approvals -------------------------------------------------------------------

    def vote(self, who: str, approval_ref: str) -> ApprovalView:
        """A vote; the one that reaches the quorum grants the approval, and the reactions
        take the run on. A refused vote is put on the record and raised."""
        approval_id = self.resolve(approval_ref, "approval")
        return self._decide(who, approval_id, "approve",
                            lambda: self.app.cast_vote(approval_id, who))

    def deny(self, who: str, approval_ref: str, reason: str) -> ApprovalView:
        approval_id = self.resolve(approval_ref, "approval")
        return self._decide(who, approval_id, "deny",
                            lambda: self.app.deny_approval(approval_id, who, reason))

    def _decide(self, who: str, approval_id: UUID, attempt: str,
                act: Callable[[], ApprovalView]) -> ApprovalView:
        try:
            self.access.check(who, "vote" if attempt == "approve" else "deny")
            return act()
        except DomainError as e:
            self.app.record_refused_attempt(approval_id, attempt, who, str(e))
            raise

    def cancel_approval(self, who: str, approval_ref: str, reason: str) -> ApprovalView:
        approval_id = self.resolve(approval_ref, "approval")
        self.access.check(who, "cancel", owner=self.app.get_approval(approval_id).requester)
        return self.app.cancel_approval(approval_id, reason, actor=who)

    def expire_approval(self, who: str, approval_ref: str) -> ApprovalView:
        self.access.check(who, "expire")
        return self.app.expire_approval(self.resolve(approval_ref, "approval"), actor=who)

    # -- steps run outside altlas -----------------------------------------------------

    def report_step(self, who: str, run_ref: str, step_id: str, outcome: str,
                    **details: Any) -> RunView:
        """An operator reports a step done by hand or by another tool: ``outcome`` is
        started, succeeded, failed or skipped."""
        self.access.check(who, "report")
        run_id = self.resolve(run_ref, "run")
        record: dict[str, Callable[..., None]] = {
            "started": self.app.record_step_started,
            "succeeded": self.app.record_step_succeeded,
            "failed": self.app.record_step_failed,
            "skipped": self.app.record_step_skipped}
        record[outcome](run_id, step_id, actor=who, **details)
        return self.app.get_run(run_id)

    def confirm_step(self, who: str, run_ref: str, step_id: str, note: str = "") -> RunView:
        """``who`` did a step altlas left to a person (CRITICAL or manual) and says so; the
        run succeeds once no such work is left."""
        self.access.check(who, "confirm")
        return self.app.confirm_manual_step(self.resolve(run_ref, "run"), step_id, by=who,
                                            note=note)

    def complete_run(self, who: str, run_ref: str) -> RunView:
        self.access.check(who, "report")
        return self.app.complete_run(self.resolve(run_ref, "run"), actor=who)

    # -- reading -----------------------------------------------------------------------

    def resolve(self, ref: str, kind: str | None = None) -> UUID:
        """A whole id, or any unique beginning of one (at least 6 characters), as listings
        show them."""
        wanted = kind or "approval, task or run"
        text = ref.strip().lower()
        if not _REF.match(text):
            raise NotFoundError(f"{ref!r} is not an id: give one whole, or its first 6 "
                                "characters or more", ref)
        try:
            whole = UUID(text)
        except ValueError:
            whole = None
        if whole is not None:
            found = self._kind_of(whole)
            if found is None or (kind is not None and found != kind):
                raise NotFoundError(f"no {wanted} with id {whole}", ref)
            return whole
        matches = [(k, i) for k, i in self._reads().resolve(text)
                   if k in KINDS and kind in (None, k)]
        if not matches:
            raise NotFoundError(f"no {wanted} has an id starting with {text}", ref)
        if len(matches) > 1:
            listed = ", ".join(f"{k} {i[:12]}" for k, i in matches)
            raise AmbiguousIdError(f"{text} matches several: {listed}; give more of the id",
                                   text, listed)
        return UUID(matches[0][1])

    def kind(self, ref: str) -> tuple[str, UUID]:
        """What a reference names: ("task" | "run" | "approval", its id)."""
        ident = self.resolve(ref)
        found = self._kind_of(ident)
        assert found is not None
        return found, ident

    def _kind_of(self, ident: UUID) -> str | None:
        for kind, getter in (("approval", self.app.get_approval), ("run", self.app.get_run),
                             ("task", self.app.get_task)):
            try:
                getter(ident)
            except NotFoundError:
                continue
            return kind
        return None

    def task(self, who: str | None, ref: str) -> TaskView:
        self._may(who, "read")
        return self.app.get_task(self.resolve(ref, "task"))

    def run(self, who: str | None, ref: str) -> RunView:
        self._may(who, "read")
        return self.app.get_run(self.resolve(ref, "run"))

    def approval(self, who: str | None, ref: str) -> ApprovalView:
        self._may(who, "read")
        return self.app.get_approval(self.resolve(ref, "approval"))

    def tasks(self, who: str | None, filters: Filters, as_of: datetime | None = None) -> Page:
        self._may(who, "read")
        return self._page(self._views(as_of).list_tasks(
            status=filters.status, requester=self._recorded(filters.requester),
            since=filters.since, limit=filters.limit + 1, before=filters.before), filters.limit)

    def runs(self, who: str | None, filters: Filters, as_of: datetime | None = None) -> Page:
        self._may(who, "read")
        return self._page(self._views(as_of).list_runs(
            status=filters.status, requester=self._recorded(filters.requester),
            since=filters.since, limit=filters.limit + 1, before=filters.before), filters.limit)

    def open_approvals(self, who: str | None, as_of: datetime | None = None
                       ) -> list[dict[str, Any]]:
        """The approval queue: what is open, who voted, how long is left."""
        self._may(who, "read")
        return self._shown(self._views(as_of).open_approvals())

    def waiting_for(self, who: str) -> list[dict[str, Any]]:
        """Open approvals this person could still vote on."""
        return [a for a in self.open_approvals(who)
                if who in a["eligible"] and who not in (a["excluded"] or [a["requester"]])
                and who not in a["votes"]]

    def timeline(self, who: str | None, as_of: datetime | None = None,
                 **filters: Any) -> list[dict[str, Any]]:
        self._may(who, "read")
        if filters.get("actor"):
            filters["actor"] = self._recorded(filters["actor"])
        return self._shown(self._views(as_of).timeline(**filters))

    def _may(self, who: str | None, action: str) -> None:
        """``who`` None is the command line reading with its own access to the store."""
        if who is not None:
            self.access.check(who, action)

    def _views(self, as_of: datetime | None) -> ReadModels:
        return self._reads() if as_of is None else self._reads_at(as_of)[0]

    def _page(self, rows: list[dict[str, Any]], limit: int) -> Page:
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(self._shown(rows), rows[-1]["cursor"] if more and rows else None)

    def _shown(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The views keep people as the events name them; people read names."""
        return self.app.privacy.reveal(rows)

    def _recorded(self, person: str | None) -> str | None:
        """A person as the views name them: by pseudonym, or, before pseudonyms, by name."""
        return None if person is None else self.app.privacy.find(person) or person

    # -- privacy -----------------------------------------------------------------------

    def forget(self, who: str, person: str, reason: str = "") -> ApprovalView:
        """Ask to forget a person (a name, or #id as erased people are shown): someone
        else with the approver or admin role grants it, then altlas destroys their key."""
        self.access.check(who, "forget")
        return self.app.request_erasure(self._on_record(person), who, reason)

    def personal_data(self, who: str, person: str) -> Iterator[dict[str, Any]]:
        """Every event that names the person or holds what they wrote, as people read it
        (a data-access request); checked before the first one."""
        self.access.check(who, "personal_data")
        subject = self._on_record(person)
        text = person.strip()
        name = None if _ERASED_REF.match(text) or is_pseudonym(text) else text
        return (self.app.privacy.reveal(_about(r)) for r in EventHistory(self.app).read()
                if _names(r, subject, name))

    def _on_record(self, person: str) -> str:
        """The pseudonym of a person on record; a clear refusal for anyone else."""
        text = person.strip()
        found = _ERASED_REF.match(text)
        if found or is_pseudonym(text):
            subject = f"p-{found.group(1)}" if found else text
            if self.app.privacy.keys.known([subject]) or self.app.erasure_status(subject):
                return subject
            raise NotOnRecordError(f"no person #{subject[2:]} is on record; nothing changed",
                                   person)
        named = self.app.privacy.find(text)
        if named is None:
            raise NotOnRecordError(f"no one named {text!r} is on record (never, or forgotten "
                                   "already); nothing changed", person)
        return named

    # -- what the fronts show (their followers render these; no person asks) ---------------

    def plan_model(self, task_id: UUID) -> PlanModel:
        return PlanModel.of(self.app.get_task(task_id))

    def run_model(self, run_id: UUID) -> RunModel:
        run = self.app.get_run(run_id)
        approvals = {s.approval_id: self.app.get_approval(UUID(s.approval_id))
                     for s in run.steps if s.approval_id}
        return RunModel.of(run, self.app.get_task(UUID(run.task_id)), approvals)

    def remediation(self, task_id: str) -> tuple[PlanModel, RunModel | None]:
        """An incident's remediation: its plan, and its run once there is one."""
        plan = self.plan_model(UUID(task_id))
        run_id = run_id_of(UUID(task_id))
        return plan, self.run_model(run_id) if self.app.exists(run_id) else None

    def card(self, approval_id: UUID) -> CardModel:
        approval = self.app.get_approval(approval_id)
        outcome = self.app.get_run(UUID(approval.run_id)).outcome if approval.run_id else None
        return CardModel.of(approval, self.app.get_task(UUID(approval.task_id)), outcome,
                            self.app.policy)

    # -- audit -------------------------------------------------------------------------

    def can_verify(self, who: str, *, kafka: bool = False) -> None:
        """Raise what verifying would be refused for, before any of it runs."""
        self.access.check(who, "audit")
        if kafka:
            self._auditor().require_kafka()

    # -- the .atlas ---------------------------------------------------------------------

    def atlas(self) -> Atlas:
        return Atlas(self._reads, self.app.privacy, self.app.import_atlas)

    def atlas_patterns(self, who: str | None, query: str | None = None
                       ) -> list[dict[str, Any]]:
        """The patterns of plans run here and imported, most run first (query: all its
        words in the pattern, the intent or its requests)."""
        self._may(who, "read")
        return [s.to_dict() for s in self.atlas().patterns(query)]

    def atlas_document(self, who: str | None, source: str, now: datetime) -> dict[str, Any]:
        self._may(who, "read")
        return self.atlas().document(source, now)

    def similar_runs(self, who: str | None, text: str, k: int = 3, *,
                     environment: str | None = None, outcome: str | None = None,
                     min_score: float = 0.0) -> list[SimilarRun]:
        """Past runs whose requests are nearest ``text`` in meaning (VectorStoreUnavailable
        when the store cannot be reached)."""
        self._may(who, "read")
        if self._similar is None:
            raise InvalidInputError("the similar-run search is not configured here")
        similar = self._similar()
        similar.catch_up()
        return similar.search(text, k, environment=environment, outcome=outcome,
                              min_score=min_score)

    # -- alerts ----------------------------------------------------------------------------

    def receive_alerts(self, alerts: list[IncomingAlert]) -> dict[str, int]:
        """Record what Alertmanager sent (the caller checked it was Alertmanager), a few
        hundred alerts to a transaction: how many were received, refreshed, resolved or
        unchanged."""
        counts = dict.fromkeys(("received", "refreshed", "resolved", "unchanged"), 0)
        for start in range(0, len(alerts), ALERTS_PER_TRANSACTION):
            for said in self.app.receive_alerts(alerts[start:start + ALERTS_PER_TRANSACTION]):
                counts[said] += 1
        return counts

    def incidents(self, who: str | None, *, status: str | None = None,
                  since: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The incidents, newest first; ``status``: open, resolved or merged."""
        self._may(who, "read")
        if status is not None and status not in INCIDENT_STATES:
            raise InvalidInputError(f"unknown incident status {status!r}: use one of "
                                    f"{', '.join(INCIDENT_STATES)}")
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        return [_incident(row) for row in self._reads().incidents(status=status, since=since,
                                                                  limit=limit)]

    def incident(self, who: str | None, ref: str) -> dict[str, Any]:
        """One incident (a whole id or its first 6 characters or more) with its timeline:
        its own events and its alerts' firing and resolving, in the order recorded."""
        self._may(who, "read")
        text = ref.strip().lower()
        if not _REF.match(text):
            raise NoIncidentError(f"{ref!r} is not an incident id: give one whole, or its "
                                  "first 6 characters or more", ref)
        found = self._reads().incidents(prefix=text, limit=2)
        if not found:
            raise NoIncidentError(f"no incident has an id starting with {text}", ref)
        if len(found) > 1:
            listed = ", ".join(row["incident_id"][:12] for row in found)
            raise AmbiguousIdError(f"{text} matches several incidents: {listed}; give more "
                                   "of the id", text, listed)
        shown = _incident(found[0])
        remedy = shown["remediation"]
        if remedy:  # how its remediation went, once it ran
            run_id, outcome = self._reads().runs_of([remedy["task_id"]]).get(
                remedy["task_id"], (None, None))
            shown["remediation"] = {**remedy, "run_id": run_id, "outcome": outcome}
        fingerprint = dict(found[0]["alerts"])
        events = self._reads().events_of([found[0]["incident_id"], *fingerprint],
                                         TIMELINE_LIMIT)
        shown["timeline"] = [
            {"time": e["time"].isoformat(), "event": e["type"],
             "fingerprint": fingerprint.get(e["aggregate_id"]) or e["data"].get("fingerprint"),
             "actor": e["actor"]}
            for e in events if e["type"] != "AlertRefreshed"]  # re-sent: nothing new
        return shown

    def incident_chart(self, who: str | None, ref: str) -> bytes:
        """The PNG of an incident's key metric (GET /incidents/{id}/chart.png)."""
        self._drawing(who)
        return self.incident_chart_of(UUID(self.incident(who, ref)["id"]))[1]

    def incident_chart_of(self, incident_id: UUID) -> tuple[str, bytes]:
        """(title, PNG) of the incident's key metric, from what its enrichment recorded;
        NotFoundError when it found no series to draw."""
        charts = self._drawing(None)
        events = list(self.app.events.get(incident_id))
        found = [e for e in events if isinstance(e, Incident.Enriched)]
        series = key_series(found[0].metrics) if found else None
        if series is None:
            raise NotFoundError(f"incident {incident_id} has no metric to draw: its alerts name "
                                "no PromQL, or Prometheus could not be asked")
        opened = next(e for e in events if isinstance(e, Incident.Opened)).opened_at
        title = f"{series['series'] or series['query']}" + (
            f" (z {series['z']:g})" if series["z"] is not None else "")
        return title, charts.metric(title, [tuple(p) for p in series["points"]],
                                    datetime.fromisoformat(opened).timestamp(),
                                    series["peak_at"] if series["anomalous"] else None)

    def training_chart(self, who: str | None, ref: str) -> tuple[dict[str, Any], bytes]:
        """A training and the PNG of its loss per step (the adapter's curve once trained,
        else the progress recorded so far)."""
        charts = self._drawing(who)
        found = self.models.training(who, ref)
        adapter = found["adapter"]
        points = ([(step, loss) for step, loss in enumerate(adapter["loss_curve"], 1)]
                  if adapter and len(adapter["loss_curve"]) == adapter["steps"]
                  else [(p["step"], p["loss"]) for p in found["progress"]])
        if not points:
            raise NotFoundError(f"training {found['id'][:8]} has no loss recorded yet", ref)
        title = f"{found['base']}+lora-{found['id'][:8]}: loss per step ({found['status']})"
        return found, charts.loss_curve(title, points)

    def evaluation_chart(self, who: str | None, ref: str) -> tuple[dict[str, Any], bytes]:
        """A training and the PNG of its adapter's evaluation against its base: exact,
        asked, refused and wrong plans on the same requests."""
        charts = self._drawing(who)
        found = self.models.training(who, ref)
        measured = found["evaluation"]
        if measured is None:
            raise NotFoundError(f"training {found['id'][:8]} has not been evaluated: `altlas "
                                f"models evaluate {found['id'][:8]}` measures it", ref)
        title = (f"{measured['adapter']} vs {found['base']}: {measured['sampled']} request(s) "
                 f"of {Path(measured['file']).name}")
        return found, charts.comparison(
            title, list(OUTCOMES), {
                found["base"]: [measured["base"][o] for o in OUTCOMES],
                "adapter": [measured["adapter_scores"][o] for o in OUTCOMES]}, "requests")

    # -- the leaderboards ---------------------------------------------------------------

    def leaderboard(self, who: str | None, method: str = "elo") -> dict[str, Any]:
        """Runbooks, planners and the ratings of planners by ``method``."""
        self._may(who, "read")
        return self.leaderboards.board(method)

    def runbook_history(self, who: str | None, query: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.leaderboards.runbook_history(query)

    def ratings(self, who: str | None, method: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.leaderboards.ratings(method)

    def chart(self, who: str | None, *, method: str | None = None,
              runbook: str | None = None) -> bytes:
        """A PNG: the ratings by ``method``, or the success over time of the runbook that
        best matches ``runbook``."""
        if runbook is not None:
            return self.runbook_chart(who, runbook)[1]
        charts = self._drawing(who)
        board = self.leaderboards.ratings(method or "elo")
        if not board["ratings"]:
            raise NotFoundError("no match was played yet; the arena records them")
        name = {"elo": "Elo", "bt": "Bradley-Terry"}[board["method"]]
        return charts.ratings(f"{name} ratings from {board['matches']} matches",
                              board["ratings"])

    def runbook_chart(self, who: str | None, query: str) -> tuple[dict[str, Any], bytes]:
        """The runbook ``query`` finds, over time, and its chart: one reading for both."""
        charts = self._drawing(who)
        found = self.leaderboards.runbook_history(query)
        return found, charts.success_over_time(
            f"{found['pattern']}: {found['successes']} of {found['runs']} runs succeeded",
            found["history"])

    def _drawing(self, who: str | None) -> Charts:
        self._may(who, "read")
        if self._charts is None:
            raise InvalidInputError("charts are not drawn here")
        return self._charts

    def record_match(self, who: str, a: str, b: str, outcome: str,
                     task_id: str | None = None) -> str:
        """A person's verdict between two planners' plans: MatchPlayed."""
        self.access.check(who, "judge")
        return self.app.record_match(a, b, outcome, who, task_id=task_id)

    def import_atlas(self, who: str, raw: bytes, source: str | None = None) -> dict[str, Any]:
        self.access.check(who, "import")
        return self.atlas().import_document(raw, source or "", who)

    def verify(self, who: str | None, *, kafka: bool = False,
               progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        self._may(who, "audit")
        return self._auditor().verify(kafka=kafka, progress=progress)

    def replay_target(self, who: str | None, until: datetime, into: str | None = None) -> str:
        """Where a replay would write, checked (refused before any of it runs)."""
        self._may(who, "replay")
        return self._auditor().replay_target(until, into)

    def replay(self, who: str | None, until: datetime, into: str | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Views as of ``until`` written into a database one names: the admins' alone, as
        it writes where they say."""
        self._may(who, "replay")
        return self._auditor().replay(until, into, progress)

    def export(self, who: str | None, until: datetime | None = None) -> Iterator[str]:
        """The history as CloudEvents JSON lines (checked before the first line)."""
        self._may(who, "audit")
        return self._auditor().export_lines(until)

    def events(self, who: str | None, after: int = 0, limit: int | None = None, *,
               revealed: bool = False) -> list[RecordedEvent]:
        """Recorded events in global order, with their hashes; ``revealed``: names and what
        people wrote shown as they are (the command line, with its own access to the
        store), not as sealed."""
        self._may(who, "read")
        records = list(self.history.read(after=after, limit=limit))
        return self.app.privacy.reveal(records) if revealed else records

    def position(self) -> int:
        """How far the history has got: where following what happens next starts."""
        return self.history.last_position()

    def now(self) -> datetime:
        return self.app.clock()

    def check_plan(self, document: Any, mode: str = "normal") -> list[dict[str, Any]]:
        """The gate of each step of a hand-written plan, or why it is refused; records
        nothing."""
        return self.app.check_plan(document, mode)[1]

    def run_document(self, who: str | None, ref: str) -> dict[str, Any]:
        """A run as its .last document."""
        run = self.run(who, ref)
        return last_document(run, self.app.get_task(UUID(run.task_id)))

    def state_at(self, who: str, until: datetime) -> StateAt:
        """Open approvals (with who had voted) and running runs as they were at ``until``."""
        self.access.check(who, "audit")
        views, events = self._reads_at(until)
        running = views.list_runs(status="running", requester=None, since=None, limit=50,
                                  before=None)
        return StateAt(until, events, self._shown(views.open_approvals(at=until)),
                       self._shown(running))


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


class NotOnCallError(NotOwnerError):
    """Someone not on call answered what altlas asked for itself."""

    def __init__(self, message: str, person: str, owner: str, environment: str,
                 oncall: tuple[str, ...]) -> None:
        super().__init__(message, person, "answer", owner)
        self.environment, self.oncall = environment, oncall


class NoIncidentError(NotFoundError):
    """No incident has that id."""


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
