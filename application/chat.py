"""The chat command layer: one parser, one set of commands, one way of saying things, for
Slack, Discord and the HTTP API alike. The bots only adapt it to their platform.

A command returns a Reply at once (within the platforms' 3-second window); long work — a
plan, a run — comes back as ``Reply.later``, which the front runs after acknowledging and
posts in the thread.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from application.app import AltlasApplication
from application.errors import NotFoundError
from application.i18n import t
from application.ports import Auditor, ReadModels
from application.runner import RunWorker
from application.segmentation import SegmentationService
from application.views import ApprovalView, RunView, TaskView
from domain.approval import (
    ApprovalAlreadyDecidedError,
    ApprovalExpiredError,
    DuplicateVoteError,
    NotEligibleError,
    RequesterCannotApproveError,
)
from domain.errors import DomainError, InvalidInputError
from domain.policy import Policy
from domain.task import MODES, PERSONAS

_ID = re.compile(r"^[0-9a-f][0-9a-f-]{5,35}$")


@dataclass(frozen=True)
class Caller:
    """Who is speaking: a chat identity, the person the policy maps it to, their language."""

    identity: str
    person: str | None
    locale: str
    source: str


@dataclass(frozen=True)
class Card:
    """Everything an approval message shows, whatever the platform draws it with."""

    approval: ApprovalView
    task: TaskView
    step: dict[str, Any]
    oncall: tuple[str, ...]
    run_outcome: str | None = None

    @property
    def open(self) -> bool:
        return self.approval.status == "open"


@dataclass
class Reply:
    text: str
    ephemeral: bool = False
    cards: list[Card] = field(default_factory=list)
    later: Callable[[], Reply] | None = None
    locale: str = "en"


class ChatCommands:
    def __init__(self, app: AltlasApplication, worker: RunWorker,
                 segmentation: SegmentationService, reads: Callable[[], ReadModels],
                 auditor: Callable[[], Auditor]) -> None:
        self._app = app
        self._worker = worker
        self._segmentation = segmentation
        self._reads = reads
        self._auditor = auditor

    @property
    def policy(self) -> Policy:
        return self._app.policy

    def caller(self, identity: str, source: str, person: str | None = None,
               profile_locale: str | None = None) -> Caller:
        """``profile_locale`` is the chat profile's language, used when the policy sets none."""
        person = person or self.policy.person_for_identity(identity)
        return Caller(identity, person, self.policy.locale_of(person, profile_locale), source)

    # -- text commands ----------------------------------------------------------------

    def run(self, caller: Caller, text: str) -> Reply:
        """Parse one command line and carry it out."""
        try:
            words = shlex.split(text.strip())
        except ValueError:
            words = text.split()
        if not words or words[0].lower() == "help":
            return self._say(caller, "help", ephemeral=True)
        command, args = words[0].lower(), words[1:]
        handler = {
            "do": self._do, "status": self._status, "runs": self._runs,
            "approvals": self._approvals, "approve": self._approve_cmd, "deny": self._deny_cmd,
            "atlas": self._atlas, "leaderboard": self._leaderboard, "audit": self._audit,
        }.get(command)
        if handler is None:
            return self._say(caller, "unknown_command", ephemeral=True, word=command)
        if caller.person is None:
            return self._say(caller, "unknown_person", ephemeral=True, identity=caller.identity)
        return handler(caller, args)

    def _say(self, caller: Caller, key: str, ephemeral: bool = False, **params: Any) -> Reply:
        return Reply(t(caller.locale, key, **params), ephemeral=ephemeral, locale=caller.locale)

    def _needs(self, caller: Caller, role: str, command: str) -> Reply | None:
        if caller.person is not None and (
                role in self.policy.roles_of(caller.person)
                or "admin" in self.policy.roles_of(caller.person)):
            return None
        return self._say(caller, "needs_role", ephemeral=True, command=command, role=role,
                         person=caller.person)

    def _do(self, caller: Caller, args: list[str]) -> Reply:
        refusal = self._needs(caller, "requester", "do")
        if refusal:
            return refusal
        options = {"mode": "normal", "persona": "technical_expert", "env": None,
                   "chaos-level": None}
        words: list[str] = []
        it = iter(args)
        for word in it:
            if word.startswith("--") and word[2:] in options:
                value = next(it, None)
                if value is None:
                    return self._say(caller, "usage.do", ephemeral=True)
                options[word[2:]] = value
            else:
                words.append(word)
        request = " ".join(words)
        problem = None
        if not request:
            problem = ""
        elif options["mode"] not in MODES:
            problem = f"--mode must be one of {', '.join(MODES)}"
        elif options["persona"] not in PERSONAS:
            problem = f"--persona must be one of {', '.join(PERSONAS)}"
        elif options["chaos-level"] is not None and not str(options["chaos-level"]).isdigit():
            problem = "--chaos-level must be a number from 1 to 10"
        if problem is not None:
            usage = t(caller.locale, "usage.do")
            return Reply(f"{problem}\n{usage}".strip(), ephemeral=True, locale=caller.locale)
        try:
            task_id = self._app.request_task(
                request, str(caller.person), mode=str(options["mode"]),
                persona=str(options["persona"]), environment=options["env"],
                source=caller.source,
                chaos_level=int(options["chaos-level"]) if options["chaos-level"] else None)
        except DomainError as e:
            return Reply(f"{e}\n{t(caller.locale, 'usage.do')}", ephemeral=True,
                         locale=caller.locale)
        reply = self._say(caller, "working", request=request)
        reply.later = lambda: self._plan_and_run(caller, task_id)
        return reply

    def _plan_and_run(self, caller: Caller, task_id: UUID) -> Reply:
        task = self._segmentation.segment(task_id)
        if task.status == "rejected":
            return self._say(caller, "rejected", request=task.request, reason=task.rejection)
        lines = [self._plan_text(caller, task)]
        if task.mode == "dream":
            lines.append(t(caller.locale, "dream"))
            return Reply("\n".join(lines), locale=caller.locale)
        run = self._app.start_run(task_id, actor=str(caller.person))
        run = self._worker.advance(UUID(run.id))
        lines.append(self._run_text(caller, run, task))
        cards = [self.card(UUID(s.approval_id)) for s in run.steps
                 if s.approval_id and s.status == "pending"]
        return Reply("\n".join(lines), cards=cards, locale=caller.locale)

    def _plan_text(self, caller: Caller, task: TaskView) -> str:
        assert task.plan is not None
        loc = caller.locale
        gates = {g["step_id"]: g for g in task.gates}
        lines = [t(loc, f"plan.{task.persona}", request=task.request,
                   n=len(task.plan["steps"]), segmenter=task.segmenter)]
        if task.fallback_reason:
            lines.append(t(loc, "fallback", segmenter=task.segmenter,
                           reason=task.fallback_reason))
        for step in task.plan["steps"]:
            gate = gates[step["id"]]
            target = f" @{step['target']}" if step.get("target") else ""
            lines.append(t(loc, "step", id=step["id"], kind=step["kind"],
                           action=step["action"], target=target, risk=gate["risk"],
                           gate=gate["gate"]))
            if task.persona == "researcher":
                lines.append(t(loc, "step.why", reason=gate["reason"]))
        return "\n".join(lines)

    def _run_text(self, caller: Caller, run: RunView, task: TaskView) -> str:
        loc = caller.locale
        planned = {s["id"]: s for s in (task.plan or {}).get("steps", [])}
        outcome = t(loc, f"run.{run.outcome}") if run.outcome else t(loc, "run.in_progress")
        lines = [t(loc, "run", run=run.id[:8], outcome=outcome)]
        for s in run.steps:
            if s.status == "pending" and s.approval_id:
                approval = self._app.get_approval(UUID(s.approval_id))
                lines.append(t(loc, "waiting", step=s.id, remaining=approval.remaining))
            elif s.gate == "manual":
                lines.append(t(loc, "manual", step=s.id, risk=s.risk,
                               action=planned.get(s.id, {}).get("action", "")))
            else:
                detail = f": {s.error}" if s.error else ""
                lines.append(t(loc, "step.result", id=s.id, status=s.status, detail=detail))
        return "\n".join(lines)

    def _status(self, caller: Caller, args: list[str]) -> Reply:
        if len(args) != 1:
            return self._say(caller, "usage.status", ephemeral=True)
        found = self._resolve(caller, args[0])
        if isinstance(found, Reply):
            return found
        kind, ident = found
        loc = caller.locale
        if kind == "task":
            task = self._app.get_task(UUID(ident))
            text = t(loc, "status.task", id=ident[:8], status=task.status,
                     request=task.request, requester=task.requester)
            if task.plan:
                text += "\n" + self._plan_text(caller, task)
            return Reply(text, ephemeral=True, locale=loc)
        if kind == "run":
            run = self._app.get_run(UUID(ident))
            return Reply(self._run_text(caller, run, self._app.get_task(UUID(run.task_id))),
                         ephemeral=True, locale=loc)
        card = self.card(UUID(ident))
        return Reply(t(loc, "status.approval", id=ident[:8], status=card.approval.status,
                       votes=len(card.approval.votes), required=card.approval.required),
                     ephemeral=True, cards=[card], locale=loc)

    def _runs(self, caller: Caller, args: list[str]) -> Reply:
        rows = self._reads().recent_runs(10)
        if not rows:
            return self._say(caller, "runs.none", ephemeral=True)
        lines = [t(caller.locale, "runs.line", run=r["run_id"][:8], status=r["status"],
                   outcome=f" ({r['outcome']})" if r["outcome"] else "", request=r["request"])
                 for r in rows]
        return Reply("\n".join(lines), ephemeral=True, locale=caller.locale)

    def _approvals(self, caller: Caller, args: list[str]) -> Reply:
        person = str(caller.person)
        mine = [a for a in self._reads().open_approvals()
                if person in a["eligible"] and person != a["requester"]
                and person not in a["votes"]]
        if not mine:
            return self._say(caller, "approvals.none", ephemeral=True)
        lines = [t(caller.locale, "approvals.line", id=a["approval_id"][:8], risk=a["risk"],
                   environment=a["environment"], step=a["step_id"], votes=len(a["votes"]),
                   required=a["required"], minutes=a["seconds_left"] // 60,
                   request=a.get("request") or "") for a in mine]
        return Reply("\n".join(lines), ephemeral=True, locale=caller.locale)

    def _approve_cmd(self, caller: Caller, args: list[str]) -> Reply:
        if len(args) != 1:
            return self._say(caller, "usage.approve", ephemeral=True)
        return self.approve(caller, args[0])

    def _deny_cmd(self, caller: Caller, args: list[str]) -> Reply:
        if len(args) < 2:
            return self._say(caller, "usage.deny", ephemeral=True)
        return self.deny(caller, args[0], " ".join(args[1:]))

    def _atlas(self, caller: Caller, args: list[str]) -> Reply:
        if not args:
            return self._say(caller, "usage.atlas", ephemeral=True)
        return self._say(caller, "not_available", ephemeral=True,
                         feature=t(caller.locale, "feature.atlas"))

    def _leaderboard(self, caller: Caller, args: list[str]) -> Reply:
        return self._say(caller, "not_available", ephemeral=True,
                         feature=t(caller.locale, "feature.leaderboard"))

    def _audit(self, caller: Caller, args: list[str]) -> Reply:
        refusal = self._needs(caller, "auditor", "audit")
        if refusal:
            return refusal
        if args == ["verify"]:
            def verify() -> Reply:
                lines = []
                for r in self._auditor().verify():
                    lines.append(
                        t(caller.locale, "audit.ok", source=r["source"], events=r["events"],
                          aggregates=r["aggregates"], checkpoints=r["checkpoints"])
                        if r["ok"] else
                        t(caller.locale, "audit.bad", source=r["source"],
                          count=len(r["problems"]), first=r["problems"][0]))
                return Reply("\n".join(lines), locale=caller.locale)
            reply = Reply("…", ephemeral=True, locale=caller.locale)
            reply.later = verify
            return reply
        if len(args) == 3 and args[0] == "replay" and args[1] == "--until":
            try:
                until = datetime.fromisoformat(args[2].replace("Z", "+00:00"))
            except ValueError:
                return self._say(caller, "usage.audit", ephemeral=True)
            if until.tzinfo is None:
                return self._say(caller, "usage.audit", ephemeral=True)

            def replay() -> Reply:
                done = self._auditor().replay(until)
                return self._say(caller, "audit.replayed", n=done["replayed"],
                                 until=done["until"], into=done["into"])
            reply = Reply("…", ephemeral=True, locale=caller.locale)
            reply.later = replay
            return reply
        return self._say(caller, "usage.audit", ephemeral=True)

    # -- approvals (buttons and commands) ---------------------------------------------

    def approve(self, caller: Caller, approval_ref: str) -> Reply:
        def said(view: ApprovalView) -> Reply:
            if view.status != "granted":
                return self._say(caller, "voted", ephemeral=True, votes=len(view.votes),
                                 required=view.required)
            return self._say(caller, "granted", approvers=", ".join(view.votes))

        return self._decide(caller, approval_ref, "approve", self._app.cast_vote, said)

    def deny(self, caller: Caller, approval_ref: str, reason: str) -> Reply:
        return self._decide(
            caller, approval_ref, "deny",
            lambda approval_id, person: self._app.deny_approval(approval_id, person, reason),
            lambda view: self._say(caller, "denied", step=view.step_id))

    def _decide(self, caller: Caller, approval_ref: str, attempt: str,
                act: Callable[[UUID, str], ApprovalView],
                said: Callable[[ApprovalView], Reply]) -> Reply:
        """A vote or a denial: refused on the record, or done; a decided approval takes its
        run on in the background."""
        found = self._approval_id(caller, approval_ref)
        if isinstance(found, Reply):
            return found
        if caller.person is None:
            return self._refuse(caller, found, attempt,
                                t(caller.locale, "unknown_person", identity=caller.identity))
        try:
            view = act(found, caller.person)
        except DomainError as e:
            return self._refuse(caller, found, attempt, self._reason(caller, e, found))
        reply = said(view)
        if view.run_id and view.status != "open":
            reply.later = lambda: self._continue(caller, UUID(view.run_id or ""))
        return reply

    def _continue(self, caller: Caller, run_id: UUID) -> Reply:
        """After a decision: take the run on, and report it where it was asked for."""
        run = self._worker.advance(run_id)
        return Reply(self._run_text(caller, run, self._app.get_task(UUID(run.task_id))),
                     locale=caller.locale)

    def _refuse(self, caller: Caller, approval_id: UUID, attempt: str, reason: str) -> Reply:
        self._app.record_refused_attempt(approval_id, attempt, caller.person or caller.identity,
                                         reason)
        return self._say(caller, "refused", ephemeral=True, reason=reason)

    def _reason(self, caller: Caller, error: DomainError, approval_id: UUID) -> str:
        loc = caller.locale
        approval = self._app.get_approval(approval_id)
        if isinstance(error, NotEligibleError):
            return t(loc, "reason.not_eligible", risk=approval.risk,
                     environment=approval.environment)
        if isinstance(error, RequesterCannotApproveError):
            return t(loc, "reason.requester")
        if isinstance(error, DuplicateVoteError):
            return t(loc, "reason.duplicate")
        if isinstance(error, ApprovalExpiredError):
            return t(loc, "reason.expired", when=approval.expires_at.strftime("%H:%M UTC"))
        if isinstance(error, ApprovalAlreadyDecidedError):
            return t(loc, "reason.decided", status=approval.status)
        if isinstance(error, InvalidInputError) and "reason" in str(error):
            return t(loc, "reason.no_reason")
        return t(loc, "reason.other", message=str(error))

    def _approval_id(self, caller: Caller, ref: str) -> UUID | Reply:
        found = self._resolve(caller, ref)
        if isinstance(found, Reply):
            return found
        kind, ident = found
        if kind != "approval":
            return self._say(caller, "refused", ephemeral=True,
                             reason=t(caller.locale, "reason.not_found", id=ref))
        return UUID(ident)

    def _resolve(self, caller: Caller, ref: str) -> tuple[str, str] | Reply:
        """A full id, or the first characters of one (at least six)."""
        ref = ref.strip().lower()
        missing = self._say(caller, "refused", ephemeral=True,
                            reason=t(caller.locale, "reason.not_found", id=ref))
        if not _ID.match(ref):
            return missing
        direct = self._direct(ref)  # a whole id needs no view (and buttons carry whole ids)
        if direct is not None:
            return direct
        matches = self._reads().resolve(ref)
        if not matches:
            return missing
        if len(matches) > 1:
            return self._say(caller, "refused", ephemeral=True, reason=t(
                caller.locale, "reason.ambiguous", id=ref,
                matches=", ".join(f"{k} {i[:8]}" for k, i in matches)))
        return matches[0]

    def _direct(self, ref: str) -> tuple[str, str] | None:
        """What a whole id names, asked of the event store itself."""
        try:
            ident = UUID(ref)
        except ValueError:
            return None
        for kind, getter in (("approval", self._app.get_approval), ("run", self._app.get_run),
                             ("task", self._app.get_task)):
            try:
                getter(ident)
            except NotFoundError:
                continue
            return kind, str(ident)
        return None

    # -- cards --------------------------------------------------------------------------

    def approvals_of_run(self, run_id: UUID) -> list[str]:
        return [s.approval_id for s in self._app.get_run(run_id).steps if s.approval_id]

    def card(self, approval_id: UUID) -> Card:
        approval = self._app.get_approval(approval_id)
        task = self._app.get_task(UUID(approval.task_id))
        step: dict[str, Any] = next((s for s in (task.plan or {}).get("steps", [])
                     if s["id"] == approval.step_id), {})
        env = self.policy.environments.get(approval.environment)
        oncall = tuple(sorted(self.policy.groups.get(env.oncall_group or "", ())) if env
                       else ())
        outcome = None
        if approval.run_id:
            outcome = self._app.get_run(UUID(approval.run_id)).outcome
        return Card(approval, task, step, oncall, outcome)


def card_lines(card: Card, locale: str, now: datetime) -> list[str]:
    """The approval message's lines, for every platform."""
    a = card.approval
    target = f" @{card.step['target']}" if card.step.get("target") else ""
    lines = [
        t(locale, "card.title", risk=a.risk, environment=a.environment),
        t(locale, "card.request", request=card.task.request, requester=a.requester),
        t(locale, "card.step", step=a.step_id, kind=card.step.get("kind", ""),
          action=card.step.get("action", ""), target=target),
        t(locale, "card.why", reason=a.reason),
    ]
    approvers = ", ".join(p for p in a.eligible if p != a.requester)
    if a.status == "open":
        if a.votes:
            lines.append(t(locale, "card.votes", votes=", ".join(a.votes),
                           remaining=a.remaining, approvers=approvers))
        else:
            lines.append(t(locale, "card.no_votes", remaining=a.remaining,
                           approvers=approvers))
        minutes = max(int((a.expires_at - now).total_seconds() // 60), 0)
        lines.append(t(locale, "card.time_left", minutes=minutes,
                       when=a.expires_at.strftime("%H:%M UTC")))
        if card.oncall:
            lines.append(t(locale, "card.oncall", people=", ".join(card.oncall)))
    elif a.status == "granted":
        lines.append(t(locale, "card.granted", votes=", ".join(a.votes)))
    elif a.status == "denied":
        lines.append(t(locale, "card.denied", reason=a.decision_reason))
    elif a.status == "expired":
        lines.append(t(locale, "card.expired"))
    else:
        lines.append(t(locale, "card.cancelled", reason=a.decision_reason))
    if card.run_outcome:
        lines.append(t(locale, "card.run_finished", run=(a.run_id or "")[:8],
                       outcome=t(locale, f"run.{card.run_outcome}")))
    return lines

