"""`altlas models dataset` on a real history: runs that succeeded and arena winners become
examples, the dev file adds its labelled plans, and no request of the test file is ever in
what it writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from testkit.helpers import operator_policy, write_gguf
from tests.e2e.conftest import run_altlas

LOCAL = {"steps": [{"id": "s1", "kind": "local", "action": "free -m", "needs": []}]}


def labelled(path: Path, *requests: str) -> Path:
    path.write_text(json.dumps({"version": 2, "requests": [
        {"request": r, "expect": "plan", "steps": LOCAL["steps"]} for r in requests]}))
    return path


@pytest.fixture
def history(tmp_path: Path) -> dict[str, str]:
    policy = operator_policy(tmp_path)
    env = {**os.environ, "ALTLAS_DATA_DIR": str(tmp_path / "data"),
           "ALTLAS_POLICY_FILE": str(policy), "ALTLAS_SEGMENTER": "rules"}
    system = bootstrap(Settings(data_dir=tmp_path / "data", policy_file=policy,
                                segmenter="rules"))
    uc = system.use_cases()
    for request in ("check the disk on localhost", "check memory on localhost",
                    "check memory  on LOCALHOST"):
        uc.request_work("erin", request)
        system.worker().until_quiet()
    uc.models.add("carol", str(write_gguf(system.settings.models_directory / "tiny.gguf")),
                  "tiny")
    duel = uc.arena.ask("erin", "check load on localhost", a="rules", b="local:tiny")
    system.worker().until_quiet()
    planned = next(side for side in "ab" if uc.arena.duel(None, duel["id"])["plans"][side])
    uc.arena.vote("alice", duel["id"], planned)  # the rules' plan won
    system.close()
    return env


def test_the_training_set_comes_from_the_history_and_dev_never_from_test(
    history: dict[str, str], tmp_path: Path
) -> None:
    dev = labelled(tmp_path / "dev.json", "check memory on localhost", "show memory here")
    test = labelled(tmp_path / "test.json", "Check the disk on localhost")
    out = tmp_path / "set.jsonl"
    done = run_altlas(history, "models", "dataset", "--dev", str(dev), "--test", str(test),
                      "--output", str(out), "--as", "carol")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().endswith(
        "3 example(s) (run 1, arena 1, dev 1); left out: 2 a duplicate, 1 in the test file")
    examples = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["request"], e["source"]) for e in examples] == [
        ("check memory on localhost", "run"), ("check load on localhost", "arena"),
        ("show memory here", "dev")]
    assert "disk" not in out.read_text()  # the test file's request, however it was asked
    refused = run_altlas(history, "models", "dataset", "--dev", str(dev), "--test", str(test),
                         "--as", "erin")
    assert refused.returncode != 0 and "needs the operator role" in refused.stderr


def test_promoting_and_rolling_back_from_the_command_line_refuse_what_cannot_be_done(
    history: dict[str, str]
) -> None:
    unknown = run_altlas(history, "models", "promote", "tiny+lora-0123abcd", "--as", "carol")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "altlas: no training or adapter is tiny+lora-0123abcd"
    developer = run_altlas(history, "models", "rollback", "--as", "erin")
    assert developer.returncode == 2 and "needs the operator role" in developer.stderr
    nothing = run_altlas(history, "models", "rollback", "--as", "carol")
    assert nothing.returncode == 2 and "nothing to roll back" in nothing.stderr
    not_trained = run_altlas(history, "models", "evaluate", "0123abcd", "--as", "carol")
    assert not_trained.returncode == 2 and "no training or adapter is 0123abcd" in \
        not_trained.stderr
    asked = run_altlas(history, "models", "activate", "tiny", "--as", "carol")
    assert asked.returncode == 0, asked.stderr
    approval = asked.stdout.split("approval ")[1].split()[0]
    granted = run_altlas(history, "approve", approval, "--as", "bob")
    assert granted.returncode == 0 and "tiny plans from now on" in granted.stdout
    back = run_altlas(history, "models", "rollback", "--reason", "too small", "--as", "carol")
    assert back.returncode == 0 and "Asked to roll back to ALTLAS_LOCAL_MODEL" in back.stdout
    approval = back.stdout.split("approval ")[1].split()[0].rstrip(":")
    undone = run_altlas(history, "approve", approval, "--as", "bob")
    assert undone.returncode == 0 and "ALTLAS_LOCAL_MODEL plans from now on" in undone.stdout
