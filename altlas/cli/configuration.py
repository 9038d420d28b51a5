"""Setting up: API tokens, encryption keys, policy files."""

from __future__ import annotations

import argparse
import hashlib
import secrets
from pathlib import Path

from adapters.policy_file import load_policy
from altlas.cli.common import (
    InvalidFileError,
    Subparsers,
    add,
    group,
    path_arg,
)
from altlas.settings import load_settings


def _token_new(args: argparse.Namespace) -> int:
    """A new API token: shown once; the policy keeps only its sha256."""
    policy = load_policy(load_settings().policy_file)
    if args.person not in policy.people:
        raise InvalidFileError(f"{args.person!r} is not in the policy's people; add them first")
    token = f"altlas_{secrets.token_urlsafe(32)}"
    digest = hashlib.sha256(token.encode()).hexdigest()
    print(f"token for {args.person} (shown once; keep it secret):\n  {token}\n"
          f"add this to the policy, under api_tokens:\n  {digest}: {args.person}")
    return 0


def _key_new(_: argparse.Namespace) -> int:
    """A new key for encryption at rest, made by the event store library's own cipher."""
    from eventsourcing.cryptography import AESCipher

    key = AESCipher.create_key(32)
    print("a key to encrypt the stored events (shown once; keep it secret, and keep a copy: "
          "without it the history cannot be read)\nset it in the environment of every altlas "
          f"process before the store's first event:\n  ALTLAS_CIPHER_KEY={key}")
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else load_settings().policy_file
    policy = load_policy(path)
    print(f"{path or 'built-in policy'}: ok — {len(policy.environments)} environments, "
          f"{len(policy.hosts)} hosts, {len(policy.services)} services, "
          f"{len(policy.people)} people, {len(policy.rules)} rules")
    return 0


def register(sub: Subparsers) -> None:
    token = group(sub, "token", "API tokens")
    p = add(token, "new", _token_new, "make an API bearer token for a person of the policy")
    p.add_argument("--for", dest="person", required=True, metavar="PERSON")
    key = group(sub, "key", "keys for encrypting the stored events")
    add(key, "new", _key_new, "make a key for ALTLAS_CIPHER_KEY (AES-256, base64)")
    policy = group(sub, "policy", "check policy files")
    p = add(policy, "check", _policy_check, "validate a policy file (default: the configured one)")
    p.add_argument("file", nargs="?", type=path_arg)
