"""The real chain: a metric rises on a node exporter, Prometheus's rule fires, the real
Alertmanager posts its webhook to altlas, and altlas shows the incident; the metric falls and
the incident resolves. All of it started by scripts/services.sh."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from testkit.fakes.asgi import UvicornThread
from testkit.fakes.slack import Call
from testkit.helpers import auth, token_policy
from testkit.slack_desk import is_card, open_desk, posted, wait

TEXTFILE = Path(os.environ.get("ALTLAS_TEST_TEXTFILE_DIR",
                               "/var/tmp/altlas-services/prometheus/textfile"))
RECEIVER_PORT = int(os.environ.get("ALTLAS_TEST_ALERT_RECEIVER_PORT", "59110"))
ALERTMANAGER = os.environ.get("ALTLAS_TEST_ALERTMANAGER", "http://127.0.0.1:59103")


def quiet_for_a_while(prometheus_url: str) -> None:
    """The hour before an incident is its baseline, and an alert left firing by an earlier
    test would be re-sent with its old start: wait until Prometheus has seen the signal quiet
    for 20 s and Alertmanager holds no alert of it."""
    signal(0)

    def quiet() -> bool:
        found = httpx.get(f"{prometheus_url}/api/v1/query", params={
            "query": "count_over_time(altlas_test_signal[20s]) >= 15 and "
                     "max_over_time(altlas_test_signal[20s]) == 0"}).json()
        alerts = httpx.get(f"{ALERTMANAGER}/api/v2/alerts", params={
            "filter": 'alertname="AltlasTestSignalHigh"'}).json()
        return bool(found["data"]["result"]) and not alerts

    until(quiet, 90)


def signal(value: float) -> None:
    """What the node exporter's textfile collector reads: written whole, then renamed."""
    part = TEXTFILE / "altlas.prom.tmp"
    part.write_text(f'altlas_test_signal{{service="web"}} {value}\n')
    part.rename(TEXTFILE / "altlas.prom")


@pytest.fixture
def served(tmp_path: Path, prometheus_url: str) -> Iterator[tuple[System, str]]:
    try:
        urllib.request.urlopen(f"{ALERTMANAGER}/-/ready", timeout=3).close()
    except OSError as e:
        pytest.fail(f"Alertmanager is not reachable at {ALERTMANAGER}: {e}\n"
                    "Start it with: scripts/services.sh up", pytrace=False)
    (tmp_path / "policy.yaml").write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", poll_interval_ms=50,
                                policy_file=tmp_path / "policy.yaml",
                                prometheus_url=prometheus_url))
    stop = threading.Event()
    worker = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
    worker.start()
    try:
        with UvicornThread(system.api(), RECEIVER_PORT) as server:
            yield system, server.url
    finally:
        signal(0)
        stop.set()
        worker.join(timeout=30)
        system.close()


def until(found: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, "not there in time"
        time.sleep(0.2)
    return value


def test_a_firing_rule_reaches_altlas_as_an_incident_and_resolves_with_it(
    served: tuple[System, str]
) -> None:
    system, url = served
    quiet_for_a_while(os.environ.get("ALTLAS_TEST_PROMETHEUS", "http://127.0.0.1:59090"))
    with httpx.Client(base_url=url, headers=auth("alice"), timeout=10) as client:
        def ours() -> list[dict[str, Any]]:
            return [i for i in client.get("/incidents", params={"status": "open"}).json()["items"]
                    if i["title"] == "AltlasTestSignalHigh on web"]

        signal(1000)  # far above anything an earlier test left in the hour
        [incident] = until(ours, 60)
        detail = until(lambda: (r := client.get(f"/incidents/{incident['id']}").json())
                       ["evidence"] and r, 30)
        [metric] = detail["evidence"]["metrics"]  # the rule's series, from real PromQL
        assert metric["query"] == "altlas_test_signal" and metric["peak"] == 1000
        assert metric["anomalous"] and metric["baseline_median"] == 0, metric
        assert "1 of 1 series out of their usual range" in detail["summary"]
        chart = client.get(f"/incidents/{incident['id'][:8]}/chart.png")
        assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
        assert chart.headers["content-type"] == "image/png"
        assert [e["event"] for e in detail["timeline"]][:2] == ["AlertReceived",
                                                                "IncidentOpened"]
        received = [r for r in system.history.read() if r.type_name == "AlertReceived"][-1]
        assert received.actor == "altlas:alertmanager"
        assert received.data["receiver"] == "altlas"
        assert received.data["annotations"]["summary"] == "the test signal of web is 1000"
        assert "altlas_test_signal" in received.data["generator_url"]
        signal(0)
        done = until(lambda: (r := client.get(f"/incidents/{incident['id']}").json())
                     ["status"] == "resolved" and r, 60)
        assert "IncidentResolved" in [e["event"] for e in done["timeline"]]


def test_the_oncall_channel_gets_one_message_with_evidence_and_the_remediations_approval(
    tmp_path: Path, prometheus_url: str
) -> None:
    """Slack's side of the same chain: the incident posted once in the on-call channel and
    rewritten with what was found and proposed (the rule's `altlas` annotation); the
    remediation's approval card beside it; the message resolved when the metric falls."""
    data = yaml.safe_load(token_policy())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(data))
    with open_desk(tmp_path / "data", tmp_path / "policy.yaml", RECEIVER_PORT,
                   prometheus_url=prometheus_url) as desk:
        quiet_for_a_while(prometheus_url)
        try:
            def in_channel(c: Any) -> bool:
                return bool(c.body.get("channel") == "C0ONCALL01")

            signal(1000)
            [message] = wait(lambda: [c for c in posted(desk, in_channel)
                                      if "AltlasTestSignalHigh on web" in c.body["text"]], 60)
            assert "🔥" in message.body["text"] and "likely cause: web" in message.body["text"]

            def now(*said: str) -> list[Call]:
                return [c for c in desk.slack.find("chat.update")
                        if c.body.get("ts") == message.body["__ts"]
                        and all(s in c.body.get("text", "") for s in said)]

            wait(lambda: now("found:", "1 of 1 series out of their usual range",
                             "proposed (the alert&#x27;s altlas annotation)")
                 or now("found:", "1 of 1 series out of their usual range",
                        "proposed (the alert's altlas annotation)"), 30)
            shared = wait(lambda: desk.slack.find("files.completeUploadExternal"), 30)
            assert shared[0].body["thread_ts"] == message.body["__ts"]  # the metric's chart
            [png] = desk.slack.uploads.values()
            assert png.startswith(b"\x89PNG")
            card = wait(lambda: [c for c in posted(desk, in_channel) if is_card(c)], 30)[0]
            assert "HIGH_RISK" in card.body["text"]  # restart nginx in prod: two approvals
            wait(lambda: now("systemctl restart nginx", "HIGH_RISK"), 30)  # its steps shown
            assert len([c for c in posted(desk, in_channel)
                        if "AltlasTestSignalHigh" in c.body.get("text", "")]) == 1
            signal(0)
            wait(lambda: now("✅", "resolved · 0 of 1 alert(s) firing"), 60)
        finally:
            signal(0)
