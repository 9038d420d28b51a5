"""The HTTP API over the real application, with a worker running beside it as in `altlas
serve`: bearer tokens, one access check, requests planned and run, votes that move runs on."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from testkit.helpers import (
    ALERTMANAGER_PASSWORD,
    ALERTMANAGER_TOKEN,
    auth,
    plan,
    step,
    token_policy,
    verified_over_http,
    write_gguf,
)

GATED = "check disk and load on the altlas host, then set its maintenance flag"


@dataclass
class Served:
    client: TestClient
    system: System

    def until(self, found: Callable[[], Any], timeout: float = 20) -> Any:
        """What the worker does happens after the API answered: wait for it to show."""
        deadline = time.monotonic() + timeout
        while not (value := found()):
            assert time.monotonic() < deadline, "the worker did not get there in time"
            time.sleep(0.05)
        return value


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", policy_file=policy,
                                poll_interval_ms=50))
    stop = threading.Event()
    worker = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
    worker.start()
    with TestClient(system.api()) as c:
        yield Served(c, system)
    stop.set()
    worker.join(timeout=30)
    system.close()


@pytest.fixture
def client(served: Served) -> TestClient:
    return served.client


def _events(client: TestClient) -> int:
    return int(client.get("/healthz").json()["last_position"])


def _run_of(served: Served, task_id: str) -> dict[str, Any] | None:
    task = served.client.get(f"/tasks/{task_id}", headers=auth("erin")).json()
    if task["status"] != "segmented":
        return None
    runs = served.client.get("/runs", params={"requester": task["requester"]},
                             headers=auth("erin")).json()["items"]
    mine = [r for r in runs if r["task_id"] == task_id]
    if not mine:
        return None
    found: dict[str, Any] = served.client.get(f"/runs/{mine[0]['run_id']}",
                                              headers=auth("erin")).json()
    return found


def _gated(served: Served) -> tuple[str, str, str]:
    """deniz asks in words; altlas plans it and runs it as far as its approval."""
    r = served.client.post("/tasks", json={"request": GATED, "environment": "prod"},
                           headers=auth("deniz"))
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    run = served.until(lambda: (found := _run_of(served, task_id)) and all(
        (s["status"] != "running" and s["status"] != "pending") or s["approval_id"]
        for s in found["steps"]) and found)
    approval_id = next(s["approval_id"] for s in run["steps"] if s["approval_id"])
    return task_id, run["id"], approval_id


def test_a_request_is_planned_and_run_and_a_vote_moves_it_on(served: Served) -> None:
    client = served.client
    _, run_id, approval_id = _gated(served)
    run = client.get(f"/runs/{run_id}", headers=auth("alice")).json()
    assert [s["status"] for s in run["steps"]] == ["succeeded", "succeeded", "pending"]
    vote = client.post(f"/approvals/{approval_id}/votes", headers=auth("alice")).json()
    assert vote["remaining"] == 1 and vote["votes"] == ["alice"]
    assert client.post(f"/approvals/{approval_id[:8]}/votes", headers=auth("bob")).json()[
        "status"] == "granted"
    done = served.until(lambda: client.get(f"/runs/{run_id}", headers=auth("erin")).json()[
        "outcome"])  # nobody calls anything else: the grant moved the run on
    assert done == "succeeded"
    events = client.get("/events", params={"limit": 1000}, headers=auth("erin")).json()["items"]
    assert events[-1]["type"] == "RunCompleted"
    assert all(e["prevhash"] and len(e["hash"]) == 64 for e in events)
    voters = [e["actor"] for e in events if e["type"] == "ApprovalVoteCast"]
    assert voters == [served.system.app.privacy.find(p) for p in ("alice", "bob")]  # pseudonyms
    timeline = client.get("/timeline", params={"type": "ApprovalVoteCast"},
                          headers=auth("erin")).json()["items"]
    assert [e["actor"] for e in timeline] == ["alice", "bob"]  # as people read them


def test_health_and_openapi_schema_need_no_token(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 1
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert "/approvals/{approval_id}/votes" in paths and "/commands" in paths
    for path, methods in paths.items():
        for method, route in methods.items():
            assert route.get("description") or route.get("summary"), f"{method} {path}"
            assert route.get("description"), f"{method} {path} has no description"
    run = paths["/runs/{run_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert run["schema"] == {"$ref": "#/components/schemas/RunView"}
    assert "StepView" in schema["components"]["schemas"]


def test_requests_without_a_known_token_are_refused(client: TestClient) -> None:
    none = client.post("/tasks", json={"request": "check disk on web-1"})
    wrong = client.post("/tasks", json={"request": "check disk on web-1"},
                        headers={"Authorization": "Bearer nope"})
    assert (none.status_code, none.json()["error"]) == (401, "unauthenticated")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "unknown_token")
    assert none.headers["WWW-Authenticate"] == "Bearer"
    assert _events(client) == 0


def test_each_endpoint_checks_roles(served: Served) -> None:
    client = served.client
    r = client.post("/tasks", json={"request": "check disk on web-1"}, headers=auth("ivy"))
    assert (r.status_code, r.json()) == (403, {
        "error": "forbidden", "message": "ivy may not ask for work: that needs the requester role"
                   ", which an admin gives in the policy (people → roles)."})
    task_id, run_id, approval_id = _gated(served)
    assert client.post(f"/tasks/{task_id}/runs", headers=auth("deniz")).status_code == 403
    assert client.post(f"/runs/{run_id}/steps/s3/started",
                       headers=auth("deniz")).status_code == 403
    assert client.get("/audit/verify", headers=auth("erin")).status_code == 403
    assert verified_over_http(client, auth("ivy"))["ok"] is True
    other = client.post(f"/approvals/{approval_id}/cancellation", json={"reason": "mine now"},
                        headers=auth("erin"))
    assert other.status_code == 403 and "only deniz" in other.json()["message"]


@pytest.mark.parametrize(
    ("voter", "status", "error"),
    [("erin", 403, "not_eligible"), ("deniz", 403, "requester_cannot_approve")],
)
def test_refused_vote_is_a_json_error_on_the_record_and_changes_nothing(
    served: Served, voter: str, status: int, error: str
) -> None:
    client = served.client
    _, _, approval_id = _gated(served)
    r = client.post(f"/approvals/{approval_id}/votes", headers=auth(voter))
    assert (r.status_code, r.json()["error"]) == (status, error)
    assert voter in r.json()["message"]
    approval = client.get(f"/approvals/{approval_id}", headers=auth("erin")).json()
    assert approval["votes"] == [] and approval["status"] == "open"
    refused = client.get("/timeline", params={"type": "ApprovalAttemptRefused"},
                         headers=auth("erin")).json()["items"]
    assert [(e["data"]["by"], e["aggregate_id"]) for e in refused] == [(voter, approval_id)]


def test_second_vote_is_a_conflict(served: Served) -> None:
    _, _, approval_id = _gated(served)
    served.client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    r = served.client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    assert (r.status_code, r.json()["error"]) == (409, "duplicate_vote")


def test_unknown_malformed_and_ambiguous_ids(served: Served) -> None:
    client = served.client
    missing = uuid4()
    r = client.get(f"/approvals/{missing}", headers=auth("erin"))
    assert (r.status_code, r.json()) == (404, {"error": "not_found",
                                               "message": f"no approval with id {missing}"})
    assert client.get("/tasks/not-an-id", headers=auth("erin")).status_code == 404
    task_id, _, _ = _gated(served)
    assert client.get(f"/tasks/{task_id[:8]}", headers=auth("erin")).json()["id"] == task_id
    bad_cursor = client.get("/tasks", params={"cursor": "yesterday"}, headers=auth("erin"))
    assert (bad_cursor.status_code, bad_cursor.json()["error"]) == (422, "bad_cursor")


def test_listings_filter_and_page(served: Served) -> None:
    client = served.client
    for text in ("check disk on the altlas host", "check load on the altlas host",
                 "make everything faster"):
        client.post("/tasks", json={"request": text}, headers=auth("erin"))
    client.post("/tasks", json={"request": "check memory on the altlas host"},
                headers=auth("deniz"))
    served.until(lambda: len(client.get("/runs", params={"status": "succeeded"},
                                        headers=auth("erin")).json()["items"]) == 3)
    first = client.get("/tasks", params={"requester": "erin", "limit": 2},
                       headers=auth("erin")).json()
    assert [t["request"] for t in first["items"]] == ["make everything faster",
                                                      "check load on the altlas host"]
    rest = client.get("/tasks", params={"requester": "erin", "limit": 2,
                                        "cursor": first["next"]}, headers=auth("erin")).json()
    assert [t["request"] for t in rest["items"]] == ["check disk on the altlas host"]
    assert rest["next"] is None
    rejected = client.get("/tasks", params={"status": "rejected"}, headers=auth("erin")).json()
    assert [t["request"] for t in rejected["items"]] == ["make everything faster"]
    mine = client.get("/runs", params={"requester": "deniz"}, headers=auth("erin")).json()
    assert [r["outcome"] for r in mine["items"]] == ["succeeded"]


def test_listings_as_of_a_time_show_what_was_true_then(served: Served) -> None:
    client = served.client
    _, run_id, approval_id = _gated(served)
    between = client.get("/timeline", params={"limit": 1000},
                         headers=auth("erin")).json()["items"][-1]["time"]  # before anyone voted
    client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    client.post(f"/approvals/{approval_id}/votes", headers=auth("bob"))
    served.until(lambda: client.get(f"/runs/{run_id}", headers=auth("erin")).json()["outcome"])
    then = client.get("/runs", params={"as_of": between}, headers=auth("erin")).json()
    assert [(r["run_id"], r["status"]) for r in then["items"]] == [(run_id, "running")]
    queue = client.get("/approvals", params={"as_of": between}, headers=auth("erin")).json()
    assert [(a["approval_id"], a["votes"]) for a in queue["items"]] == [(approval_id, [])]
    now = client.get("/runs", headers=auth("erin")).json()
    assert now["items"][0]["outcome"] == "succeeded"
    # an auditor asks in chat what was true then, and is told, not given a file path
    said = client.post("/commands", json={"text": f"audit replay --until {between}"},
                       headers=auth("alice")).json()["text"].splitlines()
    assert said[0].startswith(f"As of {between[:26]}") and "(8 events)" in said[0]
    assert said[1].startswith(f"• approval {approval_id[:8]} open: HIGH_RISK in prod, step s3, "
                              "approved by - of 2 needed")
    assert said[2].startswith(f"• run {run_id[:8]} running")
    then = client.post("/commands", json={"text": f"audit replay --until {between}"},
                       headers=auth("erin")).json()
    assert "needs the auditor role" in then["text"]


def test_a_plan_needing_a_step_it_lacks_is_409_with_its_json_path(served: Served) -> None:
    client = served.client
    task_id = client.post("/tasks", json={"request": "make everything faster"},
                          headers=auth("deniz")).json()["id"]
    served.until(lambda: client.get(f"/tasks/{task_id}", headers=auth("deniz")).json()[
        "status"] == "rejected")
    before = _events(client)
    r = client.post(f"/tasks/{task_id}/segmentation", headers=auth("deniz"), json={
        "plan": plan(step("a", kind="ssh", action="uptime", target="web-1", needs=["b"]))})
    assert r.status_code == 409  # well formed, as the schema says: the steps do not fit
    assert r.json() == {"error": "steps_conflict",
                        "message": "$.steps[0].needs[0]: unknown step 'b'"}
    assert _events(client) == before


def test_only_the_requester_records_a_plan_for_a_task(served: Served) -> None:
    client = served.client
    task_id = client.post("/tasks", json={"request": "make everything faster"},
                          headers=auth("deniz")).json()["id"]
    r = client.post(f"/tasks/{task_id}/segmentation", headers=auth("erin"),
                    json={"plan": plan(step("a"))})
    assert (r.status_code, r.json()["error"]) == (403, "not_owner")


def test_empty_request_is_422(client: TestClient) -> None:
    r = client.post("/tasks", json={"request": "  "}, headers=auth("deniz"))
    assert (r.status_code, r.json()["error"]) == (422, "empty_request")


def test_chat_commands_over_http_speak_the_persons_language(served: Served) -> None:
    client = served.client
    english = client.post("/commands", json={"text": "do check disk on the altlas host"},
                          headers=auth("erin")).json()
    assert english["text"] == "On it: planning “check disk on the altlas host”…"
    task_id = english["task_id"]
    run = served.until(lambda: (found := _run_of(served, task_id)) and found["outcome"]
                       and found)
    assert run["outcome"] == "succeeded"
    turkish = client.post("/commands", json={"text": "approvals"}, headers=auth("deniz"))
    assert turkish.json()["text"] == "Onayınızı bekleyen bir şey yok."
    usage = client.post("/commands", json={"text": "deny abc"}, headers=auth("bob")).json()
    assert usage["text"] == "Usage: deny <approval id> <reason>"


def test_audit_endpoints(served: Served, tmp_path: Path) -> None:
    client = served.client
    _, _, approval_id = _gated(served)
    client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    recorded = _events(client)
    started = client.get("/audit/verify", headers=auth("alice"))
    assert started.status_code == 202 and started.json()["status"] in ("running", "done")
    job = started.headers["Location"]
    assert job == f"/audit/jobs/{started.json()['id']}"
    deadline = time.monotonic() + 30
    while (verify := client.get(job, headers=auth("alice")).json())["status"] == "running":
        assert time.monotonic() < deadline, verify
        time.sleep(0.05)
    assert verify["status"] == "done" and verify["checked"] == verify["total"] == recorded
    assert verify["result"]["ok"] is True
    assert verify["result"]["reports"][0]["events"] == recorded
    assert client.get(job, headers=auth("erin")).status_code == 403  # not an auditor
    assert client.get("/audit/jobs/nope", headers=auth("alice")).status_code == 404
    lines = client.get("/audit/export", headers=auth("alice")).text.splitlines()
    assert len(lines) == recorded
    assert '"type":"altlas.approval.ApprovalVoteCast"' in lines[-1]
    queue = client.get("/approvals", headers=auth("erin")).json()["items"]
    assert queue[0]["votes"] == ["alice"] and queue[0]["remaining"] == 1
    timeline = client.get("/timeline", params={"actor": "alice"},
                          headers=auth("erin")).json()["items"]
    assert [e["type"] for e in timeline] == ["ApprovalVoteCast"]
    before_vote = timeline[0]["time"].replace("+00:00", "")  # a time without zone = UTC
    target = f"sqlite:///{tmp_path / 'past.sqlite3'}"
    # a replay writes into a database the caller names: admins only, and never the live
    # views (tests/security/test_replay_targets.py); an auditor reads the past with as_of
    replayed = client.post("/audit/replay", json={"until": before_vote, "into": target},
                           headers=auth("alice"))
    assert (replayed.status_code, replayed.json()["error"]) == (403, "forbidden")
    assert not (tmp_path / "past.sqlite3").exists()
    assert f"altlas_events_appended_total {recorded}.0" in client.get("/metrics").text


def test_audit_and_event_reads_answer_bad_input_with_a_json_error(client: TestClient) -> None:
    no_kafka = client.get("/audit/verify", params={"kafka": "true"}, headers=auth("alice"))
    assert (no_kafka.status_code, no_kafka.json()["error"]) == (409, "kafka_not_configured")
    assert "ALTLAS_KAFKA_BOOTSTRAP_SERVERS" in no_kafka.json()["message"]
    for after in (2**63, -1, "soon"):
        r = client.get("/events", params={"after": after}, headers=auth("alice"))
        assert (r.status_code, r.json()["error"]) == (422, "invalid_input")
        assert r.json()["message"].startswith("query.after: ")
    assert client.get("/events", params={"after": 2**63 - 1},
                      headers=auth("alice")).json() == {"items": [], "next": None}


def test_a_request_naming_an_unknown_host_is_asked_back_and_answered_over_http(
    served: Served
) -> None:
    client = served.client
    r = client.post("/tasks", json={"request": "check disk on web-9", "environment": "prod"},
                    headers=auth("deniz"))
    task_id = r.json()["id"]
    asked = served.until(lambda: (t := client.get(f"/tasks/{task_id}", headers=auth("deniz"))
                                  .json())["status"] == "asking" and t)
    assert asked["question"]["about"] == "host" and asked["question"]["part"] == "web-9"
    assert asked["question"]["choices"] == ["web-1", "web-2"]
    before = _events(client)
    refusals = [("alice", {"answer": "web-1"}, 403), ("deniz", {"answer": "db-1"}, 422),
                ("deniz", {"answer": ""}, 422), ("deniz", {}, 422)]
    for who, body, status in refusals:
        refused = client.post(f"/tasks/{task_id}/answer", json=body, headers=auth(who))
        assert refused.status_code == status, refused.text
    assert _events(client) == before  # nothing recorded for a refused answer
    answered = client.post(f"/tasks/{task_id}/answer", json={"answer": "web-1"},
                           headers=auth("deniz"))
    assert answered.status_code == 200 and answered.json()["answers"][0]["host"] == "web-1"
    planned = served.until(lambda: (t := client.get(f"/tasks/{task_id}", headers=auth("deniz"))
                                    .json())["status"] == "segmented" and t)
    assert [(s["action"], s["target"]) for s in planned["plan"]["steps"]] == [
        ("df -h", "web-1")]
    again = client.post(f"/tasks/{task_id}/answer", json={"answer": "web-2"},
                        headers=auth("deniz"))
    assert again.status_code == 409


def test_the_atlas_over_http_learns_from_a_run_and_finds_it_by_meaning(served: Served) -> None:
    client = served.client
    assert client.get("/atlas", headers=auth("alice")).json() == {"items": [], "next": None}
    asked = client.post("/tasks", json={"request": "check disk usage on the altlas host"},
                        headers=auth("deniz"))
    assert asked.status_code == 201
    found = served.until(lambda: client.get("/atlas?q=disk",
                                            headers=auth("alice")).json()["items"])
    assert [(p["pattern"], p["runs"], p["successes"]) for p in found] == [("local:disk", 1, 1)]
    assert found[0]["requests"] == ["check disk usage on the altlas host"]
    similar = client.get("/atlas/similar", params={"q": "how full is the disk", "k": 1},
                         headers=auth("alice"))
    assert similar.status_code == 200
    assert [s["pattern"] for s in similar.json()["items"]] == ["local:disk"]
    document = client.get("/atlas/export", headers=auth("alice")).json()
    assert document["atlas"] == 1 and len(document["patterns"]) == 1
    bad = client.post("/atlas/imports", json={**document, "atlas": 2}, headers=auth("alice"))
    assert bad.status_code == 422 and bad.json()["message"] == "$.atlas: 1 was expected"
    refused = client.post("/atlas/imports", json=document, headers=auth("deniz"))
    assert refused.status_code == 403
    done = client.post("/atlas/imports", params={"source": "elsewhere"}, json=document,
                       headers=auth("alice"))
    assert done.status_code == 200 and done.json()["imported"] is True
    again = client.post("/atlas/imports", params={"source": "elsewhere"}, json=document,
                        headers=auth("alice"))
    assert again.json()["imported"] is False


def test_the_leaderboards_over_http_rank_rate_and_draw(served: Served) -> None:
    client = served.client
    empty = client.get("/leaderboards", headers=auth("alice")).json()
    assert empty["runbooks"] == [] and empty["ratings"]["ratings"] == []
    assert client.get("/leaderboards/ratings.png", headers=auth("alice")).status_code == 404
    client.post("/tasks", json={"request": "check disk usage on the altlas host"},
                headers=auth("deniz"))
    board = served.until(lambda: client.get("/leaderboards", headers=auth("alice")).json()
                         ["runbooks"])
    assert [(r["pattern"], r["runs"], r["successes"]) for r in board] == [("local:disk", 1, 1)]
    qwen = write_gguf(served.system.settings.models_directory / "qwen.gguf")
    model = client.post("/models", json={"path": str(qwen), "name": "qwen"},
                        headers=auth("alice"))
    assert model.status_code == 201, model.text
    before = _events(client)
    pair = ["rules", "local:qwen"]
    for who, body, status in [("ivy", {"planners": pair, "outcome": "a"}, 403),
                              ("alice", {"planners": pair, "outcome": "a"}, 403),
                              ("bob", {"planners": ["rules", "local:nope"], "outcome": "a"}, 404),
                              ("bob", {"planners": ["rules", "rules"], "outcome": "a"}, 422),
                              ("bob", {"a": "rules", "b": "local:qwen", "outcome": "a"}, 422),
                              ("bob", {"planners": pair, "outcome": "x"}, 422),
                              ("bob", {"planners": pair, "outcome": "a", "weight": 9}, 422)]:
        refused = client.post("/matches", json=body, headers=auth(who))
        assert refused.status_code == status, refused.text
    assert _events(client) == before  # nothing recorded for a refused match
    for outcome in ("a", "a", "tie"):
        played = client.post("/matches", json={"planners": ["rules", "local:qwen"],
                                               "outcome": outcome}, headers=auth("bob"))
        assert played.status_code == 201, played.text
    ratings = served.until(lambda: (r := client.get("/leaderboards", params={"method": "bt"},
                                                    headers=auth("alice")).json()["ratings"])
                           ["matches"] == 3 and r)
    assert [r["planner"] for r in ratings["ratings"]] == ["rules", "local:qwen"]
    for path, params in (("/leaderboards/ratings.png", {"method": "bt"}),
                         ("/leaderboards/runbooks.png", {"q": "disk"})):
        chart = client.get(path, params=params, headers=auth("alice"))
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(b"\x89PNG")
    said = client.post("/commands", json={"text": "leaderboard bt"}, headers=auth("alice"))
    assert said.json()["text"].startswith("Runbooks, surest first:")
    [path] = said.json()["charts"]  # where the chart chat uploads is served
    assert path == "/leaderboards/ratings.png?method=bt"
    assert client.get(path, headers=auth("alice")).content.startswith(b"\x89PNG")
    history = client.get("/leaderboards/runbooks", params={"q": "disk"},
                         headers=auth("alice")).json()
    assert history["history"][0]["runs"] == 1 and "from" in history["history"][0]
    missing = client.get("/leaderboards/runbooks.png", params={"q": "reboot the moon"},
                         headers=auth("alice"))
    assert missing.status_code == 404 and "no runbook matches" in missing.json()["message"]
    assert client.get("/leaderboards", params={"method": "glicko"},
                      headers=auth("alice")).status_code == 422


def test_weaviate_down_is_a_503_with_the_reason(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", policy_file=policy,
                                embeddings="words", vector_store="weaviate",
                                weaviate_url="http://127.0.0.1:9", weaviate_grpc_port=10))
    try:
        with TestClient(system.api()) as c:
            down = c.get("/atlas/similar", params={"q": "restart nginx"},
                         headers=auth("alice"))
        assert down.status_code == 503
        assert down.json()["error"] == "vector_store_unavailable"
        assert down.json()["message"].startswith("Weaviate at http://127.0.0.1:9")
    finally:
        system.close()


def alertmanager_payload(status: str = "firing", version: str = "4",
                         ends: str = "0001-01-01T00:00:00Z") -> dict[str, Any]:
    """What Alertmanager 0.27+ posts to a webhook_configs receiver."""
    return {
        "receiver": "altlas", "status": status, "version": version,
        "groupKey": '{}/{severity="page"}:{alertname="HighLatency"}', "truncatedAlerts": 0,
        "groupLabels": {"alertname": "HighLatency"},
        "commonLabels": {"alertname": "HighLatency", "service": "web", "severity": "page"},
        "commonAnnotations": {"summary": "p99 latency above 2 s"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "HighLatency", "service": "web", "severity": "page",
                       "instance": "web-1:9100", "job": "node"},
            "annotations": {"summary": "p99 latency above 2 s"},
            "startsAt": "2026-12-01T12:00:00.123456789Z", "endsAt": ends,
            "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency%3E2",
            "fingerprint": "5ef77f1f8ea8ea04"}]}


def test_alertmanager_webhook_records_each_alert_once_and_refuses_strangers(
    served: Served,
) -> None:
    client = served.client
    bearer = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    before = _events(client)
    refusals = [
        ({}, alertmanager_payload(), 401),
        ({"Authorization": "Bearer not-the-token"}, alertmanager_payload(), 401),
        (auth("alice"), alertmanager_payload(), 401),  # a person's token is not Alertmanager's
        ({"Authorization": "Basic " + base64.b64encode(b"alertmanager:wrong").decode()},
         alertmanager_payload(), 401),
        (bearer, alertmanager_payload(version="5"), 422),
        (bearer, {**alertmanager_payload(), "alerts": [{"status": "firing"}]}, 422),
        (bearer, alertmanager_payload(ends=0), 422),  # type: ignore[arg-type]  # a number is no time
        (bearer, {**alertmanager_payload(), "truncatedAlerts": False}, 422),
    ]
    for headers, body, status in refusals:
        refused = client.post("/alerts/alertmanager", json=body, headers=headers)
        assert refused.status_code == status, refused.text
    assert client.post("/alerts/alertmanager", json=alertmanager_payload(
        version="5"), headers=bearer).json()["message"] == "version: must be one of '4'"
    garbled = client.post("/alerts/alertmanager", content=b"{not json",
                          headers={**bearer, "Content-Type": "application/json"})
    assert garbled.status_code == 400
    assert _events(client) == before  # nothing recorded for any of them
    first = client.post("/alerts/alertmanager", json=alertmanager_payload(), headers=bearer)
    assert first.status_code == 200 and first.json()["received"] == 1
    basic = {"Authorization": "Basic " + base64.b64encode(
        f"alertmanager:{ALERTMANAGER_PASSWORD}".encode()).decode()}
    again = client.post("/alerts/alertmanager", json=alertmanager_payload(), headers=basic)
    assert again.status_code == 200 and again.json()["received"] == 0  # never twice
    done = client.post("/alerts/alertmanager", headers=bearer, json=alertmanager_payload(
        "resolved", ends="2026-12-01T12:04:00Z"))
    assert done.json()["resolved"] == 1
    types = [e["type"] for e in client.get("/events", headers=auth("alice")).json()["items"]]
    assert types.count("AlertReceived") == 1 and types.count("AlertResolved") == 1


def _alert(fingerprint: str, **fields: Any) -> dict[str, Any]:
    return {"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db-1:9100"},
            "annotations": {}, "startsAt": "2026-12-01T12:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": fingerprint,
            **fields}


def _types(served: Served) -> list[str]:
    return [r.type_name for r in served.system.history.read(limit=1_000_000)]


def test_odd_alerts_are_recorded_once_in_alertmanagers_terms_and_never_fail(
    served: Served,
) -> None:
    client = served.client
    bearer = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    now = datetime.now(UTC)
    odd = [
        _alert("a000000000000001", labels={}),  # no labels at all, not even a name
        _alert("a000000000000002", labels={"alertname": "", "instance": ""}),
        _alert("a000000000000003", labels={"alertname": "Überlast 🔥", "team": "ß" * 1000}),
        # ended before it came, with no resolved notice: over at once
        _alert("a000000000000004", startsAt=(now - timedelta(hours=2)).isoformat(),
               endsAt=(now - timedelta(hours=1)).isoformat()),
        # a sender whose clock runs an hour ahead
        _alert("a000000000000005", startsAt=(now + timedelta(hours=1)).isoformat()),
        # resolved, with an end before its start
        _alert("a000000000000006", status="resolved", endsAt="2026-12-01T11:00:00Z"),
    ]
    body = {**alertmanager_payload(), "alerts": odd}
    first = client.post("/alerts/alertmanager", json=body, headers=bearer)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 6, "refreshed": 0, "resolved": 0, "unchanged": 0}
    recorded = _types(served)
    again = client.post("/alerts/alertmanager", json=body, headers=bearer)  # a duplicate batch
    assert again.json() == {"received": 0, "refreshed": 0, "resolved": 0, "unchanged": 6}
    sent = ("AlertReceived", "AlertRefreshed", "AlertResolved")  # (the worker correlates)
    assert [t for t in _types(served) if t in sent] == [t for t in recorded if t in sent]
    expired = served.until(lambda: [r for r in served.system.history.read(limit=10_000)
                                    if r.type_name == "AlertExpired"])
    assert len(expired) == 1 and expired[0].data["ends_at"].startswith(
        (now - timedelta(hours=1)).isoformat()[:16])
    ended = [r for r in served.system.history.read(limit=10_000)
             if r.type_name == "AlertResolved"]
    assert len(ended) == 1 and ended[0].data["ends_at"] == "2026-12-01T12:00:00+00:00"
    for bad, status in (({**odd[0], "labels": {"alertname": 7}}, 422),
                        ({**odd[0], "startsAt": "yesterday"}, 422),
                        ({**odd[0], "fingerprint": "../../etc"}, 422)):
        refused = client.post("/alerts/alertmanager", headers=bearer,
                              json={**alertmanager_payload(), "alerts": [odd[1], bad]})
        assert refused.status_code == status, refused.text


def test_ten_thousand_alerts_in_one_webhook_call_are_each_recorded_once(
    served: Served,
) -> None:
    bearer = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    alerts = [_alert(f"{n:016x}", labels={"alertname": f"Symptom{n % 50}",
                                          "instance": f"web-{n % 3}:9100"},
                     annotations={"summary": f"symptom {n}"})
              for n in range(10_000)]
    body = {**alertmanager_payload(), "alerts": alerts}
    answer = served.client.post("/alerts/alertmanager", json=body, headers=bearer)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["received"] == 10_000
    assert _types(served).count("AlertReceived") == 10_000
    too_big = served.client.post("/alerts/alertmanager", headers={
        **bearer, "Content-Type": "application/json"}, content=b" " * (33_554_432 + 1))
    assert too_big.status_code == 413
    assert "ALTLAS_MAX_ALERT_BODY_BYTES" in too_big.json()["message"]


def test_alerts_become_an_incident_with_its_likely_cause_over_http(served: Served) -> None:
    client = served.client
    bearer = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    web = alertmanager_payload()
    db = alertmanager_payload()
    db["alerts"][0].update(
        labels={"alertname": "PostgresDown", "instance": "db-1:9187", "job": "postgres"},
        annotations={"summary": "postgres is down"}, fingerprint="0badc0ffee000001",
        startsAt="2026-12-01T12:01:00Z")
    for body in (web, db):
        assert client.post("/alerts/alertmanager", json=body, headers=bearer).status_code == 200
    [incident] = served.until(lambda: [i for i in client.get(
        "/incidents", headers=auth("alice")).json()["items"] if len(i["alerts"]) == 2])
    assert incident["status"] == "open" and incident["title"] == "HighLatency on web"
    assert [c["component"] for c in incident["root_causes"]] == ["postgres", "web"]
    assert {a["fingerprint"] for a in incident["alerts"]} == {"5ef77f1f8ea8ea04",
                                                             "0badc0ffee000001"}
    for resolved in (web, db):
        resolved["alerts"][0].update(status="resolved", endsAt="2026-12-01T12:09:00Z")
        client.post("/alerts/alertmanager", json=resolved, headers=bearer)
    done = served.until(lambda: (r := client.get(f"/incidents/{incident['id'][:8]}",
                                                 headers=auth("alice")).json())
                        ["status"] == "resolved" and r)
    assert done["resolved_at"].startswith("2026-12-01T12:09:00")
    events = [e["event"] for e in done["timeline"]]
    assert events[0] == "AlertReceived" and "IncidentResolved" in events  # (enrichment's lane
    assert events.index("IncidentOpened") < events.index("AlertsCorrelated")  # may come last)
    assert events.count("AlertResolved") == 2
    listed = client.get("/incidents", params={"status": "open"}, headers=auth("alice"))
    assert listed.json() == {"items": [], "next": None}
    undrawn = client.get(f"/incidents/{incident['id']}/chart.png", headers=auth("alice"))
    assert undrawn.status_code == 404  # its alerts named no PromQL Prometheus could answer
    assert "no metric to draw" in undrawn.json()["message"]
    for path, params, status in (("/incidents", {"status": "burning"}, 422),
                                 ("/incidents", {"limit": 0}, 422),
                                 ("/incidents/zz", {}, 404),
                                 ("/incidents/ffffffff", {}, 404)):
        refused = client.get(path, params=params, headers=auth("alice"))
        assert refused.status_code == status, (path, refused.text)
    assert client.get("/incidents").status_code == 401


def test_models_are_registered_and_activated_over_http_by_the_rules_of_every_front(
    served: Served, tmp_path: Path
) -> None:
    client = served.client
    path = str(write_gguf(tmp_path / "models" / "tiny.gguf"))
    assert client.post("/models", json={"path": path}, headers=auth("deniz")).status_code == 403
    r = client.post("/models", json={"path": path, "name": "tiny"}, headers=auth("alice"))
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in ("name", "architecture", "quantization", "active")} == {
        "name": "tiny", "architecture": "llama", "quantization": "Q8_0", "active": False}
    assert client.get(r.headers["Location"], headers=auth("alice")).json() == r.json()
    again = client.post("/models", json={"path": path, "name": "other"}, headers=auth("alice"))
    assert again.status_code == 409 and "registered already as tiny" in again.json()["message"]
    (tmp_path / "models" / "notes.txt").write_text("not a model")
    bad = client.post("/models", json={"path": "notes.txt"}, headers=auth("alice"))
    assert bad.status_code == 422 and "not a GGUF file" in bad.json()["message"]
    assert client.post("/models", json={"path": path, "name": "Tiny!"},
                       headers=auth("alice")).status_code == 422
    unknown = client.post("/models/gpt-5/activation", json={}, headers=auth("alice"))
    assert unknown.status_code == 404 and "registered: tiny" in unknown.json()["message"]

    asked = client.post("/models/tiny/activation", json={"reason": "smaller"},
                        headers=auth("alice"))
    assert asked.status_code == 201 and asked.json()["environment"] == "models"
    approval = asked.json()["id"]
    assert asked.headers["Location"] == f"/approvals/{approval}"
    assert client.post(f"/approvals/{approval}/votes", headers=auth("alice")).status_code == 403
    assert client.get("/models", headers=auth("erin")).json()["pending"] == {
        "action": "activate", "model": "tiny", "approval_id": approval, "requester": "alice"}
    assert client.post(f"/approvals/{approval}/votes", headers=auth("bob")).status_code == 200
    shown = served.until(lambda: (m := client.get("/models", headers=auth("erin")).json())[
        "active"] and m)
    assert shown["active"] == "tiny" and shown["pending"] is None
    assert [m["active"] for m in shown["models"]] == [True]
    assert shown["rollback_to"] == {"model": None, "adapter": None}

    assert client.post("/models/promotions", json={"adapter": "tiny+lora-0123abcd"},
                       headers=auth("alice")).status_code == 404
    assert client.post("/models/rollback", json={}, headers=auth("deniz")).status_code == 403
    back = client.post("/models/rollback", json={"reason": "too small"}, headers=auth("alice"))
    assert back.status_code == 201 and back.json()["reason"] == (
        "roll back the model that plans: too small")
    assert client.post(f"/approvals/{back.json()['id']}/votes",
                       headers=auth("bob")).status_code == 200
    after = served.until(lambda: (m := client.get("/models", headers=auth("erin")).json())[
        "active"] is None and m)
    assert after["rollback_to"] is None and after["adapter"] is None
    nothing = client.post("/models/rollback", json={}, headers=auth("alice"))
    assert nothing.status_code == 409 and "nothing to roll back" in nothing.json()["message"]


def test_an_arena_duel_over_http_is_planned_judged_once_and_never_by_a_maker(
    served: Served, tmp_path: Path
) -> None:
    client = served.client
    none_yet = client.post("/arena", json={"request": "check disk on web-1"},
                           headers=auth("erin"))
    assert none_yet.status_code == 409 and "register a model" in none_yet.json()["message"]
    path = str(write_gguf(tmp_path / "models" / "tiny.gguf"))  # in form only: it cannot load
    assert client.post("/models", json={"path": path, "name": "tiny"},
                       headers=auth("alice")).status_code == 201
    asked = client.post("/arena", json={"request": "check disk on web-1", "a": "rules",
                                        "b": "local:tiny"}, headers=auth("erin"))
    assert asked.status_code == 201 and asked.json()["planners"] is None
    duel = asked.json()["id"]
    shown = served.until(lambda: (d := client.get(f"/arena/{duel}", headers=auth("erin"))
                                  .json())["status"] == "planned" and d)
    # shown in a random order: one side planned (the rules), the other could not load
    planned = next(side for side in "ab" if shown["plans"][side] is not None)
    failed = "b" if planned == "a" else "a"
    assert [s["action"] for s in shown["plans"][planned]["steps"]] == ["df -h"]
    assert "Failed to load model" in shown["problems"][failed]
    maker = client.post(f"/arena/{duel}/votes", json={"verdict": "b"}, headers=auth("alice"))
    assert maker.status_code == 403 and "alice made one of the planners" in \
        maker.json()["message"]
    assert client.post(f"/arena/{duel}/votes", json={"verdict": "best"},
                       headers=auth("bob")).status_code == 422
    judged = client.post(f"/arena/{duel}/votes", json={"verdict": planned},
                         headers=auth("bob"))
    assert judged.status_code == 200 and judged.json()["planners"] == {
        planned: "rules", failed: "local:tiny"}
    assert client.post(f"/arena/{duel}/votes", json={"verdict": "b"},
                       headers=auth("carol")).status_code == 409
    board = served.until(lambda: client.get("/leaderboards", headers=auth("erin")).json()[
        "ratings"]["ratings"])
    assert {r["planner"] for r in board} == {"rules", "local:tiny"}


def test_an_unknown_training_is_404_in_json_and_as_a_chart(client: TestClient) -> None:
    for path in ("/trainings/0123456789ab", "/trainings/0123456789ab/loss.png",
                 "/trainings/0123456789ab/evaluation.png", "/trainings/not-an-id"):
        r = client.get(path, headers=auth("erin"))
        assert r.status_code == 404 and "no training or adapter is" in r.json()["message"]


@pytest.mark.parametrize(("path", "reason"), [
    ("~nosuchuser/x.gguf", "there is no user 'nosuchuser' on this machine"),
    ("/tmp/a\x00b.gguf", "path: String should match pattern"),
    ("/tmp/a\x1bb.gguf", "path: String should match pattern"),
    ("/" + "x" * 5000, "path: String should have at most 4096 characters"),
])
def test_a_model_path_that_names_no_file_is_refused_with_the_reason(
    served: Served, path: str, reason: str
) -> None:
    r = served.client.post("/models", json={"path": path}, headers=auth("alice"))
    assert r.status_code == 422 and reason in r.json()["message"], r.text
    assert served.client.get("/models", headers=auth("alice")).json()["models"] == [] or all(
        m["source"] == "packaged" for m in served.client.get(
            "/models", headers=auth("alice")).json()["models"])


def test_every_list_route_answers_items_and_next(served: Served) -> None:
    schema = served.client.get("/openapi.json").json()
    listings = [path for path, ops in schema["paths"].items()
                if "get" in ops and "{" not in path and "Page" in str(
                    ops["get"]["responses"].get("200", {}).get("content"))]
    assert {"/tasks", "/runs", "/approvals", "/incidents", "/timeline", "/events", "/atlas",
            "/workers"} <= set(listings)
    for path in listings:
        if path != "/atlas/similar":  # needs its q, and a vector store (its own test)
            r = served.client.get(path, headers=auth("alice"))
            assert set(r.json()) == {"items", "next"}, path
    bare = [path for path, ops in schema["paths"].items() for op in ops.values()
            if op["responses"].get("200", {}).get("content", {}).get(
                "application/json", {}).get("schema", {}).get("type") == "array"]
    assert bare == []


def test_every_201_says_where_to_read_what_it_made(served: Served) -> None:
    client = served.client
    made = client.post("/tasks", json={"request": "check disk on the altlas host"},
                       headers=auth("erin"))
    assert made.status_code == 201
    task = client.get(made.headers["Location"], headers=auth("erin")).json()
    assert task["id"] == made.json()["id"]
    task = served.until(lambda: (t := client.get(made.headers["Location"],
                                                 headers=auth("erin")).json())["run_id"] and t)
    assert client.get(f"/runs/{task['run_id']}", headers=auth("erin")).json()["task_id"] \
        == task["id"]
    listed = client.get("/tasks", headers=auth("erin")).json()["items"]
    assert [t["run_id"] for t in listed] == [task["run_id"]]
    tiny = write_gguf(served.system.settings.models_directory / "x.gguf")
    client.post("/models", json={"path": str(tiny), "name": "x"}, headers=auth("alice"))
    match = client.post("/matches", json={"planners": ["rules", "local:x"], "outcome": "a"},
                        headers=auth("bob"))
    history = client.get(match.headers["Location"], headers=auth("alice")).json()["items"]
    assert [e["type"] for e in history] == ["MatchPlayed"]
    created = [(path, method) for path, ops in client.get("/openapi.json").json()["paths"]
               .items() for method, op in ops.items()
               if "Location" not in op["responses"].get("201", {}).get("headers", {"Location": 1})]
    assert created == []


@pytest.mark.parametrize(("path", "allowed"), [
    ("/tasks", "'requested', 'asking', 'unanswered', 'segmented' or 'rejected'"),
    ("/runs", "'running', 'completed', 'succeeded', 'failed', 'cancelled' or "
              "'manual_outstanding'"),
    ("/incidents", "'open', 'resolved' or 'merged'"),
])
def test_a_filter_value_no_row_can_have_is_refused_naming_the_allowed_ones(
    served: Served, path: str, allowed: str
) -> None:
    r = served.client.get(path, params={"status": "bogus"}, headers=auth("alice"))
    assert (r.status_code, r.json()["message"]) == (
        422, f"query.status: must be one of {allowed}")


def test_a_cursor_is_url_safe_as_curl_sends_it(served: Served) -> None:
    client = served.client
    for text in ("check disk on the altlas host", "check load on the altlas host"):
        client.post("/tasks", json={"request": text}, headers=auth("erin"))
    first = client.get("/tasks", params={"limit": 1}, headers=auth("erin")).json()
    assert first["next"] and first["next"] == quote(first["next"], safe="")
    rest = client.get(f"/tasks?limit=1&cursor={first['next']}", headers=auth("erin")).json()
    assert [t["request"] for t in rest["items"]] == ["check disk on the altlas host"]
    empty = client.get("/tasks?cursor=", headers=auth("erin"))
    assert (empty.status_code, empty.json()["error"]) == (422, "bad_cursor")


@pytest.mark.parametrize(("path", "allowed"), [
    ("/models/rollback", "POST"), ("/models/tiny", "GET"), ("/tasks", "GET, POST")])
def test_a_method_a_path_does_not_have_lists_the_ones_its_schema_gives(
    served: Served, path: str, allowed: str
) -> None:
    r = served.client.request("DELETE", path, headers=auth("alice"))
    assert (r.status_code, r.headers["Allow"]) == (405, allowed)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_without_the_internet(served: Served, page: str) -> None:
    html = served.client.get(page)
    assert html.status_code == 200
    assert re.findall(r"https?://", html.text) == []  # no CDN, no web font
    assets = re.findall(r"""(?:src|href)=["']([^"']+)""", html.text)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert served.client.get(asset).status_code == 200, asset


@pytest.mark.parametrize("where", ["no-such-model.gguf", ".", "x" * 300 + ".gguf"])
def test_a_model_path_with_no_file_there_is_not_found(served: Served, where: str) -> None:
    r = served.client.post("/models", json={"path": where}, headers=auth("alice"))
    assert (r.status_code, r.json()["error"]) == (404, "no_model_file"), r.text


def test_an_environment_the_policy_does_not_have_is_not_found(served: Served) -> None:
    r = served.client.post("/tasks", json={"request": "check disk", "environment": "moon"},
                           headers=auth("erin"))
    assert r.status_code == 404 and "use one of dev, staging, prod" in r.json()["message"]


def test_the_import_schema_asks_for_a_pattern_as_the_import_does(served: Served) -> None:
    body = served.client.get("/openapi.json").json()["paths"]["/atlas/imports"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["patterns"]["minItems"] == 1
    empty = {"atlas": 1, "source": "x", "exported_at": "2026-01-01T00:00:00Z", "patterns": []}
    assert served.client.post("/atlas/imports", json=empty,
                              headers=auth("alice")).status_code == 422
