"""Runs: start by hand, confirm a step done by hand, export (list and show are reads,
altlas/cli/reads.py)."""

from __future__ import annotations

import argparse
from uuid import UUID

from altlas.bootstrap import System
from altlas.cli.common import (
    json_out,
    with_system,
)
from application.text import (
    run_text,
)


@with_system
def run_export(system: System, args: argparse.Namespace) -> int:
    json_out(system.use_cases().run_document(None, args.id))
    return 0


@with_system
def run_start(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().start_run(args.actor, args.task_id)
    if args.json:
        json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0


@with_system
def run_confirm(system: System, args: argparse.Namespace) -> int:
    run = system.use_cases().confirm_step(args.actor, args.run_id, args.step_id, args.note)
    if args.json:
        json_out(run.to_dict())
    else:
        print(run_text(system.use_cases().run_model(UUID(run.id)), args.locale))
    return 0

