"""The commands of the dashboard's sessions: what they accept; `altlas.cli.sessions` carries
them out."""

from __future__ import annotations

from altlas.cli.parsing import Subparsers, actor, add, as_json, group


def register(sub: Subparsers) -> None:
    ui = group(sub, "ui", "the web dashboard's sessions")
    p = add(ui, "sign-out", "sessions:ui_sign_out",
            "end every dashboard session a person opened until now, on every `altlas serve` "
            "of the store (admins; anyone for themselves); recorded as DashboardSessionsEnded")
    p.add_argument("person", metavar="PERSON", help="whose sessions: a person in the policy")
    p.add_argument("--everywhere", action="store_true", required=True,
                   help="every session of theirs, on every device (required: one session "
                   "ends with Sign out on its own page)")
    actor(p)
    as_json(p)
