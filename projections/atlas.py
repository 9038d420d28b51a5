"""The .atlas projection: what each task asked for and the pattern of its plan (domain.atlas),
how each of its runs ended, and the knowledge imported from other installations.

Rows belong to one aggregate each (a task, a run, an import), so the projection applies
each partition of the topic on its own and rebuilds in parallel like the other views;
patterns, success rates and durations are read from these rows together
(projections/atlas_queries.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from domain.atlas import failure_text, pattern_of, runbook_pattern
from domain.catalog import aggregate_kind
from domain.plan import PlanError
from domain.records import RecordedEvent
from domain.run import settled_outcome
from projections.folding import Changes, Projection, insert_ignore, load
from projections.schema import atlas_imports, atlas_requests, atlas_runs

log = logging.getLogger("projections.atlas")


class AtlasProjection(Projection):
    name = "atlas"
    tables = (atlas_requests, atlas_runs, atlas_imports)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        tasks = {str(r.aggregate_id) for r in records if aggregate_kind(r.type_name) == "task"}
        runs = {str(r.aggregate_id) for r in records if aggregate_kind(r.type_name) == "run"}
        requests = Changes(load(conn, atlas_requests, "task_id", tasks))
        outcomes = Changes(load(conn, atlas_runs, "run_id", runs))
        imported: list[dict[str, Any]] = []
        for r in records:
            d, key = r.data, str(r.aggregate_id)
            if r.type_name == "TaskRequested":
                requests.create(key, {
                    "task_id": key, "version": r.version, "request": d["request"],
                    "requester": d["requester"], "environment": d["environment"],
                    "segmenter": None, "pattern": runbook_pattern(d.get("source")),
                    "intent": None, "target_kind": None,
                    "targets": None, "plan": None, "requested_at": r.timestamp})
            elif r.type_name == "TaskSegmented":
                row = requests.newer(key, r.version)
                if row is not None:
                    kept = row["pattern"] if runbook_pattern(row["pattern"]) else None
                    row.update(_planned(d["plan"], d["gates"], row["environment"]),
                               segmenter=d["segmenter"])
                    if kept:
                        row.update(pattern=kept, intent="runbook")
            elif r.type_name == "RunStarted":
                outcomes.create(key, {
                    "run_id": key, "version": r.version, "task_id": d["task_id"],
                    "outcome": None, "duration_ms": None, "started_at": r.timestamp,
                    "completed_at": None, "error": None})
            elif r.type_name == "StepFailed":
                row = outcomes.newer(key, r.version)
                if row is not None and not d["will_retry"]:
                    row["error"] = failure_text(d["step_id"], d["error"], d.get("output"))
            elif r.type_name == "RunCompleted":
                row = outcomes.newer(key, r.version)
                if row is not None:
                    row.update(outcome=settled_outcome(r.type_name, d["outcome"]),
                               duration_ms=d["duration_ms"], completed_at=r.timestamp)
            elif settled_outcome(r.type_name, d.get("outcome")) is not None:
                row = outcomes.newer(key, r.version)
                if row is not None:  # done by hand: the run counts once nothing is left
                    row["outcome"] = d["outcome"]
            elif r.type_name == "AtlasImported":
                imported.extend({"import_id": key, "pattern": entry["pattern"],
                                 "source": d["source"], "entry": entry,
                                 "imported_at": r.timestamp} for entry in d["patterns"])
        requests.write(conn, atlas_requests)
        outcomes.write(conn, atlas_runs)
        insert_ignore(conn, atlas_imports, imported)


def _planned(plan: dict[str, Any], gates: list[dict[str, Any]],
             environment: str | None) -> dict[str, Any]:
    try:
        pattern = pattern_of(plan)
    except PlanError:  # recorded by an older release under rules it no longer has
        log.warning("a recorded plan is not a valid .alt document; it has no pattern")
        return {"plan": plan}
    return {"plan": plan, "pattern": pattern.key, "intent": pattern.intent,
            "target_kind": pattern.target_kind,
            "targets": sorted({s["target"] for s in plan["steps"] if s.get("target")}),
            "environment": environment or next(
                (g.get("environment") for g in gates if g.get("environment")), None)}

