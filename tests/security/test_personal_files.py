"""Files altlas wrote itself, after their writer is forgotten: training sets and datasets lose
the person's lines, exports that name them are removed, sealed exports and replays never held
their words in clear — and the list forgetting goes through cannot be turned into a way to
rewrite or remove files altlas did not write."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.personal_files import PersonalFileRegistry
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.personal_files import DATASET, KINDS, TRAINING_SET, Reach
from application.use_cases import Filters
from testkit.helpers import plan, step
from tests.e2e.conftest import run_altlas
from tests.security.test_privacy import ERASED, forget, leaks, privacy_policy

HERS = "alice wonders how full the disks are"  # alice's words, in a run that succeeded
HIS = "deniz checks the disks too"
DEV = {"requests": [{"request": "show the disks here", "expect": "plan",
                     "steps": plan(step("s1", action="df -h"))["steps"]}]}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def env(tmp_path: Path, data: Path) -> dict[str, str]:
    """The privacy policy, where erin is also an operator (she may build datasets)."""
    policy = privacy_policy(tmp_path)
    document = yaml.safe_load(policy.read_text())
    document["people"]["erin"]["roles"].append("operator")
    policy.write_text(yaml.safe_dump(document, sort_keys=False))
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")},
            "ALTLAS_DATA_DIR": str(data), "ALTLAS_SEGMENTER": "rules",
            "ALTLAS_POLICY_FILE": str(policy)}


@pytest.fixture
def system(env: dict[str, str], data: Path) -> Iterator[System]:
    settings = Settings(data_dir=data, policy_file=Path(env["ALTLAS_POLICY_FILE"]),
                        segmenter="rules")
    system = bootstrap(settings)
    for words, who in ((HERS, "alice"), (HIS, "deniz")):
        system.app.submit_plan(words, plan(step("s1", action="df -h")), who)
        system.worker().until_quiet()
    yield system
    system.close()


def altlas(env: dict[str, str], *args: str) -> str:
    done = run_altlas(env, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_kind_says_how_forgetting_reaches_it() -> None:
    assert len({k.key for k in KINDS}) == len(KINDS)
    assert {k.reach for k in KINDS} == set(Reach)
    assert all(k.written_by and k.holds for k in KINDS)


def test_training_sets_and_datasets_lose_the_forgotten_person_s_lines(
    system: System, env: dict[str, str], tmp_path: Path
) -> None:
    kept, _ = system.training_requests().sets.keep(
        system.training_requests().dataset(DEV, {"requests": []}).jsonl())
    dev, none = tmp_path / "dev.json", tmp_path / "test.json"
    dev.write_text(json.dumps(DEV))
    none.write_text(json.dumps({"requests": []}))
    dataset = tmp_path / "set.jsonl"
    altlas(env, "models", "dataset", "--dev", str(dev), "--test", str(none),
           "--output", str(dataset), "--as", "erin")
    for path in (Path(kept), dataset):
        assert HERS in path.read_text()
    forget(system)
    for path in (Path(kept), dataset):
        assert leaks(path.read_text()) == [] and HERS not in path.read_text()
        assert [e["request"] for e in lines(path)] == [HIS, "show the disks here"]


def test_exports_in_clear_that_name_the_person_are_removed_and_others_kept(
    system: System, env: dict[str, str], tmp_path: Path
) -> None:
    about_her, about_him = tmp_path / "alice.jsonl", tmp_path / "deniz.jsonl"
    atlas = tmp_path / "doc.atlas"
    altlas(env, "privacy", "export", "alice", "--as", "erin", "--output", str(about_her))
    altlas(env, "privacy", "export", "deniz", "--as", "erin", "--output", str(about_him))
    altlas(env, "atlas", "export", "--output", str(atlas))
    assert HERS in about_her.read_text() and HERS in atlas.read_text()
    forget(system)
    assert not about_her.exists() and not atlas.exists()
    assert HIS in about_him.read_text() and leaks(about_him.read_text()) == []
    [done] = [r for r in system.history.read() if r.type_name == "PersonForgotten"]
    assert sorted(done.data["files"]) == [  # each decision on record, and no path
        "atlas: removed", "personal-data: kept: it does not name them",
        "personal-data: removed"]


def test_sealed_exports_and_replays_never_hold_the_words_in_clear(
    system: System, env: dict[str, str], tmp_path: Path, data: Path
) -> None:
    exported = tmp_path / "events.jsonl"
    altlas(env, "audit", "export", "--output", str(exported))
    altlas(env, "audit", "replay", "--until", datetime.now(UTC).isoformat())
    system.use_cases().tasks(None, Filters(limit=9), as_of=datetime.now(UTC))
    replays = [p for p in data.rglob("*.sqlite3*") if "events" not in p.name
               and "views" not in p.name]
    assert replays
    for path in (exported, *replays):
        assert leaks(path.read_bytes().decode("latin-1")) == [], path
        assert HERS not in path.read_bytes().decode("latin-1")
    before = system.app.privacy.reveal(exported.read_text())
    assert HERS in before
    forget(system)
    after = system.app.privacy.reveal(exported.read_text())
    assert HERS not in after and "alice" not in after and ERASED.search(after)


def test_a_listed_file_swapped_for_a_link_or_another_file_is_left_alone(
    system: System, tmp_path: Path, data: Path
) -> None:
    """Someone who may write the data directory points listed files at files altlas did
    not write: forgetting rewrites and removes nothing of theirs, and still forgets."""
    notes, log = tmp_path / "notes.txt", tmp_path / "app.jsonl"
    notes.write_text("not json\nalice's own notes\n")
    log.write_text('{"source": "app", "request": "alice logged in"}\n')
    files = PersonalFileRegistry(data)
    link = tmp_path / "link.jsonl"
    files.write(DATASET, str(link), [])
    link.unlink()
    link.symlink_to(log)
    with (data / "personal-files.jsonl").open("a") as listing:
        listing.write(json.dumps({"kind": TRAINING_SET.key, "path": str(notes)}) + "\n")
    moved = tmp_path / "moved.jsonl"
    files.write(DATASET, str(moved), [])
    moved.unlink()
    forget(system)
    assert notes.read_text() == "not json\nalice's own notes\n" and link.is_symlink()
    assert "alice logged in" in log.read_text()
    assert system.app.privacy.find("alice") is None


def test_a_training_set_written_before_lines_named_their_writer_keeps_only_the_dev_lines(
    system: System, data: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.jsonl"
    PersonalFileRegistry(data).write(TRAINING_SET, str(old), [
        json.dumps({"request": HERS, "plan": {}, "source": "run"}) + "\n",
        json.dumps({"request": "show the disks here", "plan": {}, "source": "dev"}) + "\n"])
    forget(system)
    assert [e["request"] for e in lines(old)] == ["show the disks here"]
