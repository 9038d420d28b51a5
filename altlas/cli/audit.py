"""Verifying, replaying and exporting the history (the timeline and the raw events are
reads, altlas/cli/reads.py)."""

from __future__ import annotations

import argparse
import getpass
import socket
import sys
from collections.abc import Iterator

from altlas.bootstrap import StartupError, System, bootstrap
from altlas.cli.common import (
    answer,
    json_out,
    with_system,
)
from altlas.progress import Progress
from altlas.settings import load_settings
from application.personal_files import AUDIT_EXPORT
from application.text import audit_report_text


@with_system
def audit_verify(system: System, args: argparse.Namespace) -> int:
    progress = Progress("verify", None)
    try:
        reports = system.use_cases().verify(None, kafka=args.kafka, progress=progress)
    finally:
        progress.close()
    if args.json:
        json_out(reports)
    else:
        for report in reports:
            print(audit_report_text(report))
    return 0 if all(r["ok"] for r in reports) else 1


def audit_accept_loss(args: argparse.Namespace) -> int:
    """After restoring what could be restored: the views are rebuilt from the store as it
    is, and the checkpoints of the lost events are set aside with who accepted it and when,
    for every later `audit verify` to show. The one command the start-up check lets by."""
    system = bootstrap(load_settings(), check_store=False)
    try:
        if not system.embedded:
            raise StartupError("accept-loss rebuilds the views from the store; with Kafka, "
                               "stop the consumers, restore the store, then rebuild the views "
                               "from the topic")
        problem = system.store_problem() or system.auditor().witness_problem()
        if problem is None:
            print("nothing to accept: the event store holds everything the views, the "
                  "checkpoints beside them and the witness saw")
            return 0
        if problem.startswith("cannot read"):
            raise StartupError(problem)
        if not args.yes:
            raise StartupError(f"{problem}; nothing was changed: with --yes the views are "
                               "rebuilt from the store as it is and the acceptance recorded")
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        done = system.auditor().accept_loss(who, args.reason)
        runners = system.runners()
        for runner in runners:
            runner.reset()
        rebuilt = system.store_feed().catch_up()
    finally:
        system.close()
    if args.json:
        json_out({**done, "rebuilt": rebuilt})
    else:
        print(f"accepted: {done.get('note', 'nothing was lost')}")
        print(f"set aside {done.get('set_aside', 0)} checkpoint(s); rebuilt "
              f"{', '.join(r.name for r in runners)} from {rebuilt} event(s); "
              "`altlas audit verify` shows the acceptance from now on")
    return 0


@with_system
def audit_replay(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    into = uc.replay_target(None, args.until, args.into)  # a refused target: one line
    progress = Progress("replay", uc.position())
    try:
        done = uc.replay(None, args.until, into, progress)
    finally:
        progress.close()
    if args.json:
        json_out(done)
    else:
        print(f"replayed {done['replayed']} event(s) up to {done['until']} into {done['into']}")
    return 0


@with_system
def audit_export(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    progress = Progress("export", uc.position())

    def lines() -> Iterator[str]:
        for line in uc.export(None, args.until):
            progress(1)
            yield f"{line}\n"

    try:
        if args.output == "-":
            sys.stdout.writelines(lines())
        else:
            written = system.personal_files().write(AUDIT_EXPORT, args.output, lines())
    finally:
        progress.close()
    if args.output != "-":
        answer(args, {"output": args.output, "events": written},
               f"exported {written} event(s) to {args.output}")
    return 0
