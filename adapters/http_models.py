"""The HTTP API's request and response bodies, as typed models: the OpenAPI schema is built
from these. One module: a schema's components are read together, and several areas share them."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from application.documents import inlined_schema
from application.snapshots import HearingView, TaskView
from domain.task import MODES, PERSONAS


def _iso(value: Any) -> Any:
    """A time is an ISO 8601 string: pydantic would also take 0.5 for 1970, silently."""
    if isinstance(value, (int, float)) or (
            isinstance(value, str) and re.fullmatch(r"\s*[-+]?[\d.]+(?:e[-+]?\d+)?\s*", value)):
        raise ValueError("a time is an ISO 8601 date-time, e.g. 2026-11-30T12:00:00Z")
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso)]


def _json_integer(value: Any) -> Any:
    """An integer as JSON Schema has it (1911.0 is one): not false, not "5"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a JSON integer")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]
Item = TypeVar("Item")

class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(Out):
    error: str = Field(description="What kind of refusal, e.g. not_eligible, duplicate_vote.")
    message: str = Field(description="What is wrong and what to do, for a person.")


class TaskIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"anyOf": [  # chaos_level only with chaos
        {"not": {"required": ["chaos_level"]}},
        {"properties": {"chaos_level": {"type": "null"}}},
        {"required": ["mode"], "properties": {"mode": {"const": "chaos"}}}]})
    request: str = Field(description="What should be done, in plain words.",
                         json_schema_extra={"pattern": r"\S"})
    mode: str = Field(default="normal", json_schema_extra={"enum": list(MODES)})
    persona: str = Field(default="technical_expert", json_schema_extra={"enum": list(PERSONAS)})
    environment: str | None = Field(default=None, description="An environment of the policy.")
    chaos_level: int | None = Field(default=None, ge=1, le=10, description="With mode chaos.")


class VoiceOut(Out):
    heard: str = Field(description="What altlas heard: the transcript, names as the "
                       "inventory spells them (\"web one\" -> web-1).")
    language: str = Field(description="The language the clip was heard in (ISO 639-1).")
    task: TaskView | None = Field(description="The task asked for (201); null while the "
                                  "hearing waits for its speaker (202).")
    hearing: HearingView | None = Field(description="The doubtful hearing to confirm or "
                                        "reject (202); null when the task was asked for.")


class SegmentationIn(BaseModel):
    plan: dict[str, Any] = Field(
        description="The .alt document (altlas/schemas/alt.schema.json): {\"alt\": 1, "
        "\"steps\": [...]}. The policy then judges what it does: 403 for a step it refuses, "
        "404 for a target it does not know, 409 for steps that do not fit together.",
        json_schema_extra=inlined_schema("alt"))


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class AnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=500, description=(
        "A host among the question's choices (its name or number), words for the part not "
        "understood, or skip."))


class ErasureIn(BaseModel):
    person: str = Field(min_length=1, max_length=200,
                        description="A name, or #id as an erased person is shown.")
    reason: str = Field(default="", max_length=500,
                        description="Why, for the record (sealed with your key).")


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500, description="What was done, for the record.")


class ReplayIn(BaseModel):
    until: IsoTime
    into: str | None = Field(default=None, description="sqlite:///PATH or postgresql://…?"
                             "schema=NAME; default a new SQLite file in the data dir")


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


class TaskRow(Out):
    task_id: str
    status: str
    request: str
    requester: str
    mode: str
    environment: str | None
    source: str
    segmenter: str | None
    rejection: str | None
    requested_at: datetime
    run_id: str | None
    outcome: str | None
    cursor: str


class RunRow(Out):
    run_id: str
    task_id: str
    status: str = Field(description="running or completed")
    outcome: str | None
    started_at: datetime
    completed_at: datetime | None
    duration_ms: int | None
    summary: dict[str, int] | None
    request: str
    requester: str
    cursor: str


class Page(Out, Generic[Item]):
    """Every listing's one envelope."""

    items: list[Item]
    next: str | None = Field(description="Pass as cursor= for the next page; null on the "
                             "last (always null where the route takes no cursor).")


class QueuedApproval(Out):
    approval_id: str
    task_id: str
    run_id: str | None
    step_id: str
    risk: str
    environment: str
    requester: str
    eligible: list[str]
    excluded: list[str] | None = Field(description="May not vote: who asked for the work or "
                                       "wrote its plan.")
    required: int
    votes: list[str]
    remaining: int
    status: str
    reason: str
    request: str | None
    requested_at: datetime
    expires_at: datetime
    seconds_left: int


class TimelineEntry(Out):
    event_id: str
    position: int | None
    type: str
    aggregate_type: str
    aggregate_id: str
    version: int
    time: datetime
    actor: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any]


class EventOut(Out):
    position: int | None
    id: str
    type: str
    aggregate_id: str
    version: int
    time: datetime
    actor: str
    correlation_id: str
    causation_id: str
    prevhash: str
    hash: str
    schema_version: int
    data: dict[str, Any]


class VerifyReport(Out):
    source: str
    ok: bool
    events: int
    aggregates: int
    checkpoints: int
    problems: list[str]


class VerifyOut(Out):
    ok: bool
    reports: list[VerifyReport]


class AuditJobOut(Out):
    id: str
    kind: str = Field(description="verify")
    kafka: bool
    status: str = Field(description="running, done or failed")
    requested_by: str
    started_at: str
    finished_at: str | None
    checked: int = Field(description="Events checked so far (store, then topic)")
    total: int = Field(description="Events in the store when the job started")
    result: VerifyOut | None = Field(description="When done: ok, and a report per source")
    error: str | None = Field(description="When failed: why")


class ReplayOut(Out):
    replayed: int
    until: str
    into: str


class HealthOut(Out):
    status: str
    last_position: int
    workers: int = Field(description="Workers whose lease is current (they run the steps).")


class WorkerOut(Out):
    id: str
    host: str
    pid: int
    started_at: datetime


class DurationOut(Out):
    mean: int | None = Field(description="Mean run time in milliseconds.")
    p95: int | None = Field(description="95th percentile run time in milliseconds.")


class FailureOut(Out):
    error: str
    count: int


class ImportedOut(Out):
    source: str
    runs: int
    successes: int
    duration_ms: DurationOut
    imported_at: datetime


class PatternOut(Out):
    pattern: str = Field(description="What the plan does, step by step: `ssh:restart nginx`.")
    intent: str
    target_kind: str
    runs: int
    successes: int
    success_rate: float
    interval: list[float] = Field(description="Wilson 95% interval of the success rate.")
    duration_ms: DurationOut
    last_success: datetime | None
    last_failure: str | None
    failures: list[FailureOut] = Field(description="The most frequent errors, at most 3.")
    requesters: list[str]
    requests: list[str] = Field(description="How it was asked, hosts as {host}.")
    plan: dict[str, Any] | None = Field(description="The .alt plan of the latest success.")
    imported: list[ImportedOut] = Field(description="What other installations told of it.")


class SimilarOut(Out):
    run_id: str
    task_id: str
    request: str
    pattern: str
    outcome: str
    environment: str | None
    score: float = Field(description="Cosine similarity of the requests, 1 the same.")
    plan: dict[str, Any]


class AtlasImportOut(Out):
    imported: bool = Field(description="False: this document was imported before; nothing "
                           "changed.")
    patterns: int
    runs: int
    digest: str
    source: str


class ResolveOut(Out):
    p50: int | None
    p95: int | None


class RunbookOut(Out):
    pattern: str
    intent: str
    runs: int
    successes: int
    success_rate: float
    interval: list[float] = Field(description="Wilson 95% interval of the success rate.")
    time_to_resolve_ms: ResolveOut = Field(description="From the request to the end of a "
                                           "run of it that succeeded.")


class PeriodOut(Out):
    from_: str = Field(alias="from", description="The period's first day (UTC).")
    days: int
    runs: int
    successes: int
    success_rate: float
    interval: list[float]


class RunbookHistoryOut(RunbookOut):
    history: list[PeriodOut]


class PlannerOut(Out):
    planner: str = Field(description="The segmenter or model that made the plans; "
                         "`hand-written` for people's own.")
    plans: int
    runs: int
    successes: int
    success_rate: float | None
    interval: list[float]
    refused_rate: float = Field(description="Share of its plans with a step someone denied.")


class RatingOut(Out):
    planner: str
    rating: float
    interval: list[float] = Field(description="95% bootstrap interval.")
    matches: int


class RatingsOut(Out):
    method: Literal["elo", "bt"]
    matches: int
    rounds: int = Field(description="Bootstrap rounds behind the intervals.")
    ratings: list[RatingOut]


class LeaderboardOut(Out):
    runbooks: list[RunbookOut]
    planners: list[PlannerOut]
    ratings: RatingsOut


Planner = Annotated[str, Field(min_length=1, max_length=100)]


class MatchIn(BaseModel):
    """Two different planners as a pair, so the schema can say they differ (uniqueItems)."""

    model_config = ConfigDict(extra="forbid")
    planners: list[Planner] = Field(
        min_length=2, max_length=2, json_schema_extra={"uniqueItems": True},
        description="A and B: rules, local:NAME of a registered model, or local:BASE+lora-ID "
                    "of an evaluated adapter.")
    outcome: Literal["a", "b", "tie", "both_bad"] = Field(
        description="a: the first planner's plan was better, b: the second's.")
    task_id: str | None = Field(None, max_length=36, description="The request both planned.")


class ModelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f\x7f]+$",
                      description="A .gguf file in the altlas host's models directory "
                      "(ALTLAS_MODELS_DIR; a relative path is taken in it; no control "
                      "characters).")
    name: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$",
                             description="Its name in the registry (default: from the file "
                             "name).")


class ActivationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500, description="Why, shown on the approval.")


class TokenizerOut(Out):
    model: str | None = Field(description="tokenizer.ggml.model: gpt2 (BPE), llama, …")
    pre: str | None = Field(description="tokenizer.ggml.pre: how text is split first.")
    vocabulary: int


class ModelOut(Out):
    name: str
    path: str
    sha256: str
    size: int = Field(description="Bytes.")
    architecture: str = Field(description="general.architecture: llama, qwen2, …")
    parameters: int = Field(description="Elements of every tensor.")
    quantization: str = Field(description="general.file_type: Q4_K_M, Q4_1, F16, …")
    context_length: int
    chat_template: str | None
    tokenizer: TokenizerOut
    source: Literal["packaged", "added"]
    registered_by: str = Field(description="Who registered it (altlas:models for a packaged "
                               "one): they may not judge it in the arena.")
    active: bool = Field(description="The local segmenter plans with it.")


class PendingActivationOut(Out):
    action: Literal["activate", "promote", "rollback"] = "activate"
    model: str = Field(description="What it would put in charge: a model, an adapter, or "
                       "(rollback) what planned before.")
    approval_id: str
    requester: str


class PromotedOut(Out):
    name: str
    base: str
    path: str = Field(description="The adapter as GGUF, as its evaluation measured it.")
    sha256: str
    training_id: str


class InChargeOut(Out):
    model: str | None = Field(description="None: ALTLAS_LOCAL_MODEL.")
    adapter: PromotedOut | None


class ModelsOut(Out):
    models: list[ModelOut]
    active: str | None = Field(description="None: ALTLAS_LOCAL_MODEL plans, nothing was "
                               "activated yet.")
    adapter: PromotedOut | None = Field(description="The adapter promoted on the active "
                                        "model, if any.")
    rollback_to: InChargeOut | None = Field(description="What a rollback would put in "
                                            "charge again.")
    pending: PendingActivationOut | None = Field(description="A change waiting for its "
                                                 "approval.")


class PromotionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    adapter: str = Field(max_length=120, description="The adapter's name (BASE+lora-ID) or "
                         "its training's id.")
    reason: str = Field(default="", max_length=500, description="Why, shown on the approval.")


class DuelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [  # what both plan
        {"required": ["task_id"], "properties": {"task_id": {"type": "string", "minLength": 1}}},
        {"required": ["request"], "properties": {"request": {"type": "string",
                                                            "pattern": r"\S"}}}]})
    request: str = Field(default="", max_length=2000,
                         description="What both plan (not with task_id: the task's request).")
    a: str | None = Field(None, max_length=100, description="A planner: rules or local:NAME "
                          "(default: the model that plans now).")
    b: str | None = Field(None, max_length=100, description="The other (default: the newest "
                          "other registered model).")
    environment: str | None = Field(None, max_length=64)
    task_id: str | None = Field(None, max_length=36, description="Duel with this task's plan: "
                                "its run's outcome counts as a match too.")


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["a", "b", "tie", "both_bad"]


class DuelOut(Out):
    id: str
    request: str
    requester: str
    environment: str | None
    status: Literal["requested", "planned", "decided"]
    task_id: str | None
    plans: dict[str, dict[str, Any] | None] = Field(description="a and b: the plan documents "
                                                     "(None: that side made none).")
    problems: dict[str, str] = Field(description="a and b: why a side made no plan.")
    planners: dict[str, str] | None = Field(description="Which planner made a and b: only "
                                            "once decided.")
    outcome: str | None
    voter: str | None


class TrainingProgressOut(Out):
    step: int
    steps: int
    loss: float
    tokens_per_s: float
    eta_s: float = Field(description="Seconds left, as the worker estimated them.")
    at: datetime


class AdapterOut(Out):
    name: str = Field(description="<base>+lora-<first 8 of the training's id>")
    path: str
    sha256: str = Field(description="Of adapter_model.safetensors.")
    steps: int
    duration_ms: int
    loss_curve: list[float]


class ScoresOut(Out):
    exact: int
    asked: int
    refused: int
    wrong: int
    ok: int = Field(description="Exact plans, and asks and refusals the label expects.")
    requests: int
    seconds_per_request: float


class EvaluationOut(Out):
    adapter: str
    gguf_path: str = Field(description="The adapter as llama.cpp applies it.")
    gguf_sha256: str
    file: str = Field(description="The labelled file measured on.")
    file_sha256: str
    sampled: int
    of: int
    base: ScoresOut
    adapter_scores: ScoresOut
    at: str


class TrainingOut(Out):
    id: str
    status: Literal["requested", "running", "trained", "failed", "withdrawn"]
    base: str
    examples: int
    by_source: dict[str, int] = Field(description="run, arena, dev: where the examples came "
                                      "from.")
    hyperparameters: dict[str, float]
    requester: str
    approval_id: str
    worker: str | None = Field(description="host:pid of the training worker, once started.")
    progress: list[TrainingProgressOut]
    adapter: AdapterOut | None
    evaluation: EvaluationOut | None = Field(description="The latest measure of the adapter "
                                             "against its base.")
    promotable: bool = Field(description="Whether its evaluation lets it be promoted.")
    why_not: str | None
    reason: str | None = Field(description="Why it failed or was withdrawn.")


class MatchOut(Out):
    match_id: str


class AlertmanagerAlertIn(BaseModel):
    """One alert of Alertmanager's webhook payload (version 4)."""

    status: Literal["firing", "resolved"]
    labels: dict[str, Annotated[str, Field(max_length=1000)]] = Field(max_length=100)
    annotations: dict[str, Annotated[str, Field(max_length=10_000)]] = Field(
        default_factory=dict, max_length=100)
    startsAt: IsoTime
    endsAt: IsoTime | None = None
    generatorURL: str = Field("", max_length=2000)
    fingerprint: str = Field(min_length=1, max_length=64, pattern=r"^[0-9a-zA-Z]+$")


class AlertmanagerIn(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    version: Literal["4"] = Field(description="Alertmanager's payload version: 4.")
    groupKey: str = Field(max_length=2000)
    truncatedAlerts: JsonInt = Field(0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(max_length=200)
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = Field("", max_length=2000)
    alerts: list[AlertmanagerAlertIn]  # bounded by the body limit (ALTLAS_MAX_BODY_BYTES)


class AlertsReceivedOut(Out):
    received: int = Field(description="Alerts recorded for the first time (AlertReceived).")
    refreshed: int = Field(description="Alerts sent again while firing (AlertRefreshed).")
    resolved: int = Field(description="Alerts recorded as resolved (AlertResolved).")
    unchanged: int = Field(description="Repeats of what is recorded: nothing new.")


class RootCauseOut(Out):
    component: str = Field(description="A service of the policy's topology, or a host.")
    score: int = Field(description="Alerting components that depend on it, less those it "
                       "depends on: the higher, the more likely the cause.")
    evidence: str


class IncidentAlertOut(Out):
    fingerprint: str
    alert_id: str
    firing: bool


class IncidentEventOut(Out):
    time: datetime
    event: str = Field(description="IncidentOpened, AlertsCorrelated, AlertReceived, "
                       "AlertResolved, IncidentAlertResolved, IncidentMerged, IncidentResolved")
    fingerprint: str | None = Field(description="The alert it is about, if one.")
    actor: str
    at: datetime | None = Field(None, description="When Alertmanager said the alert started "
                                "(AlertReceived) or ended (AlertResolved, AlertExpired).")


class SeriesOut(Out):
    query: str
    series: str
    baseline_median: float | None = Field(description="Of the hour before it opened.")
    spread: float | None = Field(description="MAD of that hour (or its fallback).")
    peak: float | None
    peak_at: float | None = Field(description="Seconds since the epoch.")
    z: float | None = Field(description="Robust z-score of the peak; None after a flat hour.")
    anomalous: bool


class PastRemedyOut(Out):
    request: str
    task_id: str
    run_id: str | None
    outcome: str | None = Field(description="How its run went: succeeded, failed, cancelled, "
                                "manual_outstanding; None while it had not finished.")


class SimilarIncidentOut(Out):
    id: str
    title: str
    resolved_at: datetime | None
    remedy: PastRemedyOut | None = Field(
        None, description="What was run to fix it, and how that went.")


class EvidenceOut(Out):
    metrics: list[SeriesOut]
    similar: list[SimilarIncidentOut] = Field(description="Resolved incidents with the same "
                                              "likeliest cause, newest first.")
    problems: list[str] = Field(description="What could not be checked, and why.")
    summarizer: str


class RemediationOut(Out):
    task_id: str
    request: str
    source: Literal["annotation", "atlas"] = Field(
        description="An alert's `altlas` annotation, or the .atlas pattern that fixed "
        "incidents like it.")
    pattern: str | None
    run_id: str | None = Field(None, description="Its run, once it was approved and ran "
                               "(GET /incidents/{id} only).")
    outcome: str | None = Field(None, description="How that run went, once it finished.")


class IncidentOut(Out):
    id: str
    title: str
    status: Literal["open", "resolved", "merged"]
    opened_at: datetime = Field(description="When its first alert started.")
    resolved_at: datetime | None
    merged_into: str | None
    alerts: list[IncidentAlertOut]
    root_causes: list[RootCauseOut] = Field(description="Most likely cause first.")
    summary: str | None = Field(description="What was found about it; None until enriched.")
    evidence: EvidenceOut | None
    remediation: RemediationOut | None = Field(description="The task proposed to fix it.")


class IncidentDetailOut(IncidentOut):
    timeline: list[IncidentEventOut]


def _parameter_values(value: Any) -> Any:
    """Each value a string or a finite number, as the schema says: not true, not NaN."""
    if not isinstance(value, dict):
        raise ValueError("parameters is an object of NAME: value")
    for name, given in value.items():
        if isinstance(given, bool) or not isinstance(given, (str, int, float)) or (
                isinstance(given, float) and not math.isfinite(given)):
            raise ValueError(f"parameter {name}: a string or a finite number")
    return value


RUNBOOK_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"


class RunbookRunIn(BaseModel):
    parameters: Annotated[dict[str, Any], BeforeValidator(_parameter_values)] = Field(
        default_factory=dict, description="A value for each of the runbook's parameters; "
        "a value its schema refuses is 422, naming the parameter.",
        json_schema_extra={"additionalProperties": {"type": ["string", "number"]}})


class RunbookVersionOut(Out):
    version: int
    author: str
    plan: dict[str, Any]
    plan_hash: str = Field(description="sha256 of the plan and parameters, as approved")
    parameters: dict[str, Any] = Field(description="the parameters' JSON Schema")


class RunbookPendingOut(RunbookVersionOut):
    approval_id: str = Field(description="the approval that publishes it, once granted")


class SavedRunbookOut(Out):
    name: str
    id: str
    published: RunbookVersionOut | None
    pending: RunbookPendingOut | None
    retired: bool = Field(description="it runs no more; a new version brings it back")


class SavedRunbookRow(Out):
    name: str
    runbook_id: str
    published: int = Field(description="the published version; 0: none yet")
    author: str | None
    plan_hash: str | None
    parameters: dict[str, Any] | None
    pending: int | None = Field(description="a version waiting for approval")
    approval_id: str | None
    retired: bool
    updated_at: datetime


class TriggerRow(Out):
    trigger_id: str
    name: str
    runbook: str
    owner: str
    schedule: str = Field(description="cron (zone), every N s, webhook, or on EVENT REGEX")
    next_at: datetime | None = Field(description="the next firing; null: a webhook's or an "
                                     "event's")
    fired: int
    missed: int
    last_task_id: str | None
    status: str = Field(description="active, paused or removed")


class TriggerOut(Out):
    name: str
    id: str
    runbook: str
    parameters: dict[str, Any]
    owner: str
    cron: str | None
    every_seconds: int | None
    timezone: str
    late: str
    overlap: str
    next_at: str | None
    webhook: dict[str, Any] | None
    on: dict[str, Any] | None = Field(description="an event trigger's event, match and "
                                      "parameter → fact")
    last_task_id: str | None
    status: str = Field(description="active, paused or removed")


class DeliveryOut(Out):
    task_id: str = Field(description="the run's task: GET /tasks/{task_id}")
    delivery_id: str
    replayed: bool = Field(description="True: this delivery id ran already; nothing new ran")
