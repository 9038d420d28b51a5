"""The policy `altlas init` writes for a new installation: the default one, with the person
setting it up as admin, operator and auditor, their API token and Alertmanager's credential.

Only the credentials' sha256 go into the file; the credentials themselves are shown once.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from adapters.policy_file import default_policy_text, parse_policy

ROLES = ("requester", "admin", "operator", "auditor")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class InstallationError(Exception):
    """The installation cannot be set up as asked; the message says what to do instead."""


@dataclass(frozen=True)
class Installation:
    """What `altlas init` made: the policy's text and the credentials shown once."""

    person: str
    policy_text: str
    api_token: str
    alertmanager_token: str


def new_installation(person: str) -> Installation:
    if not _NAME.match(person):
        raise InstallationError(f"{person!r} cannot be a person's name in the policy: use "
                                "letters, digits, '.', '_' or '-' (--name NAME)")
    api_token = f"altlas_{secrets.token_urlsafe(32)}"
    webhook_token = f"altlas_am_{secrets.token_urlsafe(32)}"
    text = policy_for(person, _sha256(api_token), _sha256(webhook_token))
    return Installation(person, text, api_token, webhook_token)


def policy_for(person: str, token_sha256: str, webhook_sha256: str) -> str:
    """The default policy's text, comments kept, with the person, their token's and the
    webhook credential's hashes; checked whole before it is returned."""
    text = default_policy_text()
    roles = f"roles: [{', '.join(ROLES)}]"
    entry = re.compile(rf"^(  {re.escape(person)}: \{{.*?)\}}$", re.MULTILINE)
    if entry.search(text):  # a person the default already names: add the roles
        text = entry.sub(lambda m: f"{m.group(1)}, {roles}}}", text, count=1)
    else:
        text = text.replace("\npeople:\n", f"\npeople:\n  {person}: {{{roles}}}\n", 1)
    text += (f"\n# Made by `altlas init` for {person}: only the sha256 of each credential is "
             "kept here.\n"
             f"api_tokens:\n  {token_sha256}: {person}\n"
             f"alertmanager:\n  bearer_sha256: {webhook_sha256}\n")
    parse_policy(text, "<altlas init>")  # a default that no longer takes the edit fails here
    return text


def write_new(path: Path, text: str) -> None:
    """Create the file, never replace one: an existing policy is the installation's own."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise InstallationError(f"{path} exists already; edit it, or point "
                                "ALTLAS_POLICY_FILE at another file to start anew") from None
    except OSError as e:
        raise InstallationError(f"cannot write {path}: {e.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
