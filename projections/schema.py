"""The read-model tables. Their schema is managed by alembic (migrations/)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

metadata = MetaData()

# Where each projection has got to in each feed: for the store, partition 0 and the last
# notification id; for Kafka, a topic partition and the next offset to read.
positions = Table(
    "projection_positions", metadata,
    Column("projection", String(64), primary_key=True),
    Column("source", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

poisoned = Table(
    "poisoned_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("projection", String(64), nullable=False),
    Column("source", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("set_aside_at", DateTime(timezone=True), nullable=False),
)

tasks = Table(
    "tasks", metadata,
    Column("task_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("request", Text, nullable=False),
    Column("requester", String(100), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("persona", String(40), nullable=False),
    Column("environment", String(64)),
    Column("source", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("segmenter", String(100)),
    Column("plan", JSON),
    Column("rejection", Text),
    Column("correlation_id", String(36), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("task_id", String(36), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("outcome", String(20)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("duration_ms", BigInteger),
    Column("summary", JSON),
)

run_steps = Table(
    "run_steps", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("step_id", String(40), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("risk", String(20), nullable=False),
    Column("gate", String(20), nullable=False),
    Column("needs", JSON, nullable=False),
    Column("approval_id", String(36)),
    Column("status", String(20), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("exit_code", Integer),
    Column("error", Text),
    Column("duration_ms", BigInteger),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("facts", JSON),
    Column("worker", String(200)),
    Column("retrying", Boolean, nullable=False, server_default=false()),
    # credentials taken out of the step's latest outcome before it was recorded
    Column("redacted", Integer, nullable=False, server_default=text("0")),
)

approvals = Table(
    "approvals", metadata,
    Column("approval_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("task_id", String(36), nullable=False),
    Column("run_id", String(36)),
    Column("step_id", String(40), nullable=False),
    Column("risk", String(20), nullable=False),
    Column("environment", String(64), nullable=False),
    Column("requester", String(100), nullable=False),
    Column("eligible", JSON, nullable=False),
    Column("excluded", JSON),  # may not vote: the requester, whoever wrote the plan
    Column("required", Integer, nullable=False),
    Column("votes", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("decision_reason", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
)

# Where approvals were posted in chat, so their messages can be updated in place.
chat_messages = Table(
    "chat_messages", metadata,
    Column("approval_id", String(36), primary_key=True),
    Column("platform", String(20), primary_key=True),
    Column("channel", String(100), primary_key=True),
    Column("message", String(100), primary_key=True),
    Column("thread", String(100)),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("locale", String(10)),
)

# What each chat front has said (key: "thread:<task>", "event:<event id>"), so a message is
# sent once even when the front restarts, and replies find the thread of their request.
chat_posts = Table(
    "chat_posts", metadata,
    Column("platform", String(20), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("channel", String(100), nullable=False),
    Column("message", String(100), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)

# Signed requests a front accepted (Slack: the signature, or the event id), kept for the
# signature's window: a replay is refused, a platform's own retry handled once. The
# dashboard's front ("ui") keeps the sessions signed out, until their cookies expire.
seen_requests = Table(
    "seen_requests", metadata,
    Column("front", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)

timeline = Table(
    "timeline", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("position", BigInteger),
    Column("type", String(40), nullable=False),
    Column("aggregate_type", String(20), nullable=False),
    Column("aggregate_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("correlation_id", String(36), nullable=False),
    Column("causation_id", String(36), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_timeline_time", "time"),
    Index("ix_timeline_actor_time", "actor", "time"),
    Index("ix_timeline_aggregate", "aggregate_id", "version"),
    Index("ix_timeline_type_time", "type", "time"),
    Index("ix_timeline_position", "position"),
)


# Checkpoints over the event store's global order, kept outside the store: how far a feed
# has seen the store (position, running hash, event count), written with the views it
# applied. A store that lost events is noticed against them. Source "store": the embedded
# feed's (a moving head per batch, one kept every ALTLAS_CHECKPOINT_EVERY events, and the
# genesis row that marks the live views); "replay": the row that marks a replay target.
# Checkpoints of a history whose loss an operator accepted stay, set aside with the reason.
store_checkpoints = Table(
    "store_checkpoints", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("running_hash", String(64), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("kept", Boolean, nullable=False, server_default=false()),
    Column("superseded", Text),
    Index("ix_store_checkpoints_source_position", "source", "position"),
)

# The .atlas (projections/atlas.py): what each task asked for and the pattern of its plan, and
# how each run of it ended. Patterns and their success rates are read from the two together
# (projections/atlas_queries.py); each row belongs to one aggregate, like every view's.
atlas_requests = Table(
    "atlas_requests", metadata,
    Column("task_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("request", Text, nullable=False),  # as the events hold it (sealed)
    Column("requester", String(100), nullable=False),
    Column("environment", String(64)),
    Column("segmenter", String(100)),
    Column("pattern", String(400), index=True),
    Column("intent", String(200)),
    Column("target_kind", String(100)),
    Column("targets", JSON),
    Column("plan", JSON),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)

atlas_runs = Table(
    "atlas_runs", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("task_id", String(36), nullable=False, index=True),
    Column("outcome", String(20)),
    Column("duration_ms", BigInteger),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("completed_at", DateTime(timezone=True)),
    Column("error", Text),  # the last step failure that was not retried
)

# Knowledge imported from another installation's .atlas export (AtlasImported), per pattern.
atlas_imports = Table(
    "atlas_imports", metadata,
    Column("import_id", String(36), primary_key=True),
    Column("pattern", String(400), primary_key=True),
    Column("source", String(200), nullable=False),
    Column("entry", JSON, nullable=False),  # the pattern as the export had it
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

# The embedded vector store's rows (adapters/vectors_sql.py): one vector per completed run,
# kept by the similar-run search's follower, not by a projection (embedding is too slow to
# redo on every rebuild; `altlas atlas reindex` builds it again).
run_vectors = Table(
    "run_vectors", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("embedder", String(100), primary_key=True),  # vectors of one model compare
    Column("task_id", String(36), nullable=False),
    Column("pattern", String(400), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("environment", String(64)),
    Column("vector", LargeBinary, nullable=False),
)

# The leaderboards (projections/leaderboards.py): every match between two planners. Runbooks
# and planners are ranked from the .atlas rows and the approvals view's refusals.
matches = Table(
    "matches", metadata,
    Column("match_id", String(36), primary_key=True),
    Column("a", String(100), nullable=False),
    Column("b", String(100), nullable=False),
    Column("score", Float, nullable=False),  # a's: 1 won, 0.5 tie or both bad, 0 lost
    Column("weight", Float, nullable=False),
    Column("source", String(20), nullable=False),
    Column("played_at", DateTime(timezone=True), nullable=False),
)

# The incidents (projections/incidents.py): one row per incident, as its events leave it.
incidents = Table(
    "incidents", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open, resolved, merged
    Column("opened_at", DateTime(timezone=True), nullable=False),  # its first alert's start
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("alerts", JSON, nullable=False),  # fingerprint → alert id, every alert it had
    Column("firing", JSON, nullable=False),  # the ids of its alerts still firing
    Column("root_causes", JSON, nullable=False),
    Column("root", String(200)),  # the likeliest cause: incidents like it share it
    Column("merged_into", String(36)),
    Column("summary", Text),  # IncidentEnriched's
    Column("evidence", JSON),  # its metrics (without their samples), similar incidents
    Column("remediation", JSON),  # RemediationProposed's task, request and source
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_incidents_status_opened", "status", "opened_at"),
    Index("ix_incidents_root", "root", "status"),
)

# The runbooks (projections/runbooks.py): one row per name, its published version and the one
# waiting for approval.
runbooks = Table(
    "runbooks", metadata,
    Column("runbook_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),  # the aggregate's, as folded
    Column("name", String(40), nullable=False, unique=True),
    Column("published", Integer, nullable=False),  # the published version's number; 0: none
    Column("author", String(200)),
    Column("plan_hash", String(64)),
    Column("parameters", JSON),  # the published version's JSON Schema
    Column("pending", Integer),  # a version waiting for approval
    Column("approval_id", String(36)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("retired", Boolean, nullable=False, server_default=false()),
)

# The triggers (projections/runbooks.py): when each fires next, for the workers to look.
triggers = Table(
    "triggers", metadata,
    Column("trigger_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(40), nullable=False, unique=True),
    Column("runbook", String(40), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("schedule", String(200), nullable=False),  # the cron and time zone, or every N s
    Column("next_at", DateTime(timezone=True)),  # None: a webhook's
    Column("fired", Integer, nullable=False),
    Column("missed", Integer, nullable=False),
    Column("last_task_id", String(36)),
    Column("status", String(10), nullable=False, server_default="active"),  # paused, removed
    Index("ix_triggers_next_at", "next_at"),
)
