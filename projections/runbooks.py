"""The runbooks view (each runbook's published version and the one waiting) and the triggers
view (when each fires next, for the workers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from domain.records import RecordedEvent
from projections.folding import Changes, Projection, load
from projections.schema import runbooks, triggers

STOPPED = {"TriggerPaused": "paused", "TriggerRemoved": "removed"}


class RunbooksProjection(Projection):
    name = "runbooks"
    tables = (runbooks, triggers)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        mine = [r for r in records if r.type_name.startswith("Runbook")]
        changes = Changes(load(conn, runbooks, "runbook_id",
                               {str(r.aggregate_id) for r in mine}))
        for r in mine:
            key, d = str(r.aggregate_id), r.data
            if r.type_name == "RunbookOpened":
                changes.create(key, {
                    "runbook_id": key, "version": r.version, "name": d["name"], "published": 0,
                    "author": None, "plan_hash": None, "parameters": None, "pending": None,
                    "approval_id": None, "retired": False, "updated_at": r.timestamp})
            elif (row := changes.newer(key, r.version)) is not None:
                row["updated_at"] = r.timestamp
                if r.type_name == "RunbookProposed":
                    row.update(pending=d["version"], approval_id=str(d["approval_id"]))
                elif r.type_name == "RunbookPublished":
                    row.update(published=d["version"], author=d["author"],
                               plan_hash=d["plan_hash"], parameters=d["parameters"],
                               pending=None, approval_id=None, retired=False)
                elif r.type_name == "RunbookRetired":
                    row["retired"] = True
                elif r.type_name == "RunbookProposalWithdrawn":
                    row.update(pending=None, approval_id=None)
        changes.write(conn, runbooks)
        _triggers(conn, [r for r in records if r.type_name.startswith("Trigger")])


def _triggers(conn: Connection, mine: Sequence[RecordedEvent]) -> None:
    changes = Changes(load(conn, triggers, "trigger_id", {str(r.aggregate_id) for r in mine}))
    for r in mine:
        key, d = str(r.aggregate_id), r.data
        if r.type_name == "TriggerCreated":
            on = d.get("on")
            schedule = (f"{d['cron']} ({d['timezone']})" if d["cron"]
                        else f"every {d['every_seconds']} s" if d["every_seconds"]
                        else f"{following(on['event'])}{on['match']}"[:200] if on
                        else "webhook")
            changes.create(key, {
                "trigger_id": key, "version": r.version, "name": d["name"],
                "runbook": d["runbook"], "owner": d["owner"], "schedule": schedule,
                "next_at": _time(d["next_at"]), "fired": 0, "missed": 0,
                "last_task_id": None, "status": "active"})
        elif (row := changes.newer(key, r.version)) is not None:
            if r.type_name == "TriggerDelivered":
                row.update(fired=row["fired"] + 1, last_task_id=str(d["task_id"]))
                continue
            if r.type_name in STOPPED:  # the workers look for nothing due
                row.update(status=STOPPED[r.type_name], next_at=None)
                continue
            if r.type_name == "TriggerResumed":
                row["status"] = "active"
            row["next_at"] = _time(d["next_at"])
            if r.type_name == "TriggerFired":
                row.update(fired=row["fired"] + 1, last_task_id=str(d["task_id"]))
            elif r.type_name == "TriggerMissed":
                row["missed"] += len(d["scheduled"])
    changes.write(conn, triggers)


def following(event: str) -> str:
    """How the triggers view's schedule begins for a trigger on an event of altlas."""
    return f"on {event} "


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
