"""How soon the on-call channel hears of an incident: from Alertmanager's webhook post to the
incident's message in Slack, to that message rewritten with what enrichment found (real
PromQL against the test Prometheus, the template summary), and to it carrying the Approve /
Deny buttons of its remediation (the alert's `altlas` annotation, planned and gated).
Baseline in the same run: the webhook's own answer (the alert recorded).

Slack is the stand-in of the tests (its Web API on loopback, answering as Slack does); altlas
runs as `altlas serve` does on the embedded default: the Slack front, a worker, the follower.

    python bench/incident_response.py [--incidents 20] [--prometheus URL]
        [--summary template|model] [--model qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testkit.helpers import ALERTMANAGER_TOKEN, token_policy
from testkit.slack_desk import open_desk

CHANNEL = "C0ONCALL01"


def wait_for(found: object, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while not found():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the incident's message")
        time.sleep(0.005)
    return time.perf_counter()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--prometheus", default=os.environ.get("ALTLAS_TEST_PROMETHEUS",
                                                               "http://127.0.0.1:59090"))
    parser.add_argument("--summary", choices=["template", "model"], default="template")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b",
                        help="the local model that writes summaries with --summary model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = yaml.safe_load(token_policy())
        data["environments"]["prod"]["oncall_channels"] = {"slack": CHANNEL}
        (root / "policy.yaml").write_text(yaml.safe_dump(data))
        answered, posted, enriched, votable = [], [], [], []
        with open_desk(root / "data", root / "policy.yaml", prometheus_url=args.prometheus,
                       incident_summary=args.summary, local_model=args.model) as desk, httpx.Client(
                base_url=desk.url, headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
                timeout=30) as client:
            now = datetime.now(UTC)
            for n in range(args.incidents):
                starts = now - timedelta(hours=args.incidents - n)  # far apart: one each
                name = f"BenchAlert{n}"
                url = ("http://127.0.0.1:59090/graph?g0.expr="
                       "node_load1+%3E+100&g0.tab=1")
                sent = time.perf_counter()
                client.post("/alerts/alertmanager", json={
                    "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0,
                    "status": "firing", "receiver": "altlas", "groupLabels": {},
                    "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
                    "alerts": [{"status": "firing", "labels": {
                        "alertname": name, "instance": "web-1:9100", "service": "web"},
                        "annotations": {"summary": "bench", "altlas": "restart nginx on web-1"},
                        "startsAt": starts.isoformat(),
                        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": url,
                        "fingerprint": f"{n:016x}"}]}).raise_for_status()
                answered.append(time.perf_counter() - sent)

                def message(name: str = name) -> list[object]:
                    return [c for c in desk.slack.find("chat.postMessage")
                            if c.body.get("channel") == CHANNEL and "__ts" in c.body
                            and f"{name} on web" in c.body.get("text", "")]

                posted.append(wait_for(message) - sent)

                def found(name: str = name) -> list[object]:
                    return [c for c in desk.slack.find("chat.update")
                            if f"{name} on web" in c.body.get("text", "")
                            and "found:" in c.body.get("text", "")]

                enriched.append(wait_for(found, 120) - sent)

                def buttons(name: str = name) -> list[object]:
                    return [c for c in desk.slack.find("chat.update")
                            if f"{name} on web" in c.body.get("text", "")
                            and "Approve s1" in str(c.body.get("blocks"))]

                votable.append(wait_for(buttons, 120) - sent)
    writer = "the template" if args.summary == "template" else f"the local {args.model}"
    print(f"incident response: {args.incidents} incidents, one alert each, Prometheus "
          f"{args.prometheus}, the summary by {writer}")
    print(f"{'from the webhook post to':<44} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for label, times in (("its answer (recorded; baseline)", answered),
                         ("the incident's message in Slack", posted),
                         ("the message with the evidence", enriched),
                         ("the message with Approve / Deny", votable)):
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{label:<44} {statistics.median(times):>7.3f} {p95:>7.3f} {max(times):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
