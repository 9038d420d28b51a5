"""A storm through the real Alertmanager in front of altlas: its grouping, repeats and resolved
notices, not a generator's idea of them.

The storm's alerts (what truly fired, and when it stopped) are played the way Prometheus sends
them — every evaluation each firing alert with `endsAt` four evaluations ahead, an ended one
with its end — into Alertmanager's API (`POST /api/v2/alerts`), time compressed `--speed`
times: a storm minute is a second at 60. Alertmanager (Debian's, started here with a config of
its own: group_by [alertname, cluster, service], group_wait 30 s, group_interval 5 min, repeat
4 h, `send_resolved: true`, all divided by the speed) posts its webhook to altlas serving on the
embedded default with a worker; the policy's windows are divided by the speed too. Then
altlas's incidents (GET /incidents' view) are scored against the storm's truth, beside
Alertmanager's own groups of what it sent and the domain correlator fed the storm's own
deliveries.

    python bench/alertmanager_storm.py [--family am_routing] [--seed 101] [--faults 8]
                                       [--every 4] [--speed 60]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altlas.bootstrap import bootstrap
from altlas.settings import Settings as Settings_
from bench.incident_storms import Grouping, by_alertmanager, by_domain, key_of, score, when
from bench.storm_server import TOKEN, grouping, storm_policy
from bench.storms import Storm, frozen, load
from domain.correlation import Settings
from testkit.fakes.asgi import UvicornThread

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
EVALUATION = timedelta(seconds=30)  # Prometheus's, in storm time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seconds(span: timedelta, speed: float) -> str:
    """A duration as Alertmanager's config takes it, divided by the speed."""
    return f"{max(round(span.total_seconds() * 1000 / speed), 50)}ms"


@contextmanager
def alertmanager(receiver: str, speed: float, workdir: Path) -> Iterator[str]:
    """Alertmanager, started from its Debian package with a config of its own."""
    if not Path(ALERTMANAGER).exists():
        raise RuntimeError(f"{ALERTMANAGER} is missing: scripts/services.sh up installs it")
    port = free_port()
    config = {
        "route": {"receiver": "altlas", "group_by": ["alertname", "cluster", "service"],
                  "group_wait": seconds(timedelta(seconds=30), speed),
                  "group_interval": seconds(timedelta(minutes=5), speed),
                  "repeat_interval": seconds(timedelta(hours=4), speed)},
        "receivers": [{"name": "altlas", "webhook_configs": [{
            "url": f"{receiver}/alerts/alertmanager", "send_resolved": True,
            "http_config": {"authorization": {"credentials": TOKEN}}}]}]}
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    (workdir / "data").mkdir()
    with open(workdir / "alertmanager.log", "wb") as log:
        process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={workdir / 'alertmanager.yml'}",
             f"--storage.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--cluster.listen-address=", "--log.level=warn",
             f"--alerts.gc-interval={seconds(timedelta(minutes=30), speed)}"],
            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("Alertmanager did not start: "
                                   + (workdir / "alertmanager.log").read_text()[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@dataclass(frozen=True)
class Played:
    """What was played: each truth occurrence's key as Alertmanager will send it."""

    keys: dict[str, str]  # the storm's key → the played occurrence's key
    took: float  # seconds


def play(storm: Storm, url: str, speed: float, stop: threading.Event | None = None) -> Played:
    """Prometheus's side: every evaluation, the alerts firing then, with `endsAt` ahead, and
    those that ended, with their end (sent for four evaluations more)."""
    alerts = storm["truth"]["alerts"]
    begin = min(when(a["startsAt"]) for a in alerts)
    finish = max(when(a["endsAt"]) if a.get("endsAt") else when(a["startsAt"]) for a in alerts)
    finish += EVALUATION * 4
    wall0 = datetime.now(UTC) + timedelta(seconds=1)

    def real(t: datetime) -> datetime:
        return wall0 + (t - begin) / speed

    keys = {key_of(a["fingerprint"], a["startsAt"]):
            key_of(a["fingerprint"], real(when(a["startsAt"])).isoformat()) for a in alerts}
    tick = EVALUATION / speed
    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        t = begin
        while t <= finish and not (stop and stop.is_set()):
            now = real(t)
            pause = (now - datetime.now(UTC)).total_seconds()
            if pause > 0:
                time.sleep(pause)
            sent = []
            for a in alerts:
                starts = when(a["startsAt"])
                ends = when(a["endsAt"]) if a.get("endsAt") else None
                if starts > t or (ends is not None and t - ends > EVALUATION * 4):
                    continue
                firing = ends is None or ends > t
                sent.append({"labels": a["labels"], "annotations": a.get("annotations", {}),
                             "startsAt": real(starts).isoformat(),
                             "endsAt": (now + tick * 4 if firing else real(ends)).isoformat(),
                             "generatorURL": "http://prometheus.example:9090/graph"})
            if sent:
                client.post(f"{url}/api/v2/alerts", json=sent).raise_for_status()
            t += EVALUATION
    return Played(keys, time.monotonic() - started)


def scaled(storm: Storm, speed: float) -> str:
    """The storm's policy with altlas's windows divided by the speed."""
    data = yaml.safe_load(storm_policy(storm))
    d = Settings()

    def secs(span: timedelta) -> str:
        return f"{max(1, round(span.total_seconds() / speed))}s"

    data["incidents"] = {"window": secs(d.window), "spread": secs(d.spread),
                         "max_length": secs(d.max_length)}
    return yaml.safe_dump(data)


def through_alertmanager(storm: Storm, speed: float
                         ) -> tuple[Grouping, Grouping, Played, int]:
    """altlas's incidents, and Alertmanager's groups of what it sent (each alert's groupKey as
    recorded in AlertReceived), keyed as the storm's truth is; and how many incidents are
    still open once Alertmanager has told every end."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "policy.yaml").write_text(scaled(storm, speed))
        system = bootstrap(Settings_(data_dir=root, policy_file=root / "policy.yaml",
                                     segmenter="rules", poll_interval_ms=50))
        stop = threading.Event()
        worker = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
        try:
            worker.start()
            with UvicornThread(system.api()) as server, alertmanager(
                    server.url, speed, root / "alertmanager") as am:
                played = play(storm, am, speed)
                time.sleep(timedelta(minutes=6).total_seconds() / speed + 1)  # its last flush
            stop.set()
            worker.join(60)
            system.worker().until_quiet()
            ours = grouping(system)
            still_open = len(system.use_cases().incidents(None, status="open", limit=100_000))
            received = [r for r in system.history.read(limit=10_000_000)
                        if r.type_name == "AlertReceived"]
        finally:
            stop.set()
            system.close()
    back = {v: k for k, v in played.keys.items()}
    mine = Grouping({back[k]: i for k, i in ours.member.items() if k in back}, ours.cause)
    groups = by_alertmanager({"deliveries": [{"payload": {
        "groupKey": r.data["group_key"], "alerts": [{
            "fingerprint": r.data["fingerprint"], "startsAt": r.data["starts_at"],
            "labels": r.data["labels"]}]}} for r in received]})
    theirs = Grouping({back[k]: g for k, g in groups.member.items() if k in back},
                      groups.cause)
    return mine, theirs, played, still_open


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="am_routing")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--faults", type=int, default=8)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--speed", type=float, default=60)
    args = parser.parse_args()
    [entry] = [e for e in frozen("test") + frozen("dev") if (
        e["family"], e["seed"], e["faults"], e["every"]) == (
        args.family, args.seed, args.faults, args.every)]
    storm = load(entry)
    mine, theirs, played, still_open = through_alertmanager(storm, args.speed)
    window = Settings().window
    truth_only = {**storm, "truth": {**storm["truth"], "alerts": [
        a for a in storm["truth"]["alerts"] if key_of(a["fingerprint"], a["startsAt"]) in
        mine.member]}}
    print(f"{args.family} seed {args.seed}, {args.faults} faults every {args.every:g} min, "
          f"played {args.speed:g}× faster in {played.took:.0f} s; "
          f"{len(mine.member)} of {len(storm['truth']['alerts'])} occurrences reached altlas; "
          f"{still_open} incident(s) still open once every end was told")
    print(f"{'grouping':<52} {'P':>5} {'R':>5} {'F1':>5} {'root@1':>6} {'inc':>4}")
    for label, found in (("altlas behind the real Alertmanager", mine),
                         ("the real Alertmanager's groups", theirs),
                         ("altlas's domain correlator, the generated deliveries",
                          by_domain(storm, Settings()))):
        s = score(truth_only, replace(found, member={
            k: v for k, v in found.member.items() if k in mine.member}), window)
        print(f"{label:<52} {s.precision:>5.2f} {s.recall:>5.2f} {s.f1:>5.2f} "
              f"{s.root:>6.2f} {s.incidents:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
