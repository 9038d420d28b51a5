"""Where the values of ``{secret:NAME}`` come from: ``ALTLAS_SECRET_<NAME>`` variables and the
secrets file (``ALTLAS_SECRETS_FILE``: ``NAME=value`` lines, readable by its owner only). Read
once at start-up; a variable wins over the file. Also the other credentials altlas holds (its
settings' tokens and keys), so they are redacted wherever the secrets are."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from domain.secrets import MIN_SECRET_CHARS, SECRET_NAME

if TYPE_CHECKING:
    from altlas.settings import Settings

ENV_PREFIX = "ALTLAS_SECRET_"


def read_secrets_file(path: Path) -> dict[str, str]:
    """The file's secrets; ValueError, in one line that never quotes a value, for a file
    others may read or a line that is not ``NAME=value``."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{path} is open to group or others (mode {stat.S_IMODE(mode):04o}); "
                         f"make it readable by its owner only: chmod 600 {path}")
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not SECRET_NAME.match(name):
            raise ValueError(f"{path} line {number} is not NAME=value with a NAME of capital "
                             "letters, digits and _")
        found[name] = _checked(name, value, f"{path} line {number}")
    return found


def load_secrets(secrets_file: Path | None, environ: Mapping[str, str]) -> dict[str, str]:
    """Every secret a step may refer to; ValueError (one line) for a bad one."""
    found = read_secrets_file(secrets_file) if secrets_file is not None else {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key.removeprefix(ENV_PREFIX)
            if not SECRET_NAME.match(name):
                raise ValueError(f"{key} does not name a secret (names are capital letters, "
                                 "digits and _)")
            found[name] = _checked(name, value, key)
    return found


def _checked(name: str, value: str, where: str) -> str:
    if len(value) < MIN_SECRET_CHARS:
        raise ValueError(f"secret {name} ({where}) is shorter than {MIN_SECRET_CHARS} "
                         "characters, too short to be told apart in output and redacted")
    return value


def known_values(settings: Settings, secrets: Mapping[str, str]) -> list[str]:
    """Every credential this process holds as a value of its own: the secrets, and its
    settings' tokens and keys. Passwords in database URLs are taken out by where they stand
    (``scheme://user:PASSWORD@``): a short one, such as a test database's, would otherwise
    take every word it spells out of every log line."""
    values = list(secrets.values())
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if (isinstance(value, SecretStr) and not name.endswith("database_url")
                and len(value.get_secret_value()) >= MIN_SECRET_CHARS):
            values.append(value.get_secret_value())
    return values
