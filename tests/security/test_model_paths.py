"""A model file is untrusted input, over HTTP as on the command line: a path no file system
takes, or one out of the models directory (by "..", by a symlink), is refused with its reason
before anything is read; a file that is not a GGUF is refused without quoting it; a header
that says more than its bytes hold is refused naming the field. Nothing is registered. A
model's registrant cannot grant putting it in charge from any front."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from testkit.helpers import write_gguf
from testkit.hostile_gguf import HOSTILE
from tests.security.gatehouse import Gatehouse, gatehouse


@pytest.fixture
def house(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=False) as house:
        yield house


@pytest.mark.parametrize(("path", "reason"), [
    ("~nosuchuser/x.gguf", "there is no user 'nosuchuser' on this machine"),
    ("models/x\u0000.gguf", "path: String should match pattern"),  # the schema's own words
    ("models/x\u001b[2J.gguf", "path: String should match pattern"),
    ("/" + "a" * 4096, "at most 4096"),
])
def test_a_path_no_file_system_takes_is_refused_with_its_reason(
    house: Gatehouse, path: str, reason: str
) -> None:
    before = house.events()
    r = house.post("/models", "alice", {"path": path})  # alice operates
    assert r.status_code == 422, r.text
    assert reason in r.json()["message"]
    assert house.events() == before


SECRET = b"root:$6$s3cr3t-hash-never-shown:19000:0:99999:7:::\n"


def _refused_alike(house: Gatehouse, path: str, status: int, says: str) -> None:
    """Refused over HTTP and on the command line, with no byte of a file read, and nothing
    recorded."""
    before = house.events()
    r = house.post("/models", "alice", {"path": path})
    assert r.status_code == status, r.text
    assert says in r.json()["message"]
    done = house.cli("models", "add", path, "--as", "alice")
    assert done.returncode == 2 and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    for answer in (r.text, done.stderr, done.stdout):
        assert "s3cr3t" not in answer and "root:" not in answer
    assert house.events() == before


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A file outside the models directory that altlas can read."""
    path = tmp_path / "shadow"
    path.write_bytes(SECRET)
    return path


@pytest.mark.parametrize("given", [
    "{secret}", "../../shadow", "../../../../../../..{secret}", "./sub/../../../shadow",
    "{models}/../../shadow", "~/../../../../../../..{secret}",
])
def test_a_path_out_of_the_models_directory_is_refused_before_anything_is_read(
    house: Gatehouse, secret_file: Path, given: str
) -> None:
    models = house.system.settings.models_directory
    models.mkdir(parents=True, exist_ok=True)
    path = given.format(secret=secret_file, models=models)
    _refused_alike(house, path, 403, "is not in the models directory")


def test_a_missing_file_out_of_the_models_directory_is_refused_as_any_other(
    house: Gatehouse, tmp_path: Path
) -> None:
    """Whether a file exists elsewhere is not told either."""
    _refused_alike(house, str(tmp_path / "no-such-file"), 403, "is not in the models directory")


@pytest.mark.parametrize("link", ["x.gguf", "sub/x.gguf"])
def test_a_symlink_out_of_the_models_directory_is_refused(
    house: Gatehouse, secret_file: Path, link: str
) -> None:
    models = house.system.settings.models_directory
    (models / "sub").mkdir(parents=True, exist_ok=True)
    (models / link).symlink_to(secret_file)
    _refused_alike(house, str(models / link), 403, "is not in the models directory")
    _refused_alike(house, link, 403, "is not in the models directory")


def test_a_directory_symlinked_out_of_the_models_directory_is_refused(
    house: Gatehouse, secret_file: Path
) -> None:
    models = house.system.settings.models_directory
    models.mkdir(parents=True, exist_ok=True)
    (models / "elsewhere").symlink_to(secret_file.parent)
    _refused_alike(house, "elsewhere/shadow", 403, "is not in the models directory")


@pytest.mark.parametrize("content", [SECRET, b"GGU" + SECRET, b"\x00" * 3 + SECRET[:1]])
def test_a_file_that_is_not_a_gguf_is_refused_without_quoting_it(
    house: Gatehouse, content: bytes
) -> None:
    models = house.system.settings.models_directory
    models.mkdir(parents=True, exist_ok=True)
    (models / "copy.gguf").write_bytes(content)
    _refused_alike(house, "copy.gguf", 422, "is not a GGUF file: it does not start with 'GGUF'")


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_header_is_refused_naming_its_field_before_it_is_believed(
    house: Gatehouse, name: str
) -> None:
    make, field = HOSTILE[name]
    models = house.system.settings.models_directory
    models.mkdir(parents=True, exist_ok=True)
    (models / "hostile.gguf").write_bytes(make())
    before = house.events()
    started = time.monotonic()
    r = house.post("/models", "alice", {"path": "hostile.gguf"})
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]
    assert time.monotonic() - started < 5  # refused from the header, not by running out
    assert house.events() == before


def test_a_hostile_header_is_one_line_on_the_command_line(house: Gatehouse) -> None:
    models = house.system.settings.models_directory
    models.mkdir(parents=True, exist_ok=True)
    (models / "hostile.gguf").write_bytes(HOSTILE["array of 2^40 uint8"][0]())
    done = house.cli("models", "add", str(models / "hostile.gguf"), "--as", "alice")
    assert done.returncode == 2, done.stderr
    assert "tokenizer.ggml.scores's length is 1099511627776" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _registered_by_alice(house: Gatehouse) -> str:
    """A model alice registered and adam (an admin) asked to put in charge: the approval."""
    write_gguf(house.system.settings.models_directory / "tiny.gguf")
    assert house.post("/models", "alice", {"path": "tiny.gguf", "name": "tiny"}
                      ).status_code == 201
    asked = house.post("/models/tiny/activation", "adam", {"reason": "try it"})
    assert asked.status_code == 201, asked.text
    return str(asked.json()["id"])


def test_whoever_registered_a_model_cannot_grant_its_activation_from_any_front(
    house: Gatehouse
) -> None:
    ref = _registered_by_alice(house)
    assert house.post(f"/approvals/{ref}/votes", "alice").status_code == 403
    said = house.post("/commands", "alice", {"text": f"approve {ref[:8]}"}).json()
    assert "chose what it does" in said["text"]
    done = house.cli("approve", ref[:8], "--as", "alice")
    assert done.returncode == 2 and "chose what it does" in done.stderr
    now = house.get(f"/approvals/{ref}")
    assert now["status"] == "open" and now["votes"] == [] and "alice" in now["excluded"]
    assert house.post(f"/approvals/{ref}/votes", "bob").json()["status"] == "granted"


def test_the_registrant_cannot_deny_it_either_nor_ask_again_to_vote(house: Gatehouse) -> None:
    ref = _registered_by_alice(house)
    assert house.post(f"/approvals/{ref}/denial", "alice",
                      {"reason": "mine"}).status_code == 403
    assert house.post(f"/approvals/{ref}/votes", "alice").status_code == 403  # a replay
    assert house.get(f"/approvals/{ref}")["status"] == "open"


def _scores(exact: int, wrong: int) -> dict[str, Any]:
    return {"exact": exact, "asked": 10 - exact - wrong, "refused": 0, "wrong": wrong,
            "ok": exact, "requests": 10, "seconds_per_request": 0.5}


def test_neither_the_trainer_nor_the_base_s_registrant_can_grant_a_promotion(
    house: Gatehouse
) -> None:
    write_gguf(house.system.settings.models_directory / "tiny.gguf")
    assert house.post("/models", "alice", {"path": "tiny.gguf", "name": "tiny"}
                      ).status_code == 201
    app = house.system.app
    asked = app.request_training("tiny", "carol", dataset="/d/set.jsonl",
                                 dataset_sha256="d" * 64, examples=60, by_source={"dev": 60},
                                 hyperparameters={}, minimum=50)
    assert house.post(f"/approvals/{asked.id}/votes", "bob").json()["status"] == "granted"
    training_id = UUID(asked.task_id)
    trainer = "altlas:trainer"
    app.change_training(training_id, trainer, lambda t, m: t.start("host:1", m))
    app.change_training(training_id, trainer, lambda t, m: t.trained(
        "/a/adapter", "a" * 64, 2, 1, [1.0, 0.5], m))
    app.change_training(training_id, trainer, lambda t, m: t.evaluated(
        gguf_path="/a/adapter.gguf", gguf_sha256="e" * 64, file="/t.json",
        file_sha256="f" * 64, sampled=10, of=10, base=_scores(3, 1), adapter=_scores(6, 1),
        meta=m))
    r = house.post("/models/promotions", "adam", {"adapter": str(training_id)})
    assert r.status_code == 201, r.text
    ref = r.json()["id"]
    for maker in ("carol", "alice"):  # she trained it; alice registered its base
        assert house.post(f"/approvals/{ref}/votes", maker).status_code == 403
        done = house.cli("approve", ref[:8], "--as", maker)
        assert done.returncode == 2 and "chose what it does" in done.stderr
    assert {"carol", "alice"} <= set(house.get(f"/approvals/{ref}")["excluded"])
    assert house.post(f"/approvals/{ref}/votes", "bob").json()["status"] == "granted"


@pytest.mark.parametrize("given", ["..%2f..%2fshadow", "\u2025/\u2025/shadow", "%2e%2e/shadow"])
def test_an_encoded_way_up_is_a_file_name_in_the_models_directory(
    house: Gatehouse, secret_file: Path, given: str
) -> None:
    """Nothing decodes a path: what looks like '..' encoded names a file in the directory."""
    house.system.settings.models_directory.mkdir(parents=True, exist_ok=True)
    before = house.events()
    r = house.post("/models", "alice", {"path": given})
    assert (r.status_code, r.json()["error"]) == (404, "no_model_file"), r.text
    assert "s3cr3t" not in r.text and house.events() == before
