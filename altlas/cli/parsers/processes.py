"""The commands of processes: what they accept; `altlas.cli.processes` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    add,
    as_json,
    group,
    positive,
)


def register(sub: Subparsers) -> None:
    p = add(sub, "demo", "processes:demo_command",
            "run a complete journey end to end on this store")
    as_json(p, "print how it ended as JSON (the journey's narrative goes to stderr)")
    p = add(sub, "worker", "processes:worker_command", "react to events and run steps until "
            "stopped; start several on one PostgreSQL store to share the work", server=True)
    p.add_argument("--until-quiet", action="store_true",
                   help="stop when nothing is left to do now")
    p = add(sub, "serve", "processes:serve_command", "start the HTTP API (OpenAPI schema at "
            "/docs); embeds the relay with Kafka, the store feed and a worker on the embedded "
            "default", server=True)
    p.add_argument("--host", help="address to bind (default ALTLAS_HTTP_HOST)")
    p.add_argument("--port", type=int, help="port to bind (default ALTLAS_HTTP_PORT)")
    p.add_argument("--no-relay", action="store_true",
                   help="with Kafka, leave publishing to a separate `altlas relay`")
    p.add_argument("--worker", action="store_true",
                   help="with PostgreSQL, run a worker inside too")
    p = add(sub, "discord", "processes:discord_command", "run the Discord bot until stopped",
            server=True)
    p.add_argument("--worker", action="store_true", help="with PostgreSQL, run a worker too")
    p = add(sub, "slack", "processes:slack_command",
            "run the Slack app over Socket Mode until stopped (HTTP mode is in `serve`)",
            server=True)
    p.add_argument("--worker", action="store_true", help="with PostgreSQL, run a worker too")
    p = add(sub, "relay", "processes:relay_command",
            "publish recorded events to Kafka until stopped", server=True)
    p.add_argument("--once", action="store_true", help="publish what is there, then exit")
    p = add(sub, "project", "processes:project_command", "feed the views until stopped",
            server=True)
    p.add_argument("--from", dest="source", choices=["store", "kafka"], default="store",
                   help="the notification log (embedded) or the Kafka topic")
    p.add_argument("--projection", action="append", metavar="NAME",
                   help="only this projection (repeatable; default all; an unknown name is "
                   "refused with the list)")
    p.add_argument("--once", action="store_true", help="(store) catch up, then exit")
    projections = group(sub, "projections", "rebuild views")
    p = add(projections, "rebuild", "processes:rebuild_command",
            "empty the views and apply the whole history again from the store")
    p.add_argument("--projection", action="append", metavar="NAME",
                   help="only this projection (repeatable; default all; an unknown name is "
                   "refused with the list)")
    p.add_argument("--workers", type=positive, metavar="N",
                   help="processes applying shares of the aggregates in parallel (default: "
                        "one per core, at most 4, on PostgreSQL views; 1 on SQLite)")
    as_json(p)
