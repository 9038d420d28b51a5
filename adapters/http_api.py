"""The HTTP API: each endpoint turns a request into one use case, as the token's person.

Every endpoint but /healthz and /metrics needs a bearer token; the policy maps the token's
sha256 to a person, who is the actor: no body names who is acting. What a person may do is
decided by the use cases (application/access.py), as for every front. Errors map by kind:
unauthenticated 401, not allowed 403, not found 404, conflict 409, body over the limit
413, invalid input 422, a policy file that became invalid 503; the body is always
``{"error": code, "message": text}``. Tokens follow the policy file without a restart.
Ids may be given whole or as any unique beginning of one, as listings show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.audit_jobs import AuditJobs
from adapters.http_models import (
    ActivationIn,
    AlertmanagerIn,
    AlertsReceivedOut,
    AnswerIn,
    AtlasImportOut,
    AuditJobOut,
    DuelIn,
    DuelOut,
    ErasureIn,
    ErrorOut,
    EventOut,
    HealthOut,
    IncidentDetailOut,
    IncidentOut,
    IsoTime,
    LeaderboardOut,
    MatchIn,
    MatchOut,
    ModelIn,
    ModelOut,
    ModelsOut,
    NoteIn,
    PatternOut,
    PromotionIn,
    QueuedApproval,
    ReasonIn,
    ReplayIn,
    ReplayOut,
    RunbookHistoryOut,
    RunPage,
    SegmentationIn,
    SimilarOut,
    StepFailedIn,
    StepSkippedIn,
    StepSucceededIn,
    TaskIn,
    TaskPage,
    TimelineEntry,
    TrainingOut,
    VerdictIn,
    WorkerOut,
)
from adapters.policy_watch import PolicyUnavailableError, PolicyWatch
from application.access import AccessDeniedError
from application.errors import NotFoundError
from application.history import EventHistory
from application.ports import SearchWarmingError, VectorStoreUnavailableError, WorkerRegistry
from application.use_cases import Filters, UseCases
from application.views import ApprovalView, RunView, TaskView
from domain.alerts import IncomingAlert
from domain.errors import ConflictError, DomainError, InvalidInputError, NotAllowedError
from domain.policy import Policy

_STATUS = ((NotFoundError, 404), (NotAllowedError, 403), (ConflictError, 409),
           (InvalidInputError, 422))
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": why} for code, why in (
        (400, "The body is not JSON"),
        (401, "No token, or a token the policy does not know"),
        (403, "The token's person may not do this"),
        (404, "No task, run or approval has this id"),
        (409, "The current state does not allow it (decided, expired, voted already)"),
        (413, "The body is over the limit (ALTLAS_MAX_BODY_BYTES)"),
        (422, "The input is malformed or breaks a rule"),
        (503, "The policy file was changed and cannot be used until it is fixed"))}


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC, the zone every event is recorded in."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _methods(api: FastAPI, path: str) -> list[str]:
    """Every method some route of ``path`` answers (FastAPI's 405 names only one route's)."""
    methods: set[str] = set()
    for route in api.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


def _error_code(exc: Exception) -> str:
    if isinstance(exc, AccessDeniedError):
        return "forbidden"
    name = type(exc).__name__.removesuffix("Error")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def authenticator(policy: Policy, path: Path | None = None) -> Callable[..., str]:
    """The FastAPI dependency that turns a bearer token into the policy's person.

    With the policy's ``path``, tokens follow the file without a restart: a token removed
    from it is refused from the next request on, and a file that became invalid refuses
    every token (503) until it is fixed.
    """
    bearer = HTTPBearer(auto_error=False)
    watch = PolicyWatch(policy, path)

    def person(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> str:
        if creds is None:
            raise AuthError(401, "unauthenticated", "send Authorization: Bearer <token> "
                            "(`altlas token new --for PERSON` makes one)")
        try:
            current = watch.current()
        except PolicyUnavailableError as e:
            raise AuthError(503, "policy_unavailable", f"the policy file cannot be used, "
                            f"so no token is accepted until it is fixed: {e}") from None
        who = current.person_for_token(creds.credentials)
        if who is None:
            raise AuthError(401, "unknown_token", "this token is not in the policy's "
                            "api_tokens")
        return who

    return person


def create_api(use_cases: UseCases, history: EventHistory, *,
               workers: WorkerRegistry | None = None,
               metrics: CollectorRegistry | None = None,
               person: Callable[..., str] | None = None,
               store_check: Callable[[], str | None] | None = None,
               instance: str = "altlas") -> FastAPI:
    api = FastAPI(title="altlas", version="0.2.0", responses=ERRORS,
                  description="Event-sourced operations backend: ask for work, approve it, "
                  "follow its runs, audit the history. Authenticate with `Authorization: "
                  "Bearer <token>` (`altlas token new --for PERSON`). After a request, altlas "
                  "plans it and runs what its gates allow by itself; votes move runs on.")
    uc = use_cases
    person = person or authenticator(uc.app.policy)
    jobs = AuditJobs()

    @api.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
        return JSONResponse({"error": _error_code(exc), "message": str(exc)}, status_code=status)

    @api.exception_handler(VectorStoreUnavailableError)
    async def store_down(_: Request, exc: VectorStoreUnavailableError) -> JSONResponse:
        return JSONResponse({"error": "vector_store_unavailable", "message": str(exc)},
                            status_code=503)

    @api.exception_handler(SearchWarmingError)
    async def search_warming(_: Request, exc: SearchWarmingError) -> JSONResponse:
        return JSONResponse({"error": "search_warming", "message": str(exc)}, status_code=503,
                            headers={"Retry-After": "5"})

    @api.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse({"error": exc.code, "message": str(exc)}, status_code=exc.status,
                            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (a body that is not JSON, an unknown path or method) in
        the API's one error shape; a 405 lists every method the path has."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_methods(api, request.url.path))
        code = {400: "bad_body", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error")
        message = {400: "the body is not valid JSON: send a JSON object"}.get(
            exc.status_code, str(exc.detail))
        return JSONResponse({"error": code, "message": message}, status_code=exc.status_code,
                            headers=headers)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own answer, but a body that is not UTF-8 is shown, not a crash (500)."""
        shown = jsonable_encoder(exc.errors(), custom_encoder={
            bytes: lambda b: b.decode("utf-8", "replace")})
        first = shown[0] if shown else {}
        if first.get("type") == "json_invalid":  # not a JSON document at all
            return JSONResponse({"error": "bad_body", "message": "the body is not valid JSON "
                                 f"({first.get('ctx', {}).get('error', 'invalid')}): send a "
                                 "JSON object"}, status_code=400)
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the request"
        return JSONResponse({"error": "invalid_input",
                             "message": f"{where}: {first.get('msg', 'invalid')}",
                             "detail": shown}, status_code=422)

    def as_of(at: IsoTime | None = Query(
            None, alias="as_of", description="Answer from the views as they were at this "
            "time (replayed once, then kept).")) -> datetime | None:
        return _aware(at)

    def filters(status: str | None = Query(None, description="Only this status."),
                requester: str | None = Query(None, description="Only this person's."),
                since: IsoTime | None = Query(None, description="Only from this time on."),
                limit: int = Query(20, ge=1, le=500),
                cursor: str | None = Query(None, description="`next` of the page before."),
                ) -> Filters:
        return Filters(status, requester, _aware(since), limit, cursor)

    @api.get("/healthz", response_model=HealthOut, tags=["service"], responses={
        503: {"description": "The event store cannot be read, or is behind what the views "
              "and the checkpoints beside them saw (events were lost): `reason` says which"}})
    def healthz() -> Any:
        """Alive; how far the event store has got and how many workers are running. 503
        when the store is unreadable or lost events (checked at most every 1.5 s)."""
        problem = store_check() if store_check is not None else None
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        live = len(workers.live()) if workers is not None else 0
        return HealthOut(status="ok", last_position=history.last_position(), workers=live)

    @api.get("/workers", response_model=list[WorkerOut], tags=["service"])
    def list_workers(who: str = Depends(person)) -> list[WorkerOut]:
        """The workers whose lease is current: they react to events and run steps."""
        return [WorkerOut.model_validate(asdict(w)) for w in
                (workers.live() if workers is not None else [])]

    # -- tasks ---------------------------------------------------------------------------

    @api.post("/tasks", status_code=201, response_model=TaskView, tags=["tasks"])
    def request_task(body: TaskIn, who: str = Depends(person)) -> Any:
        """Ask for work. altlas plans it and runs what its gates allow; follow it with
        GET /tasks/{id} and GET /runs?requester=…"""
        return uc.request_work(who, body.request, mode=body.mode, persona=body.persona,
                               environment=body.environment, chaos_level=body.chaos_level,
                               source="api")

    @api.get("/tasks", response_model=TaskPage, tags=["tasks"])
    def list_tasks(page: Filters = Depends(filters), at: datetime | None = Depends(as_of),
                   who: str = Depends(person)) -> Any:
        """Tasks, newest first; status is requested, segmented or rejected."""
        return asdict(uc.tasks(who, page, at))

    @api.get("/tasks/{task_id}", response_model=TaskView, tags=["tasks"])
    def get_task(task_id: str, who: str = Depends(person)) -> Any:
        """A task, its plan and each step's gate."""
        return uc.task(who, task_id)

    @api.post("/tasks/{task_id}/segmentation", response_model=TaskView, tags=["tasks"])
    def record_segmentation(task_id: str, body: SegmentationIn,
                            who: str = Depends(person)) -> Any:
        """Record a hand-written plan for one's own task, before altlas plans it."""
        return uc.record_plan(who, task_id, body.plan)

    @api.post("/tasks/{task_id}/answer", response_model=TaskView, tags=["tasks"])
    def answer_task(task_id: str, body: AnswerIn, who: str = Depends(person)) -> Any:
        """Answer what altlas asked about one's own task (its status is asking): the task
        is planned again with the answer."""
        return uc.answer(who, task_id, body.answer)

    @api.post("/tasks/{task_id}/rejection", response_model=TaskView, tags=["tasks"])
    def reject_task(task_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """Reject a task that is not planned yet (operators)."""
        return uc.reject_task(who, task_id, body.reason)

    @api.post("/tasks/{task_id}/runs", status_code=201, response_model=RunView, tags=["runs"])
    def start_run(task_id: str, who: str = Depends(person)) -> Any:
        """Start a planned task's run by hand (operators; altlas starts it by itself)."""
        return uc.start_run(who, task_id)

    # -- runs ----------------------------------------------------------------------------

    @api.get("/runs", response_model=RunPage, tags=["runs"])
    def list_runs(page: Filters = Depends(filters), at: datetime | None = Depends(as_of),
                  who: str = Depends(person)) -> Any:
        """Runs, newest first; status is running, completed, succeeded, failed or
        cancelled."""
        return asdict(uc.runs(who, page, at))

    @api.get("/runs/{run_id}", response_model=RunView, tags=["runs"])
    def get_run(run_id: str, who: str = Depends(person)) -> Any:
        """A run and each step's status, output and facts."""
        return uc.run(who, run_id)

    @api.post("/runs/{run_id}/steps/{step_id}/started", response_model=RunView, tags=["runs"])
    def step_started(run_id: str, step_id: str, who: str = Depends(person)) -> Any:
        """Report that a step is being run outside altlas (operators)."""
        return uc.report_step(who, run_id, step_id, "started")

    @api.post("/runs/{run_id}/steps/{step_id}/succeeded", response_model=RunView,
              tags=["runs"])
    def step_succeeded(run_id: str, step_id: str, body: StepSucceededIn,
                       who: str = Depends(person)) -> Any:
        """Report a step run outside altlas as succeeded (operators)."""
        return uc.report_step(who, run_id, step_id, "succeeded", **body.model_dump())

    @api.post("/runs/{run_id}/steps/{step_id}/failed", response_model=RunView, tags=["runs"])
    def step_failed(run_id: str, step_id: str, body: StepFailedIn,
                    who: str = Depends(person)) -> Any:
        """Report a step run outside altlas as failed (operators)."""
        return uc.report_step(who, run_id, step_id, "failed", **body.model_dump())

    @api.post("/runs/{run_id}/steps/{step_id}/skipped", response_model=RunView, tags=["runs"])
    def step_skipped(run_id: str, step_id: str, body: StepSkippedIn,
                     who: str = Depends(person)) -> Any:
        """Report a step as skipped (operators)."""
        return uc.report_step(who, run_id, step_id, "skipped", reason=body.reason,
                              cancelled=body.cancelled)

    @api.post("/runs/{run_id}/steps/{step_id}/confirmation", response_model=RunView,
              tags=["runs"])
    def confirm_step(run_id: str, step_id: str, body: NoteIn,
                     who: str = Depends(person)) -> Any:
        """Say you did a step altlas left to a person (CRITICAL or manual) by hand
        (approvers); the run succeeds once none is left."""
        return uc.confirm_step(who, run_id, step_id, body.note)

    @api.post("/runs/{run_id}/completion", response_model=RunView, tags=["runs"])
    def complete_run(run_id: str, who: str = Depends(person)) -> Any:
        """Complete a run whose steps are all decided (operators)."""
        return uc.complete_run(who, run_id)

    # -- approvals -----------------------------------------------------------------------

    @api.get("/approvals", response_model=list[QueuedApproval], tags=["approvals"])
    def approval_queue(at: datetime | None = Depends(as_of),
                       who: str = Depends(person)) -> Any:
        """Open approvals, soonest to expire first, with who voted and the time left."""
        return uc.open_approvals(who, at)

    @api.get("/approvals/{approval_id}", response_model=ApprovalView, tags=["approvals"])
    def get_approval(approval_id: str, who: str = Depends(person)) -> Any:
        """An approval: its step, who may vote, who has, and the time left."""
        return uc.approval(who, approval_id)

    @api.post("/approvals/{approval_id}/votes", response_model=ApprovalView, tags=["approvals"])
    def cast_vote(approval_id: str, who: str = Depends(person)) -> Any:
        """Approve. The vote that reaches the quorum grants it, and the run moves on. A
        refused vote is on the record and changes nothing."""
        return uc.vote(who, approval_id)

    @api.post("/approvals/{approval_id}/denial", response_model=ApprovalView,
              tags=["approvals"])
    def deny(approval_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """Deny, with a reason: the step and what needs it are cancelled."""
        return uc.deny(who, approval_id, body.reason)

    @api.post("/approvals/{approval_id}/expiry", response_model=ApprovalView,
              tags=["approvals"])
    def expire(approval_id: str, who: str = Depends(person)) -> Any:
        """Expire an approval whose time is up (operators; altlas does it by itself)."""
        return uc.expire_approval(who, approval_id)

    @api.post("/approvals/{approval_id}/cancellation", response_model=ApprovalView,
              tags=["approvals"])
    def cancel(approval_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """The person who asked for the change (or an operator) withdraws the request."""
        return uc.cancel_approval(who, approval_id, body.reason)

    # -- history -------------------------------------------------------------------------

    @api.get("/timeline", response_model=list[TimelineEntry], tags=["audit"])
    def audit_timeline(
        actor: str | None = None, aggregate_id: str | None = None,
        type: str | None = Query(None, description="event type, e.g. ApprovalGranted"),
        since: IsoTime | None = None, until: IsoTime | None = None,
        limit: int = Query(100, ge=1, le=10_000), who: str = Depends(person),
    ) -> Any:
        """Every event with its actor, oldest first, filtered."""
        return uc.timeline(who, actor=actor, aggregate_id=aggregate_id, type_name=type,
                           since=_aware(since), until=_aware(until), limit=limit)

    @api.get("/events", response_model=list[EventOut], tags=["audit"])
    def list_events(after: int = Query(0, ge=0, le=2**63 - 1),  # the store's largest id
                    limit: int = Query(100, ge=1, le=1000),
                    who: str = Depends(person)) -> Any:
        """Recorded events in global order, with their hashes."""
        uc.access.check(who, "read")
        return [r.to_dict() for r in history.read(after=after, limit=limit)]

    @api.get("/audit/verify", response_model=AuditJobOut, status_code=202, tags=["audit"],
             responses={409: {"model": ErrorOut, "description": "Another audit job runs"}})
    def audit_verify(kafka: bool = False, who: str = Depends(person)) -> JSONResponse:
        """Start verifying every hash chain and checkpoint, from the store (and the topic
        with kafka=true), as a job: 202 with its id and a Location to ask; asked again while
        it runs, the same job. Its result (200 when done) is a VerifyOut."""
        uc.can_verify(who, kafka=kafka)  # refused before a job starts: 403, 422
        job = jobs.verify(who, kafka, history.last_position(),
                          lambda progress: uc.verify(who, kafka=kafka, progress=progress))
        return JSONResponse(job.to_dict(), status_code=202,
                            headers={"Location": f"/audit/jobs/{job.id}"})

    @api.get("/audit/jobs/{job_id}", response_model=AuditJobOut, tags=["audit"])
    def audit_job(job_id: str, who: str = Depends(person)) -> Any:
        """An audit job: running (with how many events it checked of how many), done (with
        its result: ok and one report per source) or failed (with why)."""
        uc.access.check(who, "audit")
        return jobs.get(job_id).to_dict()

    @api.post("/audit/replay", response_model=ReplayOut, tags=["audit"])
    def audit_replay(body: ReplayIn, who: str = Depends(person)) -> Any:
        """Rebuild the views as of a time into a separate database (admins): a fresh
        database or schema, an earlier replay or a new file in the data directory; the live
        views and the store are refused (422), whatever the URL looks like."""
        uc.access.check(who, "replay")
        return uc.replay(who, _aware(body.until) or body.until, body.into)

    @api.get("/audit/export", tags=["audit"], response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One CloudEvents JSON document per line"}})
    def audit_export(until: IsoTime | None = None, who: str = Depends(person)
                     ) -> StreamingResponse:
        """The history as CloudEvents JSON lines."""
        lines = (line + "\n" for line in uc.export(who, _aware(until)))
        return StreamingResponse(lines, media_type="application/x-ndjson")

    # -- the .atlas ---------------------------------------------------------------------

    @api.get("/atlas", response_model=list[PatternOut], tags=["atlas"])
    def atlas(q: str | None = Query(None, max_length=500, description="Words the pattern, "
                                    "its intent or its requests contain."),
              limit: int = Query(50, ge=1, le=1000), who: str = Depends(person)) -> Any:
        """Patterns of plans that ran, most run first: runs, success rate with its 95%
        interval, durations, typical failures, who asked, the plan of the latest success."""
        return uc.atlas_patterns(who, q)[:limit]

    @api.get("/atlas/similar", response_model=list[SimilarOut], tags=["atlas"], responses={
        503: {"model": ErrorOut, "description": "The vector store cannot be reached, or the "
              "embedding model is still loading after a start (Retry-After)"}})
    def similar(q: str = Query(min_length=1, max_length=2000, pattern=r"\S",
                               description="A request, in plain words."),
                k: int = Query(3, ge=1, le=50), environment: str | None = None,
                outcome: Literal["succeeded", "failed", "cancelled"] | None = None,
                who: str = Depends(person)) -> Any:
        """The past runs whose requests are nearest in meaning, with their plans."""
        return [s.to_dict() for s in uc.similar_runs(who, q, k, environment=environment,
                                                     outcome=outcome)]

    @api.get("/atlas/export", tags=["atlas"], responses={
        200: {"content": {"application/json": {}},
              "description": "The .atlas document (altlas/schemas/atlas.schema.json)"}})
    def atlas_export(who: str = Depends(person)) -> JSONResponse:
        """This installation's .atlas, to import elsewhere (the people who asked left out)."""
        return JSONResponse(uc.atlas_document(who, instance, datetime.now(UTC)))

    @api.post("/atlas/imports", response_model=AtlasImportOut, tags=["atlas"],
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "object"}}}}})
    async def atlas_import(request: Request, source: str | None = Query(
            None, min_length=1, max_length=200, description="Where it came from (default: "
            "the document's source)."), who: str = Depends(person)) -> Any:
        """Merge another installation's .atlas export (operators): recorded as one event; the
        same document again changes nothing. 422 names the JSON path of the first error."""
        raw = await request.body()
        return await run_in_threadpool(uc.import_atlas, who, raw, source)

    # -- alerts ----------------------------------------------------------------------------

    def alertmanager(request: Request) -> None:
        sender = uc.app.policy.alertmanager
        if not sender.configured:
            raise AuthError(401, "alerts_not_configured", "alert ingest is off: set "
                            "alertmanager.bearer_sha256 or alertmanager.basic_auth in the policy")
        if not sender.accepts(request.headers.get("authorization")):
            raise AuthError(401, "not_alertmanager", "send the bearer token or basic auth "
                            "the policy's alertmanager section names (http_config)")

    @api.post("/alerts/alertmanager", response_model=AlertsReceivedOut, tags=["alerts"],
              dependencies=[Depends(alertmanager)])
    def alerts(body: AlertmanagerIn) -> Any:
        """Alertmanager's webhook (payload version 4; receiver `webhook_configs`). Every alert
        is recorded before anything else happens: a new firing as AlertReceived, one sent
        again as AlertRefreshed, a resolution as AlertResolved; repeats change nothing."""
        if body.version != "4":
            raise InvalidInputError(f"payload version {body.version!r} is not supported; "
                                    "altlas reads Alertmanager's webhook version 4")
        sender = {"receiver": body.receiver, "group_key": body.groupKey,
                  "external_url": body.externalURL}
        return uc.receive_alerts([IncomingAlert(
            a.fingerprint, dict(a.labels), dict(a.annotations), _utc(a.startsAt),
            _utc(a.endsAt) if a.endsAt is not None and a.endsAt.year > 1 else None,
            {**sender, "generator_url": a.generatorURL}, resolved=a.status == "resolved")
            for a in body.alerts])

    @api.get("/incidents", response_model=list[IncidentOut], tags=["alerts"])
    def incidents(status: Literal["open", "resolved", "merged"] | None = None,
                  since: IsoTime | None = Query(None, description="Opened at or after."),
                  limit: int = Query(20, ge=1, le=1000), who: str = Depends(person)) -> Any:
        """Incidents the alerts were correlated into, newest first: their alerts (still
        firing or not) and root-cause candidates, most likely first, with the evidence."""
        return uc.incidents(who, status=status, since=_aware(since), limit=limit)

    @api.get("/incidents/{ref}", response_model=IncidentDetailOut, tags=["alerts"],
             responses={404: {"model": ErrorOut}})
    def incident(ref: str, who: str = Depends(person)) -> Any:
        """One incident (its id, or the first 6 characters or more) with its timeline."""
        return uc.incident(who, ref)

    @api.get("/incidents/{ref}/chart.png", tags=["alerts"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def incident_chart(ref: str, who: str = Depends(person)) -> Response:
        """The incident's key metric around its opening, the anomaly marked."""
        return png(uc.incident_chart(who, ref))

    # -- the leaderboards ------------------------------------------------------------------

    def png(data: bytes) -> Response:
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    @api.get("/leaderboards", response_model=LeaderboardOut, tags=["leaderboards"])
    def leaderboards(method: Literal["elo", "bt"] = "elo", who: str = Depends(person)) -> Any:
        """Runbooks (kinds of plans) surest first, then soonest resolved; planners by their
        plans' runs and refusals; planners' ratings from matches (Elo or Bradley-Terry) with
        95% bootstrap intervals."""
        return uc.leaderboard(who, method)

    @api.get("/leaderboards/runbooks", response_model=RunbookHistoryOut, tags=["leaderboards"])
    def runbook(q: str = Query(min_length=1, max_length=500, pattern=r"\S",
                               description="Words of the runbook's pattern or requests."),
                who: str = Depends(person)) -> Any:
        """The best-ranked runbook the words find, with its success rate per period."""
        return uc.runbook_history(who, q)

    @api.get("/leaderboards/ratings.png", tags=["leaderboards"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The chart"}})
    def ratings_chart(method: Literal["elo", "bt"] = "elo",
                      who: str = Depends(person)) -> Response:
        """Each planner's rating with its 95% interval, best on top (404: no match yet)."""
        return png(uc.chart(who, method=method))

    @api.get("/leaderboards/runbooks.png", tags=["leaderboards"], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "The chart"}})
    def runbook_chart(q: str = Query(min_length=1, max_length=500, pattern=r"\S",
                                     description="Words of the runbook's pattern or requests."),
                      who: str = Depends(person)) -> Response:
        """A runbook's success rate over time with its 95% interval."""
        return png(uc.chart(who, runbook=q))

    @api.post("/matches", status_code=201, response_model=MatchOut, tags=["leaderboards"])
    def match(body: MatchIn, who: str = Depends(person)) -> Any:
        """Record which of two planners' plans was better (approvers): MatchPlayed, which
        the ratings count."""
        return {"match_id": uc.record_match(who, body.a, body.b, body.outcome, body.task_id)}

    # -- the arena -------------------------------------------------------------------------

    @api.post("/arena", status_code=201, response_model=DuelOut, tags=["leaderboards"],
              responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def arena(body: DuelIn, who: str = Depends(person)) -> Any:
        """Two planners plan one request (or a task's plan meets an alternative): poll GET
        /arena/{id} until `planned`; which planner made which plan shows once decided."""
        return uc.arena.ask(who, body.request, a=body.a, b=body.b,
                            environment=body.environment, task_ref=body.task_id)

    @api.get("/arena/{ref}", response_model=DuelOut, tags=["leaderboards"],
             responses={404: {"model": ErrorOut}})
    def duel(ref: str, who: str = Depends(person)) -> Any:
        """A duel (its id, or its task's id)."""
        return uc.arena.duel(who, ref)

    @api.post("/arena/{ref}/votes", response_model=DuelOut, tags=["leaderboards"],
              responses={403: {"model": ErrorOut}, 409: {"model": ErrorOut}})
    def judge(ref: str, body: VerdictIn, who: str = Depends(person)) -> Any:
        """The verdict (approvers): a match the ratings count. 403 for who registered one of
        the planners' models, 409 once decided; both recorded (ArenaVoteRefused)."""
        return uc.arena.vote(who, ref, body.verdict)

    # -- models --------------------------------------------------------------------------

    @api.get("/models", response_model=ModelsOut, tags=["models"])
    def models(who: str = Depends(person)) -> Any:
        """The registered GGUF models, what their headers say, and which one plans."""
        return uc.models.catalog(who)

    @api.post("/models", status_code=201, response_model=ModelOut, tags=["models"],
              responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def add_model(body: ModelIn, who: str = Depends(person)) -> Any:
        """Register a GGUF file on the altlas host from its header (operators): 422 naming
        the field or byte where it is no usable model, 409 when the name or the file is
        registered already. It plans nothing until activated."""
        return uc.models.add(who, body.path, body.name)

    @api.post("/models/{name}/activation", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
    def activate_model(name: str, body: ActivationIn, who: str = Depends(person)) -> Any:
        """Ask that the local segmenter plan with this model (operators): it does once
        someone else (an approver or admin) grants the approval this returns."""
        return uc.models.activate(who, name, body.reason)

    @api.post("/models/promotions", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
    def promote_adapter(body: PromotionIn, who: str = Depends(person)) -> Any:
        """Ask that an evaluated adapter plan on its base (operators): 409 unless its latest
        evaluation beats the base (more exact plans, no more wrong ones). It does once an
        approver who asked for neither it nor its training grants the approval returned."""
        return uc.models.promote(who, body.adapter, body.reason)

    @api.post("/models/rollback", status_code=201, response_model=ApprovalView,
              tags=["models"], responses={409: {"model": ErrorOut}})
    def roll_back_model(body: ActivationIn, who: str = Depends(person)) -> Any:
        """Ask to go back to what planned before the last activation or promotion
        (operators; someone else approves). 409 when nothing changed yet."""
        return uc.models.rollback(who, body.reason)

    @api.get("/trainings/{ref}", response_model=TrainingOut, tags=["models"],
             responses={404: {"model": ErrorOut}})
    def training(ref: str, who: str = Depends(person)) -> Any:
        """A training (its id, or its first 6 characters or more): status, progress, the
        adapter once trained, or why it stopped."""
        return uc.models.training(who, ref)

    @api.get("/trainings/{ref}/loss.png", tags=["models"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def training_chart(ref: str, who: str = Depends(person)) -> Response:
        """The training's loss per step (404 before its first step)."""
        return png(uc.training_chart(who, ref)[1])

    @api.get("/trainings/{ref}/evaluation.png", tags=["models"], response_class=Response,
             responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorOut}})
    def evaluation_chart(ref: str, who: str = Depends(person)) -> Response:
        """Its adapter's exact, asked, refused and wrong plans against its base's (404 before
        it is evaluated)."""
        return png(uc.evaluation_chart(who, ref)[1])

    # -- privacy -------------------------------------------------------------------------

    @api.post("/privacy/erasures", status_code=201, response_model=ApprovalView,
              tags=["privacy"])
    def forget(body: ErasureIn, who: str = Depends(person)) -> Any:
        """Ask to forget a person (admins). Once someone else (an approver or admin, not
        the person) grants the approval this returns, their key is destroyed: their name
        and what they wrote read as erased everywhere, and the history still verifies. 404
        for nobody on record by that name (never, or forgotten already)."""
        return uc.forget(who, body.person, body.reason)

    @api.get("/privacy/people/{name}/events", tags=["privacy"],
             response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One event per line, as people read it"}})
    def personal_data(name: str, who: str = Depends(person)) -> StreamingResponse:
        """Everything recorded about a person (admins; a data-access request): each event
        that names them or holds what they wrote."""
        lines = (json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n"
                 for e in uc.personal_data(who, name))
        return StreamingResponse(lines, media_type="application/x-ndjson")

    if metrics is not None:
        @api.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    return api

