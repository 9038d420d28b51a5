"""The incidents view: each incident as its events leave it, for GET /incidents, the CLI and
chat. Its timeline is the timeline view's, of the incident and its alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from domain.incidents import MERGED, OPEN, RESOLVED
from domain.records import RecordedEvent
from projections.folding import Changes, Projection, load
from projections.schema import incidents


class IncidentsProjection(Projection):
    name = "incidents"
    tables = (incidents,)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        mine = [r for r in records if r.type_name.startswith("Incident")
                or r.type_name in ("AlertsCorrelated", "RemediationProposed")]
        changes = Changes(load(conn, incidents, "incident_id",
                               {str(r.aggregate_id) for r in mine}))
        for r in mine:
            key, d = str(r.aggregate_id), r.data
            if r.type_name == "IncidentOpened":
                changes.create(key, {
                    "incident_id": key, "version": r.version, "title": d["title"],
                    "status": OPEN, "opened_at": datetime.fromisoformat(d["opened_at"]),
                    "recorded_at": r.timestamp, "resolved_at": None, "alerts": d["alerts"],
                    "firing": sorted(d["alerts"]), "root_causes": d["root_causes"],
                    "root": _root(d["root_causes"]),
                    "merged_into": None, "summary": None, "evidence": None,
                    "remediation": None,
                    "updated_at": r.timestamp})
            elif (row := changes.newer(key, r.version)) is not None:
                row["updated_at"] = r.timestamp
                if r.type_name == "AlertsCorrelated":
                    row["alerts"] = {**row["alerts"], **d["alerts"]}
                    row["firing"] = sorted({*row["firing"], *d["alerts"]})
                    row["root_causes"] = d["root_causes"]
                    row["root"] = _root(d["root_causes"])
                elif r.type_name == "IncidentAlertResolved":
                    gone = d["alert_id"] or next((a for a, f in row["alerts"].items()
                                                  if f == d["fingerprint"]), None)
                    row["firing"] = [a for a in row["firing"] if a != gone]
                elif r.type_name == "IncidentEnriched":
                    row.update(summary=d["summary"], evidence={
                        "metrics": [{k: v for k, v in m.items() if k != "points"}
                                    for m in d["metrics"]],
                        "similar": d["similar"], "problems": d["problems"],
                        "summarizer": d["summarizer"]})
                elif r.type_name == "RemediationProposed":
                    row["remediation"] = {k: d[k] for k in ("task_id", "request", "source",
                                                            "pattern")}
                elif r.type_name == "IncidentMerged":
                    row.update(status=MERGED, merged_into=d["into"])
                elif r.type_name == "IncidentResolved":
                    row.update(status=RESOLVED, firing=[],
                               resolved_at=datetime.fromisoformat(d["resolved_at"]))
        changes.write(conn, incidents)


def _root(causes: list[dict[str, object]]) -> str | None:
    return str(causes[0]["component"]) if causes else None
