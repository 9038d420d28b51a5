"""A storm: 2,000 alerts within one minute through the webhook, Slack rate-limiting the
front meanwhile. Every alert is recorded, none lost; each incident gets one message in the
on-call channel, never one per alert. (bench/alert_ingest.py sends 5,000 and measures the rate.)"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from testkit.helpers import ALERTMANAGER_TOKEN, token_policy
from testkit.slack_desk import open_desk, posted, wait

pytestmark = pytest.mark.long(40)  # seconds, about

SERVICES = 50
ALERTS = 2000
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def storm_policy(path: Path) -> Path:
    """Fifty services on two prod hosts each; the last forty depend on one of the first ten."""
    data = yaml.safe_load(token_policy())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    for i in range(SERVICES):
        for h in (1, 2):
            data["hosts"][f"s{i}-h{h}"] = {"env": "prod"}
    data["services"] = {f"s{i}": {"hosts": [f"s{i}-h1", f"s{i}-h2"],
                                  **({"depends_on": [f"s{i % 10}"]} if i >= 10 else {})}
                        for i in range(SERVICES)}
    path.write_text(yaml.safe_dump(data))
    return path


def alerts(rng: random.Random) -> list[dict[str, Any]]:
    found = []
    for n in range(ALERTS):
        service = rng.randrange(SERVICES)
        found.append({
            "status": "firing",
            "labels": {"alertname": f"Symptom{n % 37}", "instance": f"s{service}-h{1 + n % 2}:9100",
                       "job": f"s{service}-app"},
            "annotations": {"summary": f"symptom {n % 37} on s{service}"},
            "startsAt": (T0 + timedelta(seconds=60 * n / ALERTS)).isoformat(),
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
            "fingerprint": f"{n:016x}"})
    return found


def test_a_storm_is_recorded_whole_and_told_once_per_incident(tmp_path: Path) -> None:
    policy = storm_policy(tmp_path / "policy.yaml")
    with open_desk(tmp_path / "data", policy) as desk:
        desk.slack.rate_limited["chat.postMessage"] = 3  # Slack pushes back meanwhile
        sent = alerts(random.Random(5))

        with httpx.Client(base_url=desk.url, timeout=30, headers={
                "Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}) as client:
            for i in range(0, ALERTS, 50):
                answer = client.post("/alerts/alertmanager", json={
                    "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0,
                    "status": "firing", "receiver": "altlas", "groupLabels": {},
                    "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
                    "alerts": sent[i:i + 50]})
                assert answer.status_code == 200 and answer.json()["received"] == 50
        uc = desk.system.use_cases()

        def settled() -> list[dict[str, Any]] | None:
            found = uc.incidents(None, status=None, limit=10_000)
            alerted = sum(len(i["alerts"]) for i in found if i["status"] != "merged")
            return found if alerted == ALERTS else None

        incidents = wait(settled, 240)
  # every alert in exactly one live incident
        received = [r for r in desk.system.history.read(limit=100_000)
                    if r.type_name == "AlertReceived"]
        assert len(received) == ALERTS  # recorded whole, none twice

        def told() -> Counter[str] | None:
            said = Counter(m.group(1) for c in posted(desk)
                           if c.body.get("channel") == "C0ONCALL01" and "__ts" in c.body
                           and (m := re.search(r" ([0-9a-f]{8}) \S+ on s\d+ · ",
                                               c.body.get("text", ""))))
            return said if len(said) == len(incidents) else None

        said = wait(told, 240)

        assert set(said.values()) == {1}  # one message per incident, however many alerts
        assert len(incidents) < ALERTS / 20  # compressed: incidents, not alerts
        assert desk.slack.rate_limited["chat.postMessage"] == 0  # the 429s were met, and
        # what they held back was posted afterwards (above: every incident has its message)
