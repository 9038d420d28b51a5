"""What every command of the CLI shares: parsing, the system it runs on, output."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from altlas.bootstrap import StartupError, System, bootstrap
from altlas.cli.parsing import Handler
from altlas.cli.printing import answer as answer
from altlas.cli.printing import filters_of as filters_of
from altlas.cli.printing import json_out as json_out
from altlas.cli.printing import print_page as print_page
from altlas.follow import Followed, Follower, worker_running
from altlas.progress import Waiting
from altlas.serving import background
from altlas.settings import load_settings
from application.i18n import t, terminal_locale
from application.presenters import PlanModel
from application.text import (
    plan_text,
    short,
)

log = logging.getLogger("altlas")


def locale_for(system: System, person: str | None) -> str:
    """The person's language from the policy, else the terminal's (LANG), else English."""
    if person is not None and person in system.policy.people:
        return system.policy.locale_of(person, os.environ.get("LANG"))
    return terminal_locale(os.environ.get("LANG"))


def with_system(body: Callable[[System, argparse.Namespace], int]) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        system = bootstrap(load_settings())
        try:
            who = getattr(args, "actor", None)
            if who is not None:
                system.use_cases().access.person(who)
            args.locale = locale_for(system, who)
            return body(system, args)
        finally:
            system.close()

    return handler


def write_chart(path: str, png: bytes) -> None:
    try:
        Path(path).write_bytes(png)
    except OSError as e:
        raise StartupError(f"cannot write {path}: {e.strerror}") from None
    print(f"chart written to {path}", file=sys.stderr)


def register_packaged(system: System) -> threading.Thread:
    """At start, in the background: loading a header takes seconds the first time."""
    def register() -> None:
        if not system.settings.register_packaged:
            return
        try:
            added = system.use_cases().models.register_packaged()
        except Exception:
            log.exception("could not register the packaged models")
            return
        if added:
            log.info("models: registered %s", ", ".join(added))

    return background(register, "models")


def read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidFileError(f"{name}: cannot read: {e.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidFileError(f"{name}:{e.lineno}: not valid JSON: {e.msg}") from None


def report_followed(system: System, followed: Followed, args: argparse.Namespace) -> int:
    """After following a request: JSON of where it stands, or what still waits; exit 1 if
    it could not be planned or its run failed."""
    if args.json:
        out: dict[str, Any] = {"task": followed.task.to_dict()}
        if followed.run is not None:
            out["run"] = followed.run.to_dict()
        json_out(out)
    elif followed.run is not None and followed.run.outcome is None:
        for step in followed.run.steps:
            if step.approval_id and step.status == "pending":
                approval = system.use_cases().approval(None, step.approval_id)
                print(t(args.locale, "cli.waiting", step=step.id,
                        remaining=approval.remaining, id=short(approval.id)))
    return 1 if followed.failed else 0


def report_planned(system: System, args: argparse.Namespace, task: Any, after: int) -> int:
    """A plan written by a person (a hand-written .alt, a runbook's): followed to its end with
    --run, else shown, with a word when no worker will run it."""
    if args.run:
        return report_followed(system, follower_of(system, args).request(UUID(task.id), after),
                               args)
    if args.json:
        json_out(task.to_dict())
    else:
        print(plan_text(PlanModel.of(task), args.locale))
    if not worker_running(system):
        print(t(args.locale, "cli.no_worker.run", id=short(task.id)), file=sys.stderr)
    return 0


def follower_of(system: System, args: argparse.Namespace) -> Follower:
    return Follower(system, args.locale, None if args.json else print, Waiting(sys.stderr))


class InvalidFileError(Exception):
    """A file the command was given cannot be read or is not what it should be (exit 2)."""
