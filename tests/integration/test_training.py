"""Training for real: the training set from the history and the dev file, an approval, the
policy starting a worker process of its own, peft's LoRA on SmolLM2 loaded by transformers
from its GGUF file, and the adapter on the record; a worker killed mid-way is a failed
training and leaves no adapter."""

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

from adapters.packaged import file_sha256
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.training import Training
from tests.helpers import operator_policy

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


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    from adapters.llm_local import resolve

    system = bootstrap(Settings(
        data_dir=tmp_path / "data", policy_file=operator_policy(tmp_path), segmenter="rules",
        model_cache=CACHE, training_min_examples=5, training_progress_seconds=0,
        training_heartbeat_seconds=3))
    system.use_cases().models.add("carol", str(resolve("smollm2", CACHE)[1]), "smol")
    yield system
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
    system: System
) -> None:
    training_id = granted(system, steps=2)
    training = until(system, training_id, lambda t: t.status in ("trained", "failed"))
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
    [chart] = reply.images
    assert chart.png.startswith(b"\x89PNG") and chart.path == f"/trainings/{training_id}/loss.png"


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
