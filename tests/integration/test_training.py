"""Training for real: the training set from the history and the dev file, an approval, the
policy starting a worker process of its own, peft's LoRA on SmolLM2 loaded by transformers
from its GGUF file, the adapter on the record, then measured against its base through
llama.cpp on the frozen file; a worker killed mid-way is a failed training and leaves no
adapter. An adapter plans only once promoted, which needs an evaluation that beats its base
and an approval by someone who asked for neither; a rollback undoes it."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml

from adapters.packaged import file_sha256
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.errors import ConflictError, DomainError
from domain.models import REGISTRY_ID, ModelRegistry
from domain.training import Training
from testkit.helpers import operator_policy

pytestmark = pytest.mark.long(330)  # seconds, about

pytest.importorskip("peft", reason="the train extra is not installed")
pytest.importorskip("llama_cpp", reason="the llm extra (the packaged models) is not installed")
CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"  # shared with test_models.py
STEPS = [{"id": "s1", "kind": "ssh", "action": "df -h", "target": "web-1", "needs": []}]


def labelled(*requests: str) -> dict[str, Any]:
    return {"version": 2, "requests": [{"request": r, "expect": "plan", "steps": STEPS}
                                       for r in requests]}


DEV = labelled("check disk on web-1", "check the disk on web-1", "df on web-1",
               "how full is web-1", "disk space of web-1", "show disk usage on web-1")
TEST = labelled("how full is web-1")  # also in dev: never trained on


def started(folder: Path) -> System:
    from adapters.llm_local import resolve

    frozen = folder / "test.json"
    frozen.write_text(json.dumps(TEST))
    policy = operator_policy(folder)  # carol (an approver too) trains; bob may promote
    data = yaml.safe_load(policy.read_text())
    data["people"]["bob"]["roles"] = ["operator"]
    policy.write_text(yaml.safe_dump(data))
    system = bootstrap(Settings(
        data_dir=folder / "data", policy_file=policy, segmenter="local",
        local_model="smollm2", model_cache=CACHE, training_min_examples=5,
        training_progress_seconds=0, training_heartbeat_seconds=3, evaluation_file=frozen,
        models_dir=resolve("smollm2", CACHE)[1].parent))
    system.use_cases().models.add("carol", str(resolve("smollm2", CACHE)[1]), "smol")
    return system


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = started(tmp_path)
    yield system
    system.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, UUID]]:
    """One adapter, trained for two steps and evaluated by its worker, for the tests that
    read or promote it."""
    system = started(tmp_path_factory.mktemp("trained"))
    training_id = granted(system, steps=2)
    until(system, training_id, lambda t: t.evaluation is not None or t.status == "failed")
    yield system, training_id
    system.close()


def granted(system: System, steps: int) -> UUID:
    from altlas import training

    approval, examples = training.request(system, "carol", "smol", {"max_steps": steps},
                                          DEV, TEST)
    assert examples == 5
    system.use_cases().vote("alice", approval.id)
    system.worker().until_quiet()  # the policy starts the training worker's process
    return UUID(approval.task_id)


def until(system: System, training_id: UUID, done: Any, timeout: float = 600) -> Training:
    deadline = time.monotonic() + timeout
    while not done(found := system.app.load(Training, training_id)):
        assert time.monotonic() < deadline, f"training is {found.status}"
        time.sleep(0.5)
    return found


def test_a_granted_training_runs_in_its_own_process_and_records_its_adapter(
    trained: tuple[System, UUID]
) -> None:
    system, training_id = trained
    training = system.app.load(Training, training_id)
    assert training.status == "trained", system.use_cases().models.training(
        None, str(training_id))["reason"]
    events = list(system.app.events.get(training_id))
    started = next(e for e in events if isinstance(e, Training.Started))
    assert int(started.worker.rsplit(":", 1)[1]) != os.getpid()
    assert [e.step for e in events if isinstance(e, Training.Progressed)] == [1, 2]
    [adapter] = [e for e in events if isinstance(e, Training.AdapterTrained)]
    assert adapter.adapter == f"smol+lora-{str(training_id)[:8]}" and adapter.steps == 2
    assert len(adapter.loss_curve) == 2 and all(x > 0 for x in adapter.loss_curve)
    path = Path(adapter.path)
    assert file_sha256(path / "adapter_model.safetensors") == adapter.sha256
    assert json.loads((path / "adapter_config.json").read_text())["r"] == 8
    learned = Path(training.dataset).read_text()
    assert "how full is web-1" not in learned and "df on web-1" in learned
    shown = system.use_cases().models.training(None, str(training_id)[:8])
    assert shown["adapter"]["name"] == adapter.adapter and shown["status"] == "trained"
    chat = system.chat()  # in chat: the training, and its loss per step as a picture
    reply = chat.run(chat.caller("slack:U0ALICE01", "slack"),
                     f"models training {str(training_id)[:8]}", {"front": "slack",
                                                                 "channel": "C0OPS"})
    assert "· trained" in reply.text and f"adapter {adapter.adapter}: 2 steps" in reply.text
    loss, measured = reply.images
    assert loss.png.startswith(b"\x89PNG") and loss.path == f"/trainings/{training_id}/loss.png"
    assert measured.png.startswith(b"\x89PNG") and measured.path.endswith("/evaluation.png")
    assert "evaluated on 1 of 1 request(s) of test.json" in reply.text


def test_the_worker_measures_the_adapter_against_its_base_through_llama_cpp(
    trained: tuple[System, UUID]
) -> None:
    system, training_id = trained
    [event] = [e for e in system.app.events.get(training_id)
               if isinstance(e, Training.Evaluated)]
    gguf = Path(event.gguf_path)
    assert gguf.parent.name == event.adapter and file_sha256(gguf) == event.gguf_sha256
    assert (event.sampled, event.of) == (1, 1) and event.file.endswith("test.json")
    for side in (event.base, event.adapter_scores):
        assert sum(side[o] for o in ("exact", "asked", "refused", "wrong")) == 1
        assert side["requests"] == 1 and side["seconds_per_request"] > 0
    assert event.actor == "altlas:trainer"
    from adapters.packaged import ModelUnavailableError
    from altlas import training

    weights = gguf.parent / "adapter_model.safetensors"
    kept = weights.read_bytes()
    try:  # an adapter changed after its training is refused before anything is measured
        weights.write_bytes(kept[:-4] + b"\0\0\0\0")
        with pytest.raises(ModelUnavailableError, match="not the trained"):
            training.evaluate(system, "carol", training_id, Path(event.file), 0)
    finally:
        weights.write_bytes(kept)
    assert len([e for e in system.app.events.get(training_id)
                if isinstance(e, Training.Evaluated)]) == 1
    arena = system.use_cases().arena  # measured, it may plan in the arena before promotion
    with pytest.raises(DomainError, match="local:BASE\\+lora-ID of an evaluated adapter"):
        arena.ask("erin", "check disk on web-1", a="rules", b="local:smol+lora-00000000")
    duel = arena.ask("erin", "check disk on web-1", a="rules", b=f"local:{event.adapter}")
    system.worker().until_quiet()
    assert system.use_cases().arena.duel(None, duel["id"])["status"] == "planned"


def evaluation(system: System, training_id: UUID, base: tuple[int, int],
               adapter: tuple[int, int]) -> None:
    """Record a measure of (exact, wrong) plans out of 10, on the adapter's real GGUF."""
    measured = system.app.load(Training, training_id).evaluation
    assert measured is not None

    def scores(exact: int, wrong: int) -> dict[str, Any]:
        return {"exact": exact, "asked": 10 - exact - wrong, "refused": 0, "wrong": wrong,
                "ok": exact, "requests": 10, "seconds_per_request": 0.5}

    system.app.change_training(training_id, "altlas:trainer", lambda t, m: t.evaluated(
        gguf_path=measured["gguf_path"], gguf_sha256=measured["gguf_sha256"],
        file=measured["file"], file_sha256=measured["file_sha256"], sampled=10, of=10,
        base=scores(*base), adapter=scores(*adapter), meta=m))


def test_an_adapter_is_promoted_only_when_it_beats_its_base_and_someone_else_approves(
    trained: tuple[System, UUID]
) -> None:
    from adapters.packaged import ModelUnavailableError
    from application.access import AccessDeniedError

    system, training_id = trained
    models = system.use_cases().models
    name = f"smol+lora-{str(training_id)[:8]}"
    evaluation(system, training_id, base=(3, 1), adapter=(3, 0))
    with pytest.raises(ConflictError, match=r"it made 3 exact plan.* its base 3; it must"):
        models.promote("carol", name)
    evaluation(system, training_id, base=(3, 1), adapter=(6, 2))
    with pytest.raises(ConflictError, match=r"it made 2 wrong plan.* its base 1"):
        models.promote("carol", name)
    assert models.catalog(None)["pending"] is None
    evaluation(system, training_id, base=(3, 1), adapter=(6, 1))
    with pytest.raises(AccessDeniedError):
        models.promote("deniz", name)  # a developer
    approval = models.promote("bob", str(training_id)[:8], "six exact plans of ten")
    uc = system.use_cases()
    with pytest.raises(DomainError, match="bob asked for this change"):
        uc.vote("bob", approval.id)
    with pytest.raises(DomainError, match="carol wrote this plan or chose what it does"):
        uc.vote("carol", approval.id)  # she asked for the training: it is hers
    uc.vote("alice", approval.id)
    with pytest.raises(DomainError):
        uc.vote("alice", approval.id)  # the same click again
    system.worker().until_quiet()
    catalog = models.catalog(None)
    assert catalog["active"] == "smol" and catalog["adapter"]["name"] == name
    assert system.segmentation.name == f"local:{name}"  # plans record the adapter
    model = system.segmentation._segmenter._model  # type: ignore[attr-defined]
    assert model.complete([{"role": "user", "content": "disk on web-1?"}], max_tokens=4)
    gguf = Path(catalog["adapter"]["path"])
    kept = gguf.read_bytes()
    try:  # the adapter changed after its evaluation: refused at load
        gguf.write_bytes(kept[:-8] + bytes(8))
        os.utime(gguf, ns=(time.time_ns(), time.time_ns()))
        model._loaded = None
        with pytest.raises(ModelUnavailableError, match="not the evaluated"):
            model.complete([{"role": "user", "content": "hi"}], max_tokens=1)
    finally:
        gguf.write_bytes(kept)
    duel = uc.arena.ask("erin", "check disk on web-1")  # the adapter plays as it plans
    system.worker().until_quiet()
    with pytest.raises(DomainError, match="carol made one of the planners"):
        uc.arena.vote("carol", duel["id"], "a")  # she asked for its training
    judged = uc.arena.vote("alice", duel["id"], "both_bad")  # a planless side cannot tie
    assert f"local:{name}" in judged["planners"].values()
    back = models.rollback("carol", "worse in prod")
    uc.vote("alice", back.id)
    system.worker().until_quiet()
    catalog = models.catalog(None)
    assert catalog["adapter"] is None and catalog["active"] is None
    assert system.segmentation.name == "local:smollm2"


def test_a_promotion_whose_adapter_was_measured_worse_before_the_vote_is_withdrawn(
    trained: tuple[System, UUID]
) -> None:
    system, training_id = trained
    models = system.use_cases().models
    evaluation(system, training_id, base=(3, 1), adapter=(6, 1))
    approval = models.promote("carol", str(training_id))
    evaluation(system, training_id, base=(3, 1), adapter=(2, 1))  # measured again: worse
    system.use_cases().vote("alice", approval.id)
    system.worker().until_quiet()
    catalog = models.catalog(None)
    assert catalog["adapter"] is None and catalog["pending"] is None
    [withdrawn] = [e for e in system.app.events.get(REGISTRY_ID)
                   if isinstance(e, ModelRegistry.ActivationWithdrawn)][-1:]
    assert "cannot replace smol: it made 2 exact plan" in withdrawn.reason


def test_a_training_worker_killed_mid_way_fails_the_training_and_leaves_no_adapter(
    system: System
) -> None:
    training_id = granted(system, steps=10_000)
    training = until(system, training_id, lambda t: t.step >= 1)
    pid = int(str(training.worker).rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    time.sleep(3.5)  # its heartbeat lapses (ALTLAS_TRAINING_HEARTBEAT_SECONDS=3)
    system.worker().housekeeping()
    failed = system.app.load(Training, training_id)
    assert failed.status == "failed"
    reason = system.use_cases().models.training(None, str(training_id))["reason"]
    assert reason.startswith(f"the training worker {training.worker} stopped")
    assert not list((system.settings.data_dir / "adapters").glob("*"))
