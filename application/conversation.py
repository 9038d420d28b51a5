"""What people are told on one chat front, following the recorded events (its table TOLD).
One module: what is told, and the order it is told in, are one follower's.

The plan, the approval cards, a step whose outcome is unknown and the run's result go to the
front where the person asked, in the thread where they asked, in their language, whoever
caused the event and in whatever process. Each message is sent once: what was posted is
remembered before the place in the events moves on, and a message already posted is not
posted again after a restart. Cards are edited in place; a card shows its current state, so
showing it twice is harmless. When the platform cannot take a message now, the follower keeps
its place before that event and tries again, waiting longer each time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from application.app import AltlasApplication
from application.errors import NotFoundError
from application.history import EventHistory
from application.i18n import t
from application.ports import (
    ChatPosts,
    FrontUnavailableError,
    MessageRefs,
    Notifier,
    SearchWarmingError,
    VectorStoreUnavailableError,
    Vote,
)
from application.presenters import incident_environment, incident_model, oncall_of
from application.signal import AGAIN, IDLE, Outcome, follow
from application.similar import MIN_SCORE, SimilarRun
from application.text import (
    clip,
    duel_text,
    incident_text,
    plan_text,
    question_text,
    run_text,
    short,
    shown,
)
from application.use_cases import UseCases
from domain.alerts import Alert
from domain.approval import ApprovalSubject
from domain.atlas import pattern_of
from domain.base import event_id
from domain.duel import Duel
from domain.errors import InvalidInputError
from domain.incidents import Incident
from domain.knowledge import PatternWatch, watch_id
from domain.plan import PlanError
from domain.records import RecordedEvent
from domain.task import Task

log = logging.getLogger("altlas.conversation")

# What people are told after each event, on the front where they asked.
TOLD: dict[str, str] = {
    "TaskSegmented": "plan",            # the plan, with each step's risk and gate
    "TaskRejected": "plan",             # why the request could not be planned
    "TaskClarificationRequested": "question",  # which host, or what a part means: buttons
    "TaskClarified": "settled",         # the question, without its buttons, and the answer
    "TaskClarificationExpired": "settled",
    "ApprovalRequested": "new_card",    # an approval card, with Approve and Deny
    "StepInterrupted": "interrupted",   # an unknown outcome, to the requester and on-call
    "RunCompleted": "result",           # the run's result (its cards show it too)
    "ApprovalVoteCast": "card",         # the card, shown again as it is now
    "ApprovalGranted": "card",
    "ApprovalDenied": "card",
    "ApprovalExpired": "card",
    "ApprovalCancelled": "card",
    "PatternSuccessLow": "pattern_low",  # this kind of plan fails often: requester, on-call
    # One message per incident in the on-call channel, shown again as it is now:
    "IncidentOpened": "incident",
    "AlertsCorrelated": "incident",
    "IncidentAlertResolved": "incident",
    "IncidentEnriched": "incident",
    "RemediationProposed": "incident",
    "IncidentMerged": "incident",
    "IncidentResolved": "incident",
    "ArenaPlanned": "duel",             # the two plans as A and B, a button per verdict
    "ArenaVoted": "duel_decided",       # the same message: who made which, the verdict
}
SHOWN_AGAIN = ("card", "incident")  # shown once per batch, as they are at the end of it
# How long a reply waits for the front to post the message that starts its request's thread.
THREAD_GRACE = timedelta(seconds=10)
SIMILAR_SHOWN = 3  # past runs shown beside a plan


class NotYet(Exception):
    """The thread of a request is not known yet: try again shortly."""


class Conversation:
    def __init__(self, app: AltlasApplication, use_cases: UseCases, history: EventHistory,
                 notifier: Notifier, posts: ChatPosts, refs: MessageRefs, *,
                 batch: int = 200, max_backoff: float = 60.0) -> None:
        self.app = app
        self.use_cases = use_cases
        self.history = history
        self.notifier = notifier
        self.posts = posts
        self.refs = refs
        self.platform = notifier.platform
        self.name = f"altlas.tell.{self.platform}"
        self.batch = batch
        self.max_backoff = max_backoff
        self.unavailable = False
        self.retry_after = 0.0  # what the platform asked us to wait, at least
        if app.tracked(self.name) is None:  # the first time: from now
            app.track(self.name, history.last_position())
        # what each kind of TOLD says, as it happens (SHOWN_AGAIN kinds: at the batch's end)
        self.tellers: dict[str, Callable[[RecordedEvent], None]] = {
            "plan": self._plan, "question": self._question, "settled": self._settled,
            "new_card": self._new_card, "interrupted": self._interrupted,
            "result": self._result, "pattern_low": self._pattern_low, "duel": self._duel,
            "duel_decided": self._duel_decided}

    @property
    def position(self) -> int:
        return self.app.tracked(self.name) or 0

    def poll(self) -> int:
        """Tell what happened since the last poll; how many events were read. A card that
        changed several times in the batch is shown once, as it is now."""
        start = self.position
        records = list(self.history.read(after=start, limit=self.batch))
        self.unavailable = False
        done = start
        # (card or incident, its id) → the position before its first change in the batch
        shown: dict[tuple[str, str], int] = {}
        for record in records:
            try:
                self._tell(record, shown)
            except (FrontUnavailableError, NotYet) as e:
                self._later(e, record.type_name, record.position)
                break
            except Exception:
                log.exception("%s: could not tell %s at position %s", self.platform,
                              record.type_name, record.position)
            done = record.position or done
        for (kind, ident), before in shown.items():
            if before >= done:
                continue  # not reached in this batch
            try:
                if kind == "card":
                    self._update_cards(ident)
                else:
                    self._show_incident(ident)
            except FrontUnavailableError as e:
                self._later(e, f"the {kind} of {ident}", before + 1)
                done = min(done, before)
                break
            except Exception:
                log.exception("%s: could not show the %s of %s", self.platform, kind, ident)
        if done > self.position:
            self.app.track(self.name, done)  # or another process of this front got further
        return len(records)

    def _later(self, why: Exception, what: str, position: int | None) -> None:
        log.warning("%s: %s; keeping %s at position %s for later", self.platform, why, what,
                    position)
        self.unavailable = True
        self.retry_after = getattr(why, "retry_after", None) or 0.0

    def run(self, stop: threading.Event, idle_seconds: float) -> None:
        backoff = idle_seconds

        def step() -> Outcome:
            nonlocal backoff
            try:
                read = self.poll()
            except Exception:
                log.exception("%s: reading new events failed; trying again", self.platform)
                read = 0
            if self.unavailable:
                backoff = min(max(backoff * 2, 1.0), self.max_backoff)
                return max(backoff, self.retry_after)
            backoff = idle_seconds
            return AGAIN if read >= self.batch else IDLE

        follow(stop, self.app.recorded, step, idle_seconds)

    # -- what each event says -----------------------------------------------------------

    def _tell(self, record: RecordedEvent, shown: dict[tuple[str, str], int]) -> None:
        told = TOLD.get(record.type_name)
        before = (record.position or 1) - 1
        if told in SHOWN_AGAIN:
            shown.setdefault((told, str(record.aggregate_id)), before)
        elif told is not None:
            self.tellers[told](record)
        if record.type_name == "TaskSegmented":  # a remediation's steps show in its incident
            self._remediation_changed(record.aggregate_id, shown, before)
        if told == "result":  # the cards of the run show its result
            run = self.app.get_run(record.aggregate_id)
            for step in run.steps:
                if step.approval_id:
                    shown.setdefault(("card", step.approval_id), before)
            self._remediation_changed(UUID(run.task_id), shown, before)
        elif told in ("card", "new_card"):  # a remediation's votes show in its incident
            approval = self.app.get_approval(record.aggregate_id)
            if approval.subject == ApprovalSubject.STEP:
                self._remediation_changed(UUID(approval.task_id), shown, before)

    def _remediation_changed(self, task_id: UUID, shown: dict[tuple[str, str], int],
                             before: int) -> None:
        incident = (self.app.get_task(task_id).reply_to or {}).get("incident")
        if incident:
            shown.setdefault(("incident", incident), before)

    def _plan(self, record: RecordedEvent) -> None:
        task = self._asked_here(record.aggregate_id)
        if task is not None:
            locale = self._locale(task)
            text = plan_text(self.use_cases.plan_model(record.aggregate_id), locale,
                             fenced=True)
            warning = self._low(task.get("plan"))
            if warning is not None:  # before anyone approves it
                text += "\n" + t(locale, "atlas.low", pattern=warning.pattern, **{
                    **warning.said, "failure": shown(warning.said["failure"])})
            similar = self._similar(task)
            if similar:
                text += "\n" + t(locale, "plan.similar", runs=" · ".join(
                    f"{'✅' if s.outcome == 'succeeded' else '❌'} “{clip(shown(s.request), 60)}” "
                    f"({short(s.run_id)})" for s in similar))
            self._say(record, task, text)

    def _similar(self, task: dict[str, Any]) -> list[SimilarRun]:
        """Past runs of requests nearest this one in meaning, to judge the plan by; none
        when the search cannot answer now (the plan is not held back for it)."""
        try:
            found = self.use_cases.similar_runs(None, task["request"], SIMILAR_SHOWN + 1,
                                                min_score=MIN_SCORE)
            return [s for s in found if s.task_id != task["id"]][:SIMILAR_SHOWN]
        except (VectorStoreUnavailableError, SearchWarmingError, InvalidInputError) as e:
            log.info("no similar past runs beside the plan of task %s: %s", task["id"], e)
            return []

    def _low(self, plan: dict[str, Any] | None) -> PatternWatch | None:
        """The watch of the plan's pattern, if it fails too often now."""
        try:
            watch = self.app.load(PatternWatch, watch_id(pattern_of(plan or {}).key))
        except (NotFoundError, PlanError):
            return None
        return watch if watch.low else None

    def _pattern_low(self, record: RecordedEvent) -> None:
        """Told in the environment's on-call channel on this front, if the policy names one
        (whichever front the request came from), and in the requester's thread."""
        run = self.app.get_run(UUID(record.data["run_id"]))
        task = self.app.get_task(UUID(run.task_id)).to_dict()
        gates = [g.get("environment") for g in task["gates"] if g.get("environment")]
        environment = task.get("environment") or next(iter(gates), None)
        d = record.data

        def text(locale: str) -> str:
            return t(locale, "atlas.low", pattern=self.app.load(
                PatternWatch, record.aggregate_id).pattern, successes=d["successes"],
                runs=d["runs"], failure=shown(d["last_failure"] or "-")) + "\n" + t(
                locale, "card.oncall", people=", ".join(
                    oncall_of(self.app.policy, environment)) or "-")

        env = self.app.policy.environments.get(environment or "")
        channel = env.oncall_channels.get(self.platform) if env else None
        key = f"event:{record.id}:oncall"
        if channel and self.posts.get(self.platform, key) is None:
            self.posts.add(self.platform, key, channel, self.notifier.say(
                channel, None, text(self.app.policy.locale_of(None))))
        if (task.get("reply_to") or {}).get("front") == self.platform:
            self._say(record, task, text(self._locale(task)))

    def _question(self, record: RecordedEvent) -> None:
        task = self._asked_here(record.aggregate_id)
        if task is None:
            return
        key = f"event:{record.id}"
        if self.posts.get(self.platform, key) is not None:
            return  # asked before a restart
        view = self.app.get_task(record.aggregate_id)
        channel, thread = self._thread(task)
        message = self.notifier.ask(channel, thread,
                                    question_text(view, self._locale(task), "chat"),
                                    view.id, list(record.data["choices"]))
        self.posts.add(self.platform, key, channel, message)

    def _settled(self, record: RecordedEvent) -> None:
        """The question this event closes is shown answered or expired (it is the task's
        event just before: nothing else happens to a task while it asks)."""
        task = self._asked_here(record.aggregate_id)
        asked = self.posts.get(self.platform,
                               f"event:{event_id(record.aggregate_id, record.version - 1)}")
        if task is None or asked is None:
            return
        view = self.app.get_task(record.aggregate_id)
        locale = self._locale(task)
        if record.type_name == "TaskClarified":
            answered = sum(1 for e in self.app.events.get(record.aggregate_id, lte=record.version)
                           if isinstance(e, Task.Clarified))
            answer = view.answers[answered - 1]
            text = t(locale, "question.answered", request=shown(view.request),
                     who=answer.get("by") or view.requester,
                     answer=shown(str(answer.get("host") or answer.get("answer") or "")))
        else:
            text = t(locale, "question.expired", request=shown(view.request))
        self.notifier.rewrite(*asked, text)

    def _new_card(self, record: RecordedEvent) -> None:
        task = self._asked_here(UUID(record.data["task_id"]))
        approval_id = str(record.aggregate_id)
        if task is None or self.refs.of(approval_id, self.platform):
            return
        locale = self._locale(task)
        channel = task["reply_to"]["channel"]
        message = self.notifier.show_card(channel, self.use_cases.card(record.aggregate_id),
                                          locale)
        self.refs.add(approval_id, self.platform, channel, message, None, locale)

    def _update_cards(self, approval_id: str) -> None:
        places = self.refs.of(approval_id, self.platform)
        if not places:
            return
        card = self.use_cases.card(UUID(approval_id))
        for channel, message, locale in places:
            self.notifier.update_card(channel, message, card, locale)

    def _show_incident(self, incident_id: str) -> None:
        """Post the incident to its environment's on-call channel on this front, once; after
        that, rewrite that message as the incident is now."""
        incident = self.app.load(Incident, UUID(incident_id))
        labels = (self.app.load(Alert, UUID(a)).labels for a in incident.alerts)
        environment = incident_environment(self.app.policy, incident, labels)  # lazily
        env = self.app.policy.environments.get(environment or "")
        channel = env.oncall_channels.get(self.platform) if env else None
        if channel is None:
            return
        locale = self.app.policy.locale_of(None)
        proposed, run = (self.use_cases.remediation(incident.remediation["task_id"])
                         if incident.remediation else (None, None))
        text = incident_text(incident_model(incident), locale, proposed=proposed, run=run)
        votes = [Vote(str(s.approval_id), t(locale, "button.approve_step", step=s.id),
                      t(locale, "button.deny_step", step=s.id))
                 for s in (run.waiting if run is not None else ())]
        key = f"incident:{incident_id}"
        posted = self.posts.get(self.platform, key)
        if posted is None:
            posted = channel, self.notifier.say(channel, None, text, votes)
            self.posts.add(self.platform, key, *posted)
        else:
            self.notifier.rewrite(*posted, text, votes)
        if incident.enriched and self.posts.get(self.platform, f"chart:{incident_id}") is None:
            self._chart(incident_id, *posted)

    def _chart(self, incident_id: str, channel: str, message: str) -> None:
        """The key metric's chart, once, in the thread of the incident's message."""
        try:
            title, png = self.use_cases.incident_chart_of(UUID(incident_id))
        except (NotFoundError, InvalidInputError) as e:  # nothing to draw, or no charts here
            log.info("no chart for incident %s: %s", incident_id, e)
            self.posts.add(self.platform, f"chart:{incident_id}", channel, "")
            return
        self.notifier.attach(channel, message, f"incident-{incident_id[:8]}.png", title, png)
        self.posts.add(self.platform, f"chart:{incident_id}", channel, message)

    def _duel(self, record: RecordedEvent) -> None:
        duel = self.use_cases.arena.duel(None, str(record.aggregate_id))
        if (duel["reply_to"] or {}).get("front") != self.platform:
            return
        key = f"duel:{duel['id']}"
        if self.posts.get(self.platform, key) is not None:
            return  # shown before a restart
        locale = str(duel["reply_to"].get("locale") or self.app.policy.locale_of(None))
        channel, thread = self._thread({**duel, "created_on": self.app.load(
            Duel, record.aggregate_id).created_on})
        message = self.notifier.duel(channel, thread, duel_text(duel, locale), duel["id"], [
            (v, t(locale, f"button.arena.{v}")) for v in ("a", "b", "tie", "both_bad")])
        self.posts.add(self.platform, key, channel, message)

    def _duel_decided(self, record: RecordedEvent) -> None:
        posted = self.posts.get(self.platform, f"duel:{record.aggregate_id}")
        if posted is None:
            return
        duel = self.use_cases.arena.duel(None, str(record.aggregate_id))
        locale = str((duel["reply_to"] or {}).get("locale") or self.app.policy.locale_of(None))
        self.notifier.rewrite(*posted, duel_text(duel, locale))

    def _interrupted(self, record: RecordedEvent) -> None:
        if record.data["rerun"]:
            return
        run = self.app.get_run(record.aggregate_id)
        task = self._asked_here(UUID(run.task_id))
        if task is None:
            return
        step = record.data["step_id"]
        gates = {g["step_id"]: g for g in task["gates"]}
        oncall = oncall_of(self.app.policy, gates.get(step, {}).get("environment"))
        self._say(record, task, t(self._locale(task), "interrupted", step=step,
                                  reason=record.data["reason"],
                                  people=", ".join(oncall) or "-"))

    def _result(self, record: RecordedEvent) -> None:
        run = self.use_cases.run_model(record.aggregate_id)
        task = self._asked_here(UUID(run.task_id))
        if task is not None:
            self._say(record, task, run_text(run, self._locale(task), fenced=True))

    # -- where and how -------------------------------------------------------------------

    def _asked_here(self, task_id: UUID) -> dict[str, Any] | None:
        """The task, if it was asked for on this front."""
        try:
            task = self.app.get_task(task_id).to_dict()
        except NotFoundError:
            return None
        reply_to = task.get("reply_to") or {}
        return task if reply_to.get("front") == self.platform else None

    def _locale(self, task: dict[str, Any]) -> str:
        return str(task["reply_to"].get("locale")
                   or self.app.policy.locale_of(task["requester"]))

    def _say(self, record: RecordedEvent, task: dict[str, Any], text: str) -> None:
        key = f"event:{record.id}"
        if self.posts.get(self.platform, key) is not None:
            return  # said before a restart
        channel, thread = self._thread(task)
        message = self.notifier.say(channel, thread, text)
        self.posts.add(self.platform, key, channel, message)
        if thread is None:  # the front never started the thread: this message does
            self.posts.add(self.platform, f"thread:{task['id']}", channel, message)

    def _thread(self, task: dict[str, Any]) -> tuple[str, str | None]:
        """The request's thread: the front's first answer, or the message it answered."""
        known = self.posts.get(self.platform, f"thread:{task['id']}")
        if known is not None:
            return known
        reply_to = task["reply_to"]
        if reply_to.get("thread"):
            return reply_to["channel"], reply_to["thread"]
        if reply_to.get("incident"):  # a remediation: in the thread of the incident's message
            posted = self.posts.get(self.platform, f"incident:{reply_to['incident']}")
            if posted is not None:
                return posted
        if datetime.now(UTC) - task["created_on"] < THREAD_GRACE:
            raise NotYet(f"the thread of task {task['id']} is not posted yet")
        return reply_to["channel"], None
