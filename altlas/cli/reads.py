"""The reads: listings of tasks and runs, the approval queue, the timeline (the incidents'
are in altlas/cli/incidents.py), the recorded events, a run as recorded.
Each answers from the views alone when they can answer exactly as the whole system would
(altlas/quick_reads.py), and through the whole system otherwise: the same use cases, the
same text."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from uuid import UUID

from altlas.cli.parsing import Handler
from altlas.cli.printing import filters_of, json_out, print_page
from application.i18n import t, terminal_locale
from application.plain_text import short, shown
from application.presenters import PlanModel
from application.reads import ViewReads
from application.text import approval_text, plan_text, run_text

Body = Callable[[ViewReads, argparse.Namespace], int]


def reading(body: Body) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        from altlas.quick_reads import open_quick

        # a person named is checked against the policy, an id looked for in the store
        named = getattr(args, "actor", None) or getattr(args, "aggregate", None)
        quick = None if getattr(args, "as_of", None) is not None or named else open_quick(
            os.environ)
        if quick is None:
            from altlas.cli.common import with_system

            return with_system(lambda system, a: body(system.use_cases(), a))(args)
        try:
            args.locale = terminal_locale(os.environ.get("LANG"))
            return body(quick, args)
        finally:
            quick.close()

    return handler


@reading
def task_list(reads: ViewReads, args: argparse.Namespace) -> int:
    page = reads.tasks(None, filters_of(args), args.as_of)
    print_page(page, args, lambda r: (
        f"{short(r['task_id'])}  {r['requested_at'][:19]}  {r['status']:<10} "
        f"{short(r['run_id']) if r['run_id'] else '-':<8} {r['outcome'] or '-':<9} "
        f"{r['requester']:<8} {shown(r['request'])}"))
    return 0


@reading
def run_list(reads: ViewReads, args: argparse.Namespace) -> int:
    page = reads.runs(None, filters_of(args), args.as_of)
    print_page(page, args, lambda r: (
        f"{short(r['run_id'])}  {r['started_at'][:19]}  {r['status']:<10} "
        f"{r['outcome'] or '-':<9} {r['requester']:<8} {shown(r['request'])}"))
    return 0


@reading
def approvals(reads: ViewReads, args: argparse.Namespace) -> int:
    rows = reads.open_approvals(None, args.as_of)
    if args.json:
        json_out(rows)
        return 0
    for row in rows:
        votes = ", ".join(row["votes"]) or t(args.locale, "approval.nobody")
        what = (t(args.locale, "approvals.what.step", step=row["step_id"]) if row["run_id"]
                else t(args.locale, f"approvals.what.{row['step_id']}"))
        print(t(args.locale, "approvals.row", id=short(row["approval_id"]), risk=row["risk"],
                environment=row["environment"], what=what, votes=votes,
                remaining=row["remaining"], minutes=row["seconds_left"] // 60,
                request=shown(row.get("request") or row["reason"])))
    if not rows:
        print(t(args.locale, "approvals.empty"))
    return 0


@reading
def timeline(reads: ViewReads, args: argparse.Namespace) -> int:
    rows = reads.timeline(
        None, as_of=args.as_of, actor=args.actor, aggregate_id=args.aggregate,
        type_name=args.type, since=args.since, until=args.until, limit=args.limit)
    if args.json:
        json_out(rows)
        return 0
    for row in rows:
        print(f"{row['time'][:23]}  {row['type']:<17} {row['aggregate_type']:<8} "
              f"{row['aggregate_id'][:8]} v{row['version']:<3} {row['actor']}")
    if not rows:
        print(t(args.locale, "list.none"))
    return 0


@reading
def events(reads: ViewReads, args: argparse.Namespace) -> int:
    if args.json:
        json_out([r.to_dict() for r in reads.events(None, args.after, args.limit)])
    elif records := reads.events(None, args.after, args.limit, revealed=True):
        from altlas.render import events_table

        print(events_table(records))
    else:
        print(f"no events after position {args.after}")
    return 0


@reading
def run_show(reads: ViewReads, args: argparse.Namespace) -> int:
    view = reads.run(None, args.id)
    if args.json:
        json_out(view.to_dict())
    else:
        print(run_text(reads.run_model(UUID(view.id)), args.locale, with_output=True))
    return 0


@reading
def task_show(reads: ViewReads, args: argparse.Namespace) -> int:
    view = reads.task(None, args.id)
    if args.json:
        json_out(view.to_dict())
    else:
        print(t(args.locale, "status.task", id=view.id, status=view.status,
                request=shown(view.request), requester=view.requester))
        print(plan_text(PlanModel.of(view), args.locale))
    return 0


@reading
def approval_show(reads: ViewReads, args: argparse.Namespace) -> int:
    view = reads.approval(None, args.id)
    if args.json:
        json_out(view.to_dict())
    else:
        print(approval_text(view, args.locale, reads.now()))
    return 0
