"""Asking for work: requests in words, hand-written .alt plans, tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from altlas.bootstrap import System
from altlas.cli.common import (
    Subparsers,
    actor,
    add,
    as_json,
    filters_of,
    follower_of,
    group,
    json_out,
    listing,
    path_arg,
    print_page,
    read_json,
    report_followed,
    request_options,
    show_one,
    with_system,
)
from altlas.follow import worker_running
from application.documents import DocumentError, alt_document, checked_plan
from application.i18n import t
from application.presenters import PlanModel
from application.text import (
    plan_text,
    short,
    shown,
)
from domain.errors import DomainError


def _task_list(system: System, args: argparse.Namespace) -> int:
    page = system.use_cases().tasks(None, filters_of(args), args.as_of)
    print_page(page, args, lambda r: (
        f"{short(r['task_id'])}  {r['requested_at'][:19]}  {r['status']:<10} "
        f"{short(r['run_id']) if r['run_id'] else '-':<8} {r['outcome'] or '-':<9} "
        f"{r['requester']:<8} {shown(r['request'])}"))
    return 0


def _do(system: System, args: argparse.Namespace) -> int:
    after = system.use_cases().position()
    task = system.use_cases().request_work(
        args.actor, args.text, mode=args.mode, persona=args.persona, environment=args.env,
        chaos_level=args.chaos_level, source="cli")
    if args.no_wait:
        return _recorded(system, args, task.to_dict())
    if not args.json:
        print(t(args.locale, "cli.recorded", id=short(task.id)))
    return report_followed(system, follower_of(system, args).request(UUID(task.id), after), args)


def _task_request(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().request_work(args.actor, args.text, mode=args.mode,
                                           persona=args.persona, environment=args.env,
                                           source="cli")
    print(task.id)
    if not worker_running(system):
        print(t(args.locale, "cli.no_worker", id=short(task.id)), file=sys.stderr)
    return 0


def _recorded(system: System, args: argparse.Namespace, task: dict[str, Any]) -> int:
    """A request left to the workers: where none runs, say so and how to start one."""
    running = worker_running(system)
    if args.json:
        json_out({"task": task, "worker_running": running})
    elif running:
        print(t(args.locale, "cli.recorded", id=short(task["id"])))
    else:
        print(t(args.locale, "cli.no_worker", id=short(task["id"])))
    return 0


def _task_answer(system: System, args: argparse.Namespace) -> int:
    after = system.use_cases().position()
    task = system.use_cases().answer(args.actor, args.task_id, args.answer)
    return report_followed(system, follower_of(system, args).request(UUID(task.id), after), args)


def _task_plan(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().record_plan(args.actor, args.task_id,
                                          checked_plan(read_json(args.file)))
    print(plan_text(PlanModel.of(task), args.locale))
    return 0


def _alt_validate(system: System, args: argparse.Namespace) -> int:
    document = read_json(args.file)
    try:
        plan = checked_plan(document)
        gates = system.use_cases().check_plan(plan, document.get("mode", "normal"))
    except DocumentError as e:
        for problem in e.problems:
            print(f"{args.file}: {problem}")
        return 1
    except DomainError as e:
        print(f"{args.file}: {e}")
        return 1
    print(f"{args.file}: valid .alt plan with {len(gates)} step(s)")
    for gate in gates:
        needed = f" ({gate['required']} approval(s))" if gate["gate"] == "approval" else ""
        print(f"  {gate['step_id']:<4} {gate['risk']:<11} {gate['gate']}{needed}: {gate['reason']}")
    return 0


def _alt_submit(system: System, args: argparse.Namespace) -> int:
    document = read_json(args.file)
    plan = checked_plan(document)
    after = system.use_cases().position()
    task = system.use_cases().submit_plan(
        args.actor, plan,
        request=document.get("request") or f"hand-written plan {Path(args.file).name}",
        mode=document.get("mode", "normal"), persona=document.get("persona", "technical_expert"),
        environment=document.get("environment"), chaos_level=document.get("chaos_level"))
    if args.run:
        followed = follower_of(system, args).request(UUID(task.id), after)
        return report_followed(system, followed, args)
    if args.json:
        json_out(task.to_dict())
    else:
        print(plan_text(PlanModel.of(task), args.locale))
    if not worker_running(system):
        print(t(args.locale, "cli.no_worker.run", id=short(task.id)), file=sys.stderr)
    return 0


def _task_export(system: System, args: argparse.Namespace) -> int:
    json_out(alt_document(system.use_cases().task(None, args.id)))
    return 0


def register(sub: Subparsers) -> None:
    p = add(sub, "do", with_system(_do), "ask for work in plain words; altlas plans it, gates "
            "it and runs what may run, and this prints each step as it finishes")
    p.add_argument("text", help="e.g. \"check disk and load on the altlas host\"")
    actor(p)
    request_options(p)
    p.add_argument("--chaos-level", type=int, metavar="1-10", help="with --mode chaos")
    p.add_argument("--no-wait", action="store_true",
                   help="record the request and return; the workers take it from there")
    as_json(p)
    alt = group(sub, "alt", "check and submit hand-written .alt plans")
    p = add(alt, "validate", with_system(_alt_validate),
            "check an .alt file against its schema and the policy; exit 1 if it is not valid")
    p.add_argument("file", type=path_arg)
    p = add(alt, "submit", with_system(_alt_submit),
            "record a hand-written plan as a task; it passes the same gates and runs")
    p.add_argument("file", type=path_arg)
    actor(p)
    p.add_argument("--run", action="store_true",
                   help="wait for its run and print each step as it finishes")
    as_json(p)
    task = group(sub, "task", "request, plan, list and show tasks")
    p = add(task, "request", with_system(_task_request),
            "ask for work and return; prints the task id (the workers plan and run it)")
    p.add_argument("text", help="what should be done")
    actor(p)
    request_options(p)
    p = add(task, "plan", with_system(_task_plan),
            "record an .alt plan for your own task before altlas plans it (- = stdin)")
    p.add_argument("task_id", metavar="TASK")
    p.add_argument("file", type=path_arg)
    actor(p)
    p = add(task, "answer", with_system(_task_answer),
            "answer what altlas asked about your task (a host's name or number, or words); "
            "planning goes on")
    p.add_argument("task_id", metavar="TASK")
    p.add_argument("answer", help="a host among the choices (its name or number), words for "
                   "the part not understood, or skip")
    actor(p)
    as_json(p)
    p = add(task, "list", with_system(_task_list), "tasks, newest first")
    listing(p, "requested, asking, segmented, rejected or unanswered")
    p = add(task, "export", with_system(_task_export), "print a task's plan as an .alt document")
    p.add_argument("id", metavar="TASK")
    p.add_argument("--format", choices=["alt"], default="alt")
    p = add(task, "show", with_system(show_one("task")), "show a task and its plan")
    p.add_argument("id", metavar="TASK")
    as_json(p)
