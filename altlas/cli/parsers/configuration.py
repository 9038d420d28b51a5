"""The commands of configuration: what they accept; `altlas.cli.configuration` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    add,
    group,
)


def register(sub: Subparsers) -> None:
    token = group(sub, "token", "API tokens")
    p = add(token, "new", "configuration:token_new",
            "make an API bearer token for a person of the policy")
    p.add_argument("--for", dest="person", required=True, metavar="PERSON",
                   help="whose token: a person named in the policy")
    key = group(sub, "key", "keys for encrypting the stored events")
    add(key, "new", "configuration:key_new", "make a key for ALTLAS_CIPHER_KEY (AES-256, base64)")
    policy = group(sub, "policy", "check policy files")
    p = add(policy, "check", "configuration:policy_check",
            "validate a policy file (default: the configured one)")
    p.add_argument("file", nargs="?", help="a policy YAML file (default ALTLAS_POLICY_FILE, "
                   "else the built-in policy)")
