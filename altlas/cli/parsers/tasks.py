"""The commands of tasks: what they accept; `altlas.cli.tasks` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    actor,
    add,
    as_json,
    group,
    identifies,
    path_arg,
    reading,
    request_options,
)


def register(sub: Subparsers) -> None:
    p = add(sub, "do", "tasks:do", "ask for work in plain words; altlas plans it, gates "
            "it and runs what may run, and this prints each step as it finishes")
    p.add_argument("text", help="e.g. \"check disk and load on the altlas host\"")
    actor(p)
    request_options(p)
    p.add_argument("--chaos-level", type=int, metavar="1-10", help="with --mode chaos")
    p.add_argument("--no-wait", action="store_true",
                   help="record the request and return; the workers take it from there")
    as_json(p)
    alt = group(sub, "alt", "check and submit hand-written .alt plans")
    p = add(alt, "validate", "tasks:alt_validate",
            "check an .alt file against its schema and the policy; exit 1 if it is not valid")
    p.add_argument("file", type=path_arg, help="the .alt plan (JSON; - = stdin)")
    as_json(p)
    p = add(alt, "submit", "tasks:alt_submit",
            "record a hand-written plan as a task; it passes the same gates and runs")
    p.add_argument("file", type=path_arg, help="the .alt plan (JSON; - = stdin)")
    actor(p)
    p.add_argument("--run", action="store_true",
                   help="wait for its run and print each step as it finishes")
    as_json(p)
    task = group(sub, "task", "request, plan, list and show tasks")
    p = add(task, "request", "tasks:task_request",
            "ask for work and return; prints the task id (the workers plan and run it)")
    p.add_argument("text", help="what should be done")
    actor(p)
    request_options(p)
    as_json(p)
    p = add(task, "plan", "tasks:task_plan",
            "record an .alt plan for your own task before altlas plans it (- = stdin)")
    identifies(p, "task", "task_id")
    p.add_argument("file", type=path_arg, help="the .alt plan (JSON; - = stdin)")
    actor(p)
    as_json(p)
    p = add(task, "answer", "tasks:task_answer",
            "answer what altlas asked about your task (a host's name or number, or words); "
            "planning goes on")
    identifies(p, "task", "task_id")
    p.add_argument("answer", help="a host among the choices (its name or number), words for "
                   "the part not understood, or skip")
    actor(p)
    as_json(p)
    reading(task, "task", "requested, asking, segmented, rejected or unanswered",
            document="a task's plan as an .alt document", fmt="alt",
            shows="show a task and its plan", shown_by="reads:task_show")
