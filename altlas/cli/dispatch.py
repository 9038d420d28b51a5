"""Running a parsed command: logging set up, credentials redacted, refusals in one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from altlas import log_redaction
from altlas.cli.parsing import Handler
from altlas.environment import Locations

if TYPE_CHECKING:
    from altlas.settings import Settings

# What a command refuses with one line and exit code 2, as module:class. A class is looked
# for only in a module already imported: an exception cannot be of a class never loaded,
# and a read imports none of the modules it does not use.
REFUSALS = (
    "altlas.settings:SettingsError", "altlas.bootstrap:StartupError",
    "adapters.policy_file:PolicyFileError", "altlas.cli.common:InvalidFileError",
    "domain.errors:DomainError", "application.history:UnreadableEventError",
    "application.ports:VectorStoreUnavailableError", "adapters.packaged:ModelUnavailableError",
    "altlas.installation:InstallationError",
)


def _refused(e: BaseException) -> bool:
    for each in REFUSALS:
        module, name = each.split(":")
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(e, getattr(loaded, name)):
            return True
    return False


def _settings() -> Settings | None:
    """The settings, read once for logging; None while they are bad (reported next, when the
    command reads them again, in one line)."""
    from altlas.settings import Settings

    try:
        return Settings()
    except Exception:
        return None


def _logging(server: bool) -> tuple[str, list[str]]:
    """The log level (ALTLAS_LOG_LEVEL, else INFO for servers and WARNING for one-off
    commands) and the credentials redacted from logs by value: none while the settings are
    bad (they are redacted by what they look like), nor when the environment names only
    where the stores are (`Locations`: their passwords are taken out where they stand)."""
    where = Locations.of(os.environ)
    if where is not None:
        return where.level_for(server), []
    from altlas.environment import level_for
    from altlas.secret_store import known_values, load_secrets

    settings = _settings()
    if settings is None:
        return level_for(None, server), []
    try:
        return settings.level_for(server), known_values(
            settings, load_secrets(settings.secrets_file, os.environ))
    except Exception:
        return settings.level_for(server), []


class JsonLines(logging.Formatter):
    """A log record as one JSON object, for `--json`: what reads the output reads the logs."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def run(handler: Handler, args: argparse.Namespace) -> int:
    level, credentials = _logging(args.server)
    log_redaction.install(credentials)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.json:
        for each in logging.root.handlers:
            each.setFormatter(JsonLines())
    for noisy in ("altlas.kafka", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader (say, `| head`) has gone; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except Exception as e:
        if not _refused(e):
            raise
        print(f"altlas: {log_redaction.redacted(str(e))}", file=sys.stderr)
        return 2
