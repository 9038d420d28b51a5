"""What redacting a step's output before it is recorded costs, per KiB, against a plain copy
and a single regular expression, and against Yelp's detect-secrets 1.5.0 doing the finding.

Four kinds of output, 64 KiB each (a step's default output cap): `df -h`, web server logs, a
JSON API answer, and a configuration dump with the 15 credentials of
tests/unit/test_secrets.py planted among ordinary lines. Each is passed through:

- a copy of the text (BASELINE: what any pass over the output costs at least);
- one regular expression (`password=\\S+`), what a minimal redactor would be;
- altlas's Redactor (domain/secrets.py): its patterns alone, then with 20 known secret values;
- detect-secrets' plugins for AWS, Slack, GitHub, JWT, private keys and keywords, line by
  line: that only *finds*; the redaction would come on top.

"planted out" counts the planted credentials no longer in the text afterwards (for
detect-secrets: had each value it reports been replaced). Same machine, same run: read the
ratios.

    python bench/redaction.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.secrets import REDACTED, Redactor  # noqa: E402
from testkit.corpora import PLANTED  # noqa: E402

KIB = 64
ONE_REGEX = re.compile(r"(?i)password=\S+")


def corpora(rng: random.Random) -> dict[str, str]:
    """Each kind of output, cut to KIB KiB at a line's end."""
    def df() -> str:
        return (f"/dev/nvme{rng.randrange(4)}n1p{rng.randrange(9)}  {rng.randrange(10, 999)}G "
                f"{rng.randrange(1, 500)}G {rng.randrange(1, 500)}G {rng.randrange(1, 99)}% "
                f"/srv/data/{rng.choice(['pg', 'kafka', 'logs', 'cache'])}{rng.randrange(99)}")

    def log() -> str:
        return (f"10.0.{rng.randrange(255)}.{rng.randrange(255)} - - [30/Nov/2026:10:"
                f"{rng.randrange(60):02d}:{rng.randrange(60):02d} +0000] \"GET /api/v1/items/"
                f"{rng.randrange(10**6)}?page={rng.randrange(9)} HTTP/1.1\" "
                f"{rng.choice([200, 200, 304, 404, 502])} {rng.randrange(99999)} \"-\" "
                "\"Mozilla/5.0 (X11; Linux x86_64)\"")

    def item() -> str:
        return json.dumps({"id": rng.randrange(10**6), "name": f"item-{rng.randrange(999)}",
                           "status": rng.choice(["ok", "degraded"]), "lag_seconds":
                           rng.random(), "tags": ["web", "prod"]})

    def config() -> str:
        if rng.random() < 0.02:
            return rng.choice(PLANTED)[1]
        return (f"{rng.choice(['HOME', 'PATH', 'LANG', 'SHELL', 'USER', 'TZ'])}_"
                f"{rng.randrange(999)}=/usr/local/share/{rng.randrange(9999)}")

    out = {}
    for name, line in (("df -h", df), ("web server log", log), ("JSON answer", item),
                       ("config with credentials", config)):
        lines: list[str] = []
        size = 0
        while size < KIB * 1024:
            lines.append(line())
            size += len(lines[-1]) + 1
        if name.startswith("config"):  # every planted credential at least once
            step = len(lines) // len(PLANTED)
            for i, (_, planted, _) in enumerate(PLANTED):
                lines[i * step] = planted
        out[name] = "\n".join(lines)
    return out


def detector() -> Callable[[str], str] | None:
    """detect-secrets' findings, replaced in the text (None if it is not installed)."""
    try:
        from detect_secrets.plugins.aws import AWSKeyDetector
        from detect_secrets.plugins.github_token import GitHubTokenDetector
        from detect_secrets.plugins.jwt import JwtTokenDetector
        from detect_secrets.plugins.keyword import KeywordDetector
        from detect_secrets.plugins.private_key import PrivateKeyDetector
        from detect_secrets.plugins.slack import SlackDetector
    except ImportError:
        return None
    plugins = [AWSKeyDetector(), SlackDetector(), GitHubTokenDetector(), JwtTokenDetector(),
               PrivateKeyDetector(), KeywordDetector()]

    def find(text: str) -> str:
        lines = []
        for line in text.splitlines():
            for plugin in plugins:
                for found in plugin.analyze_string(line):
                    line = line.replace(found, REDACTED)
            lines.append(line)
        return "\n".join(lines)

    return find


def per_kib(work: Callable[[str], object], text: str, rounds: int) -> float:
    work(text)  # warm up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6 / (len(text.encode()) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(10)
    values = [f"known-secret-{i:02d}-{rng.getrandbits(64):016x}" for i in range(20)]
    patterns, known = Redactor(), Redactor(values)
    approaches: list[tuple[str, Callable[[str], str]]] = [
        ("copy (baseline)", lambda t: t.encode().decode()),
        ("one regex (password=…)", lambda t: ONE_REGEX.sub(REDACTED, t)),
        ("altlas Redactor, patterns", lambda t: patterns.text(t).text),
        ("altlas Redactor + 20 values", lambda t: known.text(t).text),
    ]
    found = detector()
    if found is not None:
        approaches.append(("detect-secrets 1.5.0, finding", found))
    print(f"{KIB} KiB per output, median of {args.rounds}; "
          f"{len(PLANTED)} kinds of credential planted in the last\n")
    print(f"{'output':<24} {'approach':<30} {'µs/KiB':>8} {'vs copy':>8} {'vs 1 regex':>10} "
          f"{'planted out':>12}")
    for name, text in corpora(rng).items():
        costs = [per_kib(work, text, args.rounds) for _, work in approaches]
        for (label, work), cost in zip(approaches, costs, strict=True):
            planted = ""
            if name.startswith("config"):
                after = work(text)
                planted = f"{sum(secret not in after for _, _, secret in PLANTED)}/{len(PLANTED)}"
            print(f"{name:<24} {label:<30} {cost:>8.1f} {cost / costs[0]:>7.0f}x "
                  f"{cost / costs[1]:>9.1f}x {planted:>12}")
    if found is None:
        print("\n(detect-secrets is not installed: pip install detect-secrets==1.5.0)")


if __name__ == "__main__":
    main()
