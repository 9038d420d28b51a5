"""Incidents correlated from Alertmanager's alerts."""

from __future__ import annotations

import argparse
from uuid import UUID

from altlas.bootstrap import StartupError, System
from altlas.cli.common import (
    json_out,
    with_system,
    write_chart,
)
from application.text import (
    incident_text,
    incidents_text,
)


@with_system
def incidents(system: System, args: argparse.Namespace) -> int:
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
