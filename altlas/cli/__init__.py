"""The command line: `altlas COMMAND …`, one module per area of the product; each parses
its commands, calls the use cases and prints, and `register` adds its commands to the parser.

A refused command prints one line on stderr and exits with 2; a request whose run fails (or
that cannot be planned), or a check that finds a problem, exits with 1.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from altlas.cli.parsers import (
    approvals,
    audit,
    configuration,
    incidents,
    knowledge,
    models,
    privacy,
    processes,
    runbooks,
    runs,
    sessions,
    tasks,
)
from altlas.cli.parsing import Parser, Version, handler_of

# In the order `altlas --help` lists them: asking, deciding, looking back, running altlas.
AREAS = (tasks, runbooks, approvals, runs, incidents, knowledge, models, audit, privacy, sessions,
         processes, configuration)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="altlas",
        description="Event-sourced operations backend: requests become plans, plans pass "
        "their risk gates, runs are recorded as events.",
        epilog="Configuration comes from ALTLAS_* environment variables; see README.md. Ids "
        "may be given whole or as any unique beginning of one, as listings show them.",
    )
    parser.add_argument("--version", action=Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        area.register(sub)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer, then exit
        from argcomplete import autocomplete

        autocomplete(parser)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from altlas.cli.dispatch import run  # what running a command needs, after parsing

    return run(handler_of(args.target), args)
