"""The runbooks view: each runbook's published version and the one waiting, for listing."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from domain.records import RecordedEvent
from projections.folding import Changes, Projection, load
from projections.schema import runbooks


class RunbooksProjection(Projection):
    name = "runbooks"
    tables = (runbooks,)

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
                    "approval_id": None, "updated_at": r.timestamp})
            elif (row := changes.newer(key, r.version)) is not None:
                row["updated_at"] = r.timestamp
                if r.type_name == "RunbookProposed":
                    row.update(pending=d["version"], approval_id=str(d["approval_id"]))
                elif r.type_name == "RunbookPublished":
                    row.update(published=d["version"], author=d["author"],
                               plan_hash=d["plan_hash"], parameters=d["parameters"],
                               pending=None, approval_id=None)
                elif r.type_name == "RunbookProposalWithdrawn":
                    row.update(pending=None, approval_id=None)
        changes.write(conn, runbooks)
