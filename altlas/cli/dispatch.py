"""Running a parsed command: logging set up, credentials redacted, refusals in one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from adapters.packaged import ModelUnavailableError
from adapters.policy_file import PolicyFileError
from altlas import log_redaction
from altlas.bootstrap import StartupError
from altlas.cli.common import InvalidFileError
from altlas.cli.parsing import Handler
from altlas.installation import InstallationError
from altlas.secret_store import known_values, load_secrets
from altlas.settings import Settings, SettingsError
from application.history import UnreadableEventError
from application.ports import VectorStoreUnavailableError
from domain.errors import DomainError


def _settings() -> Settings | None:
    """The settings, read once for logging; None while they are bad (reported next, when the
    command reads them again, in one line)."""
    try:
        return Settings()
    except Exception:
        return None


def _log_level(settings: Settings | None, server: bool) -> str:
    """ALTLAS_LOG_LEVEL, else INFO for servers and WARNING for one-off commands."""
    return (settings or Settings.model_construct(log_level=None)).level_for(server)


def _credentials(settings: Settings | None) -> list[str]:
    """The credentials redacted from logs by value; none while the settings are bad (they
    are redacted by what they look like)."""
    if settings is None:
        return []
    try:
        return known_values(settings, load_secrets(settings.secrets_file, os.environ))
    except Exception:
        return []


class JsonLines(logging.Formatter):
    """A log record as one JSON object, for `--json`: what reads the output reads the logs."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def run(handler: Handler, args: argparse.Namespace) -> int:
    settings = _settings()
    log_redaction.install(_credentials(settings))
    logging.basicConfig(level=_log_level(settings, args.server), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.json:
        for each in logging.root.handlers:
            each.setFormatter(JsonLines())
    for noisy in ("altlas.kafka", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(handler(args))
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
