"""Load a policy from YAML, pointing every error at its file and line."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from adapters.policy_record import remember_valid
from domain.policy import Path as KeyPath
from domain.policy import Policy, PolicyError, PolicyProblems

DEFAULT_POLICY = "policy.default.yaml"
# libyaml's reader where PyYAML was built with it: every command reads the policy, and the
# pure-Python one takes a tenth of a second for the default policy
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyFileError(Exception):
    """The policy file cannot be used; the message is ``file:line: problem`` for the first
    problem (saying how many more there are), ``problems`` has one such line for each."""

    def __init__(self, problems: list[str]) -> None:
        more = len(problems) - 1
        super().__init__(problems[0] + (f" (and {more} more problem(s): `altlas policy "
                                        "check` lists them)" if more else ""))
        self.problems = problems


def default_policy_text() -> str:
    return resources.files("altlas").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


def load_policy(path: Path | None = None, *, record_in: Path | None = None) -> Policy:
    """The policy at ``path`` (None: the built-in one); with ``record_in``, a data dir, the
    text is recorded there as valid (adapters/policy_record.py)."""
    if path is None:
        return parse_policy(default_policy_text(), f"<built-in {DEFAULT_POLICY}>")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyFileError([f"{path}: cannot read the policy file: {e.strerror}"]) from None
    policy = parse_policy(text, str(path))
    if record_in is not None:
        remember_valid(path, text, record_in)
    return policy


def parse_policy(text: str, name: str) -> Policy:
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise PolicyFileError([f"{name}{line}: not valid YAML: {problem}"]) from None
    try:
        return Policy.from_mapping(data)
    except PolicyError as e:
        found = e.problems if isinstance(e, PolicyProblems) else [e]
        root = yaml.compose(text, Loader=_LOADER)  # read again only to say where
        lines = sorted((_line_of(root, p.path), str(p)) for p in found)
        raise PolicyFileError([f"{name}:{line}: {problem}" for line, problem in lines]) from None


def _line_of(node: yaml.Node | None, path: KeyPath) -> int:
    """The line of the deepest node on ``path`` that exists (1-based).

    For a mapping key that is the last part of the path, the key's own line: that is
    where an unknown key or a bad value is written.
    """
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for depth, part in enumerate(path, start=1):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    child = key if depth == len(path) else value
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
