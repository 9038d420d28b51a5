"""A task: one request for work, and the plan it was turned into."""

from __future__ import annotations

from typing import Any

from domain.base import AuditedAggregate, EventMeta, Seal, as_written, is_person
from domain.errors import ConflictError, InvalidInputError, NotAllowedError

MODES = ("normal", "explore", "dream", "chaos")
PERSONAS = ("technical_expert", "researcher", "project_manager", "creative_writer")
MAX_REQUEST_CHARS = 4000


class Task(AuditedAggregate):
    class Requested(AuditedAggregate.Created):
        type_name = "TaskRequested"
        class_version = 3
        request: str
        requester: str
        mode: str
        persona: str
        environment: str | None
        source: str
        chaos_level: int | None
        reply_to: dict[str, str] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 had no chaos level."""
            state["chaos_level"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Before 0.2 the front that took a request answered it itself."""
            state["reply_to"] = None

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

    class Rejected(AuditedAggregate.Event):
        type_name = "TaskRejected"
        reason: str

        def apply(self, task: Task) -> None:
            task.status = "rejected"
            task.rejection = self.reason

    def __init__(
        self, request: str, requester: str, mode: str, persona: str,
        environment: str | None, source: str, chaos_level: int | None,
        reply_to: dict[str, str] | None, correlation_id: str,
    ) -> None:
        self.request = request
        self.requester = requester
        self.mode = mode
        self.persona = persona
        self.environment = environment
        self.source = source
        self.chaos_level = chaos_level
        self.reply_to = reply_to
        self.correlation_id = correlation_id
        self.status = "requested"
        self.plan: dict[str, Any] | None = None
        self.gates: list[dict[str, Any]] = []
        self.segmenter: str | None = None
        self.fallback_reason: str | None = None
        self.rejection: str | None = None
        self.plan_author: str | None = None  # a person who wrote the plan; None: altlas did

    @property
    def authors(self) -> list[str]:
        """Who asked for the work or wrote its plan: none of them may approve it."""
        return sorted({self.requester, *([self.plan_author] if self.plan_author else [])})

    @classmethod
    def request_work(
        cls, request: str, requester: str, meta: EventMeta, *, mode: str = "normal",
        persona: str = "technical_expert", environment: str | None = None, source: str = "api",
        chaos_level: int | None = None, reply_to: dict[str, str] | None = None,
        seal: Seal = as_written,
    ) -> Task:
        """``reply_to`` is where the person asked (front, channel, thread): what altlas
        says about this task afterwards goes there. The request is recorded sealed."""
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
            cls.Requested, meta, request=seal(text), requester=requester, mode=mode,
            persona=persona, environment=environment, source=source, chaos_level=chaos_level,
            reply_to=reply_to,
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
