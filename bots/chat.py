"""The chat front every platform shares (Slack, Discord, the HTTP API's /commands): parse a
command line, call one use case as the person behind the chat identity, and answer in their
language. What happens afterwards (the plan, the cards, the result) is told by the
conversation follower, from the events, in the thread where the person asked. One module:
the one table of chat commands every platform shares."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from application.access import (
    AccessDeniedError,
    NotOwnerError,
    UnknownPersonError,
    denied_text,
)
from application.errors import AmbiguousIdError, NotFoundError, PolicyUnavailableError
from application.i18n import t
from application.presenters import CardModel, PlanModel, RunModel
from application.snapshots import ApprovalView
from application.text import (
    atlas_text,
    in_charge,
    incident_text,
    incidents_text,
    leaderboard_text,
    models_text,
    plan_text,
    run_text,
    runbook_history_text,
    short,
    shown,
    training_text,
)
from application.use_cases import Filters, NoIncidentError, NotOnCallError, UseCases
from bots import chat_commands as c
from domain.approval import (
    ApprovalAlreadyDecidedError,
    ApprovalExpiredError,
    ApprovalSubject,
    AuthorCannotApproveError,
    DuplicateVoteError,
    NotEligibleError,
    RequesterCannotApproveError,
)
from domain.errors import DomainError, InvalidInputError
from domain.policy import Policy
from domain.task import NothingAskedError, QuestionExpiredError

# a task's id or its beginning, as listings show it: `arena ID` duels with that task's plan
_ID = re.compile(r"^[0-9a-f][0-9a-f-]{5,35}$")


@dataclass(frozen=True)
class Caller:
    """Who is speaking: a chat identity, the person the policy maps it to, their language."""

    identity: str
    person: str | None
    locale: str
    source: str
    unusable_policy: str | None = None  # why no chat identity is taken now

    @property
    def who(self) -> str:
        """The person, or the bare identity when the policy does not know it (and every
        use case refuses it, on the record where it matters)."""
        return self.person or self.identity


@dataclass(frozen=True)
class Image:
    """A chart that goes with a reply: uploaded to its thread, and where the HTTP API
    serves it."""

    filename: str
    title: str
    png: bytes
    path: str


@dataclass
class Reply:
    text: str
    ephemeral: bool = False
    cards: list[CardModel] = field(default_factory=list)
    locale: str = "en"
    task_id: str | None = None  # a request was recorded: its thread starts at this reply
    images: list[Image] = field(default_factory=list)


def _while_policy_usable(method: Callable[..., Reply]) -> Callable[..., Reply]:
    """Refuse whatever a caller asks while the policy file cannot be used."""
    @functools.wraps(method)
    def guarded(self: ChatFront, caller: Caller, *args: Any, **kwargs: Any) -> Reply:
        if caller.unusable_policy is not None:
            return self._say(caller, "policy_unavailable", ephemeral=True,
                             reason=caller.unusable_policy)
        return method(self, caller, *args, **kwargs)

    return guarded


class ChatFront:
    def __init__(self, use_cases: UseCases) -> None:
        self.use_cases = use_cases

    @property
    def policy(self) -> Policy:
        return self.use_cases.app.policy

    def caller(self, identity: str, source: str, person: str | None = None,
               profile_locale: str | None = None) -> Caller:
        """``profile_locale`` is the chat profile's language, used when the policy sets none.
        While the policy file cannot be used, no identity is mapped to a person (as no API
        token is accepted) and every command and button is refused with the reason."""
        try:
            person = person or self.use_cases.access.identify(identity)
        except PolicyUnavailableError as e:
            return Caller(identity, None, self.policy.locale_of(None, profile_locale), source,
                          unusable_policy=str(e))
        return Caller(identity, person, self.policy.locale_of(person, profile_locale), source)

    # -- command lines ------------------------------------------------------------------

    @_while_policy_usable
    def run(self, caller: Caller, text: str, reply_to: dict[str, str] | None = None) -> Reply:
        """Carry out one command line. ``reply_to`` says where a request was made (front,
        channel, thread): what altlas says about it later goes there."""
        command = c.parse(text)
        if isinstance(command, c.Help):
            return self._say(caller, "help", ephemeral=True)
        if isinstance(command, c.Unknown):
            return self._say(caller, "unknown_command", ephemeral=True, word=command.word)
        if isinstance(command, c.Usage):
            usage = t(caller.locale, command.key)
            return Reply(f"{command.problem}\n{usage}".strip(), ephemeral=True,
                         locale=caller.locale)
        if caller.person is None and not isinstance(command, c.Approve | c.Deny):
            return self._say(caller, "unknown_person", ephemeral=True, identity=caller.identity)
        try:
            return self._carry_out(caller, command, reply_to)
        except DomainError as e:
            if isinstance(command, c.Do):
                text = f"{self._reason(caller, e)}\n{t(caller.locale, 'usage.do')}"
                return Reply(text, ephemeral=True, locale=caller.locale)
            return self._say(caller, "refused", ephemeral=True, reason=self._reason(caller, e))

    def _carry_out(self, caller: Caller, command: c.Command,
                   reply_to: dict[str, str] | None) -> Reply:
        uc, who, loc = self.use_cases, caller.who, caller.locale
        if isinstance(command, c.Do):
            task = uc.request_work(who, command.request, mode=command.mode,
                                   persona=command.persona, environment=command.env,
                                   chaos_level=command.chaos_level, source=caller.source,
                                   reply_to={**(reply_to or {}), "locale": loc})
            reply = self._say(caller, "working", request=shown(task.request))
            reply.task_id = task.id
            return reply
        if isinstance(command, c.Status):
            return self._status(caller, command.ref)
        if isinstance(command, c.Runs):
            return self._runs(caller)
        if isinstance(command, c.Approvals):
            return self._approvals(caller)
        if isinstance(command, c.Approve):
            return self.approve(caller, command.ref)
        if isinstance(command, c.Deny):
            return self.deny(caller, command.ref, command.reason)
        if isinstance(command, c.Answer):
            return self.answer(caller, command.task, command.answer)
        if isinstance(command, c.Done):
            run = uc.confirm_step(who, command.run, command.step, command.note)
            return Reply(run_text(uc.run_model(UUID(run.id)), loc, fenced=True), locale=loc)
        if isinstance(command, c.Atlas):
            found = uc.atlas_patterns(who, command.query)
            return Reply(atlas_text(found, loc, query=command.query, limit=5), ephemeral=True,
                         locale=loc)
        if isinstance(command, c.Leaderboard):
            return self._leaderboard(caller, command)
        if isinstance(command, c.Incidents):
            if command.ref is not None:
                return Reply(incident_text(uc.incident(who, command.ref), loc), locale=loc)
            found = uc.incidents(who, status=None if command.every else "open")
            return Reply(incidents_text(found, loc, every=command.every), locale=loc)
        if isinstance(command, c.Models):
            if command.training is not None:
                try:
                    training, png = uc.training_chart(who, command.training)
                except NotFoundError:  # nothing to draw yet: the training alone
                    return Reply(training_text(uc.models.training(who, command.training), loc),
                                 locale=loc)
                ident = training["id"]
                charts = [Image(f"training-{ident[:8]}.png", "loss per step", png,
                                f"/trainings/{ident}/loss.png")]
                if training["evaluation"] is not None:
                    charts.append(Image(f"evaluation-{ident[:8]}.png", "adapter vs base",
                                        uc.evaluation_chart(who, ident)[1],
                                        f"/trainings/{ident}/evaluation.png"))
                return Reply(training_text(training, loc), locale=loc, images=charts)
            if command.promote is not None:
                approval = uc.models.promote(who, command.promote, command.reason)
                return Reply(t(loc, "models.promote_asked",
                               adapter=uc.models.catalog(who)["pending"]["model"],
                               approval=short(approval.id)), locale=loc)
            if command.rollback:
                approval = uc.models.rollback(who, command.reason)
                return Reply(t(loc, "models.rollback_asked",
                               to=in_charge(uc.models.catalog(who)["rollback_to"]),
                               approval=short(approval.id)), locale=loc)
            if command.activate is None:
                return Reply(models_text(uc.models.catalog(who), loc), ephemeral=True,
                             locale=loc)
            approval = uc.models.activate(who, command.activate, command.reason)
            return Reply(t(loc, "models.asked", model=command.activate,
                           approval=short(approval.id)), locale=loc)
        if isinstance(command, c.Arena):
            task_ref = command.what if _ID.match(command.what) else None
            duel = uc.arena.ask(who, command.what, task_ref=task_ref,
                                reply_to={**(reply_to or {}), "locale": loc})
            reply = self._say(caller, "arena.started", duel=short(duel["id"]),
                              request=shown(duel["request"]))
            reply.task_id = duel["id"]  # the plans come in this reply's thread
            return reply
        if isinstance(command, c.RunRunbook):
            task = uc.run_runbook(who, command.name, dict(command.parameters),
                                  source=caller.source,
                                  reply_to={**(reply_to or {}), "locale": loc})
            reply = self._say(caller, "working", request=shown(task.request))
            reply.task_id = task.id
            return reply
        if isinstance(command, c.SaveRunbook):
            view = uc.save_run_as_runbook(who, command.run, command.name)
            if view["pending"]:
                return self._say(caller, "runbook.pending", name=view["name"],
                                 approval=short(view["pending"]["approval_id"]))
            return self._say(caller, "runbook.published", name=view["name"],
                             version=view["published"]["version"])
        if isinstance(command, c.AuditVerify):
            return self._verify(caller)
        assert isinstance(command, c.AuditReplay)
        return self._state_at(caller, command.until)

    def _leaderboard(self, caller: Caller, command: c.Leaderboard) -> Reply:
        """Shared with the channel, with a chart in its thread: the ratings when matches
        were played, a runbook's success over time when one was asked for."""
        uc, loc = self.use_cases, caller.locale
        if command.runbook is not None:
            try:
                found, png = uc.runbook_chart(caller.who, command.runbook)
            except NotFoundError:
                return self._say(caller, "board.no_runbook", ephemeral=True,
                                 query=shown(command.runbook))
            chart = Image("runbook.png", found["pattern"], png,
                          f"/leaderboards/runbooks.png?{urlencode({'q': command.runbook})}")
            return Reply(runbook_history_text(found, loc), locale=loc, images=[chart])
        board = uc.leaderboard(caller.who, command.method)
        images = [Image(f"ratings-{command.method}.png", f"{command.method} ratings",
                        uc.chart(caller.who, method=command.method),
                        f"/leaderboards/ratings.png?method={command.method}")
                  ] if board["ratings"]["ratings"] else []
        return Reply(leaderboard_text(board, loc), locale=loc, images=images)

    def _status(self, caller: Caller, ref: str) -> Reply:
        uc, loc = self.use_cases, caller.locale
        kind, ident = uc.kind(ref)
        if kind == "task":
            task = uc.task(caller.who, str(ident))
            text = t(loc, "status.task", id=short(task.id), status=task.status,
                     request=shown(task.request), requester=task.requester)
            if task.plan or task.rejection:
                text += "\n" + plan_text(PlanModel.of(task), loc, fenced=True)
            return Reply(text, ephemeral=True, locale=loc)
        if kind == "run":
            run = uc.run(caller.who, str(ident))
            return Reply(run_text(uc.run_model(UUID(run.id)), loc, fenced=True),
                         ephemeral=True, locale=loc)
        approval = uc.approval(caller.who, str(ident))
        text = t(loc, "status.approval", id=short(approval.id), status=approval.status,
                 votes=len(approval.votes), required=approval.required)
        if approval.subject != ApprovalSubject.STEP:  # no task, no card
            return Reply(f"{text}\n{shown(approval.reason)}", ephemeral=True, locale=loc)
        return Reply(text, ephemeral=True, cards=[uc.card(ident)], locale=loc)

    def _runs(self, caller: Caller) -> Reply:
        rows = self.use_cases.runs(caller.who, Filters(limit=10)).items
        if not rows:
            return self._say(caller, "runs.none", ephemeral=True)
        lines = [t(caller.locale, "runs.line", run=short(r["run_id"]), status=r["status"],
                   outcome=f" ({r['outcome']})" if r["outcome"] else "",
                   request=shown(r["request"]))
                 for r in rows]
        return Reply("\n".join(lines), ephemeral=True, locale=caller.locale)

    def _approvals(self, caller: Caller) -> Reply:
        mine = self.use_cases.waiting_for(caller.who)
        if not mine:
            return self._say(caller, "approvals.none", ephemeral=True)
        lines = [t(caller.locale, "approvals.line", id=short(a["approval_id"]), risk=a["risk"],
                   environment=a["environment"], step=a["step_id"], votes=len(a["votes"]),
                   required=a["required"], minutes=a["seconds_left"] // 60,
                   request=shown(a.get("request") or a["reason"])) for a in mine]
        return Reply("\n".join(lines), ephemeral=True, locale=caller.locale)

    def _verify(self, caller: Caller) -> Reply:
        lines = []
        for r in self.use_cases.verify(caller.who):
            lines.append(
                t(caller.locale, "audit.ok", source=r["source"], events=r["events"],
                  aggregates=r["aggregates"], checkpoints=r["checkpoints"])
                if r["ok"] else
                t(caller.locale, "audit.bad", source=r["source"], count=len(r["problems"]),
                  first=r["problems"][0]))
        return Reply("\n".join(lines), ephemeral=True, locale=caller.locale)

    def _state_at(self, caller: Caller, until: datetime) -> Reply:
        """What was true then: open approvals with who had voted, and running runs."""
        loc = caller.locale
        state = self.use_cases.state_at(caller.who, until)
        lines = [t(loc, "audit.then", until=until.isoformat(), events=state.events)]
        for a in state.open_approvals:
            lines.append(t(loc, "audit.then.approval", id=short(a["approval_id"]),
                           risk=a["risk"], environment=a["environment"], step=a["step_id"],
                           votes=", ".join(a["votes"]) or "-", required=a["required"],
                           request=shown(a.get("request") or "")))
        for r in state.running_runs:
            lines.append(t(loc, "audit.then.run", run=short(r["run_id"]),
                           request=shown(r["request"]), requester=r["requester"]))
        if not state.open_approvals and not state.running_runs:
            lines.append(t(loc, "audit.then.quiet"))
        return Reply("\n".join(lines), ephemeral=True, locale=loc)

    # -- approvals (buttons and commands) ---------------------------------------------

    @_while_policy_usable
    def approve(self, caller: Caller, approval_ref: str) -> Reply:
        def said(view: ApprovalView) -> Reply:
            if view.status != "granted":
                return self._say(caller, "voted", ephemeral=True, votes=len(view.votes),
                                 required=view.required)
            key = ("granted" if view.subject == ApprovalSubject.STEP
                   else f"granted.{view.subject}")
            return self._say(caller, key, approvers=", ".join(view.votes))

        try:
            return said(self.use_cases.vote(caller.who, approval_ref))
        except DomainError as e:
            return self._say(caller, "refused", ephemeral=True,
                             reason=self._reason(caller, e, approval_ref))

    @_while_policy_usable
    def deny(self, caller: Caller, approval_ref: str, reason: str) -> Reply:
        try:
            view = self.use_cases.deny(caller.who, approval_ref, reason)
        except DomainError as e:
            return self._say(caller, "refused", ephemeral=True,
                             reason=self._reason(caller, e, approval_ref))
        return self._say(caller, "denied", step=view.step_id)

    # -- questions (buttons and commands) ---------------------------------------------

    @_while_policy_usable
    def arena_vote(self, caller: Caller, duel_id: str, outcome: str) -> Reply:
        """A button under a duel's plans: which is better."""
        if caller.person is None:
            return self._say(caller, "unknown_person", ephemeral=True, identity=caller.identity)
        try:
            duel = self.use_cases.arena.vote(caller.who, duel_id, outcome)
        except DomainError as e:
            return self._say(caller, "refused", ephemeral=True, reason=self._reason(caller, e))
        return self._say(caller, "arena.counted", ephemeral=True,
                         verdict=t(caller.locale, f"arena.verdict.{duel['outcome']}"))

    @_while_policy_usable
    def answer(self, caller: Caller, task_ref: str, answer: str) -> Reply:
        """The requester's answer: a choice (its name or number) or words. The new plan is
        told in the request's thread, like the first."""
        if caller.person is None:
            return self._say(caller, "unknown_person", ephemeral=True, identity=caller.identity)
        try:
            task = self.use_cases.answer(caller.who, task_ref, answer)
        except DomainError as e:
            return self._say(caller, "refused", ephemeral=True, reason=self._reason(caller, e))
        return self._say(caller, "answered", request=shown(task.request))

    # -- saying it -----------------------------------------------------------------------

    def _say(self, caller: Caller, key: str, ephemeral: bool = False, **params: Any) -> Reply:
        return Reply(t(caller.locale, key, **params), ephemeral=ephemeral, locale=caller.locale)

    def _reason(self, caller: Caller, error: DomainError, approval_ref: str = "") -> str:
        """A refusal in the caller's words."""
        loc = caller.locale
        if isinstance(error, UnknownPersonError):
            return t(loc, "unknown_person", identity=caller.identity)
        if isinstance(error, AccessDeniedError):
            return denied_text(loc, error.person, error.action, error.role)
        if isinstance(error, NotOnCallError):
            return t(loc, "reason.not_oncall", owner=error.owner, environment=error.environment,
                     people=", ".join(error.oncall) or "-")
        if isinstance(error, NotOwnerError):
            key = "reason.not_requester" if error.action == "answer" else "reason.not_owner"
            return t(loc, key, owner=error.owner)
        if isinstance(error, NothingAskedError):
            return t(loc, "reason.not_asked")
        if isinstance(error, QuestionExpiredError):
            return t(loc, "reason.question_expired")
        if isinstance(error, NoIncidentError):
            return t(loc, "reason.no_incident", id=error.ref or "")
        if isinstance(error, NotFoundError):
            key = f"reason.not_found.{error.kind}" if error.kind else "reason.not_found"
            return t(loc, key, id=error.ref or "")
        if isinstance(error, AmbiguousIdError):
            return t(loc, "reason.ambiguous", id=error.ref, matches=error.matches)
        if isinstance(error, NotEligibleError | ApprovalExpiredError
                      | ApprovalAlreadyDecidedError):
            approval = self.use_cases.app.get_approval(
                self.use_cases.resolve(approval_ref, "approval"))
            return self._approval_reason(loc, error, approval)
        if isinstance(error, RequesterCannotApproveError):
            return t(loc, "reason.requester")
        if isinstance(error, AuthorCannotApproveError):
            return t(loc, "reason.author")
        if isinstance(error, DuplicateVoteError):
            return t(loc, "reason.duplicate")
        if isinstance(error, InvalidInputError) and "reason" in str(error):
            return t(loc, "reason.no_reason")
        return t(loc, "reason.other", message=str(error))

    @staticmethod
    def _approval_reason(loc: str, error: DomainError, approval: ApprovalView) -> str:
        if isinstance(error, NotEligibleError):
            return t(loc, "reason.not_eligible", risk=approval.risk,
                     environment=approval.environment)
        if isinstance(error, ApprovalExpiredError):
            return t(loc, "reason.expired", when=approval.expires_at.strftime("%H:%M UTC"))
        return t(loc, "reason.decided", status=approval.status)

    # -- what the fronts show -------------------------------------------------------------

    def card(self, approval_id: UUID) -> CardModel:
        return self.use_cases.card(approval_id)

    def run_report(self, run_id: UUID) -> RunModel:
        return self.use_cases.run_model(run_id)
