"""Incidents correlated from Alertmanager's alerts."""

from __future__ import annotations

import argparse
from uuid import UUID

from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    Subparsers,
    add,
    as_json,
    json_out,
    parse_time,
    path_arg,
    positive,
    with_system,
    write_chart,
)
from application.text import (
    incident_text,
    incidents_text,
)


def _incidents(system: System, args: argparse.Namespace) -> int:
    uc = system.use_cases()
    if args.incident:
        found = uc.incident(None, args.incident)
        png = uc.incident_chart_of(UUID(found["id"]))[1] if args.chart else None
        if args.json:
            json_out(found)
        else:
            print(incident_text(found, args.locale, limit=args.limit))
        if png is not None:
            write_chart(args.chart, png)
        return 0
    if args.chart:
        raise StartupError("--chart draws one incident: give its id")
    rows = uc.incidents(None, status=None if args.status == "all" else args.status,
                        since=args.since, limit=args.limit)
    if args.json:
        json_out(rows)
    else:
        print(incidents_text(rows, args.locale, every=args.status == "all", limit=args.limit,
                             list_every="altlas incidents --status all"))
    return 0


def register(sub: Subparsers) -> None:
    p = add(sub, "incidents", with_system(_incidents),
            "incidents correlated from Alertmanager's alerts, likely causes first")
    p.add_argument("incident", nargs="?", metavar="ID",
                   help="one incident, with its timeline (its first 6 characters or more)")
    p.add_argument("--status", choices=["open", "resolved", "merged", "all"], default="open",
                   help="which to list (default open)")
    p.add_argument("--chart", metavar="FILE.png", type=path_arg,
                   help="with an ID: also draw its key metric, the anomaly marked")
    p.add_argument("--since", type=parse_time, metavar="TIME", help="opened at or after")
    p.add_argument("--limit", type=positive, default=20, metavar="N")
    as_json(p)
