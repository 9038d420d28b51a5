"""A training asked for by itself: once enough new examples (successful runs, arena
winners) accumulated since the last training, on the model in charge, once however many
workers notice, and still decided by an approver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.training import Training
from testkit.helpers import operator_policy, write_gguf

STEPS = [{"id": "s1", "kind": "local", "action": "free -m", "needs": []}]


def labelled(path: Path, *requests: str) -> Path:
    path.write_text(json.dumps({"version": 2, "requests": [
        {"request": r, "expect": "plan", "steps": STEPS} for r in requests]}))
    return path


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = bootstrap(Settings(
        data_dir=tmp_path / "data", policy_file=operator_policy(tmp_path), segmenter="rules",
        training_auto_examples=2, training_min_examples=1,
        training_dev_file=labelled(tmp_path / "dev.json", "show memory here"),
        evaluation_file=labelled(tmp_path / "test.json", "how much memory is free here")))
    uc = system.use_cases()
    uc.models.add("carol", str(write_gguf(system.settings.models_directory / "tiny.gguf")),
                  "tiny")
    uc.vote("bob", uc.models.activate("carol", "tiny").id)
    system.worker().until_quiet()
    yield system
    system.close()


def succeeded(system: System, request: str) -> None:
    system.use_cases().request_work("erin", request)
    system.worker().until_quiet()


def test_enough_new_examples_ask_for_one_training_that_an_approver_decides(
    system: System
) -> None:
    first, second = system.auto_training(interval=0), system.auto_training(interval=0)
    assert first is not None and second is not None
    assert system.worker().auto_train is not None  # the workers' housekeeping looks
    succeeded(system, "check the disk on localhost")
    assert first() is None  # one new example of two
    succeeded(system, "check memory on localhost")
    asked = first()
    assert asked is not None and second() is None  # one at a time, whoever looks
    training = system.app.load(Training, asked)
    assert training.base == "tiny" and training.requester == "altlas:trainer"
    assert training.by_source == {"run": 2, "arena": 0, "dev": 1}
    [approval] = system.use_cases().waiting_for("bob")
    assert approval["approval_id"] == str(training.approval_id)
    system.use_cases().deny("bob", approval["approval_id"], "not now")
    system.worker().until_quiet()
    assert system.app.load(Training, asked).status == "withdrawn"
    assert first() is None  # nothing new since the one denied: it waits for more
    succeeded(system, "check load on localhost")
    succeeded(system, "check uptime on localhost")
    again = first()
    assert again is not None and again != asked
    assert system.app.load(Training, again).by_source["run"] == 4
