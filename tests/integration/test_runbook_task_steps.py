"""A runbook's task step on PostgreSQL with a real worker: the disk step runs, its condition
holds, and one task is asked for on the runner's behalf, planned by the rules and gated."""

from __future__ import annotations

from uuid import UUID

from application.core import run_id_of
from domain.task import Task
from testkit.backends import Backend, OnPostgres

WATCH = {"runbook": 1, "name": "disk-watch", "parameters": {"host": {"kind": "host"}},
         "plan": {"alt": 1, "steps": [
             {"id": "disk", "kind": "local", "action": "df -h"},
             {"id": "open", "kind": "task", "needs": ["disk"],
              "when": "disk.max_percent >= 0", "action": "restart nginx on {param:host}"}]}}


class TestRunbookTaskSteps(OnPostgres):
    def test_a_step_whose_condition_holds_asks_once_for_a_gated_task(
            self, backend: Backend) -> None:
        system = backend.open()
        try:
            system.app.publish_runbook("disk-watch", WATCH["plan"], WATCH["parameters"],
                                       "alice")
            ran = system.app.run_runbook("disk-watch", {"host": "web-1"}, "bob")
            system.worker().until_quiet()
            system.worker().until_quiet()  # a second worker pass asks for nothing more
            records = list(system.history.read())
            asked = [r for r in records if r.type_name == "TaskRequested"
                     and r.aggregate_id != UUID(ran.id)]
            assert len(asked) == 1
            task = system.app.load(Task, asked[0].aggregate_id)
            assert task.requester == "altlas:runbook:disk-watch"
            assert task.on_behalf_of == system.app.privacy.pseudonym("bob")
            assert task.because is not None and "disk.max_percent >= 0 is true" in task.because
            assert [g["gate"] for g in task.gates] == ["approval"]
            step = system.app.get_run(run_id_of(UUID(ran.id))).steps[1]
            assert step.status == "succeeded" and str(task.id) in step.output
        finally:
            system.close()
