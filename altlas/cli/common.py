"""What every command of the CLI shares: parsing, the system it runs on, output."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeAlias
from uuid import UUID

from altlas.bootstrap import StartupError, System, bootstrap
from altlas.follow import Followed, Follower
from altlas.serving import background
from altlas.settings import load_settings
from application.i18n import t
from application.paths import InvalidPathError, local_path
from application.presenters import PlanModel
from application.text import (
    approval_text,
    plan_text,
    run_text,
    short,
    shown,
)
from application.use_cases import Filters, Page
from domain.policy import LOCALES

log = logging.getLogger("altlas")


LABELLED = Path(__file__).resolve().parents[2] / "tests" / "data"  # the labelled files


Handler = Callable[[argparse.Namespace], int]


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time; use ISO 8601, e.g. 2026-11-23T14:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def json_out(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def locale_for(system: System, person: str | None) -> str:
    """The person's language from the policy, else the terminal's (LANG), else English."""
    if person is not None and person in system.policy.people:
        return system.policy.locale_of(person, os.environ.get("LANG"))
    language = os.environ.get("LANG", "en").split("_")[0].split(".")[0].lower()
    return language if language in LOCALES else "en"


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


def path_arg(value: str) -> str:
    """A path given on the command line, checked as every front checks one ("-": standard
    input or output)."""
    if value == "-":
        return value
    try:
        return str(local_path(value))
    except InvalidPathError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return n


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


def filters_of(args: argparse.Namespace) -> Filters:
    return Filters(args.status, args.requester, args.since, args.limit, args.cursor)


def print_page(page: Page, args: argparse.Namespace, line: Callable[[dict[str, Any]], str]
                ) -> None:
    if args.json:
        json_out(asdict(page))
        return
    for row in page.items:
        print(line(row))
    if not page.items:
        print(t(args.locale, "list.none"))
    elif page.next:
        print(t(args.locale, "list.more", cursor=page.next))


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


def follower_of(system: System, args: argparse.Namespace) -> Follower:
    return Follower(system, args.locale, None if args.json else print)


def show_one(kind: str) -> Callable[[System, argparse.Namespace], int]:
    def show(system: System, args: argparse.Namespace) -> int:
        uc = system.use_cases()
        if kind == "task":
            view: Any = uc.task(None, args.id)
            text = (t(args.locale, "status.task", id=view.id, status=view.status,
                      request=shown(view.request), requester=view.requester) + "\n"
                    + plan_text(PlanModel.of(view), args.locale))
        elif kind == "run":
            view = uc.run(None, args.id)
            text = run_text(uc.run_model(UUID(view.id)), args.locale, with_output=True)
        else:
            view = uc.approval(None, args.id)
            text = approval_text(view, args.locale, uc.now())
        if args.json:
            json_out(view.to_dict())
        else:
            print(text)
        return 0

    return show


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit code 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class InvalidFileError(Exception):
    """A file the command was given cannot be read or is not what it should be (exit 2)."""


# what add_subparsers returns (argparse keeps the class private, and generic only to mypy)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add(parent: Subparsers, name: str, handler: Handler, help_text: str
        ) -> argparse.ArgumentParser:
    """A command under ``parent`` that ``handler`` carries out."""
    p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(handler=handler)
    return p


def group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command whose actions follow it (`altlas NAME ACTION`)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="actor", required=True, metavar="PERSON",
                   help="who is doing this (a person named in the policy)")


def as_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_time, metavar="TIME",
                   help="as it was at this time (the views replayed up to it, then kept)")


def listing(p: argparse.ArgumentParser, statuses: str) -> None:
    p.add_argument("--status", help=statuses)
    p.add_argument("--requester", metavar="PERSON")
    p.add_argument("--since", type=parse_time, metavar="TIME")
    p.add_argument("--limit", type=int, default=20, metavar="N")
    p.add_argument("--cursor", metavar="CURSOR", help="the next page, as the last printed")
    as_of(p)
    as_json(p)


def request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", help="target environment named in the policy")
    p.add_argument("--mode", default="normal", choices=["normal", "explore", "dream", "chaos"])
    p.add_argument("--persona", default="technical_expert")
