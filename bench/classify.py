"""What classifying what will run costs, per step, against matching regexes on the raw text.

The corpus is the property test's (tests/security/test_command_classification.py): a few
hundred realistic commands at every level, under common wrappers. Each is classified as an
ssh step (an argument vector) and as a manual step (shell code, parsed with bashlex). The
baseline is the classifier altlas had before domain/commands/, reimplemented below: split
the text once to refuse what does not parse, search the deny patterns and then the rules in
the raw text, first match wins. It is fast, and wrong (``r''m -rf /`` is not destructive to
it). Same machine, same run, same policy: compare the ratio.

    python bench/classify.py [--rounds N]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.policy_file import load_policy  # noqa: E402
from domain.plan import PlanStep  # noqa: E402
from domain.policy import Policy, StepRefusedError  # noqa: E402
from domain.risk import RISK_MATRIX, Effect, RiskLevel  # noqa: E402
from testkit.corpora import corpus  # noqa: E402


def regex_only(policy: Policy, step: PlanStep) -> RiskLevel:
    """BASELINE, the old approach: regular expressions over the text as written."""
    try:
        shlex.split(step.action)
    except ValueError:
        raise StepRefusedError("cannot parse command") from None
    if any(p.search(step.action) for p in policy.deny):
        raise StepRefusedError("deny rule")
    effect = next((r.effect for r in policy.rules if r.pattern.search(step.action)),
                  Effect.CHANGE)
    tier = policy.environments[policy.hosts[step.target or ""].environment].tier
    return RISK_MATRIX[effect][tier]


def what_runs(policy: Policy, step: PlanStep) -> RiskLevel:
    """The classifier under test: Policy.classify, which analyses what will run."""
    return policy.classify(step).risk


def timings(classify: Callable[[Policy, PlanStep], RiskLevel], policy: Policy,
            steps: list[PlanStep], rounds: int) -> list[float]:
    """Microseconds per classification, every step of every round."""
    out: list[float] = []
    for _ in range(rounds):
        for step in steps:
            started = time.perf_counter_ns()
            classify(policy, step)  # nothing in the corpus is refused
            out.append((time.perf_counter_ns() - started) / 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    policy = load_policy(None)
    commands = corpus()
    print(f"{len(commands)} commands, {args.rounds} rounds, default policy, target web-1\n")
    print(f"{'classifier':<34} {'step kind':<10} {'p50 µs':>9} {'p99 µs':>9} {'mean µs':>9}")
    for kind in ("ssh", "manual"):
        steps = [PlanStep(id="s", kind=kind, action=c, target="web-1") for c in commands]
        for label, classify in (("regex on raw text (old, baseline)", regex_only),
                                ("what will run (domain/commands)", what_runs)):
            classify(policy, steps[0])  # warm up: imports, compiled patterns
            micros = timings(classify, policy, steps, args.rounds)
            p99 = statistics.quantiles(micros, n=100)[98]
            print(f"{label:<34} {kind:<10} {statistics.median(micros):>9.1f} {p99:>9.1f} "
                  f"{statistics.fmean(micros):>9.1f}")


if __name__ == "__main__":
    main()
