"""The model registry's rules: one name and one file each, and a change of model only through
an approval, one at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.base import EventMeta
from domain.errors import ConflictError, InvalidInputError
from domain.models import ActivationPendingError, ModelExistsError, ModelRegistry

META = EventMeta.for_command("carol")


def facts(**overrides: Any) -> dict[str, Any]:
    return {"name": "smollm2", "path": "/m/smollm2.gguf", "sha256": "a" * 64, "size": 1000,
            "architecture": "llama", "parameters": 134515008, "quantization": "Q4_1",
            "context_length": 8192, "chat_template": "{{ x }}",
            "tokenizer": {"model": "gpt2", "pre": "smollm", "vocabulary": 49152},
            "source": "packaged", **overrides}


@pytest.fixture
def registry() -> ModelRegistry:
    registry = ModelRegistry.open(META)
    registry.register(META, **facts())
    registry.register(META, **facts(name="qwen", sha256="b" * 64, architecture="qwen2"))
    return registry


def test_a_name_or_a_file_is_registered_once(registry: ModelRegistry) -> None:
    with pytest.raises(ModelExistsError, match="a model named smollm2 is registered already"):
        registry.register(META, **facts(sha256="c" * 64))
    with pytest.raises(ModelExistsError, match="registered already as smollm2"):
        registry.register(META, **facts(name="copy"))
    assert sorted(registry.models) == ["qwen", "smollm2"]


@pytest.mark.parametrize(("overrides", "why"), [
    ({"name": "Bad Name"}, "model name 'Bad Name'"),
    ({"name": ""}, "model name ''"),
    ({"name": "../etc"}, "model name '../etc'"),
    ({"sha256": "xyz"}, "is not 64 lowercase hex digits"),
    ({"source": "internet"}, "source 'internet'"),
    ({"parameters": 0}, "a model has parameters"),
])
def test_a_malformed_registration_is_refused_and_changes_nothing(
    registry: ModelRegistry, overrides: dict[str, Any], why: str
) -> None:
    version = registry.version
    with pytest.raises(InvalidInputError, match=why.replace("(", r"\(")):
        registry.register(META, **facts(**{"name": "new", "sha256": "d" * 64, **overrides}))
    assert registry.version == version


def test_a_model_plans_only_once_its_approval_is_granted(registry: ModelRegistry) -> None:
    approval = uuid4()
    registry.request_activation("qwen", "carol", "better plans", approval, META)
    assert registry.active is None and registry.pending is not None
    with pytest.raises(ActivationPendingError, match="a change to qwen already waits"):
        registry.request_activation("smollm2", "carol", "", uuid4(), META)
    with pytest.raises(ConflictError, match="no activation waits for approval"):
        registry.activate(uuid4(), META)  # another approval grants nothing here
    registry.activate(approval, META)
    assert (registry.active, registry.pending) == ("qwen", None)
    with pytest.raises(ConflictError, match="qwen is the model in use already"):
        registry.request_activation("qwen", "carol", "", uuid4(), META)


def test_a_refused_activation_leaves_the_model_in_use(registry: ModelRegistry) -> None:
    first, second = uuid4(), uuid4()
    registry.request_activation("qwen", "carol", "", first, META)
    registry.activate(first, META)
    registry.request_activation("smollm2", "carol", "", second, META)
    registry.withdraw(second, "denied: worse on the test file", META)
    assert (registry.active, registry.pending) == ("qwen", None)


def test_an_unknown_model_cannot_be_activated(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidInputError, match=r"no model is registered as 'gpt-5' "
                                                r"\(registered: qwen, smollm2\)"):
        registry.request_activation("gpt-5", "carol", "", uuid4(), META)


def promotion(registry: ModelRegistry, adapter: str = "qwen+lora-1a2b3c4d") -> UUID:
    approval = uuid4()
    registry.request_promotion(adapter=adapter, base="qwen", path="/a/adapter.gguf",
                               sha256="e" * 64, training_id=uuid4(), requester="carol",
                               reason="beats its base", approval_id=approval, meta=META)
    return approval


def test_a_promoted_adapter_plans_on_its_base_and_a_rollback_restores_what_planned(
    registry: ModelRegistry
) -> None:
    activation = uuid4()
    registry.request_activation("smollm2", "carol", "", activation, META)
    registry.activate(activation, META)
    approval = promotion(registry)
    assert registry.adapter is None and registry.pending["action"] == "promote"
    registry.activate(approval, META)
    assert registry.active == "qwen" and registry.adapter["name"] == "qwen+lora-1a2b3c4d"
    with pytest.raises(ConflictError, match="qwen\\+lora-1a2b3c4d plans already"):
        promotion(registry)
    back = uuid4()
    registry.request_rollback("carol", "worse in prod", back, META)
    assert registry.active == "qwen" and registry.pending["model"] == "smollm2"
    registry.activate(back, META)
    assert registry.active == "smollm2" and registry.adapter is None
    again = uuid4()
    registry.request_rollback("carol", "", again, META)
    registry.activate(again, META)
    assert registry.active is None and registry.adapter is None  # the settings' model
    with pytest.raises(ConflictError, match="nothing to roll back"):
        registry.request_rollback("carol", "", uuid4(), META)


def test_activating_a_model_drops_the_adapter_of_the_one_before(registry: ModelRegistry) -> None:
    registry.activate(promotion(registry), META)
    activation = uuid4()
    registry.request_activation("qwen", "carol", "plain qwen again", activation, META)
    registry.activate(activation, META)
    assert registry.active == "qwen" and registry.adapter is None


def test_a_promotion_waits_its_turn_and_a_withdrawn_one_changes_nothing(
    registry: ModelRegistry
) -> None:
    approval = promotion(registry)
    with pytest.raises(ActivationPendingError, match="a change to qwen\\+lora-1a2b3c4d"):
        registry.request_activation("smollm2", "carol", "", uuid4(), META)
    with pytest.raises(ConflictError, match="no activation waits for approval"):
        registry.activate(uuid4(), META)  # another approval's grant is not this one's
    registry.withdraw(approval, "denied", META)
    assert registry.pending is None and registry.adapter is None and registry.active is None


def test_an_adapter_on_an_unregistered_base_is_refused(registry: ModelRegistry) -> None:
    with pytest.raises(InvalidInputError, match="no model is registered as 'llama3'"):
        registry.request_promotion(adapter="llama3+lora-1", base="llama3", path="/a",
                                   sha256="e" * 64, training_id=uuid4(), requester="carol",
                                   reason="", approval_id=uuid4(), meta=META)
