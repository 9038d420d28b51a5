"""Running a parsed command: logging set up, credentials redacted, refusals in one line."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from adapters.packaged import ModelUnavailableError
from adapters.policy_file import PolicyFileError
from altlas import log_redaction
from altlas.bootstrap import StartupError
from altlas.cli.common import InvalidFileError
from altlas.cli.parsing import Handler
from altlas.secret_store import known_values, load_secrets
from altlas.settings import Settings, SettingsError
from application.history import UnreadableEventError
from application.ports import VectorStoreUnavailableError
from domain.errors import DomainError


def _log_level(server: bool) -> str:
    """ALTLAS_LOG_LEVEL, else INFO for servers and WARNING for one-off commands (also
    while the settings are bad: they are reported next)."""
    try:
        return Settings().level_for(server)
    except Exception:
        return "INFO" if server else "WARNING"


def _credentials() -> list[str]:
    """The credentials redacted from logs by value; none while the settings are bad (they
    are reported next, and redacted by what they look like)."""
    try:
        settings = Settings()
        return known_values(settings, load_secrets(settings.secrets_file, os.environ))
    except Exception:
        return []


def run(handler: Handler, args: argparse.Namespace) -> int:
    log_redaction.install(_credentials())
    logging.basicConfig(level=_log_level(args.server), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("altlas.kafka", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(handler(args))
    except (SettingsError, StartupError, PolicyFileError, InvalidFileError, DomainError,
            UnreadableEventError, VectorStoreUnavailableError, ModelUnavailableError) as e:
        print(f"altlas: {log_redaction.redacted(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (say, `| head`) has gone; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
