"""Setting up: API tokens, encryption keys, policy files."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import secrets
import sys
from pathlib import Path

from adapters.policy_file import PolicyFileError, load_policy
from altlas.cli.common import (
    InvalidFileError,
    answer,
)
from altlas.installation import ROLES, Installation, InstallationError, new_installation, write_new
from altlas.settings import INSTALLATION_POLICY, Settings, load_settings


def init(args: argparse.Namespace) -> int:
    """This installation's policy, with whoever sets it up allowed to do everything."""
    settings = load_settings()
    path = settings.policy_file or settings.data_dir / INSTALLATION_POLICY
    made = new_installation(args.name or _os_user())
    write_new(path, made.policy_text)
    answer(args, {"policy_file": str(path), "person": made.person, "roles": list(ROLES),
                  "api_token": made.api_token, "alertmanager_token": made.alertmanager_token},
           _made_text(made, path, settings))
    return 0


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        raise InstallationError("cannot tell who you are; name yourself with --name NAME") from None


def _made_text(made: Installation, path: Path, settings: Settings) -> str:
    base = f"http://{settings.http_host}:{settings.http_port}"
    return (
        f"wrote {path}: the default policy, with {made.person} as admin, operator and auditor\n"
        "every altlas command and process reads it from there; edit it to name your hosts and "
        "people (running processes follow the edit)\n\n"
        f"API token for {made.person} (shown once; keep it secret):\n  {made.api_token}\n"
        f"  curl -H 'Authorization: Bearer {made.api_token}' {base}/tasks   "
        "(after `altlas serve`)\n\n"
        "Alertmanager's webhook credential (shown once), for alertmanager.yml:\n"
        "  receivers:\n    - name: altlas\n      webhook_configs:\n"
        f"        - url: {base}/alerts/alertmanager\n"
        f"          http_config:\n            authorization: {{credentials: "
        f"{made.alertmanager_token}}}")


def token_new(args: argparse.Namespace) -> int:
    """A new API token: shown once; the policy keeps only its sha256."""
    policy = load_policy(load_settings().policy_file)
    if args.person not in policy.people:
        raise InvalidFileError(f"{args.person!r} is not in the policy's people; add them first")
    token = f"altlas_{secrets.token_urlsafe(32)}"
    digest = hashlib.sha256(token.encode()).hexdigest()
    answer(args, {"person": args.person, "token": token, "sha256": digest},
           f"token for {args.person} (shown once; keep it secret):\n  {token}\n"
           f"add this to the policy, under api_tokens:\n  {digest}: {args.person}")
    return 0


def key_new(args: argparse.Namespace) -> int:
    """A new key for encryption at rest, made by the event store library's own cipher."""
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(32)
    answer(args, {"ALTLAS_CIPHER_KEY": key},
           "a key to encrypt the stored events (shown once; keep it secret, and keep a copy: "
           "without it the history cannot be read)\nset it in the environment of every altlas "
           f"process before the store's first event:\n  ALTLAS_CIPHER_KEY={key}")
    return 0


def completion(args: argparse.Namespace) -> int:
    """The script calls `altlas` back with the line typed so far, which builds the parser
    only (no command runs, no store opens) and lists what may follow."""
    from argcomplete.shell_integration import shellcode

    script = shellcode(["altlas"], shell=args.shell)
    answer(args, {"shell": args.shell, "script": script}, script.rstrip("\n"))
    return 0


def policy_check(args: argparse.Namespace) -> int:
    """Every problem of the file, one line each, so one edit can fix them all."""
    path = Path(args.file) if args.file else load_settings().policy_file
    try:
        policy = load_policy(path)
    except PolicyFileError as e:
        if args.json:
            answer(args, {"file": str(path) if path else None, "ok": False,
                          "problems": list(e.problems)}, "")
        for problem in e.problems:
            print(f"altlas: {problem}", file=sys.stderr)
        return 2
    counts = {"environments": len(policy.environments), "hosts": len(policy.hosts),
              "services": len(policy.services), "people": len(policy.people),
              "rules": len(policy.rules)}
    answer(args, {"file": str(path) if path else None, "ok": True, **counts},
           f"{path or 'built-in policy'}: ok — "
           + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0
