"""The commands of configuration: what they accept; `altlas.cli.configuration` carries them out."""

from __future__ import annotations

from altlas.cli.parsing import (
    Subparsers,
    add,
    as_json,
    group,
    path_arg,
)


def register(sub: Subparsers) -> None:
    p = add(sub, "init", "configuration:init", "set up this installation: a policy that makes "
            "you admin, operator and auditor, your API token and Alertmanager's credential")
    p.add_argument("--name", help="your name in the policy (default: your user name)")
    as_json(p)
    token = group(sub, "token", "API tokens")
    p = add(token, "new", "configuration:token_new",
            "make an API bearer token for a person of the policy")
    p.add_argument("--for", dest="person", required=True, metavar="PERSON",
                   help="whose token: a person named in the policy")
    as_json(p)
    key = group(sub, "key", "keys for encrypting the stored events")
    p = add(key, "new", "configuration:key_new",
            "make a key for ALTLAS_CIPHER_KEY (AES-256, base64)")
    as_json(p)
    p = add(sub, "completion", "configuration:completion",
            "print the shell's completion script for altlas; install it with "
            "`altlas completion bash > ~/.local/share/bash-completion/completions/altlas`")
    p.add_argument("shell", nargs="?", default="bash", choices=["bash", "zsh", "fish"],
                   help="the shell to complete in (default bash)")
    as_json(p, "print the script inside JSON, with the shell's name")
    policy = group(sub, "policy", "check policy files")
    p = add(policy, "check", "configuration:policy_check",
            "validate a policy file (default: the configured one)")
    p.add_argument("file", type=path_arg,
                   nargs="?", help="a policy YAML file (default ALTLAS_POLICY_FILE, "
                   "else the built-in policy)")
    as_json(p)
