"""Forgetting a person, and what is recorded about one."""

from __future__ import annotations

import argparse
import json
import sys

from altlas.bootstrap import System
from altlas.cli.common import (
    Subparsers,
    actor,
    add,
    as_json,
    group,
    json_out,
    path_arg,
    with_system,
)
from application.text import (
    short,
)


def _privacy_forget(system: System, args: argparse.Namespace) -> int:
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


def _privacy_export(system: System, args: argparse.Namespace) -> int:
    records = system.use_cases().personal_data(args.actor, args.person)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    written = 0
    try:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            written += 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output != "-":
        print(f"exported {written} event(s) about {args.person} to {args.output}")
    return 0


def register(sub: Subparsers) -> None:
    privacy = group(sub, "privacy", "forget a person; export what is recorded about one")
    p = add(privacy, "forget", with_system(_privacy_forget),
            "ask to forget a person (admins): once someone else approves, their key is "
            "destroyed and their name and what they wrote read as erased everywhere; the "
            "history still verifies")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--reason", default="", help="why, for the record (sealed with your key)")
    as_json(p)
    p = add(privacy, "export", with_system(_privacy_export),
            "everything recorded about a person, as JSON lines (admins; a data-access "
            "request)")
    p.add_argument("person", metavar="PERSON",
                   help="a name, or #id as an erased person is shown")
    actor(p)
    p.add_argument("--output", default="-", metavar="FILE", type=path_arg,
                   help="default stdout")
