"""Every path that records a plan goes through the same checks (application/documents.py
plan_checked): an .atlas import is refused for what `alt submit` refuses — a literal
credential, %-encoded or inside a JSON body, a secret without a scope, params that break their
kind's schema — naming the JSON path inside the document, recording nothing. The hole: the same
plan was kept in AtlasImported and the views while `alt submit` refused it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from testkit.helpers import plan, step
from tests.security.gatehouse import gate_policy, gatehouse

GITHUB = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def atlas_with(document: dict[str, Any] | Any) -> dict[str, Any]:
    """An .atlas export holding one pattern whose plan is ``document``."""
    return {"atlas": 1, "source": "site-b", "exported_at": "2026-11-30T00:00:00Z",
            "patterns": [{
                "pattern": "http:status", "intent": "status", "target_kind": "http",
                "runs": 3, "successes": 3, "success_rate": 1.0, "interval": [0.4, 1.0],
                "duration_ms": {"mean": 20, "p95": 30},
                "last_success": "2026-11-29T10:00:00Z", "last_failure": None,
                "failures": [], "requests": ["check the status page"], "plan": document}]}


def web_step(**params: Any) -> dict[str, Any]:
    return step("s1", kind="http", target="web-1", action="https://web-1/api/status",
                params=params)


IMPORT_REFUSALS = [
    ("bearer header", web_step(headers={"Authorization": f"Bearer {GITHUB}"}),
     "$.patterns[0].plan.steps[0].params.headers.Authorization: a literal credential"),
    ("token in query", step("s1", kind="http", target="web-1",
                            action=f"https://web-1/api/status?token={GITHUB}"),
     "$.patterns[0].plan.steps[0].action: a literal credential"),
    ("%-encoded", step("s1", kind="http", target="web-1",
                       action="https://web-1/api/status?q=" + "%70assword%3D" + "hunter2xyz"),
     "$.patterns[0].plan.steps[0].action: a literal credential"),
    ("JSON body", web_step(method="POST", body=json.dumps({"api_key": "k-7d6e5f4a3b"})),
     "$.patterns[0].plan.steps[0].params.body: a literal credential"),
    ("ssh password", step("s1", kind="ssh", target="db-1",
                          action="mysql --password=hunter2xyz -e 'select 1'"),
     "$.patterns[0].plan.steps[0].action: a literal credential"),
    ("unscoped secret", web_step(headers={"Authorization": "Bearer {secret:STATUS_TOKEN}"}),
     "$.patterns[0].plan.steps[0].params.headers.Authorization: secret STATUS_TOKEN has no "
     "scope"),
    ("bad params", web_step(method=7), "$.patterns[0].plan.steps[0].params.method: 7 is not"),
    ("no steps", {"alt": 1, "steps": []}, "$.patterns[0].plan.steps: [] should be non-empty"),
]


@pytest.mark.parametrize("case", range(len(IMPORT_REFUSALS)),
                         ids=[c[0] for c in IMPORT_REFUSALS])
def test_an_atlas_import_goes_through_the_plan_checks_over_http(tmp_path: Path,
                                                                 case: int) -> None:
    _, bad, said = IMPORT_REFUSALS[case]
    document = atlas_with(bad if "alt" in bad else plan(bad))
    with gatehouse(tmp_path, worker=False) as house:
        before = house.events()
        r = house.client.post("/atlas/imports", json=document,
                              headers={"Authorization": "Bearer tok-alice"})
        shape = case >= len(IMPORT_REFUSALS) - 2  # the last two break the schema
        assert r.status_code == (422 if shape else 403), r.text
        assert r.json()["message"].startswith(said), r.text
        for value in (GITHUB, "hunter2xyz", "k-7d6e5f4a3b"):
            assert value not in r.text
        assert house.events() == before
        assert house.get("/atlas", "alice")["items"] == []


@pytest.mark.parametrize(("field", "value", "path"), [
    ("requests", ["log in with password=hunter2xyz"], "requests[0]"),
    ("last_failure", f"401 for Bearer {GITHUB}", "last_failure"),
    ("failures", [{"error": f"token={GITHUB}", "count": 1}], "failures[0].error"),
])
def test_a_credential_in_what_an_import_says_besides_its_plan_is_refused(
    tmp_path: Path, field: str, value: Any, path: str
) -> None:
    document = atlas_with(plan(web_step()))
    document["patterns"][0][field] = value
    with gatehouse(tmp_path, worker=False) as house:
        r = house.client.post("/atlas/imports", json=document,
                              headers={"Authorization": "Bearer tok-alice"})
        assert r.status_code == 403, r.text
        assert r.json()["message"] == (f"$.patterns[0].{path}: holds a credential; an .atlas "
                                       "carries none, take it out of the document")
        assert house.events() == 0


def test_the_same_plan_is_refused_alike_by_alt_submit_and_by_an_import(tmp_path: Path) -> None:
    """The hole: `alt submit` refused the plan, the import kept it in AtlasImported."""
    leaky = plan(web_step(headers={"Authorization": f"Bearer {GITHUB}"}))
    with gatehouse(tmp_path, worker=False) as house:
        alt = house.write("leaky.alt", leaky)
        atlas = house.write("leaky.atlas", atlas_with(leaky))
        submitted = house.cli("alt", "submit", str(alt), "--as", "deniz")
        imported = house.cli("atlas", "import", str(atlas), "--as", "alice")
        for done, where in ((submitted, "$.steps[0]"), (imported, "$.patterns[0].plan.steps[0]")):
            assert done.returncode == 2 and done.stdout == "", done.stderr
            assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
            assert done.stderr.startswith(f"altlas: {where}.params.headers.Authorization: ")
            assert GITHUB not in done.stderr
        events = house.cli("events", "--json")
        assert events.returncode == 0 and json.loads(events.stdout) == []
        raw = b"".join(p.read_bytes() for p in house.data_dir.rglob("*")
                       if p.is_file() and p.suffix != ".alt" and p.suffix != ".atlas")
        assert GITHUB.encode() not in raw


def test_a_clean_atlas_import_with_a_scoped_secret_is_kept(tmp_path: Path) -> None:
    policy = gate_policy()
    policy["secrets"] = {"STATUS_TOKEN": {"hosts": ["web-1"], "kinds": ["http"]}}
    document = atlas_with(plan(web_step(
        headers={"Authorization": "Bearer {secret:STATUS_TOKEN}"})))
    with gatehouse(tmp_path, worker=False, policy=policy) as house:
        r = house.client.post("/atlas/imports", json=document,
                              headers={"Authorization": "Bearer tok-alice"})
        assert r.status_code == 200 and r.json()["imported"] is True, r.text
        [found] = house.get("/atlas", "alice")["items"]
        assert found["plan"]["steps"][0]["params"]["headers"]["Authorization"] == \
            "Bearer {secret:STATUS_TOKEN}"
