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

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from tests.fakes.asgi import UvicornThread
from tests.helpers import auth, token_policy

TEXTFILE = Path(os.environ.get("ALTLAS_TEST_TEXTFILE_DIR",
                               "/var/tmp/altlas-services/prometheus/textfile"))
RECEIVER_PORT = int(os.environ.get("ALTLAS_TEST_ALERT_RECEIVER_PORT", "59110"))
ALERTMANAGER = os.environ.get("ALTLAS_TEST_ALERTMANAGER", "http://127.0.0.1:59103")


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
    with httpx.Client(base_url=url, headers=auth("alice"), timeout=10) as client:
        def ours() -> list[dict[str, Any]]:
            return [i for i in client.get("/incidents", params={"status": "open"}).json()
                    if i["title"] == "AltlasTestSignalHigh on web"]

        signal(3)
        [incident] = until(ours, 60)
        detail = until(lambda: (r := client.get(f"/incidents/{incident['id']}").json())
                       ["evidence"] and r, 30)
        [metric] = detail["evidence"]["metrics"]  # the rule's series, from real PromQL
        assert metric["query"] == "altlas_test_signal" and metric["peak"] == 3
        assert metric["anomalous"] and metric["baseline_median"] == 0
        assert "1 of 1 series out of their usual range" in detail["summary"]
        assert [e["event"] for e in detail["timeline"]][:2] == ["AlertReceived",
                                                                "IncidentOpened"]
        received = [r for r in system.history.read() if r.type_name == "AlertReceived"][-1]
        assert received.actor == "altlas:alertmanager"
        assert received.data["receiver"] == "altlas"
        assert received.data["annotations"]["summary"] == "the test signal of web is 3"
        assert "altlas_test_signal" in received.data["generator_url"]
        signal(0)
        done = until(lambda: (r := client.get(f"/incidents/{incident['id']}").json())
                     ["status"] == "resolved" and r, 60)
        assert done["timeline"][-1]["event"] == "IncidentResolved"
