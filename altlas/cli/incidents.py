"""Incidents correlated from Alertmanager's alerts: listed and shown from the views (as the
other reads, altlas/cli/reads.py); a chart is drawn by the whole system, from the store."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any
from uuid import UUID

from altlas.cli.printing import json_out
from altlas.cli.reads import reading
from application.reads import ViewReads
from application.text import incident_text, incidents_text

if TYPE_CHECKING:
    from altlas.bootstrap import System


def incidents(args: argparse.Namespace) -> int:
    if args.chart:
        from altlas.cli.common import with_system

        return with_system(_charted)(args)
    return _read(args)


@reading
def _read(reads: ViewReads, args: argparse.Namespace) -> int:
    if args.incident:
        return _show(reads.incident(None, args.incident), args)
    rows = reads.incidents(None, status=None if args.status == "all" else args.status,
                           since=args.since, limit=args.limit)
    if args.json:
        json_out(rows)
    else:
        print(incidents_text(rows, args.locale, every=args.status == "all", limit=args.limit,
                             list_every="altlas incidents --status all"))
    return 0


def _charted(system: System, args: argparse.Namespace) -> int:
    from altlas.bootstrap import StartupError
    from altlas.cli.common import write_chart

    if not args.incident:
        raise StartupError("--chart draws one incident: give its id")
    uc = system.use_cases()
    found = uc.incident(None, args.incident)
    png = uc.incident_chart_of(UUID(found["id"]))[1]
    _show(found, args)
    write_chart(args.chart, png)
    return 0


def _show(found: dict[str, Any], args: argparse.Namespace) -> int:
    if args.json:
        json_out(found)
    else:
        print(incident_text(found, args.locale, limit=args.limit))
    return 0
