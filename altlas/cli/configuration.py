"""Setting up: API tokens, encryption keys, policy files."""

from __future__ import annotations

import argparse
import hashlib
import secrets
from pathlib import Path

from adapters.policy_file import load_policy
from altlas.cli.common import (
    InvalidFileError,
    answer,
)
from altlas.settings import load_settings


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
    path = Path(args.file) if args.file else load_settings().policy_file
    policy = load_policy(path)
    counts = {"environments": len(policy.environments), "hosts": len(policy.hosts),
              "services": len(policy.services), "people": len(policy.people),
              "rules": len(policy.rules)}
    answer(args, {"file": str(path) if path else None, "ok": True, **counts},
           f"{path or 'built-in policy'}: ok — "
           + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return 0
