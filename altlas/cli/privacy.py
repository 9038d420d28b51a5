"""Forgetting a person, and what is recorded about one."""

from __future__ import annotations

import argparse
import json
import sys

from altlas.bootstrap import System
from altlas.cli.common import (
    answer,
    json_out,
    with_system,
)
from application.personal_files import PERSONAL_DATA
from application.text import (
    short,
)


@with_system
def privacy_forget(system: System, args: argparse.Namespace) -> int:
    view = system.use_cases().forget(args.actor, args.person, args.reason)
    if args.json:
        json_out(view.to_dict())
        return 0
    approvers = ", ".join(p for p in sorted(view.eligible) if p not in view.excluded)
    print(f"asked to forget {args.person}: approval {short(view.id)} needs "
          f"{view.required} vote from one of {approvers}; they run "
          f"`altlas approve {short(view.id)} --as PERSON` (or deny it) within "
          f"{max(int((view.expires_at - system.use_cases().now()).total_seconds()) // 60, 0)} min")
    return 0


@with_system
def privacy_export(system: System, args: argparse.Namespace) -> int:
    records = system.use_cases().personal_data(args.actor, args.person)
    lines = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
             for record in records)
    if args.output == "-":
        sys.stdout.writelines(lines)
    else:
        written = system.personal_files().write(PERSONAL_DATA, args.output, lines)
        answer(args, {"output": args.output, "events": written, "person": args.person},
               f"exported {written} event(s) about {args.person} to {args.output}")
    return 0
