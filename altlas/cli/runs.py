"""Runs: list, show, start by hand, confirm a step done by hand, export."""

from __future__ import annotations

import argparse
from uuid import UUID

from altlas.bootstrap import System
from altlas.cli.common import (
    Subparsers,
    actor,
    add,
    as_json,
    filters_of,
    group,
    json_out,
    listing,
    print_page,
    show_one,
    with_system,
)
from application.text import (
    run_text,
    short,
    shown,
)


def _run_list(system: System, args: argparse.Namespace) -> int:
    page = system.use_cases().runs(None, filters_of(args), args.as_of)
    print_page(page, args, lambda r: (
        f"{short(r['run_id'])}  {r['started_at'][:19]}  {r['status']:<10} "
        f"{r['outcome'] or '-':<9} {r['requester']:<8} {shown(r['request'])}"))
    return 0


def _run_export(system: System, args: argparse.Namespace) -> int:
    json_out(system.use_cases().run_document(None, args.id))
    return 0


def _run_start(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().start_run(args.actor, args.task_id)
    if args.json:
        json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0


def _run_confirm(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().confirm_step(args.actor, args.run_id, args.step_id, args.note)
    if args.json:
        json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0


def register(sub: Subparsers) -> None:
    run = group(sub, "run", "list, show, start and confirm runs")
    p = add(run, "start", with_system(_run_start),
            "start a task's run by hand (operators; altlas starts runs by itself)")
    p.add_argument("task_id", metavar="TASK")
    actor(p)
    as_json(p)
    p = add(run, "confirm", with_system(_run_confirm),
            "say you did a step altlas left to a person (CRITICAL or manual) by hand")
    p.add_argument("run_id", metavar="RUN")
    p.add_argument("step_id", metavar="STEP")
    p.add_argument("--note", default="", help="what was done, for the record")
    actor(p)
    as_json(p)
    p = add(run, "list", with_system(_run_list), "runs, newest first")
    listing(p, "running, completed, succeeded, failed or cancelled")
    p = add(run, "export", with_system(_run_export), "print a run as a .last document")
    p.add_argument("id", metavar="RUN")
    p.add_argument("--format", choices=["last"], default="last")
    p = add(run, "show", with_system(show_one("run")), "show a run and its steps")
    p.add_argument("id", metavar="RUN")
    as_json(p)
