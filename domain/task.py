"""A task: one request for work, and the plan it was turned into."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import AuditedAggregate, EventMeta, Seal, as_written, is_person
from domain.errors import ConflictError, InvalidInputError, NotAllowedError
from domain.statuses import TASK_STATUSES as TASK_STATUSES
from domain.voice import checked_heard

MODES = ("normal", "explore", "dream", "chaos")
MAX_QUESTIONS = 3  # asked back this often, a task is rejected: say it again another way
MAX_ANSWER_CHARS = 500
PERSONAS = ("technical_expert", "researcher", "project_manager", "creative_writer")
MAX_REQUEST_CHARS = 4000


class Task(AuditedAggregate):
    class Requested(AuditedAggregate.Created):
        type_name = "TaskRequested"
        class_version = 6
        request: str
        requester: str
        mode: str
        persona: str
        environment: str | None
        source: str
        chaos_level: int | None
        reply_to: dict[str, str] | None
        on_behalf_of: str | None  # the person altlas asks for (a trigger's owner)
        heard: dict[str, Any] | None  # a spoken request: its clip (domain.voice.HEARD_FIELDS)
        because: str | None  # asked by a runbook step: its condition and the outputs it read

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 had no chaos level."""
            state["chaos_level"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Before 0.2 the front that took a request answered it itself."""
            state["reply_to"] = None

        @staticmethod
        def upcast_v3_v4(state: dict[str, Any]) -> None:
            """Before runbooks' triggers altlas asked for nobody in particular."""
            state["on_behalf_of"] = None

        @staticmethod
        def upcast_v4_v5(state: dict[str, Any]) -> None:
            """Before voice requests every request was typed."""
            state["heard"] = None

        @staticmethod
        def upcast_v5_v6(state: dict[str, Any]) -> None:
            """Before runbooks' task steps altlas never asked for a task because of outputs."""
            state["because"] = None

    class Segmented(AuditedAggregate.Event):
        type_name = "TaskSegmented"
        plan: dict[str, Any]
        gates: list[dict[str, Any]]
        segmenter: str
        fallback_reason: str | None

        def apply(self, task: Task) -> None:
            task.status = "segmented"
            task.plan = self.plan
            task.gates = self.gates
            task.segmenter = self.segmenter
            task.fallback_reason = self.fallback_reason
            task.plan_author = self.actor if is_person(self.actor) else None

    class ClarificationRequested(AuditedAggregate.Event):
        """altlas asks instead of planning: which host, or what a part of the request
        means. ``text`` and ``part`` may quote the request: sealed like it."""

        type_name = "TaskClarificationRequested"
        about: str                 # "host" or "clause"
        text: str
        choices: list[str]
        part: str | None           # the words asked about (an unknown host, a clause)
        expires_at: str            # ISO 8601

        def apply(self, task: Task) -> None:
            task.status = "asking"
            task.question = {"about": self.about, "text": self.text,
                             "choices": list(self.choices), "part": self.part,
                             "expires_at": self.expires_at, "asked_at": self.timestamp}

    class Clarified(AuditedAggregate.Event):
        """The requester answered: planning starts again with the answer."""

        type_name = "TaskClarified"
        answer: str                # sealed: the requester's words
        host: str | None           # the host picked, when the question was which host

        def apply(self, task: Task) -> None:
            question = task.question or {}
            task.answers.append({"about": question.get("about"), "part": question.get("part"),
                                 "answer": self.answer, "host": self.host, "by": self.actor})
            task.question = None
            task.status = "requested"

    class ClarificationExpired(AuditedAggregate.Event):
        type_name = "TaskClarificationExpired"

        def apply(self, task: Task) -> None:
            task.status = "unanswered"

    class Rejected(AuditedAggregate.Event):
        type_name = "TaskRejected"
        reason: str

        def apply(self, task: Task) -> None:
            task.status = "rejected"
            task.rejection = self.reason

    def __init__(
        self, request: str, requester: str, mode: str, persona: str,
        environment: str | None, source: str, chaos_level: int | None,
        reply_to: dict[str, str] | None, correlation_id: str, on_behalf_of: str | None = None,
        heard: dict[str, Any] | None = None, because: str | None = None,
    ) -> None:
        self.request = request
        self.requester = requester
        self.mode = mode
        self.persona = persona
        self.environment = environment
        self.source = source
        self.chaos_level = chaos_level
        self.reply_to = reply_to
        self.on_behalf_of = on_behalf_of
        self.heard = heard
        self.because = because
        self.correlation_id = correlation_id
        self.status = "requested"
        self.plan: dict[str, Any] | None = None
        self.gates: list[dict[str, Any]] = []
        self.segmenter: str | None = None
        self.fallback_reason: str | None = None
        self.rejection: str | None = None
        self.plan_author: str | None = None  # a person who wrote the plan; None: altlas did
        self.question: dict[str, Any] | None = None  # what altlas asked, while it waits
        self.answers: list[dict[str, Any]] = []  # the requester's answers, in order

    @property
    def picked_hosts(self) -> list[str]:
        """Hosts the requester picked when asked: the request names them now."""
        return [a["host"] for a in self.answers if a.get("host")]

    @property
    def authors(self) -> list[str]:
        """Who asked for the work, wrote its plan or answered what it asked (and so chose
        what it does): none of them may approve it."""
        return sorted({self.requester, *([self.plan_author] if self.plan_author else []),
                       *([self.on_behalf_of] if self.on_behalf_of else []),
                       *(a["by"] for a in self.answers if a.get("by"))})

    @classmethod
    def request_work(
        cls, request: str, requester: str, meta: EventMeta, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None, source: str = "api",
        chaos_level: int | None = None, reply_to: dict[str, str] | None = None,
        seal: Seal = as_written, on_behalf_of: str | None = None,
        heard: dict[str, Any] | None = None, id: UUID | None = None,
        because: str | None = None,
    ) -> Task:
        """``reply_to`` is where the person asked (front, channel, thread): what altlas
        says about this task afterwards goes there. The request is recorded sealed. A
        spoken request is its transcript, and ``heard`` what was heard of its clip."""
        text = request.strip()
        if not text:
            raise EmptyRequestError("the request is empty; say what should be done")
        if len(text) > MAX_REQUEST_CHARS:
            raise RequestTooLongError(
                f"the request has {len(text)} characters; at most {MAX_REQUEST_CHARS}"
            )
        if mode not in MODES:
            raise InvalidModeError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if persona not in PERSONAS:
            raise InvalidModeError(f"unknown persona {persona!r}; use one of {', '.join(PERSONAS)}")
        if mode == "chaos":
            chaos_level = 3 if chaos_level is None else chaos_level
            if not 1 <= chaos_level <= 10:
                raise InvalidModeError("chaos_level must be from 1 to 10")
        elif chaos_level is not None:
            raise InvalidModeError("chaos_level is for mode chaos only")
        return cls._create_audited(
            cls.Requested, meta, id=id, request=seal(text), requester=requester, mode=mode,
            persona=persona, environment=environment, source=source, chaos_level=chaos_level,
            reply_to=reply_to, on_behalf_of=on_behalf_of,
            heard=None if heard is None else checked_heard(heard),
            because=None if because is None else because[:MAX_REQUEST_CHARS],
        )

    def record_segmentation(
        self, plan: dict[str, Any], gates: list[dict[str, Any]], segmenter: str, meta: EventMeta,
        fallback_reason: str | None = None,
    ) -> None:
        """Record the plan with each step's classified risk and gate, as decided now. Only
        the requester writes a plan for their task (or altlas's segmenter, for them)."""
        self._check_open()
        if is_person(meta.actor) and meta.actor != self.requester:
            raise NotPlanOwnerError(f"only {self.requester}, who asked for task {self.id}, may "
                                    f"write its plan; {meta.actor} may ask for work of their own")
        self._trigger(self.Segmented, meta, plan=plan, gates=gates, segmenter=segmenter,
                      fallback_reason=fallback_reason)

    def reject(self, reason: str, meta: EventMeta) -> None:
        self._check_open()
        self._trigger(self.Rejected, meta, reason=reason)

    def ask(self, about: str, text: str, choices: list[str], part: str | None,
            expires_at: datetime, meta: EventMeta) -> None:
        """Ask the requester instead of planning something other than what was asked."""
        self._check_open()
        if len(self.answers) >= MAX_QUESTIONS:
            raise TooManyQuestionsError(f"task {self.id} was asked {MAX_QUESTIONS} times")
        self._trigger(self.ClarificationRequested, meta, about=about, text=text,
                      choices=list(choices), part=part, expires_at=expires_at.isoformat())

    def clarify(self, answer: str, meta: EventMeta, now: datetime,
                seal: Seal = as_written, deputies: Collection[str] = ()) -> None:
        """The requester's answer: a host among the choices (its name or number), or words
        for the part not understood ("skip" leaves it out). ``deputies`` answer for a
        requester that is not a person (the on-call people, for altlas's own requests)."""
        if self.status != "asking" or self.question is None:
            raise NothingAskedError(f"task {self.id} is not waiting for an answer (it is "
                                    f"{self.status})")
        deputies = () if is_person(self.requester) else deputies  # a person answers alone
        if meta.actor != self.requester and meta.actor not in deputies:
            raise NotRequesterError(f"only {self.requester}, who asked for task {self.id}, "
                                    + (f"or {', '.join(deputies)} for it, "
                                       if deputies else "") + "may answer its question")
        if now >= datetime.fromisoformat(self.question["expires_at"]):
            raise QuestionExpiredError(f"the question of task {self.id} expired at "
                                       f"{self.question['expires_at'][:16]}; ask again")
        text = " ".join(answer.split())
        if not text:
            raise EmptyAnswerError("the answer is empty; pick one of the choices or say it "
                                   "another way")
        if len(text) > MAX_ANSWER_CHARS:
            raise EmptyAnswerError(f"the answer has {len(text)} characters; at most "
                                   f"{MAX_ANSWER_CHARS}")
        host = None
        if self.question["about"] == "host":
            host = self._chosen(text)
        elif self.question["about"] == "reading" and (text.isdigit() or text in self.question[
                "choices"]):
            text = self._chosen(text)  # the reading chosen, else their own words
        self._trigger(self.Clarified, meta, answer=seal(text), host=host)

    def _chosen(self, answer: str) -> str:
        choices: list[str] = self.question["choices"] if self.question else []
        if answer.isdigit() and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1]
        if answer.lower() in choices:
            return answer.lower()
        if answer in choices:
            return answer
        numbered = ", ".join(f"{i}. {c}" for i, c in enumerate(choices, 1))
        raise NotAChoiceError(f"{answer!r} is not one of the choices: {numbered}")

    def expire_question(self, now: datetime, meta: EventMeta) -> None:
        if self.status != "asking" or self.question is None:
            raise NothingAskedError(f"task {self.id} is not waiting for an answer")
        if now < datetime.fromisoformat(self.question["expires_at"]):
            raise ConflictError(f"the question of task {self.id} is still open")
        self._trigger(self.ClarificationExpired, meta)

    def _check_open(self) -> None:
        if self.status != "requested":
            raise TaskAlreadySegmentedError(f"task {self.id} is already {self.status}")


class EmptyRequestError(InvalidInputError):
    pass


class RequestTooLongError(InvalidInputError):
    pass


class InvalidModeError(InvalidInputError):
    pass


class TaskAlreadySegmentedError(ConflictError):
    pass


class NotPlanOwnerError(NotAllowedError):
    pass


class TooManyQuestionsError(ConflictError):
    """Asked back often enough: the request needs saying again."""


class NothingAskedError(ConflictError):
    """No question is waiting for an answer."""


class QuestionExpiredError(ConflictError):
    """Nobody answered in time."""


class NotRequesterError(NotAllowedError):
    """Only who asked for the work answers questions about it."""


class EmptyAnswerError(InvalidInputError):
    """An answer with nothing in it, or too much."""


class NotAChoiceError(InvalidInputError):
    """A host that was not among the choices."""
