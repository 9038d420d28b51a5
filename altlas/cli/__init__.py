"""The command line: `altlas COMMAND …`, one module per area of the product; each parses
its commands, calls the use cases and prints, and `register` adds its commands to the parser.

A refused command prints one line on stderr and exits with 2; a request whose run fails (or
that cannot be planned), or a check that finds a problem, exits with 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from adapters.packaged import ModelUnavailableError
from adapters.policy_file import PolicyFileError
from altlas import log_redaction
from altlas.bootstrap import StartupError
from altlas.cli import (
    approvals,
    audit,
    configuration,
    incidents,
    knowledge,
    models,
    privacy,
    processes,
    runs,
    tasks,
)
from altlas.cli.common import InvalidFileError, Parser
from altlas.installation import InstallationError
from altlas.secret_store import known_values, load_secrets
from altlas.settings import Settings, SettingsError
from application.history import UnreadableEventError
from application.ports import VectorStoreUnavailableError
from domain.errors import DomainError

# In the order `altlas --help` lists them: asking, deciding, looking back, running altlas.
AREAS = (tasks, approvals, runs, incidents, knowledge, models, audit, privacy, processes,
         configuration)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="altlas",
        description="Event-sourced operations backend: requests become plans, plans pass "
        "their risk gates, runs are recorded as events.",
        epilog="Configuration comes from ALTLAS_* environment variables; see README.md. Ids "
        "may be given whole or as any unique beginning of one, as listings show them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in AREAS:
        area.register(sub)
    return parser


def _log_level() -> str:
    """ALTLAS_LOG_LEVEL, or INFO when the settings are bad (they are reported next)."""
    try:
        return Settings().log_level
    except Exception:
        return "INFO"


def _credentials() -> list[str]:
    """The credentials redacted from logs by value; none while the settings are bad (they
    are reported next, and redacted by what they look like)."""
    try:
        settings = Settings()
        return known_values(settings, load_secrets(settings.secrets_file, os.environ))
    except Exception:
        return []


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_redaction.install(_credentials())
    logging.basicConfig(level=_log_level(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("altlas.kafka", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(args.handler(args))
    except (SettingsError, StartupError, PolicyFileError, InvalidFileError, DomainError,
            UnreadableEventError, VectorStoreUnavailableError, ModelUnavailableError,
            InstallationError) as e:
        print(f"altlas: {log_redaction.redacted(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (say, `| head`) has gone; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
