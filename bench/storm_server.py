"""A storm through the whole of altlas: its deliveries posted to POST /alerts/alertmanager of a
real server (uvicorn over a socket), a worker correlating them through the events, and the
incidents read back from the view GET /incidents serves."""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from bench.incident_storms import Grouping
from bench.storms import Storm
from testkit.fakes.asgi import UvicornThread

TOKEN = "bench-alertmanager-token"


def storm_policy(storm: Storm) -> str:
    """The default policy told the storm's hosts and services, and Alertmanager's token."""
    data = yaml.safe_load(default_policy_text())
    data["hosts"].update(storm["policy"]["hosts"])
    data["services"] = storm["policy"]["services"]
    data["alertmanager"] = {"bearer_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}
    return yaml.safe_dump(data)


def open_system(root: Path, storm: Storm, database_url: str | None) -> System:
    (root / "policy.yaml").write_text(storm_policy(storm))
    schema = f"?schema=storm_{int(time.time() * 1000)}" if database_url else ""
    return bootstrap(Settings(
        data_dir=root, policy_file=root / "policy.yaml", segmenter="rules",
        database_url=database_url + schema if database_url else None,
        views_database_url=database_url + schema + "v" if database_url else None))


def post(url: str, storm: Storm) -> dict[str, int]:
    """Every delivery, in order, as Alertmanager's webhook; what altlas answered, summed."""
    counts: dict[str, int] = {}
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        for delivery in storm["deliveries"]:
            answer = client.post(f"{url}/alerts/alertmanager", json=delivery["payload"])
            answer.raise_for_status()
            for k, v in answer.json().items():
                counts[k] = counts.get(k, 0) + v
    return counts


def grouping(system: System) -> Grouping:
    """Each occurrence's incident (a merged one's is the one it merged into, followed to the
    end), and each incident's likeliest cause, from the incidents view."""
    system.store_feed().catch_up()
    rows = system.use_cases().incidents(None, status=None, limit=1_000_000)
    into = {r["id"]: r["merged_into"] for r in rows if r["merged_into"]}

    def final(ident: str) -> str:
        while ident in into:
            ident = into[ident]
        return ident

    member = {a["alert_id"]: final(r["id"]) for r in rows for a in r["alerts"]}
    cause: dict[str, Any] = {r["id"]: r["root_causes"][0]["component"]
                             for r in rows if r["root_causes"]}
    return Grouping(member, cause)


def replay_through_http(storm: Storm, database_url: str | None) -> Grouping:
    with tempfile.TemporaryDirectory() as tmp:
        system = open_system(Path(tmp), storm, database_url)
        try:
            with UvicornThread(system.api()) as server:
                post(server.url, storm)
            system.worker().until_quiet()
            return grouping(system)
        finally:
            system.close()
