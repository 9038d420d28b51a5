"""What the commands accept, built from the standard library alone: `altlas --help` and
shell completion build the whole parser, and must not wait for what a command uses."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn, TypeAlias

LABELLED = Path(__file__).resolve().parents[2] / "tests" / "data"  # the labelled files

Handler = Callable[[argparse.Namespace], int]

# what add_subparsers returns (argparse keeps the class private, and generic only to mypy)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit code 2, like every other refusal."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class Version(argparse.Action):
    """`--version`: the installed package's, read only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from importlib.metadata import version

        print(f"{parser.prog} {version('altlas')}")
        parser.exit(0)


def handler_of(target: str) -> Handler:
    """The function `AREA:NAME` names in `altlas.cli.AREA`, imported only now: the module
    imports what the command needs."""
    area, name = target.split(":")
    handler: Handler = getattr(importlib.import_module(f"altlas.cli.{area}"), name)
    return handler


def add(parent: Subparsers, name: str, target: str, help_text: str, *, server: bool = False
        ) -> argparse.ArgumentParser:
    """A command under ``parent`` carried out by ``target`` (`AREA:NAME`, see `handler_of`);
    a server logs at INFO by default, other commands at WARNING."""
    p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(target=target, server=server)
    if server:
        as_json(p, SERVER_JSON)
    return p


def group(sub: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command whose actions follow it (`altlas NAME ACTION`)."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time; use ISO 8601, e.g. 2026-11-23T14:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def path_arg(value: str) -> str:
    """A path given on the command line, checked as every front checks one ("-": standard
    input or output). The check is imported only when a path is given."""
    if value == "-":
        return value
    from application.paths import InvalidPathError, local_path

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


def identifies(p: argparse.ArgumentParser, kind: str, dest: str = "id") -> None:
    """A positional id of a ``kind`` (task, run, approval, …), as every command takes ids."""
    p.add_argument(dest, metavar=kind.upper().replace(" ", "-"),
                   help=f"the {kind}'s id, whole or its first 6 characters or more")


def actor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="actor", required=True, metavar="PERSON",
                   help="who is doing this (a person named in the policy)")


SERVER_JSON = "log records as JSON lines on stderr"
DOCUMENT_JSON = "the document is JSON either way (with --output: what was written, as JSON)"


def as_json(p: argparse.ArgumentParser, help_text: str = "print JSON instead of text") -> None:
    """`--json`, on every command; with it, log records on stderr are JSON lines too."""
    p.add_argument("--json", action="store_true", help=help_text)


def as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_time, metavar="TIME",
                   help="as it was at this time (the views replayed up to it, then kept)")


def listing(p: argparse.ArgumentParser, statuses: str) -> None:
    p.add_argument("--status", help=statuses)
    p.add_argument("--requester", metavar="PERSON", help="only this person's")
    p.add_argument("--since", type=parse_time, metavar="TIME",
                   help="only those from this time on (ISO 8601)")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="at most N (default 20)")
    p.add_argument("--cursor", metavar="CURSOR", help="the next page, as the last printed")
    as_of(p)
    as_json(p)


def reading(parent: Subparsers, kind: str, statuses: str, *, document: str, fmt: str,
            shows: str, shown_by: str | None = None) -> None:
    """`list`, `export` and `show` of tasks or runs, which read alike; ``shown_by``: the
    handler of `show` (default `AREA:show`)."""
    area = f"{kind}s"
    p = add(parent, "list", f"reads:{kind}_list", f"{area}, newest first")
    listing(p, statuses)
    p = add(parent, "export", f"{area}:{kind}_export", f"print {document}")
    identifies(p, kind)
    p.add_argument("--format", choices=[fmt], default=fmt,
                   help=f"the document's format ({fmt}, the only one)")
    as_json(p, DOCUMENT_JSON)
    p = add(parent, "show", shown_by or f"{area}:show", shows)
    identifies(p, kind)
    as_json(p)


def request_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", help="target environment named in the policy")
    p.add_argument("--mode", default="normal", choices=["normal", "explore", "dream", "chaos"],
                   help="explore adds read-only discovery first, dream plans but never runs, "
                   "chaos adds fault injection (dev only) (default normal)")
    p.add_argument("--persona", default="technical_expert",
                   help="who the replies are written for: technical_expert (default), researcher, "
                   "project_manager or creative_writer")
