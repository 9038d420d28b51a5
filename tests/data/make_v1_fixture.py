"""Writes tests/data/events_v1.jsonl: stored events as release 0.1 recorded them
(RunCompleted at schema version 1). Kept for the record of how the fixture was made; the
fixture itself must never be regenerated with newer code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import UUID

from adapters.policy_file import load_policy
from application.app import AltlasApplication


def main(out: Path) -> None:
    app = AltlasApplication(load_policy(None), env={
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"})
    for outcome in ("succeeded", "failed"):
        task = app.request_task(f"check disk ({outcome})", "deniz", environment="prod")
        app.record_segmentation(task, {"alt": 1, "steps": [
            {"id": "s1", "kind": "local", "action": "df -h"}]}, segmenter="v1", actor="deniz")
        run = UUID(app.start_run(task, actor="deniz").id)
        app.record_step_started(run, "s1")
        if outcome == "succeeded":
            app.record_step_succeeded(run, "s1", exit_code=0, output="ok", duration_ms=4)
        else:
            app.record_step_failed(run, "s1", error="exited with code 1", exit_code=1,
                                   output="", duration_ms=4)
        app.complete_run(run)
    with out.open("w") as f:
        for n in app.recorder.select_notifications(1, 1000):
            f.write(json.dumps({"originator_id": str(n.originator_id),
                                "originator_version": n.originator_version,
                                "topic": n.topic, "state": n.state.decode()}) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
