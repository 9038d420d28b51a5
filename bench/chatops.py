"""Chat-ops acknowledgement latency: `altlas serve` in its own process with the Slack app
mounted, Slack's servers faked on loopback; 50 people at once send slash commands or click
Approve. Baseline from the same run: /healthz under the same load. Afterwards every vote is
checked: none lost, none counted twice, exactly one grant per approval.

    python bench/chatops.py [--users 50] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from figures import record
from served import served

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.fakes import slack_payloads as p  # noqa: E402
from testkit.fakes.slack import BOT_TOKEN, FakeSlack  # noqa: E402
from testkit.helpers import crowd_policy  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def burst(url: str, bodies: list[tuple[str, dict[str, str]]]) -> list[float]:
    # as many connections as people: Slack does not queue one person's request behind
    # another's (httpx would, past its default of 100 connections)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        async def one(body: str, headers: dict[str, str]) -> float:
            started = time.perf_counter()
            r = await client.post(url, content=body, headers=headers) if body else \
                await client.get(url)
            assert r.status_code == 200, r.text
            return (time.perf_counter() - started) * 1000
        return list(await asyncio.gather(*(one(b, h) for b, h in bodies)))


def serve_env(root: str, policy: Path, slack: FakeSlack) -> dict[str, str]:
    """`altlas serve` on the embedded default in ``root``, its Slack app talking to ``slack``."""
    env = {**os.environ, "ALTLAS_DATA_DIR": f"{root}/data", "ALTLAS_POLICY_FILE": str(policy),
           "ALTLAS_SEGMENTER": "rules", "ALTLAS_SLACK_BOT_TOKEN": BOT_TOKEN,
           "ALTLAS_SLACK_SIGNING_SECRET": p.SIGNING_SECRET,
           "ALTLAS_SLACK_API_URL": slack.base_url, "ALTLAS_LOG_LEVEL": "WARNING"}
    for key in ("ALTLAS_DATABASE_URL", "ALTLAS_KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(key, None)
    return env


def one_round(base: str, slack: FakeSlack, users: int, samples: dict[str, list[float]]
              ) -> str:
    """``users`` people at once ask for their approvals, then click Approve on one card:
    their acknowledgement times (and /healthz's) added to ``samples``; the approval's id."""
    events = f"{base}/slack/events"
    samples["baseline"] += asyncio.run(burst(f"{base}/healthz", [("", {})] * users))
    bodies = []
    for i in range(users):
        body = p.slash_command(f"U1{i:08d}", "approvals", slack.response_url(f"cmd/{i}"))
        bodies.append((body, p.headers(body, p.FORM)))
    samples["slash"] += asyncio.run(burst(events, bodies))
    before = len([c for c in slack.find("chat.postMessage")
                  if '"actions"' in json.dumps(c.body.get("blocks", ""))])
    body = p.slash_command("U0ERIN001", "do set the maintenance flag on the altlas host",
                           slack.response_url("cmd/erin"))
    httpx.post(events, content=body, headers=p.headers(body, p.FORM))
    while True:
        cards = [c for c in slack.find("chat.postMessage")
                 if '"actions"' in json.dumps(c.body.get("blocks", ""))]
        if len(cards) > before:
            break
        time.sleep(0.05)
    blocks = cards[-1].body["blocks"]
    blocks = blocks if isinstance(blocks, list) else json.loads(blocks)
    approval = str(next(b for b in blocks if b["type"] == "actions")["elements"][0]["value"])
    message = {"ts": "1700000000.000001", "text": "", "blocks": blocks}
    bodies = []
    for i in range(users):
        body = p.block_actions(f"U1{i:08d}", "altlas_approve", approval, message,
                               slack.response_url(f"act/{i}"))
        bodies.append((body, p.headers(body, p.FORM)))
    samples["click"] += asyncio.run(burst(events, bodies))
    return approval


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    users, quorum = args.users, args.users - 10
    slack = FakeSlack().start()
    with tempfile.TemporaryDirectory() as root:
        policy = crowd_policy(Path(root), users, quorum)
        with served(serve_env(root, policy, slack)) as (base, _):
            samples: dict[str, list[float]] = {"baseline": [], "slash": [], "click": []}
            approvals: list[str] = []
            for _ in range(args.rounds):
                approvals.append(one_round(base, slack, users, samples))
            time.sleep(3)
        slack.stop()
        counts = check(Path(root) / "data", approvals, quorum, users)
    base50 = statistics.median(samples["baseline"])
    print(f"chat-ops ack latency: {users} people at once, {args.rounds} rounds "
          f"(server in its own process)")
    print(f"{'request':<36} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 vs base':>12}")
    for name, label in (("baseline", "GET /healthz (baseline)"),
                        ("slash", "slash command /altlas approvals"),
                        ("click", "Approve button click")):
        values = samples[name]
        print(f"{label:<36} {len(values):>5} {statistics.median(values):>8.1f} "
              f"{percentile(values, 0.99):>8.1f} {max(values):>8.1f} "
              f"{statistics.median(values) / base50:>11.1f}x")
        if name != "baseline":
            record(f"chat ack, {users} people, {label}, p99", percentile(values, 0.99), "ms",
                   "lower")
            record(f"chat ack, {users} people, {label}, p50 vs /healthz",
                   statistics.median(values) / base50, "ratio", "lower")
    print(f"votes: {counts}")
    return 0


def check(data: Path, approvals: list[str], quorum: int, users: int) -> dict[str, Any]:
    """Every click counted once: quorum votes, one grant, the rest refused and on record."""
    from altlas.bootstrap import bootstrap
    from altlas.settings import Settings

    system = bootstrap(Settings(data_dir=data, database_url=None, views_database_url=None,
                                policy_file=data.parent / "crowd.yaml"))
    lost = doubled = grants = 0
    for approval in approvals:
        records = [r for r in system.history.read() if str(r.aggregate_id) == approval]
        voters = system.app.privacy.reveal(  # events name people by pseudonym
            [r.state["voter"] for r in records if r.type_name == "ApprovalVoteCast"])
        refused = sum(r.type_name == "ApprovalAttemptRefused" for r in records)
        grants += sum(r.type_name == "ApprovalGranted" for r in records)
        doubled += len(voters) - len(set(voters))
        lost += users - len(voters) - refused
        assert system.app.get_approval(UUID(approval)).votes == voters
    system.close()
    return {"approvals": len(approvals), "grants": grants, "lost": lost,
            "double_counted": doubled, "quorum": quorum}


if __name__ == "__main__":
    sys.exit(main())
