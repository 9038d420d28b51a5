"""Asking for work: requests in words, hand-written .alt plans, tasks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from altlas.bootstrap import System
from altlas.cli.common import (
    answer,
    follower_of,
    json_out,
    read_json,
    report_followed,
    report_planned,
    with_system,
)
from altlas.follow import worker_running
from application.documents import DocumentError, alt_document, checked_plan
from application.i18n import t
from application.presenters import PlanModel
from application.text import (
    plan_text,
    short,
)
from domain.errors import DomainError


@with_system
def do(system: System, args: argparse.Namespace) -> int:
    after = system.use_cases().position()
    task = system.use_cases().request_work(
        args.actor, args.text, mode=args.mode, persona=args.persona, environment=args.env,
        chaos_level=args.chaos_level, source="cli")
    if args.no_wait:
        return _recorded(system, args, task.to_dict())
    if not args.json:
        print(t(args.locale, "cli.recorded", id=short(task.id)))
    return report_followed(system, follower_of(system, args).request(UUID(task.id), after), args)


@with_system
def task_request(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().request_work(args.actor, args.text, mode=args.mode,
                                           persona=args.persona, environment=args.env,
                                           source="cli")
    answer(args, task.to_dict(), task.id)
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


@with_system
def task_answer(system: System, args: argparse.Namespace) -> int:
    after = system.use_cases().position()
    task = system.use_cases().answer(args.actor, args.task_id, args.answer)
    return report_followed(system, follower_of(system, args).request(UUID(task.id), after), args)


@with_system
def task_plan(system: System, args: argparse.Namespace) -> int:
    task = system.use_cases().record_plan(args.actor, args.task_id,
                                          checked_plan(read_json(args.file)))
    answer(args, task.to_dict(), plan_text(PlanModel.of(task), args.locale))
    return 0


@with_system
def alt_validate(system: System, args: argparse.Namespace) -> int:
    document = read_json(args.file)
    try:
        plan = checked_plan(document)
        gates = system.use_cases().check_plan(plan, document.get("mode", "normal"))
    except DocumentError as e:
        answer(args, {"valid": False, "problems": e.problems},
               "\n".join(f"{args.file}: {problem}" for problem in e.problems))
        return 1
    except DomainError as e:
        answer(args, {"valid": False, "problems": [str(e)]}, f"{args.file}: {e}")
        return 1
    lines = [f"{args.file}: valid .alt plan with {len(gates)} step(s)"]
    for gate in gates:
        needed = f" ({gate['required']} approval(s))" if gate["gate"] == "approval" else ""
        lines.append(f"  {gate['step_id']:<4} {gate['risk']:<11} {gate['gate']}{needed}: "
                     f"{gate['reason']}")
    answer(args, {"valid": True, "gates": gates}, "\n".join(lines))
    return 0


@with_system
def alt_submit(system: System, args: argparse.Namespace) -> int:
    document = read_json(args.file)
    plan = checked_plan(document)
    after = system.use_cases().position()
    task = system.use_cases().submit_plan(
        args.actor, plan,
        request=document.get("request") or f"hand-written plan {Path(args.file).name}",
        mode=document.get("mode", "normal"), persona=document.get("persona", "technical_expert"),
        environment=document.get("environment"), chaos_level=document.get("chaos_level"))
    return report_planned(system, args, task, after)


@with_system
def task_export(system: System, args: argparse.Namespace) -> int:
    json_out(alt_document(system.use_cases().task(None, args.id)))
    return 0


