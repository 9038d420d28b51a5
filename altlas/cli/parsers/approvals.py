"""The commands of approvals: what they accept; `altlas.cli.approvals` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    actor,
    add,
    as_json,
    as_of,
    group,
    identifies,
)


def register(sub: Subparsers) -> None:
    p = add(sub, "approvals", "reads:approvals", "approvals waiting for a decision")
    as_of(p)
    as_json(p)
    p = add(sub, "approve", "approvals:approve", "approve a gated step")
    identifies(p, "approval")
    actor(p)
    as_json(p)
    p = add(sub, "deny", "approvals:deny", "deny a gated step, with a reason")
    identifies(p, "approval")
    actor(p)
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="why, shown to the requester and kept in the history")
    as_json(p)
    approval = group(sub, "approval", "show, expire or cancel approvals")
    p = add(approval, "show", "reads:approval_show", "show an approval")
    identifies(p, "approval")
    as_json(p)
    p = add(approval, "expire", "approvals:expire",
            "expire an approval whose time is up (operators; workers do it by themselves)")
    identifies(p, "approval")
    actor(p)
    as_json(p)
    p = add(approval, "cancel", "approvals:cancel",
            "withdraw an open approval request (its requester, or an operator)")
    identifies(p, "approval")
    actor(p)
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="why, shown to the requester and kept in the history")
    as_json(p)
