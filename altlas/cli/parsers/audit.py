"""The commands of audit: what they accept; `altlas.cli.audit` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    DOCUMENT_JSON,
    Subparsers,
    add,
    as_json,
    as_of,
    group,
    parse_time,
    path_arg,
)


def register(sub: Subparsers) -> None:
    audit = group(sub, "audit", "verify, replay and export the history")
    p = add(audit, "verify", "audit:audit_verify",
            "check every hash chain and checkpoint; exit 1 and name each bad event")
    p.add_argument("--kafka", action="store_true", help="check the Kafka topic too")
    as_json(p)
    p = add(audit, "replay", "audit:audit_replay",
            "rebuild the views as of a time into a separate database")
    p.add_argument("--until", type=parse_time, required=True, metavar="TIME",
                   help="the views as of this time (ISO 8601)")
    p.add_argument("--into", metavar="URL",
                   help="sqlite:///PATH or postgresql://…?schema=NAME (default a new SQLite "
                   "file in the data dir)")
    as_json(p)
    p = add(audit, "accept-loss", "audit:audit_accept_loss",
            "after a store lost events (restored from an older backup, a cut WAL file): "
            "rebuild the views from the store as it is and record the acceptance")
    p.add_argument("--yes", action="store_true", help="do it (without: say what it would do)")
    p.add_argument("--reason", metavar="TEXT", help="why, for the record")
    as_json(p)
    p = add(audit, "export", "audit:audit_export",
            "write the history as CloudEvents JSON lines")
    p.add_argument("--output", type=path_arg, default="-", metavar="FILE", help="default stdout")
    p.add_argument("--until", type=parse_time, metavar="TIME",
                   help="only events recorded up to this time (ISO 8601)")
    as_json(p, DOCUMENT_JSON)
    p = add(sub, "timeline", "reads:timeline", "the audit timeline, filtered")
    p.add_argument("--actor", metavar="PERSON", help="only what this person did")
    p.add_argument("--aggregate", metavar="ID",
                   help="only the events of one task, run or approval (its id or first 6+ "
                   "characters)")
    p.add_argument("--type", metavar="EVENT", help="e.g. ApprovalGranted")
    p.add_argument("--since", type=parse_time, metavar="TIME",
                   help="only events from this time on (ISO 8601)")
    p.add_argument("--until", type=parse_time, metavar="TIME",
                   help="only events up to this time (ISO 8601)")
    p.add_argument("--limit", type=int, default=100, metavar="N",
                   help="at most N events (default 100)")
    as_of(p)
    as_json(p)
    p = add(sub, "events", "reads:events", "list recorded events in global order")
    p.add_argument("--after", type=int, default=0, metavar="POS",
                   help="start after this position")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="show at most N events")
    as_json(p)
