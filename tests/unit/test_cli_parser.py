"""The command line as a whole: every command answers in JSON, every option says what it is
for, and building the parser (what `--help` and completion do) stays light."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

from altlas.cli import build_parser


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
           ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield " ".join(path), parser
    for action in subparsers:
        for name, child in action.choices.items():
            yield from leaves(child, (*path, name))


def test_every_command_can_answer_in_json() -> None:
    lacking = [name for name, parser in leaves(build_parser())
               if not any("--json" in a.option_strings for a in parser._actions)]
    assert lacking == []


def test_every_option_and_argument_says_what_it_is_for() -> None:
    silent = [f"{name} {a.option_strings[0] if a.option_strings else a.dest}"
              for name, parser in leaves(build_parser()) for a in parser._actions
              if not a.help]
    assert silent == []


def test_every_command_is_carried_out_by_a_handler_that_exists() -> None:
    from altlas.cli.parsing import handler_of

    for name, parser in leaves(build_parser()):
        assert callable(handler_of(parser.get_default("target"))), name


def test_building_the_parser_imports_no_handler_nor_the_store() -> None:
    code = ("import sys; from altlas.cli import build_parser; build_parser(); "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    heavy = {"altlas.bootstrap", "altlas.cli.common", "sqlalchemy", "eventsourcing",
             "application", "adapters", "pydantic"}
    assert loaded & heavy == set()
