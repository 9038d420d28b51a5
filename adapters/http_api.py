"""The HTTP API: each endpoint turns a request into one application command.

Every endpoint but /healthz and /metrics needs a bearer token; the policy maps the token's
sha256 to a person, and the person's roles decide what they may do. The person is the actor:
no body names who is acting. Errors map by kind: unauthenticated 401, not allowed 403, not
found 404, conflict 409, invalid input 422; the body is always ``{"error": code, "message": text}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field

from application.app import AltlasApplication
from application.chat import ChatCommands, Reply, card_lines
from application.errors import NotFoundError
from application.history import EventHistory
from application.ports import Auditor, ReadModels
from application.runner import RunWorker
from domain.errors import ConflictError, DomainError, InvalidInputError, NotAllowedError
from domain.task import MODES, PERSONAS

_STATUS = ((NotFoundError, 404), (NotAllowedError, 403), (ConflictError, 409),
           (InvalidInputError, 422))


class TaskIn(BaseModel):
    request: str = Field(description="What should be done, in plain words.")
    mode: str = Field(default="normal", description=f"One of {', '.join(MODES)}.")
    persona: str = Field(default="technical_expert", description=f"One of {', '.join(PERSONAS)}.")
    environment: str | None = None
    chaos_level: int | None = None


class SegmentationIn(BaseModel):
    plan: dict[str, Any] = Field(description="The .alt document: {\"alt\": 1, \"steps\": [...]}.")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class ReplayIn(BaseModel):
    until: datetime
    into: str | None = Field(default=None, description="sqlite:///PATH or postgresql://…?"
                             "schema=NAME; default a new SQLite file in the data dir")


class CommandIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000,
                      description="A chat command as typed in Slack or Discord; try `help`.")


class StepSucceededIn(BaseModel):
    exit_code: int | None = None
    output: str = ""
    duration_ms: int = Field(ge=0)
    facts: dict[str, Any] = Field(default_factory=dict)


class StepFailedIn(StepSucceededIn):
    error: str = Field(min_length=1)
    will_retry: bool = False


class StepSkippedIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
    cancelled: bool = False


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC, the zone every event is recorded in."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _error_code(exc: Exception) -> str:
    name = type(exc).__name__.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def reply_json(reply: Reply, now: datetime) -> dict[str, Any]:
    return {"text": reply.text, "ephemeral": reply.ephemeral,
            "cards": [{"approval_id": c.approval.id, "status": c.approval.status,
                       "lines": card_lines(c, reply.locale, now)} for c in reply.cards]}


def create_api(app: AltlasApplication, worker: RunWorker, history: EventHistory, *,
               reads: ReadModels, auditor: Auditor, chat: ChatCommands | None = None,
               metrics: CollectorRegistry | None = None) -> FastAPI:
    api = FastAPI(title="altlas", version="0.1.0",
                  description="Event-sourced operations backend: tasks, runs, approvals, "
                  "events. Authenticate with `Authorization: Bearer <token>`.")
    bearer = HTTPBearer(auto_error=False)

    def person(role: str | None = None) -> Callable[..., str]:
        def authenticated(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
            if creds is None:
                raise AuthError(401, "unauthenticated", "send Authorization: Bearer <token> "
                                "(`altlas token new --for PERSON` makes one)")
            who = app.policy.person_for_token(creds.credentials)
            if who is None:
                raise AuthError(401, "unknown_token", "this token is not in the policy's "
                                "api_tokens")
            roles = app.policy.roles_of(who)
            if role is not None and role not in roles and "admin" not in roles:
                raise AuthError(403, "forbidden", f"{who} does not have the {role} role")
            return who
        return authenticated

    anyone, requester, approver = person(), person("requester"), person("approver")
    operator, auditor_role = person("operator"), person("auditor")

    @api.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
        return JSONResponse({"error": _error_code(exc), "message": str(exc)}, status_code=status)

    @api.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": str(exc)}, status_code=exc.status,
                            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)

    @api.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "last_position": history.last_position()}

    @api.post("/tasks", status_code=201)
    def request_task(body: TaskIn, who: str = Depends(requester)) -> dict[str, str]:
        task_id = app.request_task(body.request, who, mode=body.mode, persona=body.persona,
                                   environment=body.environment, source="api",
                                   chaos_level=body.chaos_level)
        return {"id": str(task_id)}

    @api.get("/tasks/{task_id}")
    def get_task(task_id: UUID, who: str = Depends(anyone)) -> dict[str, Any]:
        return app.get_task(task_id).to_dict()

    @api.post("/tasks/{task_id}/segmentation")
    def record_segmentation(task_id: UUID, body: SegmentationIn,
                            who: str = Depends(requester)) -> dict[str, Any]:
        return app.record_segmentation(task_id, body.plan, segmenter="api",
                                       actor=who).to_dict()

    @api.post("/tasks/{task_id}/rejection")
    def reject_task(task_id: UUID, body: ReasonIn, who: str = Depends(operator)
                    ) -> dict[str, Any]:
        return app.reject_task(task_id, body.reason, actor=who).to_dict()

    @api.post("/tasks/{task_id}/runs", status_code=201)
    def start_run(task_id: UUID, who: str = Depends(requester)) -> dict[str, Any]:
        return app.start_run(task_id, actor=who).to_dict()

    @api.get("/runs/{run_id}")
    def get_run(run_id: UUID, who: str = Depends(anyone)) -> dict[str, Any]:
        return app.get_run(run_id).to_dict()

    @api.post("/runs/{run_id}/advance")
    def advance_run(run_id: UUID, who: str = Depends(operator)) -> dict[str, Any]:
        """Execute whatever the run's gates allow now."""
        return worker.advance(run_id).to_dict()

    @api.post("/runs/{run_id}/steps/{step_id}/started")
    def step_started(run_id: UUID, step_id: str, who: str = Depends(operator)
                     ) -> dict[str, Any]:
        app.record_step_started(run_id, step_id, actor=who)
        return app.get_run(run_id).to_dict()

    @api.post("/runs/{run_id}/steps/{step_id}/succeeded")
    def step_succeeded(run_id: UUID, step_id: str, body: StepSucceededIn,
                       who: str = Depends(operator)) -> dict[str, Any]:
        app.record_step_succeeded(run_id, step_id, exit_code=body.exit_code, output=body.output,
                                  duration_ms=body.duration_ms, facts=body.facts, actor=who)
        return app.get_run(run_id).to_dict()

    @api.post("/runs/{run_id}/steps/{step_id}/failed")
    def step_failed(run_id: UUID, step_id: str, body: StepFailedIn,
                    who: str = Depends(operator)) -> dict[str, Any]:
        app.record_step_failed(run_id, step_id, error=body.error, exit_code=body.exit_code,
                               output=body.output, duration_ms=body.duration_ms,
                               will_retry=body.will_retry, facts=body.facts, actor=who)
        return app.get_run(run_id).to_dict()

    @api.post("/runs/{run_id}/steps/{step_id}/skipped")
    def step_skipped(run_id: UUID, step_id: str, body: StepSkippedIn,
                     who: str = Depends(operator)) -> dict[str, Any]:
        app.record_step_skipped(run_id, step_id, body.reason, cancelled=body.cancelled,
                                actor=who)
        return app.get_run(run_id).to_dict()

    @api.post("/runs/{run_id}/completion")
    def complete_run(run_id: UUID, who: str = Depends(operator)) -> dict[str, Any]:
        return app.complete_run(run_id, actor=who).to_dict()

    @api.get("/approvals/{approval_id}")
    def get_approval(approval_id: UUID, who: str = Depends(anyone)) -> dict[str, Any]:
        return app.get_approval(approval_id).to_dict()

    @api.post("/approvals/{approval_id}/votes")
    def cast_vote(approval_id: UUID, who: str = Depends(approver)) -> dict[str, Any]:
        return app.cast_vote(approval_id, who).to_dict()

    @api.post("/approvals/{approval_id}/denial")
    def deny(approval_id: UUID, body: ReasonIn, who: str = Depends(approver)
             ) -> dict[str, Any]:
        return app.deny_approval(approval_id, who, body.reason).to_dict()

    @api.post("/approvals/{approval_id}/expiry")
    def expire(approval_id: UUID, who: str = Depends(operator)) -> dict[str, Any]:
        return app.expire_approval(approval_id, actor=who).to_dict()

    @api.post("/approvals/{approval_id}/cancellation")
    def cancel(approval_id: UUID, body: ReasonIn, who: str = Depends(requester)
               ) -> dict[str, Any]:
        """The person who asked for the change (or an operator) withdraws the request."""
        approval = app.get_approval(approval_id)
        roles = app.policy.roles_of(who)
        if who != approval.requester and not roles & {"operator", "admin"}:
            raise AuthError(403, "forbidden", f"only {approval.requester}, who asked for it, "
                            "or an operator may cancel this approval")
        return app.cancel_approval(approval_id, body.reason, actor=who).to_dict()

    @api.get("/approvals")
    def approval_queue(who: str = Depends(anyone)) -> list[dict[str, Any]]:
        """Open approvals, soonest to expire first, with who voted and the time left."""
        return reads.open_approvals()

    @api.get("/timeline")
    def audit_timeline(
        actor: str | None = None, aggregate_id: str | None = None,
        type: str | None = Query(None, description="event type, e.g. ApprovalGranted"),
        since: datetime | None = None, until: datetime | None = None,
        limit: int = Query(100, ge=1, le=10_000), who: str = Depends(anyone),
    ) -> list[dict[str, Any]]:
        return reads.timeline(actor=actor, aggregate_id=aggregate_id, type_name=type,
                              since=_aware(since), until=_aware(until), limit=limit)

    @api.get("/audit/verify")
    def audit_verify(kafka: bool = False, who: str = Depends(auditor_role)) -> JSONResponse:
        """Every hash chain and checkpoint, from the store (and the topic with kafka=true)."""
        reports = auditor.verify(kafka=kafka)
        ok = all(r["ok"] for r in reports)
        return JSONResponse({"ok": ok, "reports": reports}, status_code=200 if ok else 409)

    @api.post("/audit/replay")
    def audit_replay(body: ReplayIn, who: str = Depends(auditor_role)) -> dict[str, Any]:
        """Rebuild the views as of a time into a separate database; the live views stay."""
        return auditor.replay(_aware(body.until) or body.until, body.into)

    @api.get("/audit/export")
    def audit_export(until: datetime | None = None, who: str = Depends(auditor_role)
                     ) -> StreamingResponse:
        """The history as CloudEvents JSON lines."""
        lines = (line + "\n" for line in auditor.export_lines(_aware(until)))
        return StreamingResponse(lines, media_type="application/x-ndjson")

    @api.get("/events")
    def list_events(after: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
                    who: str = Depends(anyone)) -> list[dict[str, Any]]:
        return [r.to_dict() for r in history.read(after=after, limit=limit)]

    if chat is not None:
        @api.post("/commands")
        def command(body: CommandIn, who: str = Depends(anyone)) -> dict[str, Any]:
            """The chat commands, as in Slack and Discord; long work is done before replying."""
            reply = chat.run(chat.caller(f"api:{who}", "api", person=who), body.text)
            out = reply_json(reply, app.clock())
            if reply.later is not None:
                out["then"] = reply_json(reply.later(), app.clock())
            return out

    if metrics is not None:
        @api.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    return api
