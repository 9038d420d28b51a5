"""The commands of runs: what they accept; `altlas.cli.runs` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    actor,
    add,
    as_json,
    group,
    identifies,
    reading,
)


def register(sub: Subparsers) -> None:
    run = group(sub, "run", "list, show, start and confirm runs")
    p = add(run, "start", "runs:run_start",
            "start a task's run by hand (operators; altlas starts runs by itself)")
    identifies(p, "task", "task_id")
    actor(p)
    as_json(p)
    p = add(run, "confirm", "runs:run_confirm",
            "say you did a step altlas left to a person (CRITICAL or manual) by hand")
    identifies(p, "run", "run_id")
    p.add_argument("step_id", metavar="STEP", help="the step's id in the plan, e.g. s2")
    p.add_argument("--note", default="", help="what was done, for the record")
    actor(p)
    as_json(p)
    reading(run, "run", "running, completed, succeeded, failed or cancelled",
            document="a run as a .last document", fmt="last", shows="show a run and its steps",
            shown_by="reads:run_show")
