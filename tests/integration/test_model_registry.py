"""The model registry on real files: GGUF headers read by the gguf package, the packaged
models registered at first start, and a change of model that plans only once someone else
approved it — with the file checked again when it loads."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.gguf_header import read_header
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.approval import RequesterCannotApproveError
from domain.errors import InvalidInputError
from testkit.helpers import operator_policy, write_gguf

CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"  # shared with test_models.py


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def with_bytes(path: Path, change: Callable[[bytearray], bytes]) -> Path:
    path.write_bytes(change(bytearray(path.read_bytes())))
    return path


def patched(data: bytearray, after: bytes, skip: int, value: int) -> bytes:
    """``value`` as 4 little-endian bytes, ``skip`` bytes after the first ``after``."""
    at = data.index(after) + len(after) + skip
    data[at:at + 4] = value.to_bytes(4, "little")
    return bytes(data)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    operator_policy(tmp_path)
    system = bootstrap(Settings(data_dir=tmp_path / "data", policy_file=tmp_path / "policy.yaml",
                                segmenter="local", local_model="qwen2.5-coder-0.5b",
                                model_cache=CACHE, models_dir=tmp_path))
    yield system
    system.close()


def test_a_gguf_file_is_registered_with_what_its_header_says(system: System,
                                                              tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "Tiny Model.Q8_0.gguf")
    added = system.use_cases().models.add("carol", str(path))
    assert {k: added[k] for k in ("name", "architecture", "parameters", "quantization",
                                  "context_length", "source", "active")} == {
        "name": "tiny-model.q8_0", "architecture": "llama", "parameters": 4 * 8 + 8 * 8,
        "quantization": "Q8_0", "context_length": 512, "source": "added", "active": False}
    assert added["chat_template"].startswith("{% for m in messages %}")
    assert added["tokenizer"] == {"model": "gpt2", "pre": None, "vocabulary": 4}
    assert added["sha256"] == read_header(path).sha256 and added["path"] == str(path)
    [event] = [r for r in system.history.read() if r.type_name == "ModelRegistered"]
    assert event.state["sha256"] == added["sha256"] and event.state["actor"] != "carol"


@pytest.mark.parametrize(("make", "why"), [
    (lambda p: written(p, b"PK\x03\x04 a zip file, not a model"),
     "is not a GGUF file: it does not start with 'GGUF'"),
    (lambda p: written(p, b""), "is empty: a GGUF file starts with the bytes 'GGUF'"),
    (lambda p: with_bytes(write_gguf(p), lambda d: bytes(d[:200])),
     r"would end at byte \d+, past the end of the file \(200 bytes\): it is truncated"),
    (lambda p: with_bytes(write_gguf(p), lambda d: bytes(d[:-40])),
     "is truncated or damaged: it ends at byte"),
    (lambda p: with_bytes(write_gguf(p), lambda d: patched(d, b"token_embd.weight", 20, 99)),
     "a tensor's quantization type 99 is unknown to the gguf library"),
    (lambda p: with_bytes(write_gguf(p), lambda d: patched(d, b"general.file_type", 4, 777)),
     "general.file_type 777 is not a quantization the gguf library knows"),
    (lambda p: write_gguf(p, context=None), "its header has no llama.context_length"),
    (lambda p: write_gguf(p, architecture=None), "its header has no general.architecture"),
])
def test_what_is_not_a_usable_model_is_refused_naming_where_and_records_nothing(
    system: System, tmp_path: Path, make: Callable[[Path], Path], why: str
) -> None:
    path = make(tmp_path / "model.gguf")
    with pytest.raises(InvalidInputError, match=why):
        system.use_cases().models.add("carol", str(path))
    assert list(system.history.read()) == []


def test_registering_and_activating_need_the_operator_role(system: System,
                                                           tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf")
    for who in ("alice", "deniz"):
        with pytest.raises(Exception, match="needs the operator role"):
            system.use_cases().models.add(who, str(path))
    assert list(system.history.read()) == []


def test_the_header_is_read_again_only_when_the_file_changed(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "tiny.gguf")
    first = read_header(path, tmp_path / "cache")
    assert read_header(path, tmp_path / "cache") == first  # from the cache
    write_gguf(path, context=4096)
    assert read_header(path, tmp_path / "cache").context_length == 4096


@pytest.fixture
def packaged(system: System) -> list[str]:
    pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
    return system.use_cases().models.register_packaged()


def test_the_packaged_models_are_registered_once_with_their_headers(
    system: System, packaged: list[str]
) -> None:
    assert packaged == ["smollm2", "qwen2.5-coder-0.5b"]
    assert system.use_cases().models.register_packaged() == []  # the next start: nothing new
    models = {m["name"]: m for m in system.use_cases().models.catalog(None)["models"]}
    smol = models["smollm2"]
    assert (smol["architecture"], smol["parameters"], smol["quantization"],
            smol["context_length"]) == ("llama", 134515008, "Q4_1", 8192)
    assert smol["sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert "<|im_start|>" in smol["chat_template"]
    qwen = models["qwen2.5-coder-0.5b"]
    assert (qwen["architecture"], qwen["quantization"], qwen["tokenizer"]["vocabulary"]) == (
        "qwen2", "Q4_K_M", 151936)


def test_a_start_racing_another_to_register_the_packaged_models_adds_nothing_and_says_nothing(
    system: System, packaged: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # two workers starting on a fresh store both read "nothing registered"; the other one's
    # registrations land before this one's
    monkeypatch.setattr(system.app, "model_registry", lambda: None)
    assert system.use_cases().models.register_packaged() == []
    monkeypatch.undo()
    names = [m["name"] for m in system.use_cases().models.catalog(None)["models"]]
    assert sorted(names) == sorted(packaged)


def plan_by(system: System, request: str) -> dict[str, Any]:
    task = system.app.request_task(request, "deniz", environment="prod")
    system.worker().until_quiet()
    return system.app.get_task(task).to_dict()


def activate(system: System, name: str) -> None:
    approval = system.use_cases().models.activate("carol", name, "plans better on dev")
    with pytest.raises(RequesterCannotApproveError):  # nobody activates a model alone
        system.use_cases().vote("carol", approval.id)
    assert system.use_cases().models.catalog(None)["active"] is None
    system.use_cases().vote("alice", approval.id)
    system.worker().until_quiet()
    assert system.use_cases().models.catalog(None)["active"] == name


def test_a_model_plans_once_someone_else_approved_it_and_the_plan_names_it(
    system: System, packaged: list[str]
) -> None:
    activate(system, "smollm2")
    task = plan_by(system, "check disk on web-1")
    # SmolLM2 plans, or its plan is refused and the rules plan behind it: it was asked first
    assert task["segmenter"] == "local:smollm2" or (
        task["fallback_reason"] or "").startswith("local:smollm2: ")


def test_a_model_file_changed_after_it_was_registered_is_refused_at_load(
    system: System, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
    from adapters.llm_local import resolve

    copy = Path(shutil.copy(resolve("smollm2", CACHE)[1], tmp_path / "mine.gguf"))
    system.use_cases().models.add("carol", str(copy), "mine")
    activate(system, "mine")
    with copy.open("r+b") as f:  # one byte of a tensor changed since it was registered
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 0xFF]))
    task = plan_by(system, "check disk on web-1")
    assert task["segmenter"] == "rules" and task["plan"] is not None  # the rules took over
    assert task["fallback_reason"].startswith("local:mine: ")
    assert f"{copy} has sha256 " in task["fallback_reason"]
    assert "not the registered b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53; " \
        "register the file again under a new name, or restore it" in task["fallback_reason"]
