"""The training set: each request once, credentials out, never a request of the test file."""

from __future__ import annotations

import json

from application.training_data import Learned, build, labelled
from domain.secrets import REDACTED, Redactor

DISK = {"steps": [{"id": "s1", "kind": "ssh", "action": "df -h", "target": "web-1",
                   "needs": []}]}
ALICE = "p-00000000a11c"


def test_a_request_of_the_test_file_is_never_learned_from_however_it_is_written() -> None:
    found = build([Learned("Check  DISK on web-1", DISK, ALICE)],
                  [Learned("check disk on web-1 ", DISK, ALICE)],
                  [("check disk on web-1", DISK), ("check disk on web-2", DISK)],
                  ["check disk on web-1"], Redactor())
    assert [e.request for e in found.examples] == ["check disk on web-2"]
    assert found.left_out == {"in the test file": 3}


def test_the_history_wins_a_duplicate_and_each_request_is_kept_once() -> None:
    found = build([Learned("check disk on web-1", DISK, ALICE),
                   Learned("check disk on WEB-1", DISK, ALICE)], [],
                  [("check disk on web-1", DISK)], [], Redactor())
    assert [(e.request, e.source) for e in found.examples] == [("check disk on web-1", "run")]
    assert found.left_out == {"a duplicate": 2}
    assert found.by_source() == {"run": 1, "arena": 0, "dev": 0}


def test_credentials_are_taken_out_of_requests_and_actions() -> None:
    secret = "hunter2-correct-horse"
    plan = {"steps": [{"id": "s1", "kind": "http", "action": f"GET /?password={secret}",
                       "target": "web-1", "needs": [], "extra": "dropped"}]}
    found = build([Learned(f"log in with password={secret} on web-1", plan, ALICE)], [], [], [],
                  Redactor([secret]))
    [example] = found.examples
    assert secret not in example.request and REDACTED in example.request
    assert secret not in example.plan["steps"][0]["action"]
    assert set(example.plan["steps"][0]) == {"id", "kind", "action", "target", "needs"}
    assert secret not in "".join(found.jsonl())


def test_only_labelled_requests_that_expect_a_plan_are_examples() -> None:
    document = {"requests": [
        {"request": "check disk on web-1", "expect": "plan", "steps": DISK["steps"]},
        {"request": "restart nginx", "expect": "question", "steps": []},
        {"request": "drop the database", "expect": "reject"}]}
    assert labelled(document) == [("check disk on web-1", DISK)]


def test_each_example_from_the_history_names_who_wrote_it_and_the_dev_file_s_no_one() -> None:
    found = build([Learned("check disk on web-1", DISK, ALICE)], [],
                  [("check disk on web-2", DISK)], [], Redactor())
    assert [e.get("by") for e in map(json.loads, found.jsonl())] == [ALICE, None]
