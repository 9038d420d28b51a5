"""The commands of incidents: what they accept; `altlas.cli.incidents` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    add,
    as_json,
    parse_time,
    path_arg,
    positive,
)


def register(sub: Subparsers) -> None:
    p = add(sub, "incidents", "incidents:incidents",
            "incidents correlated from Alertmanager's alerts, likely causes first")
    p.add_argument("incident", nargs="?", metavar="ID",
                   help="one incident, with its timeline (its first 6 characters or more)")
    p.add_argument("--status", choices=["open", "resolved", "merged", "all"], default="open",
                   help="which to list (default open)")
    p.add_argument("--chart", type=path_arg, metavar="FILE.png",
                   help="with an ID: also draw its key metric, the anomaly marked")
    p.add_argument("--since", type=parse_time, metavar="TIME", help="opened at or after")
    p.add_argument("--limit", type=positive, default=20, metavar="N",
                   help="at most N (default 20)")
    as_json(p)
