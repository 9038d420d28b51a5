"""What redacting a step's output before it is recorded costs, per KiB, against a plain copy
and a single regular expression, and against Yelp's detect-secrets 1.5.0 doing the finding.

Four kinds of output, 64 KiB each (a step's default output cap): `df -h`, web server logs, a
JSON API answer, and a configuration dump with the 15 credentials of
tests/unit/test_secrets.py planted among ordinary lines. Each is passed through:

- a copy of the text (BASELINE: what any pass over the output costs at least);
- one regular expression (`password=\\S+`), what a minimal redactor would be;
- altlas's Redactor (domain/secrets.py): its patterns alone, then with 20 known secret values
  in their exact forms only (as before transformed forms were looked for), then with all;
- detect-secrets' plugins for AWS, Slack, GitHub, JWT, private keys and keywords, line by
  line: that only *finds*; the redaction would come on top.

"planted out" counts the planted credentials no longer in the text afterwards (for
detect-secrets: had each value it reports been replaced). A plain `str.replace` of the 20
values is the baseline for knowing them.

The second table is the detector of transformed values (domain/transformed.py): each of 60
random secrets (hex, base62, dashed tokens) is planted, transformed, once in each of the three
ordinary outputs, with all 60 known; "caught" when no planted piece is left in the text. The rows
below the line are transformations it is not meant to catch (README "Secrets"). "false
positives" counts redactions in the four clean outputs and in 64 KiB of random hex and base64
with the 60 values known. Same machine, same run: read the ratios.

    python bench/redaction.py [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import codecs
import json
import random
import re
import statistics
import string
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.secrets import REDACTED, Redactor  # noqa: E402
from domain.transformed import TransformedFinder  # noqa: E402
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
    patterns, known, exact = Redactor(), Redactor(values), Redactor(values)
    exact._transformed = TransformedFinder(())  # the release before: exact forms only
    approaches: list[tuple[str, Callable[[str], str]]] = [
        ("copy (baseline)", lambda t: t.encode().decode()),
        ("str.replace of 20 values", lambda t: replace_all(t, values)),
        ("one regex (password=…)", lambda t: ONE_REGEX.sub(REDACTED, t)),
        ("altlas Redactor, patterns", lambda t: patterns.text(t).text),
        ("altlas, 20 values exact only", lambda t: exact.text(t).text),
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
    recall(rng)


def replace_all(text: str, values: list[str]) -> str:
    for value in values:
        text = text.replace(value, REDACTED)
    return text


def secret(rng: random.Random, i: int) -> str:
    kind = i % 3
    if kind == 0:
        return f"{rng.getrandbits(128):032x}"
    alphabet = string.ascii_letters + string.digits
    token = "".join(rng.choice(alphabet) for _ in range(24))
    return token if kind == 1 else f"tok-{token[:8]}-{token[8:16]}-{token[16:]}"


def b64(value: str, encode: Callable[[bytes], bytes] = base64.b64encode) -> str:
    return encode(value.encode()).decode()


def split_json(value: str) -> list[str]:
    half = len(value) // 2
    return [json.dumps({"id": 7, "part": value[:half], "rest": value[half:]})]


# name → the pieces planted for a value (each on its line, in order)
TRANSFORMS: dict[str, Callable[[str], list[str]]] = {
    "as written": lambda v: [v],
    "reversed": lambda v: [v[::-1]],
    "hex, lower case": lambda v: [v.encode().hex()],
    "hex, upper case": lambda v: [v.encode().hex().upper()],
    "base64": lambda v: [b64(v)],
    "base64, no padding": lambda v: [b64(v).rstrip("=")],
    "base64 URL-safe": lambda v: [b64(v, base64.urlsafe_b64encode)],
    "base64 URL-safe, no padding": lambda v: [b64(v, base64.urlsafe_b64encode).rstrip("=")],
    "base64 of user:value (Basic)": lambda v: [b64("svc:" + v)],
    "URL-encoded": lambda v: [quote(v, safe="")],
    "every byte %-encoded": lambda v: ["".join(f"%{b:02X}" for b in v.encode())],
    "spaces between characters": lambda v: [" ".join(v)],
    "dashes between characters": lambda v: ["-".join(v)],
    "dots between characters": lambda v: [".".join(v)],
    "a newline between characters": lambda v: ["\n".join(v)],
    "hex with spaces": lambda v: [" ".join(f"{b:02x}" for b in v.encode())],
    "reversed, spaced": lambda v: [" ".join(v[::-1])],
    "split over two lines": lambda v: [v[:len(v) // 2], v[len(v) // 2:]],
    "split over two JSON fields": split_json,
}
FILLER = "an ordinary line between the pieces"
MISSED: dict[str, Callable[[str], list[str]]] = {
    "rot13": lambda v: [codecs.encode(v, "rot13")],
    "zlib, then base64": lambda v: [base64.b64encode(zlib.compress(v.encode())).decode()],
    "0x before each byte": lambda v: [" ".join(f"0x{b:02x}" for b in v.encode())],
    "split in three, apart": lambda v: [v[:8], FILLER, v[8:16], FILLER, v[16:]],
    "first half alone": lambda v: [v[:len(v) // 2]],
}


def planted(clean: str, pieces: list[str], rng: random.Random) -> str:
    lines = clean.split("\n")
    at = rng.randrange(1, len(lines) - 1)
    return "\n".join(lines[:at] + pieces + lines[at:])


def noise(rng: random.Random) -> str:
    lines: list[str] = []
    while sum(len(line) + 1 for line in lines) < KIB * 1024:
        blob = rng.randbytes(rng.randrange(8, 48))
        lines.append(rng.choice([blob.hex(), base64.b64encode(blob).decode(),
                                 base64.urlsafe_b64encode(blob).decode().rstrip("=")]))
    return "\n".join(lines)


def recall(rng: random.Random) -> None:
    values = [secret(rng, i) for i in range(60)]
    redactor = Redactor(values)
    outputs = [text for name, text in corpora(rng).items() if not name.startswith("config")]
    print(f"\n{len(values)} known secrets, each planted once per output "
          f"({len(outputs)} outputs): caught / planted\n")
    print(f"{'transformation':<32} {'str.replace':>12} {'Redactor':>10}")
    for table in (TRANSFORMS, MISSED):
        if table is MISSED:
            print("-" * 56)
        for name, transform in table.items():
            caught = {"replace": 0, "redactor": 0}
            for value in values:
                for clean in outputs:
                    pieces = transform(value)
                    text = planted(clean, pieces, rng)
                    for label, after in (("replace", replace_all(text, values)),
                                         ("redactor", redactor.text(text).text)):
                        caught[label] += all(p not in after for p in pieces if p != FILLER)
            total = len(values) * len(outputs)
            print(f"{name:<32} {caught['replace']:>6}/{total:<5} {caught['redactor']:>5}/{total}")
    clean = [*outputs, noise(rng)]
    wrong = sum(redactor.text(text).count for text in clean)
    print(f"\nfalse positives: {wrong} redaction(s) in {len(clean)} clean outputs of {KIB} KiB "
          "(df -h, web server log, JSON answer, random hex and base64)")


if __name__ == "__main__":
    main()
