"""Real models: the local GGUF models in-process, and litellm against a real
OpenAI-compatible server (llama.cpp's) on loopback. They need the `llm` extra, which the
test command installs; without it these tests are skipped."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from adapters.llm_local import LocalModel, resolve
from adapters.policy_file import load_policy
from adapters.segmenter_model import ModelSegmenter, plan_schema
from application.ports import SegmentationRequest
from domain.commands.meaning import meaning

pytestmark = pytest.mark.long(160)  # seconds, about

pytest.importorskip("llama_cpp", reason="the llm extra is not installed")

CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"
POLICY = load_policy(None)
FLAG = "/srv/altlas/maintenance.flag"


class Recording:
    """Wraps a model to keep its raw replies, so tests can check them against the schema."""

    def __init__(self, model: LocalModel) -> None:
        self.model = model
        self.name = model.name
        self.replies: list[str] = []

    def complete(self, messages, *, max_tokens, json_schema=None, temperature=0.0):  # type: ignore[no-untyped-def]
        reply = self.model.complete(messages, max_tokens=max_tokens, json_schema=json_schema,
                                    temperature=temperature)
        self.replies.append(reply)
        return reply


@pytest.fixture(scope="module")
def smollm2() -> LocalModel:
    return LocalModel.named("smollm2", CACHE)


@pytest.fixture(scope="module")
def qwen() -> LocalModel:
    return LocalModel.named("qwen2.5-coder-0.5b", CACHE)


def test_even_a_weak_model_always_answers_within_the_schema(smollm2: LocalModel) -> None:
    recording = Recording(smollm2)
    segmenter = ModelSegmenter(recording, POLICY, FLAG)
    for text in ("check disk on web-1", "restart nginx on web-2 if it is not running",
                 "web-1'de disk kullanımını kontrol et"):
        started = time.monotonic()
        plan = segmenter.segment(SegmentationRequest(text))
        assert time.monotonic() - started < 60
        assert plan["alt"] == 1 and plan["steps"]
    for reply in recording.replies:
        jsonschema.validate(json.loads(reply), plan_schema(POLICY))


def test_even_a_weak_model_writes_only_commands_altlas_knows(smollm2: LocalModel) -> None:
    segmenter = ModelSegmenter(smollm2, POLICY, FLAG)
    for text in ("show the top 5 processes by cpu on web-3", "web-1 sunucuyu yeniden başlat",
                 "rotate the logs on web-1 and web-2", "run 'ls -la /var/log' on web-2"):
        plan = segmenter.segment(SegmentationRequest(text))
        for step in plan["steps"]:
            if step["kind"] in ("ssh", "local"):
                assert (meaning(step["kind"], step["action"]) is not None
                        or step["action"] == "ls -la /var/log"), (text, step)


def test_capable_model_plans_a_plain_request(qwen: LocalModel) -> None:
    plan = ModelSegmenter(qwen, POLICY, FLAG).segment(SegmentationRequest("check disk on web-1"))
    assert [(s["kind"], s["action"], s.get("target")) for s in plan["steps"]] == [
        ("ssh", "df -h", "web-1")]


def test_the_assembled_model_file_is_the_pinned_one(qwen: LocalModel) -> None:
    _, path = resolve("qwen2.5-coder-0.5b", CACHE)
    assert path == qwen.path and path.stat().st_size == 491_400_064


def test_llm_step_summarises_with_the_local_model(smollm2: LocalModel) -> None:
    import asyncio

    from adapters.llm_exec import LLMExecutor
    from application.ports import StepContext
    from domain.plan import PlanStep

    outcome = asyncio.run(LLMExecutor(smollm2, max_tokens=48).execute(
        PlanStep("sum", "llm", "Summarise the disk usage in one sentence.", timeout_s=120),
        StepContext(outputs={"s1": "Filesystem Size Used Avail Use% Mounted on\n"
                                   "/dev/vda 252G 227G 25G 91% /"})))
    assert outcome.ok and outcome.output and outcome.facts == {"model": smollm2.name}


@pytest.fixture(scope="module")
def openai_compatible_server(smollm2: LocalModel) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2.path),
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_litellm_reaches_an_openai_compatible_server_with_the_schema(
    openai_compatible_server: str,
) -> None:
    pytest.importorskip("litellm", reason="the llm extra is not installed")
    from adapters.llm_litellm import LiteLLMModel

    model = LiteLLMModel("openai/smollm2", openai_compatible_server, "sk-local", timeout=120)
    replies = Recording(model)  # type: ignore[arg-type]
    plan = ModelSegmenter(replies, POLICY, FLAG).segment(
        SegmentationRequest("check disk on web-1"))
    assert plan["steps"]
    # the server took the schema (as json_object + schema, after refusing json_schema)
    jsonschema.validate(json.loads(replies.replies[0]), plan_schema(POLICY))
