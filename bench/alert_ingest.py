"""Alertmanager's webhook under a storm: alerts/s recorded through HTTP, against recording the
same alerts by calling the application directly (no HTTP) in the same run; then how fast the
`incidents` lane correlates what was recorded, and whether it groups as the domain correlator
does on its own.

The storm is bench/correlation.py's (seed 1001, the one the correlator was not tuned on); its
topology goes into the policy (hosts and services). Alerts go as Alertmanager sends them: in
webhook posts of ``--group`` alerts, firing and resolved, in time order, over real sockets to
uvicorn, on the embedded default (SQLite) or on PostgreSQL with --database-url.

    python bench/alert_ingest.py [--alerts 5000] [--group 25] [--database-url URL]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import socket
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from bench.correlation import Event, correlate, storm
from bench.figures import record
from domain.alerts import IncomingAlert

TOKEN = "bench-alertmanager-token"


def policy(topology_services: list[Any]) -> str:
    data = yaml.safe_load(default_policy_text())
    for s in topology_services:
        for host in s.hosts:
            data["hosts"][host] = {"env": "prod"}
    data["services"] = {s.name: {"hosts": list(s.hosts), "depends_on": list(s.depends_on),
                                 **({"cluster": s.cluster} if s.cluster else {})}
                        for s in topology_services}
    data["alertmanager"] = {"bearer_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}
    return yaml.safe_dump(data)


def alert_json(e: Event, starts: dict[str, str]) -> dict[str, Any]:
    if e.alert is not None:
        starts[e.fingerprint] = e.at.isoformat()
        labels, annotations = dict(e.alert.labels), dict(e.alert.annotations)
        return {"status": "firing", "labels": labels, "annotations": annotations,
                "startsAt": starts[e.fingerprint], "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph", "fingerprint": _fp(e)}
    return {"status": "resolved", "labels": {"alertname": e.fingerprint.split(":")[-1]},
            "annotations": {}, "startsAt": starts[e.fingerprint], "endsAt": e.at.isoformat(),
            "generatorURL": "", "fingerprint": _fp(e)}


def _fp(e: Event) -> str:
    return hashlib.sha256(e.fingerprint.encode()).hexdigest()[:16]


def incoming(e: Event, starts: dict[str, str]) -> IncomingAlert:
    body = alert_json(e, starts)
    return IncomingAlert(body["fingerprint"], body["labels"], body["annotations"],
                         datetime.fromisoformat(body["startsAt"]),
                         None if e.alert is not None else e.at, {},
                         resolved=e.alert is None)


def open_system(root: Path, name: str, text: str, url: str | None) -> System:
    (root / name).mkdir()
    (root / name / "policy.yaml").write_text(text)
    schema = f"?schema=bench_{name}_{int(time.time())}" if url else ""
    return bootstrap(Settings(data_dir=root / name, policy_file=root / name / "policy.yaml",
                              segmenter="rules", wakeup=False,
                              database_url=url + schema if url else None,
                              views_database_url=url + schema + "v" if url else None))


def through_http(system: System, events: list[Event], group: int) -> float:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(system.api(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    starts: dict[str, str] = {}
    posts = [[alert_json(e, starts) for e in events[i:i + group]]
             for i in range(0, len(events), group)]
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/alerts/alertmanager"
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        started = time.perf_counter()
        for alerts in posts:
            answer = client.post(url, json={
                "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
                "receiver": "altlas", "groupLabels": {}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
                "alerts": alerts})
            answer.raise_for_status()
        took = time.perf_counter() - started
    server.should_exit = True
    thread.join(10)
    return took


def directly(system: System, events: list[Event]) -> float:
    starts: dict[str, str] = {}
    sent = [incoming(e, starts) for e in events]
    started = time.perf_counter()
    for alert in sent:
        system.app.receive_alert(alert)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--group", type=int, default=25, help="alerts per webhook post")
    parser.add_argument("--seed", type=int, default=1001)
    parser.add_argument("--database-url", help="PostgreSQL (default: the embedded SQLite)")
    args = parser.parse_args()
    topo, events, _ = storm(random.Random(args.seed), args.alerts, 30)
    correlator, _, _ = correlate(topo, events)
    expected = len({c for c in correlator.incidents})
    text = policy(list(topo.services.values()))
    store = "PostgreSQL" if args.database_url else "SQLite"
    print(f"alert ingest: {len(events):,} alerts ({args.alerts:,} firings and their "
          f"resolutions) of seed {args.seed}, {args.group} per post, {store}")
    print(f"{'path':<44} {'seconds':>8} {'alerts/s':>9} {'vs direct':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        direct_system = open_system(root, "direct", text, args.database_url)
        direct = directly(direct_system, events)
        direct_system.close()
        system = open_system(root, "http", text, args.database_url)
        http = through_http(system, events, args.group)
        started = time.perf_counter()
        system.worker().until_quiet()
        lane = time.perf_counter() - started
        system.store_feed().catch_up()
        found = system.use_cases().incidents(None, status=None, limit=100_000)
        system.close()
    rows = (("recorded by the application (baseline)", direct),
            ("recorded through POST /alerts/alertmanager", http),
            ("correlated and enriched (both lanes)", lane))
    for label, seconds in rows:
        print(f"{label:<44} {seconds:>8.2f} {len(events) / seconds:>9,.0f} "
              f"{direct / seconds:>8.2f}×")
        if seconds is not direct:
            record(f"alert ingest, {store}: {label}", len(events) / seconds, "alerts/s",
                   "higher")
    kept = [i for i in found if i["status"] != "merged"]
    print(f"incidents: {len(kept):,} through the lane (and {len(found) - len(kept):,} merged "
          f"into them), {expected:,} by the domain correlator alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
