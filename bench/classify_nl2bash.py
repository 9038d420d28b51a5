"""Commands people wrote, classified: NL2Bash's bash (Lin et al., 2018) as ssh steps on a prod
host under the default policy, against a reviewer's hand labels (read / change) that were
written without seeing the classifier: tests/data/nl2bash_dev.json (300, may be tuned on) and
nl2bash_test.json (400, frozen, only measured).

  change → READ_ONLY   state-changing commands that would run at once, with no approval: the
                       number that must be 0
  read → above         reads that would wait for approvals (or are refused)
  refused              what the policy will not run at all (unparseable, a secret misplaced…)

Baseline in the same run: the same commands read as before this change: as one program's
argument vector whatever they hold (`|`, `;` and `>` were words handed to the first program),
and only the policy's rules telling reads (no table of reading programs), per command time
included.

    python bench/classify_nl2bash.py [--split dev|test|both] [--show]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import domain.policy as policy_module
from adapters.policy_file import load_policy
from domain.commands import Mode, analyse, mode_of
from domain.errors import DomainError
from domain.plan import Plan
from domain.policy import Policy
from domain.risk import RiskLevel

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
HOST = "web-1"  # a prod host of the default policy


def items(split: str) -> list[dict[str, Any]]:
    return list(json.loads((DATA / f"nl2bash_{split}.json").read_text())["items"])


def classify(policy: Policy, command: str) -> str:
    """The step's risk level, or ``refused``."""
    try:
        document = {"alt": 1, "steps": [{"id": "s1", "kind": "ssh", "target": HOST,
                                         "action": command}]}
        return str(policy.classify(Plan.from_document(document).steps[0]).risk)
    except (DomainError, ValueError):
        return "refused"


def as_argv(policy: Policy) -> Callable[[str], str]:
    """The reading before: every ssh action as one argument vector."""

    def run(command: str) -> str:
        reading, reads = policy_module.mode_of, policy_module.read_reason
        policy_module.mode_of = lambda kind, action: "remote"  # type: ignore[assignment]
        policy_module.read_reason = lambda argv: None  # type: ignore[assignment]
        try:
            return classify(policy, command)
        finally:
            policy_module.mode_of, policy_module.read_reason = reading, reads
    return run


def measure(split: str, how: Callable[[str], str]) -> tuple[Counter[str], list[str], float]:
    tally: Counter[str] = Counter()
    wrong = []
    started = time.perf_counter()
    found = [(item, how(item["command"])) for item in items(split)]
    took = (time.perf_counter() - started) / max(1, len(found))
    for item, risk in found:
        read = risk == RiskLevel.READ_ONLY
        if item["label"] == "change":
            tally["changes"] += 1
            if read:
                tally["change → READ_ONLY"] += 1
                wrong.append(f"change read as READ_ONLY: {item['command']}  ({item['why']})")
        else:
            tally["reads"] += 1
            if not read:
                tally["read → above"] += 1
                wrong.append(f"read as {risk}: {item['command']}")
        if risk == "refused":
            tally["refused"] += 1
    return tally, wrong, took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--show", action="store_true", help="list what each gets wrong")
    args = parser.parse_args()
    policy = load_policy(None)
    analyse("warm up | the parser", "shell")
    modes: Counter[Mode] = Counter()
    print(f"NL2Bash commands as ssh steps on {HOST} (prod), the default policy")
    print(f"{'split':<5} {'reading':<34} {'changes':>7} {'→READ_ONLY':>10} {'reads':>5} "
          f"{'→above':>7} {'%':>5} {'refused':>7} {'ms/cmd':>7}")
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        modes.update(mode_of("ssh", i["command"]) for i in items(split))
        for label, how in (("before: argv, the policy's rules only", as_argv(policy)),
                           ("now: what runs, the table of reads",
                            lambda c: classify(policy, c))):
            tally, wrong, took = measure(split, how)
            print(f"{split:<5} {label:<34} {tally['changes']:>7} "
                  f"{tally['change → READ_ONLY']:>10} {tally['reads']:>5} "
                  f"{tally['read → above']:>7} "
                  f"{100 * tally['read → above'] / max(1, tally['reads']):>5.1f} "
                  f"{tally['refused']:>7} {1000 * took:>7.2f}")
            if args.show and label.startswith("now"):
                print("\n".join(f"    {w}" for w in wrong))
    print(f"read as shell code: {modes['shell']}, as an argument vector: {modes['remote']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
