"""Approvals: waiting ones, votes, denials, expiry and cancellation."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any
from uuid import UUID

from altlas.bootstrap import System
from altlas.cli.common import (
    follower_of,
    json_out,
    with_system,
)
from application.snapshots import ApprovalView
from application.text import (
    approval_text,
    in_charge,
)
from domain.approval import ApprovalSubject


def _decided(system: System, args: argparse.Namespace, act: Callable[[], Any]) -> int:
    """A vote or a denial; if it decided the approval, follow the run it lets move on."""
    after = system.use_cases().position()
    view = act()
    if args.json:
        json_out(view.to_dict())
    else:
        print(approval_text(view, args.locale, system.use_cases().now()))
    if view.status != "open" and view.subject == ApprovalSubject.STEP:
        follower_of(system, args).run(UUID(view.task_id), after)
    elif view.status != "open":  # the installation's own: the reactions settle it
        follower_of(system, args).settle()
        if view.status == "granted" and not args.json:
            print(_granted(system, view))
    return 0


def _granted(system: System, view: ApprovalView) -> str:
    """What a granted approval without a run did: a model plans, a training starts, or a
    person is forgotten."""
    if view.subject == ApprovalSubject.REGISTRY:
        catalog = system.use_cases().models.catalog(None)
        now = in_charge({"model": catalog["active"], "adapter": catalog["adapter"]})
        return f"{now} plans from now on (`altlas models list`)"
    if view.subject == ApprovalSubject.RUNBOOK:
        return "the runbook's new version is published: `altlas runbook list` shows it"
    if view.subject == ApprovalSubject.TRAINING:
        return (f"the training worker starts: `altlas models training {view.task_id[:8]}` "
                "follows it")
    return ("forgotten: their key is destroyed, so their name and what they wrote read as "
            "erased everywhere; the history still verifies")


@with_system
def approve(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args, lambda: system.use_cases().vote(args.actor, args.id))


@with_system
def deny(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args,
                    lambda: system.use_cases().deny(args.actor, args.id, args.reason))


@with_system
def expire(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args,
                    lambda: system.use_cases().expire_approval(args.actor, args.id))


@with_system
def cancel(system: System, args: argparse.Namespace) -> int:
    return _decided(system, args, lambda: system.use_cases().cancel_approval(
        args.actor, args.id, args.reason))


