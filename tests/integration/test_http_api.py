"""The HTTP API over the real application: bearer tokens, roles, the same commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from tests.helpers import auth, gated_plan, plan, step, token_policy


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", policy_file=policy))
    with TestClient(system.api()) as c:
        yield c
    system.close()


def _events(client: TestClient) -> int:
    return int(client.get("/healthz").json()["last_position"])


def _gated(client: TestClient, tmp_path: Path) -> tuple[str, str, str]:
    task_id = client.post("/tasks", json={"request": "flag it", "environment": "prod"},
                          headers=auth("deniz")).json()["id"]
    r = client.post(f"/tasks/{task_id}/segmentation",
                    json={"plan": gated_plan(f"{tmp_path}/maintenance.flag")},
                    headers=auth("deniz"))
    assert r.status_code == 200, r.text
    run = client.post(f"/tasks/{task_id}/runs", headers=auth("deniz")).json()
    approval_id = next(s["approval_id"] for s in run["steps"] if s["approval_id"])
    return task_id, run["id"], approval_id


def test_journey_over_http(client: TestClient, tmp_path: Path) -> None:
    _, run_id, approval_id = _gated(client, tmp_path)
    advanced = client.post(f"/runs/{run_id}/advance", headers=auth("alice"))
    assert advanced.json()["steps"][2]["status"] == "pending"
    vote = client.post(f"/approvals/{approval_id}/votes", headers=auth("alice")).json()
    assert vote["remaining"] == 1 and vote["votes"] == ["alice"]
    assert client.post(f"/approvals/{approval_id}/votes", headers=auth("bob")).json()[
        "status"] == "granted"
    assert client.post(f"/runs/{run_id}/advance", headers=auth("alice")).json()[
        "outcome"] == "succeeded"
    events = client.get("/events", params={"limit": 1000}, headers=auth("erin")).json()
    assert events[-1]["type"] == "RunCompleted"
    assert all(e["prevhash"] and len(e["hash"]) == 64 for e in events)
    assert [e["actor"] for e in events if e["type"] == "ApprovalVoteCast"] == ["alice", "bob"]


def test_health_and_openapi_schema_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert "/approvals/{approval_id}/votes" in paths and "/commands" in paths


def test_requests_without_a_known_token_are_refused(client: TestClient) -> None:
    none = client.post("/tasks", json={"request": "check disk on web-1"})
    wrong = client.post("/tasks", json={"request": "check disk on web-1"},
                        headers={"Authorization": "Bearer nope"})
    assert (none.status_code, none.json()["error"]) == (401, "unauthenticated")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "unknown_token")
    assert none.headers["WWW-Authenticate"] == "Bearer"
    assert _events(client) == 0


def test_each_endpoint_checks_roles(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/tasks", json={"request": "check disk on web-1"}, headers=auth("ivy"))
    assert (r.status_code, r.json()) == (403, {"error": "forbidden",
                                              "message": "ivy does not have the requester role"})
    _, run_id, approval_id = _gated(client, tmp_path)
    assert client.post(f"/runs/{run_id}/advance", headers=auth("deniz")).status_code == 403
    assert client.get("/audit/verify", headers=auth("erin")).status_code == 403
    assert client.get("/audit/verify", headers=auth("ivy")).json()["ok"] is True
    other = client.post(f"/approvals/{approval_id}/cancellation", json={"reason": "mine now"},
                        headers=auth("erin"))
    assert other.status_code == 403 and "only deniz" in other.json()["message"]


@pytest.mark.parametrize(
    ("voter", "status", "error"),
    [("erin", 403, "not_eligible"), ("deniz", 403, "requester_cannot_approve")],
)
def test_refused_vote_is_a_json_error_and_records_nothing(
    client: TestClient, tmp_path: Path, voter: str, status: int, error: str
) -> None:
    _, _, approval_id = _gated(client, tmp_path)
    before = _events(client)
    r = client.post(f"/approvals/{approval_id}/votes", headers=auth(voter))
    assert (r.status_code, r.json()["error"]) == (status, error)
    assert voter in r.json()["message"]
    assert _events(client) == before


def test_second_vote_is_a_conflict(client: TestClient, tmp_path: Path) -> None:
    _, _, approval_id = _gated(client, tmp_path)
    client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    r = client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    assert (r.status_code, r.json()["error"]) == (409, "duplicate_vote")


def test_unknown_and_malformed_ids(client: TestClient) -> None:
    missing = uuid4()
    r = client.get(f"/approvals/{missing}", headers=auth("erin"))
    assert (r.status_code, r.json()) == (404, {"error": "not_found",
                                               "message": f"no approval with id {missing}"})
    assert client.get("/tasks/not-a-uuid", headers=auth("erin")).status_code == 422


def test_invalid_plan_is_422_with_its_json_path(client: TestClient) -> None:
    task_id = client.post("/tasks", json={"request": "x"}, headers=auth("deniz")).json()["id"]
    before = _events(client)
    r = client.post(f"/tasks/{task_id}/segmentation", headers=auth("deniz"), json={
        "plan": plan(step("a", kind="ssh", action="uptime", target="web-1", needs=["b"]))})
    assert r.status_code == 422
    assert r.json() == {"error": "plan", "message": "$.steps[0].needs[0]: unknown step 'b'"}
    assert _events(client) == before


def test_empty_request_is_422(client: TestClient) -> None:
    r = client.post("/tasks", json={"request": "  "}, headers=auth("deniz"))
    assert (r.status_code, r.json()["error"]) == (422, "empty_request")


def test_chat_commands_over_http_speak_the_persons_language(client: TestClient) -> None:
    english = client.post("/commands", json={"text": "do check disk on the altlas host"},
                          headers=auth("erin")).json()
    assert english["text"] == "On it: planning “check disk on the altlas host”…"
    assert "Plan for “check disk on the altlas host”" in english["then"]["text"]
    assert "succeeded" in english["then"]["text"]
    turkish = client.post("/commands", json={"text": "approvals"}, headers=auth("deniz"))
    assert turkish.json()["text"] == "Onayınızı bekleyen bir şey yok."
    usage = client.post("/commands", json={"text": "deny abc"}, headers=auth("bob")).json()
    assert usage["text"] == "Usage: deny <approval id> <reason>"


def test_audit_endpoints(client: TestClient, tmp_path: Path) -> None:
    _, _, approval_id = _gated(client, tmp_path)
    client.post(f"/approvals/{approval_id}/votes", headers=auth("alice"))
    verify = client.get("/audit/verify", headers=auth("alice"))
    assert verify.status_code == 200 and verify.json()["ok"] is True
    assert verify.json()["reports"][0]["events"] == 5
    lines = client.get("/audit/export", headers=auth("alice")).text.splitlines()
    assert len(lines) == 5 and '"type":"altlas.approval.ApprovalVoteCast"' in lines[-1]
    queue = client.get("/approvals", headers=auth("erin")).json()
    assert queue[0]["votes"] == ["alice"] and queue[0]["remaining"] == 1
    timeline = client.get("/timeline", params={"actor": "alice"}, headers=auth("erin")).json()
    assert [e["type"] for e in timeline] == ["ApprovalVoteCast"]
    before_vote = timeline[0]["time"].replace("+00:00", "")  # a time without zone = UTC
    target = f"sqlite:///{tmp_path / 'past.sqlite3'}"
    replayed = client.post("/audit/replay", json={"until": before_vote, "into": target},
                           headers=auth("alice"))
    assert replayed.status_code == 200 and replayed.json()["replayed"] == 5
    live = client.post("/audit/replay", headers=auth("alice"), json={
        "until": before_vote, "into": f"sqlite:///{tmp_path / 'views.sqlite3'}"})
    assert (live.status_code, live.json()["error"]) == (422, "replay_target")
    assert "altlas_events_appended_total 5.0" in client.get("/metrics").text
